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
await Promise.all([
  build({ ...common, entryPoints: ['src/main.ts'], format: 'iife', outfile: 'dist/assent.min.js' }),
  build({ ...common, entryPoints: ['src/esm.ts'], format: 'esm', outfile: 'dist/assent.esm.js' }),
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
