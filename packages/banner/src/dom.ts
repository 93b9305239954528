/**
 * The banner's whole DOM toolkit: local aliases the minifier can shorten, and `h()`.
 * Config strings only ever reach the page through `textContent` and attributes, never
 * `innerHTML`, so a site's texts cannot inject markup.
 */
export const doc = document;
export const win = window;
/** The drop-in's own script element: its URL and nonce (null in the ESM build). */
export const script = doc.currentScript as HTMLScriptElement | null;

type Attrs = Record<string, string | boolean | ((e: Event) => void) | undefined>;
type Child = Node | string | false | undefined;

/**
 * `h('button', { class: 'x', onclick: fn }, 'Label')`, or `h('div', 'x', …)` for a class alone.
 * Functions become the element's `on…` handler (a property, so CSP-safe); falsy attributes
 * (`false`, `undefined`, `''`) and children are skipped.
 */
export const h = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs | string = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] => {
  const el = doc.createElement(tag);
  if (typeof attrs === 'string') attrs = { class: attrs };
  for (const k in attrs) {
    const v = attrs[k];
    if (typeof v === 'function') (el as unknown as Record<string, unknown>)[k] = v;
    else if (v) el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c) el.append(c);
  return el;
};

/** Every button of the banner: one class, one weight — refusing looks exactly like accepting. */
export const btn = (label: string, attrs: Attrs = {}): HTMLButtonElement =>
  h('button', { type: 'button', class: 'assent-btn', ...attrs }, label);

/**
 * A first layer or dialog: themed, and `data-nosnippet` so its text never becomes a
 * search snippet.
 */
export const panel = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs,
  ...children: Child[]
): HTMLElementTagNameMap[K] => h(tag, { class: 'assent', 'data-nosnippet': true, ...attrs }, ...children);

/** Runs `fn` once the body exists (the script may be loaded without `defer`). */
export const onReady = (fn: () => void): void => {
  if (doc.body) fn();
  else doc.addEventListener('DOMContentLoaded', fn);
};
