import type { KeyObject } from 'node:crypto';
import type { SignedReceipt } from '@assent/core';
import { SALT_BYTES } from '../tlog/commitment.js';
import { bodyParts } from './canonical.js';
import { FILE_GONE, FileWatch, fileIdentity, SQLITE_PRAGMAS, sqliteUri } from './sqlite-file.js';
import { grantedColumns, RECEIPT_COLUMNS, threadStatements } from './statements.js';
import { SqliteThread, type ThreadReply, type ThreadRequest } from './thread.js';
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

interface Pending extends ThreadRequest {
  /** Absent for an op (purge, salt …): it resolves to the op's value. */
  readonly items?: readonly NewReceipt[];
  // Method syntax: a batch's resolve takes SignedReceipt[], an op's its own value.
  resolve(r: unknown): void;
}

interface Reply extends ThreadReply {
  readonly out?: (string | number)[];
  readonly value?: unknown;
}

/**
 * The request thread's side of the SQLite writer thread (sqlite-writer.mjs): sends it batches
 * and resolves each once the thread reports the batch's transaction committed.
 *
 * The thread starts on the first append (after migrations, so its statements prepare); its
 * life is SqliteThread's. If it dies, the batches it held are rejected (nothing acknowledged
 * is lost: a batch is only resolved after its COMMIT) and the next append starts a new one.
 * The rejected ones were not committed, except in one window only terminate() can hit:
 * between the thread's COMMIT and its reply. Then the request fails (503) though its receipt
 * is stored; the client retries and the choice is recorded twice, never lost.
 */
export class SqliteWriter extends SqliteThread<Reply, Pending> {
  private nextKeyId = 0;
  private readonly keyIds = new WeakMap<KeyObject, number>();
  private sentKeys = new WeakSet<KeyObject>();

  /**
   * The file the request thread's connection opened, taken now (openStore makes the writer
   * right after opening it): every thread checks it before each commit, and one that starts
   * later refuses a file deleted or replaced since, instead of writing into it (or into a new,
   * empty one).
   */
  private readonly watch: FileWatch | null;

  /**
   * @param maxBatch most receipts the thread puts in one transaction (it merges the batches
   *   waiting for it, see sqlite-writer.mjs).
   */
  constructor(
    private readonly path: string,
    private readonly maxBatch = 1000,
  ) {
    super(new URL('./sqlite-writer.mjs', import.meta.url), 'writer');
    const opened = fileIdentity(path);
    this.watch = opened && opened !== 'unknown' ? new FileWatch(path, opened) : null;
  }

  /**
   * Null while the database's file (and its WAL) are the ones the store opened; otherwise the
   * error receipts get (code SQLITE_READONLY_DBMOVED), naming the file (readiness says it).
   */
  fileProblem(): Error | null {
    return this.watch?.problem() ?? null;
  }

  protected workerData() {
    return {
      path: this.path,
      // What the thread checks before each commit (sqlite-file.ts FileWatch).
      file: this.watch && { opened: this.watch.opened, wal: this.watch.walIdentity(), code: FILE_GONE },
      // The same VFS as the request thread's connection (one WAL index on the heap, shared).
      uri: sqliteUri(this.path),
      pragmas: SQLITE_PRAGMAS,
      maxBatch: this.maxBatch,
      statements: (compiled ??= threadStatements()),
      columns: RECEIPT_COLUMNS,
      wire: WIRE,
      saltBytes: SALT_BYTES,
    };
  }

  /** A new thread knows no keys yet. */
  protected override onStart(): void {
    this.sentKeys = new WeakSet();
  }

  append(items: readonly NewReceipt[], key: KeyObject): Promise<SignedReceipt[]> {
    if (!items.length) return Promise.resolve([]);
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
    return new Promise((resolve, reject) =>
      this.send({ items, resolve: resolve as (r: unknown) => void, reject }, (id) => {
        // Decided when sent: a thread started for this batch has not seen the key.
        const first = !this.sentKeys.has(key);
        this.sentKeys.add(key);
        return first ? { id, keyId, key, items: flat } : { id, keyId, items: flat };
      }),
    );
  }

  /**
   * Runs one of the thread's other writes (OPS in sqlite-writer.mjs), so that the writer
   * thread's connection is the only one that writes.
   */
  run<T>(
    op:
      | 'purge'
      | 'erase'
      | 'salt'
      | 'dropSaltsBefore'
      | 'publish'
      | 'probeWrite'
      | 'logSave'
      | 'logAppend'
      | 'execAudited'
      | 'exec'
      | 'pragmas',
    args: readonly unknown[],
  ): Promise<T> {
    return new Promise<T>((resolve, reject) =>
      this.send({ resolve: resolve as (r: unknown) => void, reject }, (id) => ({ id, op, args })),
    );
  }

  /** A transaction refused because the file is gone: the error says what to do (FileWatch). */
  protected override errorOf(m: Reply): Error {
    return (m.code === FILE_GONE && this.fileProblem()) || super.errorOf(m);
  }

  protected answer(m: Reply, p: Pending): void {
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
}
