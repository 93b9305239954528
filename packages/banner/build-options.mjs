// The esbuild options of every banner build, shared by build.mjs and bench/banner-bytes.mjs.
import { readFileSync } from 'node:fs';
import { transformSync } from 'esbuild';
import { minify } from 'uglify-js';

const dir = new URL('.', import.meta.url).pathname;

export const common = {
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

/** The stylesheet of a build, minified: assent.css, plus assent-full.css in the full build. */
export const styles = (isLite) =>
  transformSync(
    ['assent.css', ...(isLite ? [] : ['assent-full.css'])]
      .map((f) => readFileSync(`${dir}src/${f}`, 'utf8'))
      .join('\n'),
    { loader: 'css', minify: true },
  )
    // esbuild keeps custom properties' values as written, and biome writes them with spaces.
    .code.replace(/(: |, | \/ )/g, (m) => m.trim())
    .trim();

/**
 * `define` for a build (see build.mjs): whether it is the lite one, and its stylesheet, which
 * travels inside the script (src/start.ts adopts it).
 */
export const lite = (on) => ({
  define: { 'globalThis.ASSENT_LITE': String(on), ASSENT_CSS: JSON.stringify(styles(on)) },
});

/**
 * The second pass of the drop-in builds: UglifyJS over esbuild's output. esbuild bundles,
 * folds `ASSENT_LITE` and renames the internal fields; UglifyJS then inlines what is used once,
 * joins declarations and re-mangles the whole IIFE by frequency: ~300 B less gzipped than
 * esbuild alone (terser: ~265). Only its safe transforms (no `unsafe*`): the browser tests run
 * on this output. `map` (esbuild's source map) is carried through for bench/banner-bytes.mjs.
 */
export const squeeze = (code, map) => {
  const r = minify(code, {
    compress: { passes: 3, toplevel: true },
    mangle: { toplevel: true },
    ...(map && { sourceMap: { content: map } }),
  });
  if (r.error) throw r.error;
  return r;
};
