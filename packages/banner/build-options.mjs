// The esbuild options of every banner build, shared by build.mjs and bench/banner-bytes.mjs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import { minify } from 'uglify-js';

const dir = new URL('.', import.meta.url).pathname;

export const common = {
  bundle: true,
  // @assent/core from its TypeScript sources (package.json exports), not its build.
  conditions: ['@assent/source'],
  minify: true,
  target: 'es2020',
  // Internal fields start with `_`; the public API keeps its names (see src/state.ts).
  // Also renamed: fields of core's objects that never leave the bundle (Decision, decide()'s
  // input, StoredConsent.bits, Validated, ConfigError.field, the shortcode's pairs). Never
  // listed: Config fields (read from the owner's JSON by name), PublicState, the receipt
  // body, dataLayer payloads, texts, and any name a DOM or built-in object also has
  // (`key`, `now`, `keys`, `map` …): mangling is by name, bundle-wide.
  mangleProps: /^(_.*|show|record|stale|kind|stored|bits|config|errors|field|pairs)$/,
  // `_clear` is Google Tag Manager's (src/gcm.ts), not ours to rename.
  reserveProps: /^(__|_clear$)/,
  legalComments: 'none',
  logLevel: 'warning',
  absWorkingDir: dir,
};

/** esbuild's part of a drop-in build (an IIFE, in memory): build.mjs and bench/banner-bytes.mjs. */
export const dropInOptions = (isLite) => ({
  ...common,
  ...lite(isLite, true),
  entryPoints: ['src/main.ts'],
  format: 'iife',
  write: false,
});

/** The file name of a drop-in build's preferences (src/open.ts fetches it beside the banner). */
export const prefsFile = (isLite) => (isLite ? 'assent.prefs.min.js' : 'assent.full.prefs.min.js');

/**
 * esbuild's part of a drop-in's preferences file: src/prefs-file.ts and the dialog, with
 * every other import resolved to the banner's parts that src/kit.ts lists (handed over as
 * `self.__assent`), and the banner's property names (`mangleCache`, from its own build), so
 * both files agree on what `S._dialog` is called.
 */
export const prefsOptions = (isLite, mangleCache) => {
  // The list's names, in order, with the full build's spread in at its end.
  const names = /kit = \(\): unknown\[\] => \[([^;]+)\];/
    .exec(readFileSync(`${dir}src/kit.ts`, 'utf8'))[1]
    .replace(/\.\.\.\(globalThis\.ASSENT_LITE \? \[\] : \[|\]\)/g, '')
    .split(',')
    .map((x) => /(\w+)\s*$/.exec(x)?.[1])
    .filter(Boolean);
  return {
    ...common,
    ...lite(isLite, true),
    define: {
      ...lite(isLite, true).define,
      ASSENT_CSS: JSON.stringify(styles(isLite, ['assent-prefs.css'])),
    },
    entryPoints: ['src/prefs-file.ts'],
    format: 'iife',
    write: false,
    mangleCache,
    plugins: [
      {
        name: 'kit',
        setup(b) {
          b.onResolve({ filter: /^\./ }, (a) =>
            a.kind === 'entry-point' || a.path === './preferences.js'
              ? undefined
              : { path: 'kit', namespace: 'kit' },
          );
          b.onLoad({ filter: /.*/, namespace: 'kit' }, () => ({
            contents: `export const [${names.join(',')}] = self.__assent;`,
            loader: 'js',
          }));
        },
      },
    ],
  };
};

/**
 * The stylesheet of a build, minified: assent.css and assent-prefs.css, plus assent-full.css in
 * the full build; or the `files` given (a drop-in's two files each carry their own part).
 */
export const styles = (
  isLite,
  files = ['assent.css', 'assent-prefs.css', ...(isLite ? [] : ['assent-full.css'])],
) =>
  transformSync(files.map((f) => readFileSync(`${dir}src/${f}`, 'utf8')).join('\n'), {
    loader: 'css',
    minify: true,
  })
    // esbuild keeps custom properties' values as written, and biome writes them with spaces.
    .code.replace(/(: |, | \/ )/g, (m) => m.trim())
    .trim();

/**
 * `define` for a build (see build.mjs): whether it is the lite one, whether its preferences
 * are a file of their own (the drop-ins', see src/open.ts), and its stylesheet, which travels
 * inside the script (src/start.ts adopts it).
 */
export const lite = (on, split = false) => ({
  define: {
    'globalThis.ASSENT_LITE': String(on),
    'globalThis.ASSENT_SPLIT': String(split),
    ASSENT_PREFS: JSON.stringify(prefsFile(on)),
    // A drop-in's first file has the banner's rules; its preferences file brings the dialog's.
    // `--assent` on :root is for a linked copy (src/dom.ts reads it before adopting any):
    // the banner's own sheet need not say it is there.
    ASSENT_CSS: JSON.stringify(
      (split ? styles(on, ['assent.css', ...(on ? [] : ['assent-full.css'])]) : styles(on)).replace(
        ':root{--assent:1}',
        '',
      ),
    ),
  },
});

const closureCli = createRequire(import.meta.url).resolve('google-closure-compiler/cli.js');

/**
 * Closure Compiler, SIMPLE optimisations (local renaming, constant folding, inlining; no
 * property renaming), native binary first and Java if there is none. It folds what esbuild
 * leaves as written (`new RegExp(template)`, string tables, `let` chains), so UglifyJS after it
 * gets ~70 B more out of the lite build.
 */
const closure = (code) => {
  const dir = mkdtempSync(join(tmpdir(), 'assent-cc-'));
  try {
    writeFileSync(join(dir, 'in.js'), code);
    execFileSync(
      process.execPath,
      [
        closureCli,
        '--platform=native,java',
        '--js=in.js',
        '--js_output_file=out.js',
        '--compilation_level=SIMPLE',
        '--language_out=ECMASCRIPT_2020',
        '--warning_level=QUIET',
        // (True: esbuild's IIFE holds everything.) Lets it rename what would otherwise be global.
        '--assume_function_wrapper',
      ],
      { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    return readFileSync(join(dir, 'out.js'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

/**
 * The passes after esbuild for the drop-in builds: Closure Compiler, then UglifyJS. esbuild
 * bundles, folds `ASSENT_LITE` and renames the internal fields; Closure folds constants and
 * inlines; UglifyJS joins declarations and re-mangles the whole IIFE by frequency. Together
 * ~380 B less gzipped than esbuild alone (UglifyJS alone: ~300; terser alone: ~265). Only
 * safe transforms (no `unsafe*`, no property renaming): the browser tests run on this output.
 * With `map` (esbuild's source map, for bench/banner-bytes.mjs) Closure is skipped: its map
 * is too coarse to say which module each character came from; UglifyJS carries the map.
 */
export const squeeze = (input, map) => {
  const r = minify(map ? input : closure(input), {
    // `varify: false` keeps esbuild's `let`/`const` as written: turned into `var`, they join
    // other declarations and gzip finds fewer repeats (−7 B lite, −13 B full). `comparisons:
    // false` keeps comparisons as written (`x > 50`, not `50 < x`; `===` stays): written the
    // same way everywhere, they repeat more (−3 B lite). Turning a transform off is always safe.
    compress: { passes: 3, toplevel: true, varify: false, comparisons: false },
    mangle: { toplevel: true },
    ...(map && { sourceMap: { content: map } }),
  });
  if (r.error) throw r.error;
  // `toplevel` unwraps esbuild's IIFE into plain `var`s: in a classic script those are globals
  // of the page (window.d, window.h …), which a page's own `var d` would overwrite, and
  // which the two files of a drop-in would share. One arrow around the result: 10 bytes.
  // (Not with `map`: bench/banner-bytes.mjs reads columns from it.)
  if (!map) r.code = `(()=>{${r.code}})();`;
  return r;
};
