import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  canonicalReceipt,
  createPolicy,
  GENESIS,
  grantedKeys,
  type Receipt,
  validateConfig,
  validateReceiptInput,
} from '../src/index.js';

const policy = createPolicy(
  validateConfig({ categories: [{ id: 'analytics', services: [{ id: 'matomo' }] }, { id: 'marketing' }] })
    .config,
);

const good = () => ({
  consentId: 'AAAAAAAAAAAAAAAAAAAAAA',
  policy: { version: 'v3', sha256: 'a'.repeat(64) },
  mode: 'opt-in',
  choices: { analytics: true, 'analytics:matomo': true, marketing: false },
  method: 'custom',
  source: 'preferences',
  signals: { gpc: false },
  page: { origin: 'https://news.example', path: '/articles/x' },
  lang: 'en',
});

const fieldOf = (input: unknown) => {
  const r = validateReceiptInput(input, policy.keys);
  return r.ok ? null : r.error.field;
};

describe('receipt input', () => {
  it('accepts what the banner sends', () => {
    const r = validateReceiptInput(good(), policy.keys);
    assert.ok(r.ok);
  });

  it('names the field that is wrong', () => {
    const cases: [string, (b: Record<string, unknown>) => void][] = [
      ['consentId', (b) => (b.consentId = 'short')],
      ['policy.version', (b) => (b.policy = { version: 'v 3', sha256: 'a'.repeat(64) })],
      ['policy.sha256', (b) => (b.policy = { version: 'v3', sha256: 7 })],
      // The 32-bit fingerprint of receipt v1 is not a published policy's identity.
      ['policy.sha256', (b) => (b.policy = { version: 'v3', sha256: '1x2b3c' })],
      ['policy.sha256', (b) => (b.policy = { version: 'v3', sha256: 'A'.repeat(64) })],
      ['policy', (b) => (b.policy = { version: 'v3', sha256: 'a'.repeat(64), hash: 'x' })],
      ['mode', (b) => (b.mode = 'implied')],
      ['choices.social', (b) => (b.choices = { social: true })],
      ['choices.analytics', (b) => (b.choices = { analytics: 'yes' })],
      ['choices.necessary', (b) => (b.choices = { necessary: false })],
      ['method', (b) => (b.method = 'scroll')],
      ['source', (b) => (b.source = 'popup')],
      ['signals.gpc', (b) => (b.signals = { gpc: 1 })],
      ['page.origin', (b) => (b.page = { origin: 'https://x.example/path', path: '/' })],
      ['page.path', (b) => (b.page = { origin: 'https://x.example', path: '/a?email=x@y.z' })],
      ['lang', (b) => (b.lang = 'english language')],
      // The server sets expiresAt from the published policy's days; a client's is refused.
      ['expiresAt', (b) => (b.expiresAt = '2026-07-10T12:00:00.000Z')],
      ['lang', (b) => delete b.lang],
      ['extra', (b) => (b.extra = 1)],
    ];
    for (const [field, mutate] of cases) {
      const b: Record<string, unknown> = good();
      mutate(b);
      assert.equal(fieldOf(b), field, JSON.stringify(b));
    }
    assert.equal(fieldOf([]), 'body');
  });

  it('allows saying necessary is granted, and knows nothing of keys when given none', () => {
    assert.equal(fieldOf({ ...good(), choices: { necessary: true, analytics: false } }), null);
    assert.ok(validateReceiptInput({ ...good(), choices: { anything: true } }, null).ok);
  });

  it('never throws, whatever the input', () => {
    fc.assert(
      fc.property(fc.anything(), (v) => {
        validateReceiptInput(v, policy.keys);
        validateReceiptInput({ ...good(), ...(typeof v === 'object' && v ? v : {}) }, policy.keys);
      }),
    );
  });

  it('lists granted keys without necessary', () => {
    assert.deepEqual(grantedKeys({ necessary: true, analytics: true, marketing: false }), ['analytics']);
  });
});

describe('canonical receipt', () => {
  const receipt: Receipt = {
    ...(good() as unknown as Receipt),
    v: 2,
    id: 'r1',
    expiresAt: '2026-07-10T12:00:00.000Z',
    site: 'https://news.example',
    seq: 1,
    at: '2026-01-10T12:00:00.000Z',
    prev: GENESIS,
    region: 'DE',
    ua: 'Firefox',
    ipHash: 'h',
    kid: 'k',
  };

  it('is the same whatever the key order, and leaves out hash and signature', () => {
    const shuffled = Object.fromEntries(Object.entries(receipt).reverse()) as unknown as Receipt;
    assert.equal(canonicalReceipt(shuffled), canonicalReceipt(receipt));
    assert.equal(canonicalReceipt({ ...receipt, hash: 'x', sig: 'y' }), canonicalReceipt(receipt));
    assert.ok(canonicalReceipt(receipt).startsWith('{"at":'));
  });

  it('changes when any choice changes', () => {
    const other = { ...receipt, choices: { ...receipt.choices, marketing: true } };
    assert.notEqual(canonicalReceipt(other), canonicalReceipt(receipt));
  });
});
