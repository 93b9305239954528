/**
 * The banner's whole DOM toolkit: local aliases the minifier can shorten, and `h()`.
 * Config strings only ever reach the page through `textContent` and attributes, never
 * `innerHTML`, so a site's texts cannot inject markup.
 */
// The bundler build is imported on servers too (a React app's server render): read through
// globalThis there, so importing it never throws; init() is for the browser. (A drop-in
// always runs in one: the plain names are shorter.)
export const doc = globalThis.ASSENT_SPLIT ? document : globalThis.document;
export const win = globalThis.ASSENT_SPLIT ? window : (globalThis.window as Window & typeof globalThis);
declare global {
  /** The build's (or the file's) minified stylesheet (an esbuild `define`, see build-options.mjs). */
  const ASSENT_CSS: string;
}

/** Whether the styles are the banner's own: decided on the first call. */
let own: boolean | undefined;

/**
 * The styles travel in the script: one request fewer before the banner paints, and nothing
 * to get wrong. A constructed stylesheet is not inline CSS, so `style-src 'self'` allows it.
 * A page that links assent.css (or its own copy) keeps its own: the file sets `--assent` on
 * :root, and then no file of the banner adds any. Where constructed stylesheets are missing
 * (Safari < 16.4) the banner still works, unstyled, at the top of the page.
 */
export const adopt = (css: string): void => {
  if ((own ??= !getComputedStyle(doc.documentElement).getPropertyValue('--assent')))
    try {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      doc.adoptedStyleSheets.push(sheet);
    } catch {}
};

/** The drop-in's own script element: its URL and nonce (null in the ESM build). */
export const script = (globalThis.ASSENT_SPLIT ? doc.currentScript : null) as HTMLScriptElement | null;

type Attrs = Record<string, string | boolean | null | ((e: Event) => void) | undefined>;
type Child = Node | string | false | undefined;

/**
 * `h('button', { class: 'x', onclick: fn }, 'Label')`.
 * Functions become the element's `on…` handler (a property, so CSP-safe); falsy attributes
 * (`false`, `undefined`, `''`) and children are skipped.
 */
export const h = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs,
  ...children: Child[]
): HTMLElementTagNameMap[K] => {
  const el = doc.createElement(tag);
  for (const k in attrs) {
    const v = attrs[k];
    if (typeof v === 'function') (el as unknown as Record<string, unknown>)[k] = v;
    else if (v) el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c) el.append(c);
  return el;
};

/** Every button of the banner: one class, one weight — refusing looks exactly like accepting. */
export const btn = (label: string, attrs?: Attrs): HTMLButtonElement =>
  h('button', { type: 'button', class: 'assent-btn', ...attrs }, label);

/**
 * A first layer or dialog: themed, `data-nosnippet` so its text never becomes a search
 * snippet, and `dir="auto"`: right to left when its text is (Arabic, Hebrew …), whatever the
 * page's direction (the styles use start and end, not left and right).
 */
export const panel = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs,
  ...children: Child[]
): HTMLElementTagNameMap[K] =>
  // (The whole object per build: the lite build, at its budget, ships it as it was.)
  h(
    tag,
    globalThis.ASSENT_LITE
      ? { class: 'assent', 'data-nosnippet': true, ...attrs }
      : { class: 'assent', 'data-nosnippet': true, dir: 'auto', ...attrs },
    ...children,
  );

/**
 * `fn`, made safe: when a browser API the banner needs is missing or throws (`document.cookie`
 * in a sandboxed frame, no `MutationObserver`, no `crypto`), nothing non-essential has run
 * (held elements are inert until activated) and the console says why, instead of an
 * uncaught error that names no one.
 */
export const guard = (fn: () => unknown) => (): void => {
  try {
    fn();
  } catch (e) {
    console.error('assent: cannot start, so nothing non-essential runs:', e);
  }
};

/** Runs `fn` once the body exists (the script may be loaded without `defer`). */
export const onReady = (fn: () => void): void => {
  const go = guard(fn);
  if (doc.body) go();
  else doc.addEventListener('DOMContentLoaded', go);
};
