// Builds the banner: the drop-in IIFE, the ESM build for bundlers, the stylesheet, the
// language presets and the type declarations. `node build.mjs`.
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const dir = new URL('.', import.meta.url).pathname;
mkdirSync(`${dir}dist/i18n`, { recursive: true });
const common = {
  bundle: true,
  minify: true,
  target: 'es2020',
  // Internal fields start with `_`; the public API keeps its names (see src/state.ts).
  // Also renamed: fields of core's objects that never leave the bundle (Decision, decide()'s
  // input, StoredConsent.bits, Validated, ConfigError.field, the shortcode's pairs). Never
  // listed: Config fields (read from the owner's JSON by name), PublicState, the receipt
  // body, dataLayer payloads, texts, and any name a DOM or built-in object also has
  // (`key`, `now`, `keys`, `map` …): mangling is by name, bundle-wide.
  mangleProps: /^(_.*|show|record|stale|kind|stored|bits|config|errors|field|pairs)$/,
  reserveProps: /^__/,
  legalComments: 'none',
  logLevel: 'warning',
  absWorkingDir: dir,
};
const lite = (on) => ({ define: { 'globalThis.ASSENT_LITE': String(on) } });
await Promise.all([
  // Two drop-in builds from one source. `assent.min.js` (lite) is the whole consent banner:
  // modes, preferences, blocking, re-consent, withdrawal, receipts, GPC, events. The full build
  // adds the integrations a site with Google tags or several jurisdictions needs: Consent
  // Mode v2, the tag-manager event and region-aware modes (~700 B gzipped that every other
  // site would download for nothing). `ASSENT_LITE` is a constant, so esbuild drops that code.
  build({
    ...common,
    ...lite(true),
    entryPoints: ['src/main.ts'],
    format: 'iife',
    outfile: 'dist/assent.min.js',
  }),
  build({
    ...common,
    ...lite(false),
    entryPoints: ['src/main.ts'],
    format: 'iife',
    outfile: 'dist/assent.full.min.js',
  }),
  build({
    ...common,
    ...lite(false),
    entryPoints: ['src/esm.ts'],
    format: 'esm',
    outfile: 'dist/assent.esm.js',
  }),
  build({ ...common, entryPoints: ['src/assent.css'], outfile: 'dist/assent.css' }),
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
copyFileSync(`${dir}types/assent.d.ts`, `${dir}dist/assent.d.ts`);
writeFileSync(`${dir}dist/.built`, new Date().toISOString());
