// Builds the banner: the drop-in IIFE, the ESM build for bundlers, the stylesheet, the
// language presets and the type declarations. `node build.mjs`.
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';
import { common, lite, squeeze, styles } from './build-options.mjs';

const dir = new URL('.', import.meta.url).pathname;
mkdirSync(`${dir}dist/i18n`, { recursive: true });
/** A drop-in IIFE: esbuild, then UglifyJS (see squeeze in build-options.mjs). */
const dropIn = async (isLite, outfile) => {
  const r = await build({
    ...common,
    ...lite(isLite),
    entryPoints: ['src/main.ts'],
    format: 'iife',
    write: false,
    outfile,
  });
  writeFileSync(`${dir}${outfile}`, squeeze(r.outputFiles[0].text).code);
};

await Promise.all([
  // Two drop-in builds from one source. `assent.min.js` (lite) is the whole consent banner:
  // modes, preferences, blocking, re-consent, withdrawal, receipts, GPC, events. The full build
  // adds the integrations a site with Google tags or several jurisdictions needs: Consent
  // Mode v2, the tag-manager event and region-aware modes (~700 B gzipped that every other
  // site would download for nothing). `ASSENT_LITE` is a constant, so esbuild drops that code.
  dropIn(true, 'dist/assent.min.js'),
  dropIn(false, 'dist/assent.full.min.js'),
  build({
    ...common,
    ...lite(false),
    entryPoints: ['src/esm.ts'],
    format: 'esm',
    outfile: 'dist/assent.esm.js',
  }),

  // Each language is its own tiny file that registers itself before the banner starts:
  //   <script src="/i18n/de.js" defer></script><script src="/assent.min.js" defer …>
  ...readdirSync(`${dir}src/i18n`)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => {
      const lang = f.slice(0, -3);
      return build({
        ...common,
        stdin: {
          contents: `import t from './src/i18n/${f}'; (self.assentTexts = self.assentTexts || {})[${JSON.stringify(lang)}] = t;`,
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
writeFileSync(`${dir}dist/.built`, new Date().toISOString());
