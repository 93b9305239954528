import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { brotliCompressSync, gzipSync } from 'node:zlib';

/**
 * The byte budgets of the drop-in builds (JS + CSS, gzip -9), checked on the built files
 * (`node packages/banner/build.mjs` first). Issue 4 asks for ≤ 7,000 bytes for the whole
 * opt-in banner with preferences, blocking and events: that is the lite build, assent.min.js.
 *
 * We are NOT under it: each budget is the size reached, rounded up to the next 100, so the
 * banner cannot grow unnoticed while the gap is open. Lite 8,474 B (JS 7,456 + CSS 1,018),
 * full 9,461 B; one bundle with everything was 10,095 B before the size work. What was done,
 * what each module costs (`npm run bench:bytes`) and what is left: ../SIZE.md. In short, the
 * remaining ~1,470 B are the owner-facing validation (~1,650 B marginal, messages ~290 B of
 * it), the consent model, the UI and the English texts; closing the gap means taking a
 * feature out of the default file, a product decision that is not taken here.
 */
const BUDGET = 8500;
/** The full build (Consent Mode v2, tag-manager event, regions): the lite budget plus what they cost. */
const FULL_BUDGET = 9500;

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
