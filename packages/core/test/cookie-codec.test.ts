import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  consentIdFrom,
  decodeConsent,
  encodeConsent,
  isConsentId,
  MAX_KEYS,
  METHODS,
  type StoredConsent,
} from '../src/index.js';

const consent = fc
  .record({
    id: fc.uint8Array({ minLength: 16, maxLength: 16 }).map(consentIdFrom),
    hash: fc.stringMatching(/^[0-9a-z]{1,11}$/),
    bits: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    method: fc.constantFrom(...METHODS),
    gpc: fc.boolean(),
    givenAt: fc.integer({ min: 0, max: 4_000_000_000 }).map((s) => s * 1000),
    days: fc.integer({ min: 1, max: 395 }),
  })
  .map(({ days, ...c }): StoredConsent => ({ ...c, expiresAt: c.givenAt + days * 86_400_000 }));

describe('cookie codec', () => {
  it('round-trips every consent (property)', () => {
    fc.assert(
      fc.property(consent, (c) => {
        assert.deepEqual(decodeConsent(encodeConsent(c)), c);
      }),
      { numRuns: 2000 },
    );
    // Every key of the widest policy the server publishes granted: still exact, still read.
    const all = 2 ** MAX_KEYS - 1;
    assert.equal(all, Number.MAX_SAFE_INTEGER);
    const c = { ...fc.sample(consent, 1)[0]!, bits: all };
    assert.deepEqual(decodeConsent(encodeConsent(c)), c);
    assert.equal(
      decodeConsent(encodeConsent({ ...c, bits: 2 ** (MAX_KEYS + 1) - 1 })),
      null,
      'one key more: unreadable',
    );
  });

  it('writes only cookie-safe characters (property)', () => {
    fc.assert(
      fc.property(consent, (c) => {
        assert.match(encodeConsent(c), /^[\x21-\x7e]+$/);
        assert.doesNotMatch(encodeConsent(c), /[;,"\\]/);
      }),
    );
  });

  it('reads garbage as "no consent", never throws (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' })), (s) => {
        const r = decodeConsent(s);
        // Random strings essentially never form a valid cookie; if one does, it must re-encode.
        if (r) assert.equal(encodeConsent(r), s);
      }),
      { numRuns: 3000 },
    );
  });

  it('rejects each kind of damage', () => {
    const good = encodeConsent({
      id: consentIdFrom(new Uint8Array(16).fill(7)),
      hash: 'abc',
      bits: 5,
      method: 'custom',
      gpc: false,
      givenAt: 1_700_000_000_000,
      expiresAt: 1_700_000_000_000 + 20 * 86_400_000,
    });
    assert.ok(decodeConsent(good));
    const parts = good.split('|');
    const variants = [
      ['1', ...parts.slice(1)], // version 1 (it also held the policy version) or any other
      parts.slice(0, 6), // truncated
      [...parts.slice(0, 1), 'short', ...parts.slice(2)], // bad id
      [...parts.slice(0, 3), 'Z!', ...parts.slice(4)], // bad bits
      [...parts.slice(0, 4), 'zzzzzzzzz', ...parts.slice(5)], // a time past 8 base-36 digits
      [...parts.slice(0, 5), '1', ...parts.slice(6)], // expires before given
      [...parts.slice(0, 6), 'q'], // unknown method
    ];
    for (const v of variants) assert.equal(decodeConsent(v.join('|')), null, v.join('|'));
    assert.equal(decodeConsent(undefined), null);
    assert.equal(decodeConsent('x'.repeat(600)), null);
  });

  it('makes 22-character URL-safe consent IDs from 16 bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
        const id = consentIdFrom(b);
        assert.ok(isConsentId(id), id);
      }),
    );
    // Distinct bytes give distinct IDs: no bits are lost.
    assert.notEqual(
      consentIdFrom(new Uint8Array(16)),
      consentIdFrom(new Uint8Array(16).fill(0).map((_, i) => (i === 15 ? 1 : 0))),
    );
    assert.equal(consentIdFrom(new Uint8Array(16).fill(255)), '_____________________w');
  });
});
