import assert from 'node:assert/strict';
import type { AssentServer } from '../src/index.js';
import { consentId, ORIGIN, receiptBody } from './helpers.js';

const NONE = { analytics: false, marketing: false, ad_tech: false };
const ALL = { analytics: true, 'analytics:matomo': true, marketing: true, ad_tech: true };
/** What the `gpc` method grants: everything but sale/sharing (marketing). */
const UNSOLD = { ...ALL, marketing: false };

/** Five visitors: one accepts then withdraws, the others choose once each. */
export const seedChoices = async (s: AssentServer) => {
  const post = async (over: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const r = await s.app.inject({
      method: 'POST',
      url: '/v1/receipts',
      headers: { origin: ORIGIN, ...headers },
      payload: receiptBody(over),
    });
    assert.equal(r.statusCode, 201, r.body);
  };
  const a = consentId();
  await post({ consentId: a, method: 'accept-all', choices: ALL }, { 'cf-ipcountry': 'DE' });
  const w = await s.app.inject({
    method: 'POST',
    url: `/v1/consents/${a}/withdraw`,
    headers: { 'cf-ipcountry': 'DE' },
  });
  assert.equal(w.statusCode, 201, w.body);
  await post({ method: 'reject-all', choices: NONE }, { 'cf-ipcountry': 'FR' });
  await post({ method: 'custom', choices: NONE }, { 'cf-ipcountry': 'DE' });
  await post({ method: 'gpc', mode: 'opt-in', choices: UNSOLD, signals: { gpc: true } });
  await post({ method: 'accept-all', choices: ALL }, { 'cf-ipcountry': 'FR' });
};
