/**
 * The drop-in build (`dist/assent.min.js`):
 *
 *   <script src="/assent.min.js" data-assent="buttons=(Accept !) days=(20)" defer></script>
 *
 * plus, for the full JSON config, a data block the browser never executes (CSP-safe);
 * the shortcode's keys override the JSON's:
 *
 *   <script type="application/json" id="assent-config">{ "categories": [ … ] }</script>
 */
import { parseShortcode, type Validated, validateConfig } from '@assent/core';
import { doc, guard, script } from './dom.js';
import { start } from './start.js';

const json = doc.getElementById('assent-config')?.textContent;
// Served by the receipt server (`GET /v1/assent.js`): the site's published policy comes first.
const pub = globalThis.ASSENT_LITE ? undefined : self.assentPolicy;
let v: Validated;
if (pub) {
  // One policy, one truth: the server's. A config on the page would be a second one.
  if (script?.dataset.assent || json)
    console.error('assent: the published policy applies; data-assent and #assent-config are ignored');
  v = validateConfig({ endpoint: new URL('receipts', script!.src).href });
} else
  try {
    v = parseShortcode(script?.dataset.assent ?? '', json ? JSON.parse(json) : {});
  } catch (e) {
    v = { ...parseShortcode(''), errors: [{ field: 'assent-config', message: `is not valid JSON (${e})` }] };
  }
// Regions are the full build's.
guard(() => (globalThis.ASSENT_LITE ? start(v) : start(v, undefined, script?.dataset.assentRegion, pub)))();
