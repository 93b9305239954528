/**
 * The banner's whole DOM toolkit: local aliases the minifier can shorten, and `h()`.
 * Config strings only ever reach the page through `textContent` and attributes, never
 * `innerHTML`, so a site's texts cannot inject markup.
 */
export const doc = document;
export const win = window;

type Attrs = Record<string, string | boolean | ((e: Event) => void) | undefined>;

/** `h('button', { class: 'x', onclick: fn }, 'Label')`. `false`/`undefined` attributes are skipped. */
export const h = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | string | false | undefined)[]
): HTMLElementTagNameMap[K] => {
  const el = doc.createElement(tag);
  for (const k in attrs) {
    const v = attrs[k];
    if (typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, '');
    else if (v !== false && v !== undefined) el.setAttribute(k, v);
  }
  for (const c of children) if (c) el.append(c);
  return el;
};

/** Every button of the banner: one class, one weight — refusing looks exactly like accepting. */
export const btn = (label: string, attrs: Attrs = {}): HTMLButtonElement =>
  h('button', { type: 'button', class: 'assent-btn', ...attrs }, label);

/** Runs `fn` once the body exists (the script may be loaded without `defer`). */
export const onReady = (fn: () => void): void => {
  if (doc.body) fn();
  else doc.addEventListener('DOMContentLoaded', fn);
};
