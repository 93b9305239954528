import type { KeyObject } from 'node:crypto';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { SignedReceipt } from '@assent/core';
import { SALT_BYTES } from '../tlog/commitment.js';
import { bodyParts } from './canonical.js';
import { SQLITE_PRAGMAS, sqliteUri } from './sqlite-file.js';
import { grantedColumns, RECEIPT_COLUMNS, threadStatements } from './statements.js';
import type { NewReceipt } from './types.js';

/**
 * The fields of each receipt in a batch's flat array, in order: the receipts row's columns the
 * request thread knows (by their column names) and the canonical JSON's three parts. The
 * thread finds each by name (workerData.wire), so this list is the only copy of the layout.
 */
const WIRE = [
  'id',
  'site',
  'at',
  'expires_at',
  'consent_id',
  'method',
  'region',
  'mode',
  'granted',
  'accepted',
  'kid',
  'policy',
  'head',
  'middle',
  'tail',
] as const;
const STRIDE = WIRE.length;

/** Compiled once per process: the thread's statements, from the Kysely queries. */
let compiled: ReturnType<typeof threadStatements> | undefined;

interface Pending {
  /** Absent for an op (purge, salt …): it resolves to the op's value. */
  readonly items?: readonly NewReceipt[];
  // Method syntax: a batch's resolve takes SignedReceipt[], an op's its own value.
  resolve(r: unknown): void;
  reject(e: unknown): void;
}

interface Reply {
  readonly id: number;
  readonly out?: (string | number)[];
  readonly value?: unknown;
  readonly error?: string;
  readonly code?: string;
}

/**
 * The request thread's side of the SQLite writer thread (sqlite-writer.mjs): sends it batches
 * and resolves each once the thread reports the batch's transaction committed.
 *
 * The thread starts on the first append (after migrations, so its statements prepare) and
 * holds the process open only while a batch is in flight. If it dies, the batches it held are
 * rejected (nothing acknowledged is lost: a batch is only resolved after its COMMIT) and the
 * next append starts a new one.
 */
export class SqliteWriter {
  private worker: Worker | undefined;
  private port: MessagePort | undefined;
  private exited: Promise<void> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private nextKeyId = 0;
  private idle: (() => void)[] = [];
  private readonly keyIds = new WeakMap<KeyObject, number>();
  private sentKeys = new WeakSet<KeyObject>();

  /**
   * @param maxBatch most receipts the thread puts in one transaction (it merges the batches
   *   waiting for it, see sqlite-writer.mjs).
   */
  constructor(
    private readonly path: string,
    private readonly maxBatch = 1000,
  ) {}

  append(items: readonly NewReceipt[], key: KeyObject): Promise<SignedReceipt[]> {
    if (!items.length) return Promise.resolve([]);
    const port = this.start();
    const flat: (string | number | null)[] = new Array(items.length * STRIDE);
    let k = 0;
    for (const r of items) {
      const { granted, accepted } = grantedColumns(r.choices);
      const p = bodyParts(r);
      // WIRE's order.
      flat[k++] = r.id;
      flat[k++] = r.site;
      flat[k++] = r.at;
      flat[k++] = r.expiresAt;
      flat[k++] = r.consentId;
      flat[k++] = r.method;
      flat[k++] = r.region;
      flat[k++] = r.mode;
      flat[k++] = granted;
      flat[k++] = accepted;
      flat[k++] = r.kid;
      flat[k++] = r.policy.sha256;
      flat[k++] = p.head;
      flat[k++] = p.middle;
      flat[k++] = p.tail;
    }
    let keyId = this.keyIds.get(key);
    if (keyId === undefined) this.keyIds.set(key, (keyId = this.nextKeyId++));
    const first = !this.sentKeys.has(key);
    this.sentKeys.add(key);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { items, resolve, reject });
      if (this.pending.size === 1) this.hold(true);
      port.postMessage(first ? { id, keyId, key, items: flat } : { id, keyId, items: flat });
    });
  }

  /**
   * Runs one of the thread's other writes (OPS in sqlite-writer.mjs), so that the writer
   * thread's connection is the only one that writes.
   */
  run<T>(
    op:
      | 'purge'
      | 'salt'
      | 'dropSaltsBefore'
      | 'publish'
      | 'probeWrite'
      | 'logSave'
      | 'logAppend'
      | 'exec'
      | 'pragmas',
    args: readonly unknown[],
  ): Promise<T> {
    const port = this.start();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
      if (this.pending.size === 1) this.hold(true);
      port.postMessage({ id, op, args });
    });
  }

  /** The thread (and its port) keep the process alive only while a batch is in flight. */
  private hold(on: boolean): void {
    if (on) {
      this.worker?.ref();
      this.port?.ref();
    } else {
      this.worker?.unref();
      this.port?.unref();
    }
  }

  private start(): MessagePort {
    if (this.worker && this.port) return this.port;
    const { port1, port2 } = new MessageChannel();
    const w = new Worker(new URL('./sqlite-writer.mjs', import.meta.url), {
      workerData: {
        path: this.path,
        // The same VFS as the request thread's connection (one WAL index on the heap, shared).
        uri: sqliteUri(this.path),
        pragmas: SQLITE_PRAGMAS,
        port: port2,
        maxBatch: this.maxBatch,
        statements: (compiled ??= threadStatements()),
        columns: RECEIPT_COLUMNS,
        wire: WIRE,
        saltBytes: SALT_BYTES,
      },
      transferList: [port2],
    });
    this.worker = w;
    this.port = port1;
    // A new thread knows no keys yet.
    this.sentKeys = new WeakSet();
    port1.on('message', (m: Reply) => this.settle(m));
    this.hold(false);
    const fail = (e: unknown) => {
      if (this.worker === w) {
        // Answers the thread posted before it ended may still wait in the port (its 'exit' and
        // its port are not ordered): settle those first, so a committed batch is reported so.
        for (let m = receiveMessageOnPort(port1); m; m = receiveMessageOnPort(port1))
          this.settle(m.message as Reply);
        this.worker = undefined;
        this.port = undefined;
        port1.close();
      }
      // The rest were not committed, except in one window only terminate() can hit: between
      // the thread's COMMIT and its reply. Then the request fails (503) though its receipt is
      // stored; the client retries and the choice is recorded twice, never lost.
      const err = e instanceof Error ? e : new Error(`the SQLite writer thread stopped (${String(e)})`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      for (const f of this.idle.splice(0)) f();
    };
    w.on('error', fail);
    this.exited = new Promise((resolve) =>
      w.once('exit', (code) => {
        fail(new Error(`the SQLite writer thread exited with code ${code}`));
        resolve();
      }),
    );
    return port1;
  }

  private settle(m: Reply): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (!this.pending.size) {
      this.hold(false);
      for (const f of this.idle.splice(0)) f();
    }
    if (m.error !== undefined) {
      p.reject(Object.assign(new Error(m.error), m.code ? { code: m.code } : {}));
      return;
    }
    if (!p.items) {
      p.resolve(m.value);
      return;
    }
    const out = m.out!;
    // A literal of one fixed shape, not a spread of the item: this runs for every receipt on
    // the request thread, and spreading a 20-field object measured ~5 µs.
    p.resolve(
      p.items.map((r, i) => ({
        v: r.v,
        id: r.id,
        site: r.site,
        seq: out[i * 4] as number,
        at: r.at,
        prev: out[i * 4 + 1] as string,
        consentId: r.consentId,
        policy: r.policy,
        mode: r.mode,
        choices: r.choices,
        method: r.method,
        source: r.source,
        signals: r.signals,
        page: r.page,
        lang: r.lang,
        expiresAt: r.expiresAt,
        region: r.region,
        ua: r.ua,
        ipHash: r.ipHash,
        kid: r.kid,
        hash: out[i * 4 + 2] as string,
        sig: out[i * 4 + 3] as string,
      })),
    );
  }

  /** Waits for the batches in flight, then closes the thread's connection and the thread. */
  async close(): Promise<void> {
    const w = this.worker;
    const port = this.port;
    if (!w || !port) return;
    if (this.pending.size) await new Promise<void>((r) => this.idle.push(r));
    this.worker = undefined;
    this.port = undefined;
    w.ref();
    port.postMessage({ close: true });
    await this.exited;
    port.close();
  }
}
