import { choose } from './choice.js';
import { btn, doc, h, panel } from './dom.js';
import { intro } from './notice.js';
import { consentPage } from './receipt.js';
import { S, type Source } from './state.js';
import { checkSoon } from './sync.js';

/**
 * The preferences dialog: a native `<dialog>` opened with `showModal()`, so the browser
 * makes the page behind it inert (focus stays inside), Escape closes it, and it sits in
 * the top layer above any site z-index. Built on first open, not at start-up.
 */
export const openPreferences = (src: Source): void => {
  // Where it was opened from: the receipt's `source` (receipts are the full build's).
  if (!globalThis.ASSENT_LITE) S._src = src;
  const opener = doc.activeElement as HTMLElement | null;
  const d = (S._dialog ??= build());
  for (const box of boxes()) box.checked = !!S._granted[box.value];
  // The consent ID, linked to its page on the receipt server (the full build sends receipts).
  if (!globalThis.ASSENT_LITE) {
    const id = S._record?.id;
    const href = id && consentPage(id);
    const cid = d.querySelector<HTMLElement>('.assent-cid')!;
    cid.replaceChildren(
      ...(href ? [`${S._policy.texts.consentId}: `, h('a', { href, onclick: checkSoon }, id)] : []),
    );
    cid.hidden = !href;
  }
  if (!d.open) {
    d.showModal();
    // Back to the opener; if a choice took it away (the banner's Preferences, the floating
    // button the choice rebuilt), to the floating button: focus is never dropped on the page.
    d.addEventListener(
      'close',
      () => (opener?.isConnected ? opener : S._fab?.querySelector('button'))?.focus(),
      { once: true },
    );
  }
};

const boxes = () => S._dialog!.querySelectorAll<HTMLInputElement>('input[value]');

let n = 0;
/** A labelled switch with its description wired by `aria-describedby`. */
const toggle = (key: string | 0, title = '', desc = '', ...services: HTMLElement[]) => {
  const id = `assent-${n++}`;
  return h(
    'div',
    { class: 'assent-cat' },
    h(
      'label',
      {},
      h('input', {
        type: 'checkbox',
        // `necessary` (key 0) is always on and cannot be switched off.
        ...(key === 0 ? { checked: true, disabled: true } : { value: key }),
        'aria-describedby': desc && id,
      }),
      ` ${title}`,
      key === 0 && h('small', {}, ` (${S._policy.texts.alwaysOn})`),
    ),
    desc && h('p', { id }, desc),
    // Named by its category: two "Google Analytics" switches (under Analytics and under
    // Marketing) are told apart by a screen reader (WCAG 1.3.1).
    services.length > 0 &&
      h('div', { class: 'assent-svcs', role: 'group', 'aria-label': title }, ...services),
  );
};

const build = (): HTMLDialogElement => {
  const p = S._policy;
  const t = p.texts;
  const action = (label: string, name: 'save' | 'accept-all' | 'reject-all') =>
    btn(label, {
      'data-assent-action': name,
      onclick: (e: Event) =>
        choose(
          name === 'save' ? 'custom' : name,
          // A click no person made is the page's (see from(), state.ts).
          e.isTrusted ? S._src : 'sdk',
          [...boxes()].filter((b) => b.checked).map((b) => b.value),
        ),
    });
  const d = panel(
    'dialog',
    {
      id: 'assent-prefs',
      role: 'dialog',
      'aria-modal': 'true',
      'aria-labelledby': 'assent-title',
      lang: p.lang,
    },
    h('h2', { id: 'assent-title' }, t.title),
    intro(t.intro),
    // (Spread in: the lite build passes nothing for the full build's parts.)
    ...(globalThis.ASSENT_LITE ? [] : [S._gpc && h('p', {}, t.gpc)]),
    toggle(0, ...(t.cats.necessary ?? [])),
    ...p.categories.map((c) =>
      toggle(c.id, c.title, c.description, ...c.services.map((s) => toggle(s.key, s.title, s.description))),
    ),
    ...(globalThis.ASSENT_LITE ? [] : [h('p', { class: 'assent-cid' })]),
    h(
      'div',
      { class: 'assent-btns' },
      action(t.rejectAll, 'reject-all'),
      action(t.acceptAll, 'accept-all'),
      action(t.save, 'save'),
    ),
    btn('×', { class: 'assent-x', 'aria-label': t.close, onclick: () => d.close() }),
  );
  // A category switch drives its services; unticking one service unticks the category.
  d.onchange = (e) => {
    const box = e.target as HTMLInputElement;
    const [cat, svc] = box.value.split(':');
    for (const b of boxes()) {
      if (!svc && b.value.startsWith(`${cat}:`)) b.checked = box.checked;
      if (svc && !box.checked && b.value === cat) b.checked = false;
    }
  };
  // The native modal keeps focus out of the page but lets Tab leave for the browser's UI;
  // wrap it so keyboard users cycle through the dialog's controls (a real focus trap).
  d.onkeydown = (e) => {
    const all = d.querySelectorAll<HTMLElement>('a[href],button,input:not(:disabled)');
    const last = all.length - 1;
    if (e.key === 'Tab' && doc.activeElement === all[e.shiftKey ? 0 : last]) {
      e.preventDefault();
      all[e.shiftKey ? last : 0]!.focus();
    }
  };
  doc.body.append(d);
  return d;
};
