import { consentModeSignals, type GoogleConsentMode, type Granted } from '@assent/core';
import { GOOGLE_TAG, HELD } from './blocker.js';
import { grantedKeys } from './choice.js';
import { doc, win } from './dom.js';

declare global {
  interface Window {
    dataLayer?: unknown[];
  }
}

/** What `gtag(…)` pushes: an `arguments` object, not an array (Google tags ignore arrays). */
function args(..._: unknown[]): IArguments {
  // biome-ignore lint/complexity/noArguments: gtag's queue format is the arguments object itself.
  return arguments;
}

const layer = () => (win.dataLayer ||= []);
const update = (gcm: GoogleConsentMode, g: Granted) =>
  args('consent', 'update', consentModeSignals(g, gcm.map));

/**
 * Google Consent Mode v2, once per page load: the `default`, the `set` options, and — for a
 * returning visitor — the stored choice as an `update` right after it (never a second
 * `default`, a known bug of other CMPs). When a Google tag snippet already queued commands
 * but gtag.js has not yet read the queue, ours go in front of them, so the default always
 * precedes the tag's first `config`/`event`; once gtag.js runs, they are pushed, late, and the
 * console says so.
 */
export const gcmStart = (gcm: GoogleConsentMode | undefined, first: Granted, now?: Granted): void => {
  if (!gcm) return;
  const dl = layer();
  const cmds = [
    args('consent', 'default', {
      ...consentModeSignals(first, gcm.map),
      wait_for_update: gcm.waitForUpdate ?? 500,
    }),
    gcm.adsDataRedaction && args('set', 'ads_data_redaction', true),
    gcm.urlPassthrough && args('set', 'url_passthrough', true),
    now && update(gcm, now),
  ].filter(Boolean);
  if (dl.push === [].push) dl.unshift(...cmds);
  else {
    // gtag.js (or GTM) already read the queue: its events went out before any default.
    console.error(
      'assent: Consent Mode: a Google tag ran before the banner, so its default came late: load the banner first, without defer',
    );
    for (const c of cmds) dl.push(c);
  }
};

/** A Consent Mode `update` (on a choice, or once a late region decides the mode). */
export const gcmUpdate = (gcm: GoogleConsentMode | undefined, g: Granted): void => {
  if (gcm) layer().push(update(gcm, g));
};

/**
 * For tag managers, on every page view once the state is known and on every change:
 * `{ _clear: true, event: 'assent_consent', assent: { categories, services, method } }` on `dataLayer`
 * (when the page has one, or Consent Mode is on). `method` is `null` with no choice made.
 */
export const tagEvent = (gcm: GoogleConsentMode | undefined, g: Granted, method?: string | null): void => {
  if (!gcm && !win.dataLayer) return;
  const on = grantedKeys(g);
  layer().push({
    // GTM merges a pushed array into the one before, index by index: without `_clear`, a
    // withdrawal's `categories: []` left the granted ones in place, and their tags fired on it.
    // (build-options.mjs keeps the name: the build renames other `_` properties.)
    _clear: true,
    event: 'assent_consent',
    assent: {
      categories: on.filter((k) => !k.includes(':')),
      services: on.filter((k) => k.includes(':')),
      method: method ?? null,
    },
  });
};

/**
 * Makes the Consent Mode choice visible once the page is parsed: unset, the console says
 * which mode the markup makes it (a held Google tag is basic, a live one advanced) and how
 * to say so; `basic` with a live Google tag is an error (it runs before consent).
 */
export const gcmHint = (gcm: GoogleConsentMode | undefined): void => {
  if (!gcm) return;
  const tag = (q: string) => [...doc.querySelectorAll(q)].some((el) => GOOGLE_TAG.test(el.outerHTML));
  const held = tag(HELD);
  if (!gcm.mode)
    console.warn(
      `assent: Consent Mode ${
        held
          ? 'basic (the Google tag is held)'
          : 'advanced (Google tags send cookieless pings before consent)'
      }: say so with gcm=(basic) or gcm=(advanced)`,
    );
  else if (gcm.mode === 'basic' && tag('script:not([type="text/plain"])'))
    console.error('assent: Consent Mode basic, but a Google tag is not held');
};
