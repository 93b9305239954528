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
import { doc } from './dom.js';
import { start } from './start.js';

const script = doc.currentScript as HTMLScriptElement | null;
const json = doc.getElementById('assent-config')?.textContent;
let v: Validated;
try {
  v = parseShortcode(script?.dataset.assent ?? '', json ? JSON.parse(json) : {});
} catch (e) {
  v = { ...validateConfig({}), errors: [{ field: 'assent-config', message: `is not valid JSON (${e})` }] };
}
// Regions are the full build's.
start(v, undefined, globalThis.ASSENT_LITE ? undefined : script?.dataset.assentRegion);
