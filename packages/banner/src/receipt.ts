import type { StoredConsent } from '@assent/core';
import { readCookie } from './cookies.js';
import type { Source } from './state.js';
import { S } from './state.js';
import { api, checked } from './sync.js';

/** What the server says when it refuses a request: a stable code, the field, in words. */
interface ApiError {
  error?: string;
  field?: string | null;
  message?: string;
}

/**
 * Sends the proof of a choice to the receipt server (GDPR Art. 7(1)), naming the published
 * policy the visitor was shown by its SHA-256. `keepalive` lets it finish when the choice
 * navigates away. Only choices are sent — nothing before one.
 *
 * Resolves once the server answered (the caller starts held scripts only then) or the request
 * failed or timed out (10 s). Every failure is printed, naming the problem: a choice that cannot be proven is the
 * site owner's to fix. A 409 means the page showed a policy the server does not publish: the
 * choice was not stored, and `onStale` asks again with the published policy.
 */
export const sendReceipt = async (
  r: StoredConsent,
  source: Source,
  onStale: (published: string) => Promise<void>,
): Promise<void> => {
  const { _policy: p } = S;
  const endpoint = p.config.endpoint;
  if (!endpoint) return;
  // Sent now: the next page view must not check with the server before this receipt arrives
  // (a choice made while the page parses was deleted as "no record" by that page's own check).
  checked();
  try {
    const res = await fetch(endpoint, {
      method: 'POST',
      keepalive: true,
      // A server that never answers must not hold the choice for ever: after 10 s it counts
      // as not sent (the console says so) and the choice applies without proof.
      // (`?.`: Chromium 99–102 have no AbortSignal.timeout.)
      signal: AbortSignal.timeout?.(1e4),
      headers: { 'content-type': 'application/json' },
      // Everything read before the one await (the policy's hash, last): a second choice made
      // while the hash is computed sent one choice's method with the other's choices.
      body: JSON.stringify({
        consentId: r.id,
        mode: p.mode,
        choices: S._granted,
        method: r.method,
        source,
        signals: { gpc: r.gpc },
        page: { origin: location.origin, path: location.pathname },
        lang: p.lang,
        policy: { version: p.version, sha256: await S._sha },
      }),
    });
    // A same-origin server set the cookie again (its times): what this page knows now.
    if (res.ok) return void (S._c = readCookie(p.config.cookieName));
    const e: ApiError = await res.json().catch(() => ({}));
    // A body that is not the server's JSON error (a proxy's page) still says what happened.
    console.error(
      // `field` quoted: the build renames core's `field` properties (build-options.mjs), and
      // this one is the server's, read by its name.
      // biome-ignore lint/complexity/useLiteralKeys: see above.
      `assent: receipt refused (${res.status} ${e.error ?? ''} ${e['field'] ?? ''}): ${e.message ?? res.statusText}`,
    );
    if (res.status === 409) await onStale(api(`policy?site=${encodeURIComponent(location.origin)}`));
  } catch (e) {
    // The choice is already applied and stored; a lost receipt must not break the page.
    console.error(`assent: receipt not sent to ${endpoint} (${e}): this choice has no proof`);
  }
};

/**
 * Where a visitor can see and withdraw their consent: `/consent/:id` beside the endpoint's
 * `/v1/` (relative, so a server reverse-proxied under `/assent/` works too).
 */
export const consentPage = (id: string): string | undefined =>
  S._policy.config.endpoint ? api(`../consent/${id}`) : undefined;
