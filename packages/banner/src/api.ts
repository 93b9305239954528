import { allowed } from '@assent/core';
import type { AssentApi, PublicState } from '../types/assent.js';
import { load } from './blocker.js';
import { choose, grantedKeys } from './choice.js';
import { doc } from './dom.js';
import { publicState } from './events.js';
import { openPreferences } from './open.js';
import { from, S } from './state.js';

/** `window.Assent`: the public API; its type lives in types/assent.d.ts with the other public types. */
export type { AssentApi } from '../types/assent.js';

export const api: AssentApi = {
  get: publicState,
  on(event, fn) {
    const type = `assent:${event}`;
    const l = (e: Event) => fn((e as CustomEvent<PublicState>).detail);
    doc.addEventListener(type, l);
    // Already reported (init() reports before it returns): now, as a late listener expects.
    // (After the caller has its unsubscribe function: `const off = on('ready', () => off())`.)
    if (!globalThis.ASSENT_LITE && event === 'ready' && api.ready) queueMicrotask(() => fn(publicState()));
    return () => doc.removeEventListener(type, l);
  },
  open: () => openPreferences(from('sdk')),
  accept: (categories) => choose(categories ? 'custom' : S._acceptMethod, from('sdk'), categories),
  reject: () => choose('reject-all', from('sdk')),
  withdraw: () => choose('withdraw', from('sdk')),
  allowed: (category, service) => allowed(S._granted, category, service),
};

/**
 * Any element can open the preferences (`data-assent-open`) or grant one category
 * (`data-assent-accept="marketing"`, as the embed placeholders do) — no code needed.
 */
export const delegate = (): void => {
  doc.addEventListener('click', (e) => {
    const el = (e.target as Element).closest?.(
      '[data-assent-open],[data-assent-accept],[data-assent-load]',
    ) as HTMLElement | null;
    if (!el) return;
    e.preventDefault();
    const cat = el.dataset.assentAccept;
    // "Load content" on a placeholder: the held iframe right after it.
    if (el.dataset.assentLoad)
      load(el.closest('.assent-embed')!.nextElementSibling as HTMLIFrameElement, true);
    // (A mistyped category records nothing, and choose says so.)
    // (Assent's own placeholder is the banner's; a page's element, in its own words, is the
    // page's: `sdk`.)
    else if (cat)
      choose('custom', from(!globalThis.ASSENT_LITE && el.closest('.assent') ? 'banner' : 'sdk', e), [
        ...grantedKeys(),
        cat,
      ]);
    else
      openPreferences(!globalThis.ASSENT_LITE && el.closest('.assent-fab') ? 'floating-button' : from('sdk'));
  });
};
