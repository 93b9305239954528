// The esbuild options of every banner build, shared by build.mjs and bench/banner-bytes.mjs.
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

/** `define` for the two drop-in builds (see build.mjs). */
export const lite = (on) => ({ define: { 'globalThis.ASSENT_LITE': String(on) } });
