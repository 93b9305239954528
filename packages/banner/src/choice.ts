import { decide, encodeConsent, type Granted, type Method, type StoredConsent } from '@assent/core';
import { activate } from './blocker.js';
import { clean, readCookie, writeCookie } from './cookies.js';
import { keep } from './discover.js';
import { doc } from './dom.js';
import { emit } from './events.js';
import { gcmUpdate, tagEvent } from './gcm.js';
import { showFab } from './notice.js';
import { sendReceipt } from './receipt.js';
import { S, type Source } from './state.js';
import { stale } from './sync.js';

/** Keys granted now, as a list: what a custom choice starts from. */
export const grantedKeys = (g: Granted = S._granted): string[] => Object.keys(g).filter((k) => g[k]);

/** Stores a record in the cookie (choose() then sends its receipt, full build). */
export const store = (r: StoredConsent): void => {
  const c = S._policy.config;
  const v = encodeConsent(r);
  writeCookie(c.cookieName, (S._c = v), r.expiresAt, c.domain);
  // Refused by the browser (a `domain` this page is not under, cookies blocked, a third-party
  // frame): the choice holds on this page only, and every page asks again (full build).
  if (!globalThis.ASSENT_LITE && readCookie(c.cookieName) !== v)
    console.error(
      `assent: the consent cookie was not stored (domain: ${c.domain}; or cookies are blocked here)`,
    );
  keep();
};

/**
 * Records a visitor's choice. The work the visitor waits for — store, hide, announce — is
 * done first; deleting cookies and starting held scripts waits for the next task, so the
 * click paints at once (Interaction to Next Paint stays small).
 */
export const choose = (method: Method, source: Source, granted?: string[]): void => {
  const p = S._policy;
  // A key the policy does not have (a typo in accept([…]) or data-assent-accept) would record a
  // choice other than the one asked for: said, naming the keys, and nothing recorded.
  if (granted?.some((k) => k !== 'necessary' && !p.keys.includes(k))) {
    console.error('assent: unknown category or service:', granted);
    return;
  }
  // Focus on a control of the banner, which goes now: it moves on to the floating button below,
  // not to the page's start (WCAG 2.4.3).
  const focused = S._banner?.contains(doc.activeElement);
  const d = decide(p, {
    kind: 'choice',
    method,
    id: S._id,
    now: Date.now(),
    // (The lite build reads no GPC.)
    ...(!globalThis.ASSENT_LITE && { gpc: S._gpc }),
    granted,
  });
  const g = (S._granted = d.granted);
  const r = (S._record = d.record!);
  store(r);
  // The receipt (sent only when an endpoint is set), whose answer held scripts wait for.
  // Receipts are the full build's (the lite build's config check names the file for
  // `endpoint`): there `source` is never read, and its callers pass none (from(), state.ts).
  const sent = globalThis.ASSENT_LITE ? undefined : sendReceipt(r, source, stale);
  S._banner?.remove();
  S._dialog?.close();
  // The GPC status beside the button follows the choice (full build).
  if (!globalThis.ASSENT_LITE) S._fab = S._fab?.remove() as undefined;
  showFab();
  if (focused) S._fab?.querySelector('button')?.focus();
  const tell = () => {
    emit('change');
    if (!globalThis.ASSENT_LITE) {
      const gcm = p.config.googleConsentMode;
      gcmUpdate(gcm, g);
      tagEvent(gcm, g, method);
    }
  };
  // With receipts, a choice that grants something new reaches listeners, Consent Mode and tag
  // managers once the server has answered, as held scripts do: if it refuses the policy the
  // page showed (409), they never hear a grant the visitor was not validly asked for (the
  // choice made then is no longer this one). A refusal is told at once. "New" is against what
  // listeners were last told: an earlier choice's grant still waiting for its receipt counts.
  if (!globalThis.ASSENT_LITE && Object.keys(g).some((k) => g[k] && !S._told?.[k]))
    sent!.then(() => S._record === r && tell());
  else tell();
  setTimeout(() => {
    // Deletes the cookies declared for every category and service that is not granted.
    clean(g, p);
    // With receipts, held scripts wait for the server's answer: if it refuses the policy the
    // page showed (409), nothing the visitor did not see runs.
    globalThis.ASSENT_LITE ? activate() : sent!.then(activate);
  });
};
