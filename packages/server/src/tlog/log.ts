import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { setImmediate } from 'node:timers/promises';
import {
  consistencyRanges,
  coverOf,
  extend,
  type Hash,
  hashCover,
  inclusionRanges,
  leafHash,
  type NodeId,
  type Range,
} from '@assent/core';
import type { Store, StoredCheckpoint } from '../store/types.js';
import { TreeMemory } from './memory.js';
import { checkpointBody, logOrigin, signNote, verifierKey } from './note.js';

/** Node's SHA-256 for the tree: the same function as core's pure one, faster. */
export const nodeSha = (d: Uint8Array): Uint8Array => createHash('sha256').update(d).digest();

const hex = (h: Uint8Array) => Buffer.from(h).toString('hex');
const bytes = (s: string): Hash => Buffer.from(s, 'hex');

/**
 * Leaves integrated per transaction. On SQLite the nodes are written by the writer thread,
 * between receipt batches, and the hashing runs on the request thread: small steps keep each
 * short (about 500 node rows), so receipts never wait long behind one; a backlog (the
 * backfill of an old database) goes in as many steps as it needs. Measured at 100 connections
 * (two A/B runs each): steps of 4,096 leaves raised the receipts' p99 from ~90 ms to 127–177 ms;
 * steps of 512 left it where it is with no integration at all (~95 ms).
 */
const CHUNK = 512;

/** Ragged ranges' hashes kept (see ConsentLog.prove): 32 bytes and a key each. */
const RAGGED = 4096;

/** Rows per query when loading a tree into memory. */
const STEP = 4096;

/** The byte budget of the tree's hashes in memory (tlog/memory.ts): about a million receipts. */
export const MEMORY_BYTES = 64 * 2 ** 20;

/** A proof request that cannot be answered, naming the parameter at fault. */
export class ProofError extends Error {
  constructor(
    readonly field: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/**
 * The consent log of each site: integrates the leaves the writers append (receipts, under the
 * chain head's lock) into the stored tree, signs checkpoints, answers proofs.
 *
 * Appending a receipt only adds its leaf (an index and 32 bytes) in the receipt's own
 * transaction; hashing the tree and signing happen here, at most every `intervalMs`, and on
 * demand (a visitor asking for a proof of a receipt not yet in a checkpoint). Every complete
 * perfect subtree is stored once, so a proof is one query for at most 2·log₂ n hashes.
 * Integration is deterministic: two processes integrating the same leaves store the same
 * nodes (inserts that conflict change nothing) and sign the same checkpoint text.
 */
export class ConsentLog {
  private readonly pub: KeyObject;
  private readonly busy = new Map<string, Promise<StoredCheckpoint>>();
  /**
   * The largest tree size of a checkpoint this process has seen per site. Only ever a lower
   * bound of the log's (checkpoints are never deleted), so a proof for a size at most this
   * needs no checkpoint query to know the size is not past the latest.
   */
  private readonly seen = new Map<string, number>();
  /** Hashes of ranges of several subtrees, by `site start end` (see `prove`). */
  private readonly ragged = new Map<string, Hash>();

  constructor(
    private readonly store: Store,
    private readonly key: KeyObject,
    /** The tree's hashes kept in memory for proofs (tlog/memory.ts); a budget of 0 keeps none. */
    private readonly memory = new TreeMemory(MEMORY_BYTES),
  ) {
    this.pub = createPublicKey(key);
  }

  /** The origin line and key name of `site`'s log. */
  origin(site: string): string {
    return logOrigin(site);
  }

  /** The signed-note verifier key of `site`'s log. */
  verifierKey(site: string): string {
    return verifierKey(logOrigin(site), this.pub);
  }

  /** The latest checkpoint, issuing the first one if there is none yet. */
  async latest(site: string): Promise<StoredCheckpoint> {
    return this.saw((await this.store.logCheckpoint(site)) ?? (await this.integrate(site)));
  }

  private saw(c: StoredCheckpoint): StoredCheckpoint {
    if (c.size > (this.seen.get(c.site) ?? -1)) this.seen.set(c.site, c.size);
    return c;
  }

  /**
   * Takes in every leaf appended since the latest checkpoint and signs a checkpoint of the new
   * size (returns the latest one unchanged when nothing was appended). One at a time per site
   * in this process.
   */
  integrate(site: string): Promise<StoredCheckpoint> {
    const running = this.busy.get(site);
    if (running) return running.then(() => this.integrate(site));
    const p = this.integrateNow(site).finally(() => this.busy.delete(site));
    this.busy.set(site, p);
    return p;
  }

  private async integrateNow(site: string): Promise<StoredCheckpoint> {
    let last = await this.store.logCheckpoint(site);
    if (!this.memory.has(site)) await this.remember(site, last?.size ?? 0);
    for (;;) {
      const size = last?.size ?? 0;
      const cover = coverOf({ start: 0, end: size });
      const stored = await this.nodes(site, cover);
      const frontier = cover.map((c) => {
        const h = stored.get(`${c.level}/${c.index}`);
        if (!h) throw new Error(`consent log of ${site}: subtree ${c.level}/${c.index} is missing`);
        return h;
      });
      const leaves = await this.store.logLeaves(site, size, CHUNK);
      leaves.forEach((l, i) => {
        // Leaves are appended under the chain head's lock, so what is committed is a prefix.
        if (l.idx !== size + i) throw new Error(`consent log of ${site}: leaf ${size + i} is missing`);
      });
      if (last && !leaves.length) return last;
      const ext = extend(
        size,
        frontier,
        leaves.map((l) => leafHash(bytes(l.data), nodeSha)),
        nodeSha,
      );
      const n = size + leaves.length;
      const root = n ? hashCover(ext.frontier, nodeSha) : nodeSha(new Uint8Array(0));
      const origin = logOrigin(site);
      const c: StoredCheckpoint = {
        site,
        size: n,
        root: hex(root),
        note: signNote(checkpointBody(origin, n, root), origin, this.key),
        at: new Date().toISOString(),
      };
      // Level 0 (the leaf hashes) is not stored: each is H(0x00 ‖ data) of its row in
      // tlog_leaves, recomputed when a proof needs it. That halves the rows written.
      await this.store.logSave(
        site,
        ext.nodes
          .filter((x) => x.level > 0)
          .map((x) => ({ level: x.level, index: x.index, hash: hex(x.hash) })),
        c,
      );
      for (const x of ext.nodes) this.memory.add(site, x.level, x.index, x.hash);
      last = this.saw((await this.store.logCheckpoint(site, n)) ?? c);
      if (leaves.length < CHUNK) return last;
    }
  }

  /**
   * Loads what the database holds of `site`'s tree of `size` leaves into memory, level by
   * level, in steps of STEP rows, as far as the budget goes. Runs once per site and process,
   * under the site's integration lock (so no integration adds nodes meanwhile), before the
   * first integration.
   *
   * Each step ends by yielding to the event loop, so requests run between steps. Awaiting the
   * query is not enough: on SQLite it runs synchronously on this thread and its promise is
   * already settled, so the whole load ran as one task; at 1,000,000 receipts that held every
   * request for 3.6 s (bench:admin, 2026-11-30).
   */
  private async remember(site: string, size: number): Promise<void> {
    this.memory.open(site);
    if (this.memory.budget === 0) return;
    for (let from = 0; from < size; ) {
      const rows = await this.store.logLeaves(site, from, Math.min(STEP, size - from));
      if (!rows.length) return;
      for (const r of rows) if (!this.memory.add(site, 0, r.idx, leafHash(bytes(r.data), nodeSha))) return;
      from += rows.length;
      await setImmediate();
    }
    for (let level = 1; 2 ** level <= size; level++) {
      const count = Math.floor(size / 2 ** level);
      for (let from = 0; from < count; ) {
        const rows = await this.store.logLevel(site, level, from, Math.min(STEP, count - from));
        if (!rows.length) break;
        for (const r of rows) if (!this.memory.add(site, level, r.idx, bytes(r.hash))) return;
        from += rows.length;
        await setImmediate();
      }
    }
  }

  /**
   * Subtree hashes by `level/index`: from memory where it has them; the rest, levels above 0
   * from tlog_nodes (one query), leaves from their data in tlog_leaves.
   */
  private async nodes(site: string, ids: readonly NodeId[]): Promise<Map<string, Hash>> {
    const out = new Map<string, Hash>();
    const missing: NodeId[] = [];
    for (const i of ids) {
      const h = this.memory.get(site, i.level, i.index);
      if (h) out.set(`${i.level}/${i.index}`, h);
      else missing.push(i);
    }
    if (!missing.length) return out;
    const upper = missing.filter((i) => i.level > 0);
    for (const [k, h] of await this.store.logNodes(site, upper)) out.set(k, bytes(h));
    for (const leaf of missing.filter((i) => i.level === 0)) {
      const data = await this.store.logLeaf(site, leaf.index);
      if (data !== null) out.set(`0/${leaf.index}`, leafHash(bytes(data), nodeSha));
    }
    return out;
  }

  /**
   * The hashes of the proof `ranges` of `site`'s tree, from its stored subtrees: from memory
   * where it holds a range's whole cover, the rest in one lookup. A range of several subtrees
   * (the ragged right edge of a tree size, the same in every proof for that size) is hashed
   * once and kept (`ragged`); a perfect subtree is its own hash.
   */
  private async prove(site: string, ranges: readonly Range[], sizeField: string): Promise<Hash[]> {
    const covers = ranges.map((r) => coverOf(r));
    const keys = ranges.map((r, i) => (covers[i]!.length > 1 ? `${site} ${r.start} ${r.end}` : ''));
    const out = covers.map((cover, i) => {
      const known = keys[i] ? this.ragged.get(keys[i]!) : undefined;
      if (known) return known;
      const hashes: Hash[] = [];
      for (const c of cover) {
        const h = this.memory.get(site, c.level, c.index);
        if (!h) return undefined;
        hashes.push(h);
      }
      return hashCover(hashes, nodeSha);
    });
    const missing = covers.filter((_, i) => !out[i]);
    if (missing.length) {
      const stored = await this.nodes(site, missing.flat());
      covers.forEach((cover, i) => {
        if (out[i]) return;
        out[i] = hashCover(
          cover.map((c) => {
            const h = stored.get(`${c.level}/${c.index}`);
            if (!h) throw new ProofError(sizeField, 'that part of the tree is not integrated yet', 404);
            return h;
          }),
          nodeSha,
        );
      });
    }
    keys.forEach((k, i) => {
      if (!k || this.ragged.has(k)) return;
      // A few hundred sizes' right edges; starting over beyond that bounds the memory.
      if (this.ragged.size >= RAGGED) this.ragged.clear();
      this.ragged.set(k, out[i]!);
    });
    return out as Hash[];
  }

  /**
   * The size a proof is made for: `size`, or the latest checkpoint's; never past it. `field` is
   * the request's parameter that gave `size` (`size`, or `to` for a consistency proof), named
   * in the error.
   */
  private async sizeFor(site: string, size: number | undefined, field: string): Promise<number> {
    if (size !== undefined && size <= (this.seen.get(site) ?? -1)) return size;
    const latest = await this.latest(site);
    if (size === undefined) return latest.size;
    if (size > latest.size)
      throw new ProofError(field, `is past the latest checkpoint of ${site} (tree size ${latest.size})`);
    return size;
  }

  /**
   * An inclusion proof of leaf `index` in the tree of `size` (default: the latest checkpoint's).
   * `indexField` is the request's parameter that named the leaf: `index`, or `receipt` (the
   * receipt's leaf), named in the error when the leaf is not in that tree.
   */
  async inclusion(
    site: string,
    index: number,
    size?: number,
    indexField: 'index' | 'receipt' = 'index',
  ): Promise<{ size: number; proof: Hash[] }> {
    let n = await this.sizeFor(site, size, 'size');
    // A leaf appended after the latest checkpoint, asked for without a size: integrate it now.
    if (size === undefined && index >= n) n = (await this.integrate(site)).size;
    if (index >= n)
      throw new ProofError(
        indexField,
        indexField === 'index'
          ? `is not a leaf of the tree of size ${n}`
          : `is leaf ${index}, not in the tree of size ${n} (logged after that checkpoint)`,
      );
    return { size: n, proof: await this.prove(site, inclusionRanges(index, n), 'size') };
  }

  /** A consistency proof from the tree of `from` leaves to the tree of `to`. */
  async consistency(site: string, from: number, to: number): Promise<Hash[]> {
    const n = await this.sizeFor(site, to, 'to');
    if (from > n) throw new ProofError('from', `is larger than to (${n})`);
    return this.prove(site, consistencyRanges(from, n), 'to');
  }

  /** Integrates every site's new leaves now and then every `intervalMs`; errors go to `onError`. */
  start(intervalMs: number, onError: (e: unknown) => void): { stop(): void } {
    const run = async () => {
      try {
        for (const site of await this.store.logSites()) await this.integrate(site);
      } catch (e) {
        onError(e);
      }
    };
    const timer = setInterval(run, intervalMs);
    timer.unref();
    return { stop: () => clearInterval(timer) };
  }
}
