import type { StoredConsent } from '@assent/core';
import type { Source } from './state.js';
import { S } from './state.js';

/**
 * Sends the proof of a choice to the receipt server (GDPR Art. 7(1)). `keepalive` lets it
 * finish when the choice navigates away. Only choices are sent — nothing before one.
 */
export const sendReceipt = (r: StoredConsent, source: Source): void => {
  const { _policy: p } = S;
  const endpoint = p.config.endpoint;
  if (!endpoint) return;
  const body = JSON.stringify({
    consentId: r.id,
    policy: { version: p.version, hash: r.hash },
    mode: p.mode,
    choices: S._granted,
    method: r.method,
    source,
    signals: { gpc: r.gpc },
    page: { origin: location.origin, path: location.pathname },
    lang: p.lang,
    expiresAt: new Date(r.expiresAt).toISOString(),
  });
  fetch(endpoint, {
    method: 'POST',
    keepalive: true,
    headers: { 'content-type': 'application/json' },
    body,
  }).catch(() => {
    // The choice is already applied and stored; a lost receipt must not break the page.
  });
};

/** Where a visitor can see and withdraw their consent: `/consent/:id` beside the endpoint. */
export const consentPage = (id: string): string | undefined => {
  const e = S._policy.config.endpoint;
  return e ? new URL(`/consent/${id}`, new URL(e, location.href)).href : undefined;
};
