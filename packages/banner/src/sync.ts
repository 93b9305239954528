import {
  CHECKED_KEY,
  type Config,
  canonicalPolicy,
  configOf,
  createPolicy,
  type Decision,
  decide,
  decodeConsent,
  grantsBeyond,
  type PolicyDoc,
  policyDoc,
  REVALIDATE_SECONDS,
} from '@assent/core';
import { activate } from './blocker.js';
import { clean, readCookie, writeCookie } from './cookies.js';
import { doc, win } from './dom.js';
import { emit } from './events.js';
import { gcmUpdate, tagEvent } from './gcm.js';
import { showBanner, showFab } from './notice.js';
import { S } from './state.js';

/**
 * The banner's side of the policy registry and of the server's record (full build only: the
 * lite build sends no receipts). One policy, one truth: a page that posts receipts renders a
 * published policy — the one the server put in front of the banner (`GET /v1/assent.js`), or
 * the page's own config exactly as the server would publish it — and names it by SHA-256.
 */

/** What `GET /v1/assent.js` sets before the banner runs, and what `GET /v1/policy` answers. */
export interface PublishedPolicy {
  readonly site: string;
  readonly sha256: string;
  readonly doc: PolicyDoc;
}

declare global {
  interface Window {
    assentPolicy?: PublishedPolicy;
  }
}

/** SHA-256, hex, with Web Crypto (secure contexts: https, localhost). */
const sha256 = async (s: string): Promise<string> => {
  if (!crypto.subtle) throw new Error('receipts need a secure context (https): Web Crypto is missing');
  return [...new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(s)))]
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('');
};

/**
 * The config the page renders and its canonical JSON. With a published policy, its texts are
 * complete (no preset needed, none used: a language the server did not publish is never shown).
 * Sets `S._sha`, the policy's SHA-256 that receipts name.
 */
export const published = (config: Config, pub?: PublishedPolicy): { config: Config; canonical: string } => {
  const doc = pub?.doc ?? policyDoc(config, win.assentTexts);
  const canonical = canonicalPolicy(doc);
  S._sha = pub ? Promise.resolve(pub.sha256) : sha256(canonical);
  // A rejected digest (no Web Crypto on plain http) is reported when a receipt needs it.
  S._sha.catch(() => {});
  return { config: { ...configOf(doc), endpoint: config.endpoint }, canonical };
};

/** The server's API beside the receipt endpoint (`…/v1/receipts` → `…/v1/<path>`). */
export const api = (path: string): string =>
  new URL(path, new URL(S._policy.config.endpoint!, location.href)).href;

/** Resolves after `ms`, so a slow server never holds the page for long. */
export const within = <T>(p: Promise<T>, ms: number): Promise<T | undefined> =>
  Promise.race([p, new Promise<undefined>((r) => setTimeout(r, ms))]);

/**
 * Applies a decision made after start-up — the server's record differs from the cookie, or
 * the server refused the page's policy — exactly as a choice is applied: held scripts stay
 * held, the declared cookies of what is not granted are deleted, Consent Mode gets an update,
 * tag managers the `assent_consent` event, `assent:change` fires, and the banner asks again
 * when the decision says so.
 */
export const adopt = (d: Decision, record = d.record ?? null): void => {
  const p = S._policy;
  S._granted = d.granted;
  S._record = record;
  S._banner?.remove();
  S._banner = undefined;
  S._dialog?.close();
  gcmUpdate(p.config.googleConsentMode, d.granted);
  tagEvent(p.config.googleConsentMode, d.granted, record?.method);
  emit('change');
  clean(d.granted, S._policy);
  activate();
  if (d.show) showBanner();
  else showFab();
};

/**
 * The server refused a receipt (409): the page showed a policy it does not publish. Fetches
 * the published one and asks the visitor again with it; if even that fails, the safe default
 * (nothing non-essential) holds. Either way the console says what happened.
 */
export const stale = (url: string): Promise<void> =>
  fetch(url)
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
    .then(
      (pub: PublishedPolicy) => {
        const old = S._policy;
        const { config, canonical } = published(old.config, pub);
        S._policy = createPolicy(
          config,
          [doc.documentElement.lang, ...navigator.languages],
          {},
          config.regions ? old.mode : config.mode,
          canonical,
        );
        S._dialog?.remove();
        S._dialog = undefined;
        console.error(`assent: asking again with the published policy ${pub.sha256}`);
      },
      (e) => console.error(`assent: ${url}: ${e}; nothing non-essential runs`),
    )
    .then(() => adopt(decide(S._policy, { kind: 'load', stored: null, now: Date.now(), gpc: S._gpc })));

const CHECKED = CHECKED_KEY;
/**
 * localStorage, or nothing: it may be missing or throw on any call (blocked storage, a full
 * quota). One that threw on `setItem` when a receipt was sent stopped the choice half-way:
 * its held scripts never ran and no receipt was sent.
 */
const storage = <T>(use: (s: Storage) => T): T | undefined => {
  try {
    return use(localStorage);
  } catch {}
};

/** Makes the next page view check with the server (the visitor is off to their consent page). */
export const checkSoon = (): void => storage((s) => s.removeItem(CHECKED));

/** Whether the stored choice is due for a check: `revalidate` seconds after the last one. */
export const due = (): boolean =>
  Date.now() - Number(storage((s) => s.getItem(CHECKED)) ?? 0) >=
  (S._policy.config.revalidate ?? REVALIDATE_SECONDS) * 1000;

/** Notes that the stored choice agrees with the server now (a choice just sent, or a check). */
export const checked = (): void => storage((s) => s.setItem(CHECKED, String(Date.now())));

/**
 * Revalidates the stored choice with the server: the cookie the site would hold now, from the
 * consent's latest receipt (`GET /v1/consents/:id/cookie`). A withdrawal on the consent page,
 * a choice made through the API or on another device under the same ID: applied at once. No
 * record at all (the receipt never arrived): no proof of consent, so the banner asks again.
 * A record older than the stored choice applies only if that choice grants more than it.
 * Until then nothing is granted (`S._granted` is empty: the API answers "not granted"); the
 * stored choice applies again once the server agrees, unless a choice was made meanwhile.
 * Resolves once applied (or after 1.5 s: a slow or unreachable server keeps the stored choice,
 * with a console error). Resolves `true` when the choice changed.
 */
export const revalidate = (): Promise<boolean | undefined> => {
  const { _granted: g, _record: r } = S;
  S._granted = {};
  return within(
    fetch(api(`consents/${S._id}/cookie`), { credentials: 'omit' })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
      .then(({ cookie }: { cookie: string | null }) => {
        checked();
        // A choice made meanwhile is newer than anything this answer can say.
        if (S._record !== r) return false;
        const p = S._policy;
        const { cookieName, domain } = p.config;
        const mine = readCookie(cookieName);
        if (cookie === mine) return false;
        const server = decodeConsent(cookie);
        const now = decodeConsent(mine);
        if (
          server &&
          now &&
          server.hash === now.hash &&
          ((server.bits === now.bits && server.method === now.method) ||
            // A later choice here that grants nothing the record does (a refusal or withdrawal
            // whose receipt was lost) stands: an older record never undoes it (in the same
            // second, the one that grants less stands). A later grant without its receipt has
            // no proof: the record applies.
            (now.givenAt >= server.givenAt && !grantsBeyond(now.bits, server.bits)))
        )
          return false;
        // The server's record, or none: deleted (an expired one too, Max-Age=0).
        writeCookie(cookieName, server ? cookie! : '', Math.max(server?.expiresAt ?? 0, Date.now()), domain);
        S._c = cookie ?? undefined;
        adopt(decide(p, { kind: 'load', stored: server, now: Date.now(), gpc: S._gpc }), server);
        return true;
      })
      .catch((e) => {
        console.error(`assent: the stored choice could not be checked (${e}); it applies as stored`);
        return undefined;
      }),
    1500,
  ).then((changed) => {
    if (!changed && S._record === r) S._granted = g;
    return changed;
  });
};
