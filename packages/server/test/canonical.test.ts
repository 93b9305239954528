import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalReceipt, type Receipt } from '@assent/core';
import fc from 'fast-check';
import { bodyParts, joinBody } from '../src/store/canonical.js';

// Any string, including quotes, backslashes, control characters, lone surrogates and the
// characters of the split points (`"prev":"`): JSON.stringify escapes them the same way in both.
const text = fc.string({ unit: 'binary', maxLength: 40 });

const receipt = fc.record({
  v: fc.constant(2 as const),
  id: text,
  site: text,
  seq: fc.nat(),
  at: text,
  prev: fc.stringMatching(/^[0-9a-f]{64}$/),
  consentId: text,
  policy: fc.record({ version: text, sha256: text }),
  mode: text,
  // Keys like "prev", "seq", "__proto__", "" must not confuse the order or the split.
  choices: fc.dictionary(
    fc.oneof(text, fc.constantFrom('prev', 'seq', 'at', '__proto__', 'necessary', '')),
    fc.boolean(),
  ),
  method: text,
  source: text,
  signals: fc.record({ gpc: fc.boolean() }),
  page: fc.record({ origin: text, path: text }),
  lang: text,
  expiresAt: text,
  region: fc.option(text, { nil: null }),
  ua: text,
  ipHash: text,
  kid: text,
}) as fc.Arbitrary<Receipt>;

describe('canonical body parts (the writer thread joins them)', () => {
  it("equal core's canonicalReceipt for any receipt", () => {
    fc.assert(
      fc.property(receipt, (r) => {
        assert.equal(joinBody(bodyParts(r), r.prev, r.seq), canonicalReceipt(r));
      }),
      { numRuns: 2000 },
    );
  });
});
