import { doNotSell, gpcHonored } from '@assent/core';
import { choose } from './choice.js';
import { btn, doc, h, panel } from './dom.js';
import { openPreferences } from './open.js';
import { from, S } from './state.js';

/** The message (or dialog intro) with its Learn More link: shared by both layers. */
export const intro = (text: string): HTMLParagraphElement => {
  const p = S._policy;
  return h('p', {}, text, ' ', h('a', { href: p.config.learnMoreHref }, p.texts.learnMore));
};

/**
 * The first layer: a non-modal `role="region"` (it does not block the page, so it must not
 * claim `aria-modal`; GOV.UK pattern, vanilla-cookieconsent PR #797). Fixed to the bottom
 * of the viewport so it never shifts the page's layout, first in the body so keyboard users
 * reach it first, and `data-nosnippet` so its text never becomes a search snippet.
 */
export const showBanner = (): void => {
  const p = S._policy;
  const t = p.texts;
  const mode = p.mode;
  // A first-layer button, named for the scanner and tests by `data-assent-action`.
  const action = (name: 'accept' | 'reject' | 'preferences', onclick: (e: Event) => void) =>
    btn(t[name], { 'data-assent-action': name, onclick });
  doc.body.prepend(
    (S._banner = panel(
      'div',
      { id: 'assent-banner', role: 'region', 'aria-label': t.label, lang: p.lang },
      intro(t.message),
      // (The full build's parts are spread in, so that the lite build passes nothing for them.)
      ...(globalThis.ASSENT_LITE ? [] : [S._gpc && mode !== 'notice' && h('p', {}, t.gpc)]),
      h(
        'div',
        { class: 'assent-btns' },
        action('accept', (e) => choose(S._acceptMethod, from('banner', e))),
        mode === 'opt-in' && action('reject', (e) => choose('reject-all', from('banner', e))),
        mode !== 'notice' && action('preferences', (e) => openPreferences(from('preferences', e))),
      ),
      ...(globalThis.ASSENT_LITE
        ? []
        : [
            mode === 'opt-out' &&
              h(
                'button',
                {
                  type: 'button',
                  class: 'assent-link',
                  'data-assent-action': 'do-not-sell',
                  onclick: () => choose('custom', 'banner', doNotSell(p)),
                },
                t.doNotSell,
              ),
          ]),
    )),
  );
};

/** The always-there way back to the choice: withdrawal as easy as giving (GDPR Art. 7(3)). */
export const showFab = (): void => {
  const t = S._policy.texts;
  // No body yet (an API call from a script in <head>): the button comes once the page is parsed.
  if (S._policy.config.floatingButton && !S._fab && doc.body)
    doc.body.append(
      (S._fab = panel(
        'div',
        // Its language, as the banner's (full build).
        globalThis.ASSENT_LITE
          ? { class: 'assent assent-fab', role: 'region', 'aria-label': t.settings }
          : { class: 'assent assent-fab', role: 'region', 'aria-label': t.settings, lang: S._policy.lang },
        // While a GPC opt-out is honoured, the page says so (CCPA regulations §7025(c)(6)).
        ...(globalThis.ASSENT_LITE
          ? []
          : [S._gpc && gpcHonored(S._policy, S._granted) && h('p', { class: 'assent-gpc' }, t.gpcHonored)]),
        btn(t.settings, { 'data-assent-open': true }),
      )),
    );
};
