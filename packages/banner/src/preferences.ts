import { choose } from './choice.js';
import { btn, doc, h } from './dom.js';
import { consentPage } from './receipt.js';
import { S, type Source } from './state.js';

/**
 * The preferences dialog: a native `<dialog>` opened with `showModal()`, so the browser
 * makes the page behind it inert (focus stays inside), Escape closes it, and it sits in
 * the top layer above any site z-index. Built on first open, not at start-up.
 */
export const openPreferences = (src: Source): void => {
  S._src = src;
  const opener = doc.activeElement as HTMLElement | null;
  const d = (S._dialog ??= build());
  for (const box of boxes()) box.checked = !!S._granted[box.value];
  const id = S._record?.id;
  const cid = d.querySelector<HTMLElement>('.assent-cid')!;
  const href = id && consentPage(id);
  cid.replaceChildren(...(href ? [`${S._policy.texts.consentId}: `, h('a', { href }, id)] : []));
  cid.hidden = !href;
  if (!d.open) {
    d.showModal();
    d.addEventListener('close', () => opener?.focus(), { once: true });
  }
};

const boxes = () => S._dialog!.querySelectorAll<HTMLInputElement>('input[value]');

let n = 0;
/** A labelled switch with its description wired by `aria-describedby`. */
const toggle = (key: string, title: string, desc: string, fixed?: boolean) => {
  const id = `assent-${n++}`;
  return h(
    'div',
    { class: 'assent-cat' },
    h(
      'label',
      {},
      h('input', {
        type: 'checkbox',
        ...(fixed ? { checked: true, disabled: true } : { value: key }),
        'aria-describedby': desc ? id : undefined,
      }),
      ` ${title}`,
      fixed && h('small', {}, ` (${S._policy.texts.alwaysOn})`),
    ),
    desc && h('p', { id }, desc),
  );
};

const build = (): HTMLDialogElement => {
  const { _policy: p } = S;
  const t = p.texts;
  const [necessaryTitle = '', necessaryDesc = ''] = t.cats.necessary ?? [];
  const save = (method: 'custom' | 'accept-all' | 'reject-all') => () =>
    choose(
      method,
      S._src,
      [...boxes()].filter((b) => b.checked).map((b) => b.value),
    );
  const action = (label: string, name: 'custom' | 'accept-all' | 'reject-all') =>
    btn(label, { 'data-assent-action': name === 'custom' ? 'save' : name, onclick: save(name) });
  const d = h(
    'dialog',
    {
      id: 'assent-prefs',
      class: 'assent',
      role: 'dialog',
      'aria-modal': 'true',
      'aria-labelledby': 'assent-title',
      'data-nosnippet': true,
      lang: p.lang,
    },
    h('h2', { id: 'assent-title' }, t.title),
    h('p', {}, t.intro, ' ', h('a', { href: p.config.learnMoreHref }, t.learnMore)),
    S._gpc && h('p', {}, t.gpc),
    toggle('necessary', necessaryTitle, necessaryDesc, true),
    ...p.categories.map((c) => {
      const el = toggle(c.id, c.title, c.description);
      if (c.services.length)
        el.append(
          h('div', { class: 'assent-svcs' }, ...c.services.map((s) => toggle(s.key, s.title, s.description))),
        );
      return el;
    }),
    h('p', { class: 'assent-cid' }),
    h(
      'div',
      { class: 'assent-btns' },
      action(t.rejectAll, 'reject-all'),
      action(t.acceptAll, 'accept-all'),
      action(t.save, 'custom'),
    ),
    h('button', { type: 'button', class: 'assent-x', 'aria-label': t.close, onclick: () => d.close() }, '×'),
  );
  // A category switch drives its services; unticking one service unticks the category.
  d.addEventListener('change', (e) => {
    const box = e.target as HTMLInputElement;
    const [cat, svc] = box.value.split(':');
    for (const b of boxes()) {
      if (!svc && b.value.startsWith(`${cat}:`)) b.checked = box.checked;
      if (svc && !box.checked && b.value === cat) b.checked = false;
    }
  });
  // The native modal keeps focus out of the page but lets Tab leave for the browser's UI;
  // wrap it so keyboard users cycle through the dialog's controls (a real focus trap).
  d.addEventListener('keydown', (e) => {
    if (e.key !== 'Tab') return;
    const all = d.querySelectorAll<HTMLElement>('a[href],button,input:not(:disabled)');
    const edge = all[e.shiftKey ? 0 : all.length - 1];
    if (doc.activeElement === edge) {
      e.preventDefault();
      all[e.shiftKey ? all.length - 1 : 0]!.focus();
    }
  });
  doc.body.append(d);
  return d;
};
