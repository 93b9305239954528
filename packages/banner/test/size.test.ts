import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { brotliCompressSync, gzipSync } from 'node:zlib';

/**
 * The byte budget of the drop-in banner (JS + CSS, gzip -9), checked on the built files
 * (`node packages/banner/build.mjs` first). Issue 4 asks for ≤ 7,000 bytes.
 *
 * We are NOT under it: this budget is the size reached, rounded up to the next 100, so
 * the banner cannot grow unnoticed while the gap is closed. Why, and what is left
 * (details and per-module numbers in ../SIZE.md):
 * - Before this work: 10,095 B (JS 9,007 + CSS 1,088). Now: 9,616 B (JS 8,532 + CSS 1,084).
 * - Tried and kept: shorter config/shortcode validation code and messages (each still
 *   names its field and says what it must be), one key table for the shortcode, a smaller
 *   decide(), policy and cookie decoder, a smaller 53-bit hash, build-time mangling of
 *   internal-only core fields (build.mjs), shared banner helpers (h() class shorthand,
 *   panel/intro/store), one activation queue, compact CSS custom properties.
 * - Tried and dropped (gzip grew or stayed): SIGNALS as one split string, a one-line
 *   modeForRegion, mangling every domain name (even that upper bound, unsafe, saves only
 *   ~200 B). A target of es2021 would save ~26 B more (native `??=`).
 * - What remains is mostly content, not code: the English texts (~650 B gzipped), the
 *   error messages, the region lists and Consent Mode signal names, and the logic of the
 *   features issue 4 and the integrations require (opt-in/opt-out/notice, preferences
 *   dialog with focus trap, blocking with ordered activation and embeds, re-consent,
 *   withdrawal, receipts, GPC, Consent Mode v2, regions). Getting ~2,600 B lower needs
 *   a product decision, not a minifier: e.g. moving Consent Mode and regions into an
 *   opt-in add-on file like the language presets, or validating configs only in a
 *   development build. Neither is a behaviour-preserving change, so neither is done here.
 */
const BUDGET = 8800;
/** The full build (Consent Mode v2, tag-manager event, regions): the lite budget plus what they cost. */
const FULL_BUDGET = 9700;

const dist = new URL('../dist/', import.meta.url);
const sizes = (file: string) => {
  const b = readFileSync(new URL(file, dist));
  return { raw: b.length, gzip: gzipSync(b, { level: 9 }).length, brotli: brotliCompressSync(b).length };
};

const row = (name: string, s: { raw: number; gzip: number; brotli: number }) =>
  `${name.padEnd(20)} ${String(s.raw).padStart(6)} ${String(s.gzip).padStart(6)} ${String(s.brotli).padStart(7)}`;

describe('banner bundle size', () => {
  for (const [file, budget] of [
    ['assent.min.js', BUDGET],
    ['assent.full.min.js', FULL_BUDGET],
  ] as const)
    it(`${file} + assent.css stay within ${budget} bytes gzipped`, () => {
      const js = sizes(file);
      const css = sizes('assent.css');
      const total = { raw: js.raw + css.raw, gzip: js.gzip + css.gzip, brotli: js.brotli + css.brotli };
      console.log(
        [
          '                        raw   gzip  brotli',
          row(file, js),
          row('assent.css', css),
          `${row('total', total)}  (budget ${budget} gzip)`,
        ].join('\n'),
      );
      assert.ok(
        total.gzip <= budget,
        `${file} + assent.css is ${total.gzip} B gzipped (JS ${js.gzip} + CSS ${css.gzip}), over the ${budget} B budget`,
      );
    });
});
