import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  consistencyRanges,
  coverOf,
  extend,
  fromHex,
  type Hash,
  hashCover,
  inclusionRanges,
  leafHash,
  proofFromLeaves,
  rootOf,
  sha256,
  toHex,
  verifyConsistency,
  verifyInclusion,
} from '../src/index.js';

/** Node's SHA-256: the same function, faster, for the trees of thousands of leaves below. */
const node = (d: Uint8Array): Uint8Array => createHash('sha256').update(d).digest();
const hex = (s: string) => fromHex(s)!;

// RFC 6962's reference tree (Certificate Transparency's test data, as in transparency-dev/merkle):
// eight leaf inputs, the root of each prefix, and proofs for a few leaves and sizes.
const CT_INPUTS = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map(hex);
const CT_LEAVES = CT_INPUTS.map((d) => leafHash(d));
const CT_ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const CT_INCLUSION: [number, number, string[]][] = [
  [
    0,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    5,
    8,
    [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [2, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [
    1,
    5,
    [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
];
const CT_CONSISTENCY: [number, number, string[]][] = [
  [1, 1, []],
  [
    1,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    6,
    8,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [
    2,
    5,
    [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
];

/** Distinct leaf hashes 0 … n-1, from Node's SHA-256. */
const leavesOf = (n: number): Hash[] =>
  Array.from({ length: n }, (_, i) => leafHash(new Uint8Array([i & 255, (i >> 8) & 255, i >> 16]), node));

/** All roots of the prefixes of `leaves`, incrementally (each from the frontier, as the server does). */
const prefixRoots = (leaves: readonly Hash[]): Hash[] => {
  const roots = [rootOf([], node)];
  let frontier: Hash[] = [];
  leaves.forEach((l, i) => {
    frontier = extend(i, frontier, [l], node).frontier;
    roots.push(hashCover(frontier, node));
  });
  return roots;
};

/**
 * Proofs as the server makes them: every perfect subtree stored once (from `extend`), each
 * proof range folded from its cover. Checked against `proofFromLeaves` (all leaves) below.
 */
const storedTree = (leaves: readonly Hash[]) => {
  const nodes = new Map<string, Hash>();
  for (const x of extend(0, [], leaves, node).nodes) nodes.set(`${x.level}/${x.index}`, x.hash);
  return (ranges: readonly { start: number; end: number }[]) =>
    ranges.map((r) =>
      hashCover(
        coverOf(r).map((c) => nodes.get(`${c.level}/${c.index}`)!),
        node,
      ),
    );
};

const flip = (h: Hash, bit = 0): Hash => {
  const c = new Uint8Array(h);
  c[bit >> 3]! ^= 1 << (bit & 7);
  return c;
};

describe('SHA-256 (pure)', () => {
  it('equals node:crypto for any input, across block boundaries', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (d) => {
        assert.equal(toHex(sha256(d)), createHash('sha256').update(d).digest('hex'));
      }),
      { numRuns: 500 },
    );
    for (const n of [55, 56, 63, 64, 65, 119, 120, 1000])
      assert.equal(
        toHex(sha256(new Uint8Array(n))),
        createHash('sha256').update(new Uint8Array(n)).digest('hex'),
      );
  });

  it('hex round-trips and refuses what is not hex', () => {
    fc.assert(fc.property(fc.uint8Array(), (d) => assert.deepEqual(fromHex(toHex(d)), d)));
    assert.equal(fromHex('abc'), null);
    assert.equal(fromHex('zz'), null);
  });
});

describe('the RFC 6962 / 9162 reference tree', () => {
  it('has the published root for every size 0 … 8', () => {
    for (let n = 0; n <= 8; n++) assert.equal(toHex(rootOf(CT_LEAVES.slice(0, n))), CT_ROOTS[n], `size ${n}`);
  });

  it('gives the published inclusion proofs, which verify', () => {
    for (const [index, size, want] of CT_INCLUSION) {
      const proof = proofFromLeaves(inclusionRanges(index, size), CT_LEAVES.slice(0, size));
      assert.deepEqual(proof.map(toHex), want, `leaf ${index} of ${size}`);
      assert.ok(verifyInclusion(CT_LEAVES[index]!, index, size, proof, hex(CT_ROOTS[size]!)));
    }
  });

  it('gives the published consistency proofs, which verify', () => {
    for (const [m, n, want] of CT_CONSISTENCY) {
      const proof = proofFromLeaves(consistencyRanges(m, n), CT_LEAVES.slice(0, n));
      assert.deepEqual(proof.map(toHex), want, `${m} → ${n}`);
      assert.ok(verifyConsistency(m, n, proof, hex(CT_ROOTS[m]!), hex(CT_ROOTS[n]!)));
    }
  });
});

describe('inclusion proofs', () => {
  it('verify for every leaf of every tree up to 64 leaves, and only for that leaf, index and size', () => {
    const leaves = leavesOf(64);
    const roots = prefixRoots(leaves);
    for (let size = 1; size <= 64; size++)
      for (let i = 0; i < size; i++) {
        const proof = proofFromLeaves(inclusionRanges(i, size), leaves, node);
        const root = roots[size]!;
        assert.ok(verifyInclusion(leaves[i]!, i, size, proof, root, node), `leaf ${i} of ${size}`);
        if (size > 1) {
          assert.ok(!verifyInclusion(leaves[(i + 1) % size]!, i, size, proof, root, node));
          assert.ok(!verifyInclusion(leaves[i]!, (i + 1) % size, size, proof, root, node));
        }
        // Another size with its own root. (The same root under another size can pass where both
        // trees have the same shape on the leaf's path, e.g. leaf 0 of 3 and of 4: the signed
        // checkpoint binds a root to its size, and verify-receipt takes both from it.)
        if (size < 64) assert.ok(!verifyInclusion(leaves[i]!, i, size + 1, proof, roots[size + 1]!, node));
        if (i < size - 1) assert.ok(!verifyInclusion(leaves[i]!, i, size - 1, proof, roots[size - 1]!, node));
        assert.ok(!verifyInclusion(leaves[i]!, i, size, proof, roots[size - 1]!, node));
      }
  });

  it('verify for sampled leaves of every tree size up to 3,000, built incrementally as the log stores them', () => {
    const leaves = leavesOf(3000);
    const roots = prefixRoots(leaves);
    const prove = storedTree(leaves);
    for (let size = 1; size <= 3000; size++) {
      for (const i of [0, size - 1, (size * 7919) % size, size >> 1]) {
        const proof = prove(inclusionRanges(i, size));
        assert.ok(verifyInclusion(leaves[i]!, i, size, proof, roots[size]!, node), `leaf ${i} of ${size}`);
      }
    }
  });

  it('fail for any altered leaf, index, size (with its root), root or proof element (fast-check)', () => {
    const leaves = leavesOf(2100);
    const roots = prefixRoots(leaves);
    const prove = storedTree(leaves);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2100 }).chain((size) =>
          fc.record({
            size: fc.constant(size),
            index: fc.integer({ min: 0, max: size - 1 }),
            what: fc.constantFrom('leaf', 'index', 'size', 'root', 'proof', 'drop', 'extra'),
            bit: fc.integer({ min: 0, max: 255 }),
            delta: fc.integer({ min: 1, max: 5000 }),
            pick: fc.nat(),
          }),
        ),
        ({ size, index, what, bit, delta, pick }) => {
          const proof = prove(inclusionRanges(index, size));
          let [leaf, i, n, p, root] = [leaves[index]!, index, size, proof, roots[size]!];
          assert.ok(verifyInclusion(leaf, i, n, p, root, node));
          if (what === 'leaf') leaf = flip(leaf, bit);
          if (what === 'index') i = (index + delta) % (size + delta);
          // A size is bound to its root by the signed checkpoint: the other size comes with its
          // own true root (the same root under another size is the checkpoint's job to refuse).
          if (what === 'size') {
            n = index + 1 + (pick % (2100 - index));
            if (n === size) return;
            root = roots[n]!;
          }
          if (what === 'root') root = flip(root, bit);
          if (what === 'proof') {
            if (!p.length) return;
            const k = pick % p.length;
            p = p.map((x, j) => (j === k ? flip(x, bit) : x));
          }
          if (what === 'drop') {
            if (!p.length) return;
            p = p.slice(0, -1);
          }
          if (what === 'extra') p = [...p, leaves[pick % leaves.length]!];
          if (what === 'index' && i === index) return;
          assert.ok(!verifyInclusion(leaf, i, n, p, root, node), `${what} altered, leaf ${index} of ${size}`);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('the same with the pure SHA-256 (the browser path)', () => {
    const leaves = Array.from({ length: 40 }, (_, i) => leafHash(new Uint8Array([i])));
    for (let size = 1; size <= 40; size++) {
      const root = rootOf(leaves.slice(0, size));
      for (let i = 0; i < size; i++)
        assert.ok(
          verifyInclusion(leaves[i]!, i, size, proofFromLeaves(inclusionRanges(i, size), leaves), root),
        );
    }
  });

  it('refuse nonsense without throwing', () => {
    const l = leavesOf(1)[0]!;
    assert.equal(verifyInclusion(l, 0, 0, [], l), false);
    assert.equal(verifyInclusion(l, -1, 1, [], l), false);
    assert.equal(verifyInclusion(l, 0.5, 1, [], l), false);
    assert.equal(verifyInclusion(l, 0, 1, [], l), true);
    assert.equal(verifyInclusion(l.slice(1), 0, 1, [], l.slice(1)), false);
    assert.throws(() => inclusionRanges(3, 3), RangeError);
  });
});

describe('consistency proofs', () => {
  it('verify between every pair of sizes up to 64, and fail against any other root', () => {
    const leaves = leavesOf(64);
    const roots = prefixRoots(leaves);
    for (let n = 0; n <= 64; n++)
      for (let m = 0; m <= n; m++) {
        const proof = proofFromLeaves(consistencyRanges(m, n), leaves, node);
        assert.ok(verifyConsistency(m, n, proof, roots[m]!, roots[n]!, node), `${m} → ${n}`);
        if (m > 0 && m < n) {
          assert.ok(!verifyConsistency(m, n, proof, flip(roots[m]!), roots[n]!, node));
          assert.ok(!verifyConsistency(m, n, proof, roots[m]!, flip(roots[n]!), node));
          assert.ok(!verifyConsistency(m, n, proof, roots[m - 1]!, roots[n]!, node));
        }
      }
  });

  it('verify for sampled sizes up to 3,000 and fail for any altered size, root or element (fast-check)', () => {
    const leaves = leavesOf(3000);
    const roots = prefixRoots(leaves);
    const prove = storedTree(leaves);
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 3000 }).chain((n) =>
          fc.record({
            n: fc.constant(n),
            m: fc.integer({ min: 1, max: n - 1 }),
            what: fc.constantFrom('m', 'n', 'rootM', 'rootN', 'proof', 'drop', 'forked'),
            bit: fc.integer({ min: 0, max: 255 }),
            delta: fc.integer({ min: 1, max: 50 }),
            pick: fc.nat(),
          }),
        ),
        ({ n, m, what, bit, delta, pick }) => {
          const proof = prove(consistencyRanges(m, n));
          assert.ok(verifyConsistency(m, n, proof, roots[m]!, roots[n]!, node), `${m} → ${n}`);
          let [a, b, p, ra, rb] = [m, n, proof, roots[m]!, roots[n]!];
          // As for inclusion, a changed size comes with that size's true root.
          if (what === 'm') {
            a = m + delta < n ? m + delta : m - 1;
            ra = roots[a]!;
          }
          if (what === 'n') {
            b = n + delta <= 3000 ? n + delta : n - delta > m ? n - delta : n + 1;
            if (b > 3000) return;
            rb = roots[b]!;
          }
          if (what === 'rootM') ra = flip(ra, bit);
          if (what === 'rootN') rb = flip(rb, bit);
          if (what === 'proof') {
            const k = pick % p.length;
            p = p.map((x, j) => (j === k ? flip(x, bit) : x));
          }
          if (what === 'drop') p = p.slice(0, -1);
          if (what === 'forked') {
            // A log that rewrote one of the first m leaves: its new tree's root, honestly
            // proven from its own leaves, is not consistent with the old root.
            const forked = leaves.slice(0, n);
            const k = pick % m;
            forked[k] = flip(forked[k]!, bit);
            rb = hashCover(extend(0, [], forked, node).frontier, node);
            p = storedTree(forked)(consistencyRanges(m, n));
          }
          if (a === 0) return;
          assert.ok(!verifyConsistency(a, b, p, ra, rb, node), `${what} altered, ${m} → ${n}`);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('stored subtrees (what the server keeps)', () => {
  it('proofs from stored subtrees equal proofs from all leaves', () => {
    const leaves = leavesOf(64);
    const prove = storedTree(leaves);
    for (let size = 1; size <= 64; size++)
      for (let i = 0; i < size; i++) {
        assert.deepEqual(
          prove(inclusionRanges(i, size)),
          proofFromLeaves(inclusionRanges(i, size), leaves, node),
        );
        assert.deepEqual(
          prove(consistencyRanges(i, size)),
          proofFromLeaves(consistencyRanges(i, size), leaves, node),
        );
      }
  });

  it('covers a range with the binary expansion of its length, for logs of any size up to 2⁵³', () => {
    // The definition, one level at a time from the top: what coverOf must equal.
    const byLevels = (r: { start: number; end: number }) => {
      const out: { level: number; index: number }[] = [];
      let at = r.start;
      for (let level = 52; level >= 0; level--)
        if (r.end - at >= 2 ** level) {
          out.push({ level, index: at / 2 ** level });
          at += 2 ** level;
        }
      return out;
    };
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 52 }), fc.maxSafeNat(), fc.maxSafeNat(), (align, a, len) => {
        // A range as proofs name them: starting on a multiple of a power of two at least its length.
        const size = 2 ** align;
        const start = (a % Math.floor(Number.MAX_SAFE_INTEGER / size)) * size;
        const end = start + 1 + (len % size);
        if (!Number.isSafeInteger(end)) return;
        assert.deepEqual(coverOf({ start, end }), byLevels({ start, end }));
      }),
    );
    for (const k of [31, 32, 40, 52]) {
      assert.deepEqual(coverOf({ start: 0, end: 2 ** k }), [{ level: k, index: 0 }]);
      assert.deepEqual(coverOf({ start: 0, end: 2 ** k - 1 }).length, k);
    }
    assert.throws(() => coverOf({ start: 3, end: 7 }), /not a subtree/);
  });

  it('extend yields each perfect subtree exactly once, whatever the batches', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 20 }), (batches) => {
        const leaves = leavesOf(batches.reduce((a, b) => a + b, 0));
        const seen = new Map<string, string>();
        let size = 0;
        let frontier: Hash[] = [];
        for (const k of batches) {
          const r = extend(size, frontier, leaves.slice(size, size + k), node);
          for (const x of r.nodes) {
            const key = `${x.level}/${x.index}`;
            assert.ok(!seen.has(key), `${key} twice`);
            seen.set(key, toHex(x.hash));
          }
          size += k;
          frontier = r.frontier;
        }
        // Every complete aligned subtree is there, with its hash.
        for (let level = 0; 2 ** level <= size; level++)
          for (let i = 0; (i + 1) * 2 ** level <= size; i++)
            assert.equal(
              seen.get(`${level}/${i}`),
              toHex(rootOf(leaves.slice(i * 2 ** level, (i + 1) * 2 ** level), node)),
            );
        assert.equal(
          seen.size,
          [...Array(12)].reduce((a, _, l) => a + Math.floor(size / 2 ** l), 0),
        );
      }),
      { numRuns: 40 },
    );
  });
});
