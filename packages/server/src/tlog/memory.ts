import type { Hash } from '@assent/core';

/** Bytes of one hash. */
const H = 32;

/**
 * Hashes of a log's tree kept in memory, shared by every site of one process under one byte
 * budget: level 0 holds leaf hashes, each level above the stored subtree hashes, node `i` of a
 * level at bytes [32·i, 32·i + 32) of its buffer.
 *
 * Why: a proof names up to 2·log₂ n subtrees; reading them from the database cost an
 * inclusion proof more than everything else it does together (SQLite ~150 µs of ~530 µs per
 * proof at 30,000 leaves, 2026-11-30). The tree is append-only and a complete subtree's hash
 * never changes, so a copy cannot disagree with the database: the database stays the one
 * truth, this holds what it already says. Each level holds a prefix only (nodes 0 … count−1,
 * in the order integration produces them); whatever is not here (past the budget, or written
 * by another process since) is read from the database as before.
 *
 * About 64 bytes per leaf (32 for its hash, 32 for the levels above): the default budget of
 * 64 MiB holds a log of about a million receipts.
 */
export class TreeMemory {
  private readonly sites = new Map<string, { buf: Buffer; count: number }[]>();
  private used = 0;

  constructor(readonly budget: number) {}

  /** Whether `site`'s tree is here at all (loaded from the database, or grown from empty). */
  has(site: string): boolean {
    return this.sites.has(site);
  }

  /** Starts `site`'s tree, empty; nodes are then added in order (`add`). */
  open(site: string): void {
    if (!this.sites.has(site)) this.sites.set(site, []);
  }

  /** Node `index` of `level` of `site`'s tree, when it is here. */
  get(site: string, level: number, index: number): Hash | undefined {
    const l = this.sites.get(site)?.[level];
    if (!l || index >= l.count) return undefined;
    // A copy: a caller changing the hash it got must not change the tree.
    return Buffer.from(l.buf.subarray(index * H, index * H + H));
  }

  /**
   * Keeps node `index` of `level` when it is the next one of that level and the budget has
   * room; otherwise keeps nothing (the database has it). Returns whether it was kept.
   */
  add(site: string, level: number, index: number, hash: Hash): boolean {
    const levels = this.sites.get(site);
    if (!levels) return false;
    let l = levels[level];
    if (!l) {
      if (index !== 0) return false;
      levels[level] = l = { buf: Buffer.alloc(0), count: 0 };
    }
    if (index !== l.count) return false;
    if ((l.count + 1) * H > l.buf.length) {
      const size = Math.max(64 * H, l.buf.length * 2);
      if (this.used - l.buf.length + size > this.budget) return false;
      const grown = Buffer.allocUnsafe(size);
      l.buf.copy(grown, 0, 0, l.count * H);
      this.used += size - l.buf.length;
      l.buf = grown;
    }
    l.buf.set(hash, index * H);
    l.count++;
    return true;
  }
}
