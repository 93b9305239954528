import { SALE_CATEGORIES } from '@assent/core';
import { choose } from './choice.js';
import { btn, doc, h } from './dom.js';
import { openPreferences } from './preferences.js';
import { S } from './state.js';

/** A first-layer button, named for the scanner and tests by `data-assent-action`. */
const action = (name: string, label: string, onclick: () => void) =>
  btn(label, { 'data-assent-action': name, onclick });

/**
 * The first layer: a non-modal `role="region"` (it does not block the page, so it must not
 * claim `aria-modal`; GOV.UK pattern, vanilla-cookieconsent PR #797). Fixed to the bottom
 * of the viewport so it never shifts the page's layout, first in the body so keyboard users
 * reach it first, and `data-nosnippet` so its text never becomes a search snippet.
 */
export const showBanner = (): void => {
  const { _policy: p } = S;
  const t = p.texts;
  const optOut = p.mode === 'opt-out';
  const b = (S._banner = h(
    'div',
    {
      id: 'assent-banner',
      class: 'assent',
      role: 'region',
      'aria-label': t.label,
      'data-nosnippet': true,
      lang: p.lang,
    },
    h('p', {}, t.message, ' ', h('a', { href: p.config.learnMoreHref }, t.learnMore)),
    S._gpc && p.mode !== 'notice' && h('p', {}, t.gpc),
    h(
      'div',
      { class: 'assent-btns' },
      action('accept', t.accept, () => choose(S._acceptMethod, 'banner')),
      p.mode === 'opt-in' && action('reject', t.reject, () => choose('reject-all', 'banner')),
      p.mode !== 'notice' && action('preferences', t.preferences, () => openPreferences('preferences')),
    ),
    optOut &&
      h(
        'button',
        {
          type: 'button',
          class: 'assent-link',
          'data-assent-action': 'do-not-sell',
          onclick: () =>
            choose(
              'custom',
              'banner',
              p.keys.filter((k) => !SALE_CATEGORIES.includes(k.split(':')[0]!)),
            ),
        },
        t.doNotSell,
      ),
  ));
  doc.body.prepend(b);
};

export const hideBanner = (): void => {
  S._banner?.remove();
  S._banner = undefined;
};

/** The always-there way back to the choice: withdrawal as easy as giving (GDPR Art. 7(3)). */
export const showFab = (): void => {
  if (!S._policy.config.floatingButton || S._fab) return;
  S._fab = h(
    'div',
    {
      class: 'assent assent-fab',
      role: 'region',
      'aria-label': S._policy.texts.settings,
      'data-nosnippet': true,
    },
    btn(S._policy.texts.settings, { 'data-assent-open': true }),
  );
  doc.body.append(S._fab);
};
