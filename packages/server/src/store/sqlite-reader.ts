import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import {
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryResult,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely';
import { SQLITE_PRAGMAS, sqliteUri } from './sqlite-file.js';

interface Pending {
  resolve(rows: unknown[]): void;
  reject(e: unknown): void;
}

interface Reply {
  readonly id: number;
  readonly rows?: unknown[];
  readonly error?: string;
  readonly code?: string;
}

/**
 * The request thread's side of the SQLite reader thread (sqlite-reader.mjs): sends it a
 * query, resolves with the rows. Why a thread: better-sqlite3 runs a query synchronously, so
 * the console's overview at a million receipts (about a second of grouping) stopped the
 * request thread for that second: no receipt accepted, no page served. The thread runs one
 * query at a time, in the order sent.
 *
 * It starts on the first query (after migrations) and holds the process open only while a
 * query is in flight. If it dies, the queries it held are rejected and the next one starts a
 * new thread.
 */
export class SqliteReader {
  private worker: Worker | undefined;
  private port: MessagePort | undefined;
  private exited: Promise<void> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;

  constructor(private readonly path: string) {}

  query(sql: string, params: readonly unknown[]): Promise<unknown[]> {
    if (this.closed) return Promise.reject(new Error('the SQLite reader thread is closed'));
    const port = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) this.hold(true);
      port.postMessage({ id, sql, params });
    });
  }

  /** The thread keeps the process alive while a query is in flight, and once closing, until it ends. */
  private hold(on: boolean): void {
    if (on || this.closed) {
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
    const w = new Worker(new URL('./sqlite-reader.mjs', import.meta.url), {
      workerData: { uri: sqliteUri(this.path), pragmas: SQLITE_PRAGMAS, port: port2 },
      transferList: [port2],
    });
    this.worker = w;
    this.port = port1;
    port1.on('message', (m: Reply) => this.settle(m));
    this.hold(false);
    const fail = (e: unknown) => {
      if (this.worker === w) {
        // Answers posted before the thread ended may still wait in the port ('exit' and the
        // port are not ordered): settle those first, as the writer does.
        for (let m = receiveMessageOnPort(port1); m; m = receiveMessageOnPort(port1))
          this.settle(m.message as Reply);
        this.worker = undefined;
        this.port = undefined;
        port1.close();
      }
      const err = e instanceof Error ? e : new Error(`the SQLite reader thread stopped (${String(e)})`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    w.on('error', fail);
    this.exited = new Promise((resolve) =>
      w.once('exit', (code) => {
        fail(new Error(`the SQLite reader thread exited with code ${code}`));
        resolve();
      }),
    );
    return port1;
  }

  private settle(m: Reply): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (!this.pending.size) this.hold(false);
    if (m.error !== undefined) p.reject(Object.assign(new Error(m.error), m.code ? { code: m.code } : {}));
    else p.resolve(m.rows!);
  }

  /** Closes the thread's connection and the thread, after the queries sent before. */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    const port = this.port;
    if (!w || !port) return;
    this.hold(true);
    port.postMessage({ close: true });
    await this.exited;
  }
}

/** Kysely's SQLite SQL, run on the reader thread: queries only, no transactions. */
export const readerDialect = (reader: SqliteReader): Dialect => {
  const connection: DatabaseConnection = {
    async executeQuery<R>(q: CompiledQuery): Promise<QueryResult<R>> {
      return { rows: (await reader.query(q.sql, q.parameters)) as R[] };
    },
    // biome-ignore lint/correctness/useYield: it refuses before producing anything.
    async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
      throw new Error('the SQLite reader thread does not stream: page the query instead');
    },
  };
  const noTransactions = () => Promise.reject(new Error('the SQLite reader thread runs no transactions'));
  const driver: Driver = {
    init: () => Promise.resolve(),
    acquireConnection: () => Promise.resolve(connection),
    beginTransaction: noTransactions,
    commitTransaction: noTransactions,
    rollbackTransaction: noTransactions,
    releaseConnection: () => Promise.resolve(),
    destroy: () => reader.close(),
  };
  return {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => driver,
    createIntrospector: (db) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  };
};
