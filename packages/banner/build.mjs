// Builds the banner: the drop-in IIFE, the ESM build for bundlers, the stylesheet, the
// language presets and the type declarations. `node build.mjs`.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';
import { common, dropInOptions, lite, prefsFile, prefsOptions, squeeze, styles } from './build-options.mjs';

const dir = new URL('.', import.meta.url).pathname;
mkdirSync(`${dir}dist/i18n`, { recursive: true });
/** A drop-in IIFE: esbuild, then Closure Compiler and UglifyJS (see squeeze in build-options.mjs). */
const dropIn = async (isLite, outfile) => {
  const r = await build({ ...dropInOptions(isLite), outfile, mangleCache: {} });
  writeFileSync(`${dir}${outfile}`, squeeze(r.outputFiles[0].text).code);
  // Its preferences dialog, fetched on first use (src/open.ts), with the same property names.
  const file = prefsFile(isLite);
  const p = await build({ ...prefsOptions(isLite, r.mangleCache), outfile: `dist/${file}` });
  writeFileSync(`${dir}dist/${file}`, squeeze(p.outputFiles[0].text).code);
};

await Promise.all([
  // Two drop-in builds from one source, each with its CSS inside. `assent.min.js` (lite) is the
  // GDPR banner: opt-in and notice, preferences, blocking, re-consent, withdrawal, events, API.
  // The full build adds what needs a server or another jurisdiction: receipts, opt-out with
  // "Do not sell", GPC, Consent Mode v2, the tag-manager event and regions (~1.7 KB gzipped
  // that a GDPR-only site would download for nothing). `ASSENT_LITE` is a constant, so esbuild
  // drops that code.
  dropIn(true, 'dist/assent.min.js'),
  dropIn(false, 'dist/assent.full.min.js'),
  // The vendors' consent APIs (src/vendors.ts): an add-on on the public API, in no build.
  build({ ...common, entryPoints: ['src/vendors.ts'], format: 'iife', write: false }).then((r) =>
    writeFileSync(`${dir}dist/assent.vendors.min.js`, squeeze(r.outputFiles[0].text).code),
  ),
  build({
    ...common,
    ...lite(false),
    entryPoints: ['src/esm.ts'],
    format: 'esm',
    outfile: 'dist/assent.esm.js',
  }),

  // Each language is its own tiny file that registers itself before the banner starts:
  //   <script src="/i18n/de.js" defer></script><script src="/assent.min.js" defer …>
  ...readdirSync(`${dir}../core/src/i18n`)
    .filter((f) => /^[a-z]{2}\.ts$/.test(f))
    .map((f) => {
      const lang = f.slice(0, -3);
      return build({
        ...common,
        stdin: {
          contents: `import t from '../core/src/i18n/${f}'; (self.assentTexts = self.assentTexts || {})[${JSON.stringify(lang)}] = t;`,
          resolveDir: dir,
          loader: 'js',
        },
        format: 'iife',
        outfile: `dist/i18n/${lang}.js`,
      });
    }),
]);
// The full build's stylesheet as a file, for pages that link it (or their own copy) instead.
writeFileSync(`${dir}dist/assent.css`, `${styles(false)}\n`);
copyFileSync(`${dir}types/assent.d.ts`, `${dir}dist/assent.d.ts`);

// Subresource Integrity: the SHA-384 of every file a page can load from a CDN, with the
// package's version (the version goes in the URL's path, not the file name: the banner loads
// its preferences file from beside itself by name). `npm run -w @assent/banner snippet` prints
// the tags to paste; the drop-in passes `data-prefs` on to the file it loads.
const { version } = JSON.parse(readFileSync(`${dir}package.json`, 'utf8'));
const served = [
  ...readdirSync(`${dir}dist`).filter((f) => /\.(js|css)$/.test(f) && f !== 'assent.esm.js'),
  ...readdirSync(`${dir}dist/i18n`).map((f) => `i18n/${f}`),
].sort();
const sri = Object.fromEntries(
  served.map((f) => [
    f,
    `sha384-${createHash('sha384')
      .update(readFileSync(`${dir}dist/${f}`))
      .digest('base64')}`,
  ]),
);
writeFileSync(`${dir}dist/sri.json`, `${JSON.stringify({ version, files: sri }, null, 2)}\n`);
writeFileSync(`${dir}dist/.built`, new Date().toISOString());
