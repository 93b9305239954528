import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { iso27560Record, policyDoc, type SignedReceipt, validateConfig } from '../src/index.js';

const doc = policyDoc(
  validateConfig({ categories: [{ id: 'analytics', services: [{ id: 'matomo' }, { id: 'ga' }] }] }).config,
);
/** A receipt that names a service false under a granted category (the API may post one). */
const receipt = {
  v: 2,
  id: 'r1',
  consentId: 'AAAAAAAAAAAAAAAAAAAAAA',
  site: 'https://news.example',
  at: '2026-11-30T00:00:00.000Z',
  expiresAt: '2027-05-31T00:00:00.000Z',
  policy: { version: '1', sha256: '0'.repeat(64) },
  mode: 'opt-in',
  choices: { analytics: true, 'analytics:matomo': false, 'analytics:ga': false },
  method: 'custom',
  source: 'api',
  signals: { gpc: false },
  page: { origin: 'https://news.example', path: '/' },
  lang: 'en',
} as unknown as SignedReceipt;

describe('standard records', () => {
  it("say what the banner applies and the consent page shows: a granted category grants its services (core's allowed)", () => {
    const iso = iso27560Record(receipt, doc, {
      name: 'News',
      contact: '',
      email: '',
      address: '',
      phone: '',
    }) as unknown as {
      purposes: { purpose_id: string; consent_given: boolean; services: { consent_given: boolean }[] }[];
    };
    const analytics = iso.purposes.find((p) => p.purpose_id === 'analytics')!;
    assert.equal(analytics.consent_given, true);
    assert.deepEqual(
      analytics.services.map((s) => s.consent_given),
      [true, true],
    );
  });

  it('name a withdrawal made on the consent page as made there, not on the site page it carries', () => {
    const controller = { name: 'News', contact: '', email: '', address: '', phone: '' };
    const method = (r: SignedReceipt) =>
      (iso27560Record(r, doc, controller) as unknown as { collection_method: string }).collection_method;
    assert.equal(method(receipt), 'web page https://news.example/: api (opt-in)');
    const w = {
      ...receipt,
      method: 'withdraw',
      source: 'consent-page',
      page: { origin: 'https://news.example', path: '/articles/x' },
    } as unknown as SignedReceipt;
    assert.equal(
      method(w),
      "the visitor's consent page (their last choice on the site was on https://news.example/articles/x) (opt-in)",
    );
  });
});
