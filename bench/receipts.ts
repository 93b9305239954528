import { randomBytes } from 'node:crypto';
import { publishable } from '../packages/server/src/index.js';

/** The site the receipt benches serve (bench:server, bench:server-peers). */
export const ORIGIN = 'https://news.example';
export const SITE = {
  policy: 'v3',
  categories: [{ id: 'analytics', services: [{ id: 'matomo' }] }, { id: 'marketing' }],
};
/** The policy the server publishes for SITE: what a banner rendering it names. */
const SHA256 = (() => {
  const r = publishable(SITE);
  if (!r.ok) throw new Error(r.errors.join('; '));
  return r.version.sha256;
})();

const body = () =>
  JSON.stringify({
    consentId: randomBytes(16).toString('base64url').slice(0, 22),
    policy: { version: 'v3', sha256: SHA256 },
    mode: 'opt-in',
    choices: { analytics: true, 'analytics:matomo': true, marketing: false },
    method: 'custom',
    source: 'banner',
    signals: { gpc: false },
    page: { origin: ORIGIN, path: '/articles/bench' },
    lang: 'en',
  });

// Receipts of many visitors, as on a real site, not one consent ID for every request (which
// makes the consent-ID index an append at one spot). autocannon builds a fixed `requests` list
// once per connection and cycles through it, so this costs the load generator nothing per
// request (a setupRequest function rebuilds every request: measured -22 % on the bare route).
export const BODIES = Array.from({ length: 1000 }, body);
