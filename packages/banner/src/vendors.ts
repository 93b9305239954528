/**
 * The vendors' own consent APIs (issue 16): Microsoft UET, Microsoft Clarity, Meta Pixel and
 * TikTok Pixel, told the visitor's choice the way each vendor documents (src/vendors/*.ts).
 * An add-on file (`dist/assent.vendors.min.js`) built on the banner's public API and events
 * only, so the lite and full builds carry none of it. Put it first in `<head>`, before the
 * vendors' snippets and the banner, without `defer`:
 *
 *   <script src="/assent.vendors.min.js"></script>
 *
 * It works whichever comes first: before a vendor's snippet it prepares the queue the snippet
 * reuses (or, for Meta, catches the snippet's `fbq`), so the denied default is the first
 * command the vendor reads; after it, it puts the default in front of the queued commands
 * while the vendor's library has not read them, and says on the console when it has.
 *
 * Which category grants what: `data-assent-vendors` on its script tag (JSON). An adapter absent
 * from it is off; without the attribute, all four with these defaults:
 *
 *   { "uet": { "ad_storage": "marketing" },
 *     "clarity": { "ad_Storage": "marketing", "analytics_Storage": "analytics" },
 *     "meta": "marketing", "tiktok": "marketing" }
 */
import type { PublicState } from '../types/assent.js';
import { clarity } from './vendors/clarity.js';
import type { Adapter } from './vendors/common.js';
import { w } from './vendors/common.js';
import { meta } from './vendors/meta.js';
import { tiktok } from './vendors/tiktok.js';
import { uet } from './vendors/uet.js';

const ADAPTERS: Record<string, Adapter<never>> = { uet, clarity, meta, tiktok };
const DEFAULTS = {
  uet: { ad_storage: 'marketing' },
  clarity: { ad_Storage: 'marketing', analytics_Storage: 'analytics' },
  meta: 'marketing',
  tiktok: 'marketing',
};

let on: Record<string, unknown> = DEFAULTS;
let broken = false;
try {
  const attr = (document.currentScript as HTMLScriptElement | null)?.dataset.assentVendors;
  if (attr) on = JSON.parse(attr);
} catch (e) {
  // A broken mapping must not grant anything: every adapter keeps its denied default.
  console.error('assent: data-assent-vendors is not valid JSON; every vendor stays denied', e);
  broken = true;
}
// A mapping of the wrong shape (a string for UET, `ad_storage` for Clarity's `ad_Storage`) sent
// the vendor a default without its signals, and whatever it assumes then; a category the site
// does not have is never granted (the defaults name `marketing` and `analytics`). Each is said,
// naming the vendor, which then gets its own denied default and nothing more.
const good: Record<string, unknown> = {};
for (const k in on) {
  const m = on[k];
  const d = DEFAULTS[k as keyof typeof DEFAULTS];
  if (
    ADAPTERS[k] &&
    (typeof d === 'string'
      ? typeof m === 'string'
      : m && typeof m === 'object' && Object.entries(m).every(([s, c]) => s in d && typeof c === 'string'))
  )
    good[k] = m;
  else {
    console.error(
      `assent: data-assent-vendors: ${k} is not uet, clarity, meta or tiktok mapped as documented; it stays denied`,
    );
    ADAPTERS[k]?.defaults(d as never);
  }
}
const each = (fn: (a: Adapter<unknown>, map: unknown) => void) => {
  for (const k in good) fn(ADAPTERS[k] as Adapter<unknown>, good[k]);
};

each((a, map) => a.defaults(map));
let checked = false;
const tell = (s: PublicState) => {
  for (const k in good)
    for (const c of typeof good[k] === 'string' ? [good[k]] : Object.values(good[k] as object))
      if (!checked && !(c in s.granted))
        console.error(`assent: data-assent-vendors: ${k} names ${c}, not a category here; it stays denied`);
  checked = true;
  broken || each((a, map) => a.tell(s.granted, map));
};
document.addEventListener('assent:ready', (e) => tell((e as CustomEvent<PublicState>).detail));
document.addEventListener('assent:change', (e) => tell((e as CustomEvent<PublicState>).detail));
// The banner started before this file: its state now.
if (w.Assent) tell(w.Assent.get());
