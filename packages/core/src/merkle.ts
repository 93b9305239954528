import { type Sha256, sha256 } from './sha256.js';

/**
 * The Merkle tree of RFC 9162 (Certificate Transparency 2.0, §2.1), pure: the consent log's
 * tree, its proofs and their verification, the same in the server, the visitor's browser and
 * an auditor's tools.
 *
 * - leaf hash `H(0x00 ‖ d)`, interior node `H(0x01 ‖ left ‖ right)`, H = SHA-256;
 * - the tree of n leaves splits at k, the largest power of two below n (§2.1.1);
 * - an inclusion proof (§2.1.3) shows that a leaf is the `index`-th of the tree of `size`;
 * - a consistency proof (§2.1.4) shows that the tree of `m` leaves is a prefix of the tree of
 *   `n`: nothing was changed or removed, only appended.
 *
 * Proofs are described as **ranges** of leaves `[start, end)` whose subtree hashes make the
 * proof, in the order RFC 9162 lists them: the generation logic exists once, and the server
 * fills the ranges from the subtree hashes it stores ({@link coverOf}, {@link hashCover}),
 * where tests fill them from all leaves ({@link rootOf}).
 *
 * Each function takes an optional SHA-256 (default: the pure one of sha256.ts); the server
 * passes Node's, which is faster.
 */

/** A 32-byte hash. */
export type Hash = Uint8Array;

/** The leaves `[start, end)`: a subtree whose hash is a proof element. */
export interface Range {
  readonly start: number;
  readonly end: number;
}

/** A perfect subtree aligned on its size: leaves `[index·2^level, (index+1)·2^level)`. */
export interface NodeId {
  readonly level: number;
  readonly index: number;
}

const cat = (prefix: number, ...parts: Uint8Array[]): Uint8Array => {
  let n = 1;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  out[0] = prefix;
  let at = 1;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** `H(0x00 ‖ d)`: the hash of a leaf whose data is `d`. */
export const leafHash = (d: Uint8Array, h: Sha256 = sha256): Hash => h(cat(0, d));

/** `H(0x01 ‖ left ‖ right)`: an interior node. */
export const nodeHash = (left: Hash, right: Hash, h: Sha256 = sha256): Hash => h(cat(1, left, right));

/** The largest power of two strictly below `n` (n ≥ 2). */
const split = (n: number): number => {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
};

const isSize = (n: number) => Number.isSafeInteger(n) && n >= 0;

/**
 * The root (MTH, §2.1.1) of the tree whose leaf hashes are given; SHA-256 of nothing for none.
 */
export const rootOf = (leaves: readonly Hash[], h: Sha256 = sha256): Hash => {
  if (!leaves.length) return h(new Uint8Array(0));
  // Bottom-up: pairs at each level; an odd last node moves up unchanged, which is exactly the
  // split at the largest power of two (the right subtree is the ragged one).
  let level = [...leaves];
  while (level.length > 1) {
    const next: Hash[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(nodeHash(level[i]!, level[i + 1]!, h));
    if (level.length % 2) next.push(level[level.length - 1]!);
    level = next;
  }
  return level[0]!;
};

/**
 * The ranges of an inclusion proof of leaf `index` in the tree of `size` leaves (PATH,
 * RFC 9162 §2.1.3.1), leaf to root. Empty for a tree of one leaf.
 */
export const inclusionRanges = (index: number, size: number): Range[] => {
  if (!isSize(size) || !Number.isSafeInteger(index) || index < 0 || index >= size)
    throw new RangeError(`leaf ${index} is not in a tree of ${size}`);
  const out: Range[] = [];
  const path = (m: number, start: number, end: number) => {
    const n = end - start;
    if (n <= 1) return;
    const k = split(n);
    if (m < k) {
      path(m, start, start + k);
      out.push({ start: start + k, end });
    } else {
      path(m - k, start + k, end);
      out.push({ start, end: start + k });
    }
  };
  path(index, 0, size);
  return out;
};

/**
 * The ranges of a consistency proof from the tree of `m` leaves to the tree of `n` (PROOF and
 * SUBPROOF, RFC 9162 §2.1.4.1). Empty when `m` is 0 or `m = n`.
 */
export const consistencyRanges = (m: number, n: number): Range[] => {
  if (!isSize(m) || !isSize(n) || m > n) throw new RangeError(`no consistency proof from ${m} to ${n}`);
  const out: Range[] = [];
  if (m === 0 || m === n) return out;
  const sub = (m: number, start: number, end: number, b: boolean) => {
    const n = end - start;
    if (m === n) {
      if (!b) out.push({ start, end });
      return;
    }
    const k = split(n);
    if (m <= k) {
      sub(m, start, start + k, b);
      out.push({ start: start + k, end });
    } else {
      sub(m - k, start + k, end, false);
      out.push({ start, end: start + k });
    }
  };
  sub(m, 0, n, true);
  return out;
};

/**
 * The perfect, aligned subtrees that make up a range of a proof, left to right, largest
 * first. Every range a proof names starts on a multiple of a power of two at least its
 * length, so it is the binary expansion of its length: at most log₂ n subtrees. A log that
 * stores each perfect subtree's hash once it is complete answers any proof from these.
 */
export const coverOf = (r: Range): NodeId[] => {
  const out: NodeId[] = [];
  let at = r.start;
  // From the largest power of two the range holds down, one step per subtree (not one per
  // possible level: walking all 53 levels in floating point was ~50 µs of every proof).
  while (at < r.end) {
    const level = floorLog2(r.end - at);
    const size = 2 ** level;
    if (at % size) throw new RangeError(`range [${r.start}, ${r.end}) is not a subtree of the tree`);
    out.push({ level, index: at / size });
    at += size;
  }
  return out;
};

/** ⌊log₂ n⌋ for a safe integer n ≥ 1 (past 2³¹, where clz32 stops, through Math.log2 made exact). */
const floorLog2 = (n: number): number => {
  if (n < 2 ** 31) return 31 - Math.clz32(n);
  let l = Math.floor(Math.log2(n));
  if (2 ** l > n) l--;
  else if (2 ** (l + 1) <= n) l++;
  return l;
};

/**
 * The hash of a range from the hashes of its cover ({@link coverOf}, same order): the right
 * edge folds in from the right, as the tree splits at the largest power of two.
 */
export const hashCover = (hashes: readonly Hash[], h: Sha256 = sha256): Hash => {
  if (!hashes.length) throw new RangeError('an empty range has no subtree hash');
  let acc = hashes[hashes.length - 1]!;
  for (let i = hashes.length - 2; i >= 0; i--) acc = nodeHash(hashes[i]!, acc, h);
  return acc;
};

/** The proof's hashes, from all the tree's leaf hashes (tests, small trees). */
export const proofFromLeaves = (ranges: readonly Range[], leaves: readonly Hash[], h: Sha256 = sha256) =>
  ranges.map((r) => rootOf(leaves.slice(r.start, r.end), h));

const equal = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
};

const ok32 = (x: Uint8Array) => x.length === 32;

const isPow2 = (x: number): boolean => {
  while (x > 1 && x % 2 === 0) x /= 2;
  return x === 1;
};

/**
 * Whether `proof` shows the leaf whose hash is `leaf` at `index` in the tree of `size`
 * leaves whose root is `root` (RFC 9162 §2.1.3.2). Never throws.
 */
export const verifyInclusion = (
  leaf: Hash,
  index: number,
  size: number,
  proof: readonly Hash[],
  root: Hash,
  h: Sha256 = sha256,
): boolean => {
  if (!isSize(size) || !Number.isSafeInteger(index) || index < 0 || index >= size) return false;
  if (!ok32(leaf) || !ok32(root) || !proof.every(ok32)) return false;
  // fn, sn: the node's index and the last node's index at the current level. Numbers up to
  // 2^53; halving by division keeps them exact where >>> would cut them to 32 bits.
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  const half = (x: number) => Math.floor(x / 2);
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r, h);
      if (fn % 2 === 0)
        while (fn % 2 === 0 && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
    } else r = nodeHash(r, p, h);
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equal(r, root);
};

/**
 * Whether `proof` shows that the tree of `m` leaves with root `rootM` is a prefix of the tree
 * of `n` leaves with root `rootN` (RFC 9162 §2.1.4.2). `m = n`: the proof is empty and the
 * roots equal; `m = 0`: the empty tree is a prefix of every tree (empty proof). Never throws.
 */
export const verifyConsistency = (
  m: number,
  n: number,
  proof: readonly Hash[],
  rootM: Hash,
  rootN: Hash,
  h: Sha256 = sha256,
): boolean => {
  if (!isSize(m) || !isSize(n) || m > n) return false;
  if (!ok32(rootM) || !ok32(rootN) || !proof.every(ok32)) return false;
  if (m === n) return proof.length === 0 && equal(rootM, rootN);
  if (m === 0) return proof.length === 0;
  if (!proof.length) return false;
  // When m is a power of two its root is itself a node of the tree of n: the proof leaves it
  // out and the verifier starts from it.
  const path = isPow2(m) ? [rootM, ...proof] : proof;
  const half = (x: number) => Math.floor(x / 2);
  let fn = m - 1;
  let sn = n - 1;
  while (fn % 2 === 1) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr, h);
      sr = nodeHash(c, sr, h);
      if (fn % 2 === 0)
        while (fn % 2 === 0 && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
    } else sr = nodeHash(sr, c, h);
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equal(fr, rootM) && equal(sr, rootN);
};

/**
 * The new perfect subtrees once leaves `[size, size + added.length)` join a tree of `size`:
 * each leaf (level 0) and each node completed by them, with their hashes. `frontier` is the
 * hashes of `coverOf({start: 0, end: size})` (the tree's right edge, at most log₂ size
 * hashes): all a log needs of its past to append. Returns the new nodes and the new frontier.
 */
export const extend = (
  size: number,
  frontier: readonly Hash[],
  added: readonly Hash[],
  h: Sha256 = sha256,
): { readonly nodes: (NodeId & { readonly hash: Hash })[]; readonly frontier: Hash[] } => {
  const cover = size ? coverOf({ start: 0, end: size }) : [];
  if (cover.length !== frontier.length)
    throw new RangeError(`a tree of ${size} has ${cover.length} frontier hashes, not ${frontier.length}`);
  // The right edge as a stack of (level, index, hash), largest first.
  const stack = cover.map((c, i) => ({ ...c, hash: frontier[i]! }));
  const nodes: (NodeId & { hash: Hash })[] = [];
  let n = size;
  for (const leaf of added) {
    let cur = { level: 0, index: n, hash: leaf };
    nodes.push(cur);
    // Merge while the top of the stack is this node's left sibling (same level).
    while (stack.length && stack[stack.length - 1]!.level === cur.level) {
      const left = stack.pop()!;
      cur = { level: cur.level + 1, index: left.index / 2, hash: nodeHash(left.hash, cur.hash, h) };
      nodes.push(cur);
    }
    stack.push(cur);
    n++;
  }
  return { nodes, frontier: stack.map((s) => s.hash) };
};
