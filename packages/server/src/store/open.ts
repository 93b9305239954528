import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { OPTION_DEFAULTS } from '../options.js';
import { KyselyStore } from './kysely-store.js';
import { openSqliteFile, SQLITE_PRAGMAS } from './sqlite-file.js';
import { SqliteReader } from './sqlite-reader.js';
import { SqliteThreadStore } from './sqlite-thread-store.js';
import { SqliteWriter } from './sqlite-writer.js';
import type { Database, Store } from './types.js';

export interface OpenOptions {
  /** PostgreSQL pool size per process. */
  readonly poolSize?: number;
  /** Most receipts per transaction of the SQLite writer thread (it merges waiting batches). */
  readonly maxBatch?: number;
  /**
   * Told of each error a PostgreSQL connection reports on its own (the server restarted or
   * terminated it, the network dropped it), idle or busy; the server logs it, throttled.
   */
  readonly onConnectionError?: (err: Error) => void;
}

/**
 * The database refuses writes: a read-only or immutable file or directory, a read-only
 * mount, a PostgreSQL in read-only mode. Restarting cannot fix it, so the CLI exits with its
 * own code (3) instead of failing in a loop under a supervisor.
 */
export class ReadOnlyError extends Error {
  override readonly name = 'ReadOnlyError';
}

const READ_ONLY_CODES = new Set(['EROFS', 'EACCES', 'EPERM', '25006']);

/** Whether `e` says the database cannot be written (as opposed to, say, unreachable). */
export const isReadOnly = (e: unknown): boolean => {
  const x = e as { code?: unknown; message?: unknown } | null;
  const code = typeof x?.code === 'string' ? x.code : '';
  return (
    code.startsWith('SQLITE_READONLY') ||
    code === 'SQLITE_CANTOPEN' ||
    code === 'SQLITE_PERM' ||
    READ_ONLY_CODES.has(code) ||
    /read-?only/i.test(String(x?.message ?? ''))
  );
};

/**
 * Whether `e` says another process holds the SQLite file: a running server opens it
 * exclusively (sqlite-file.ts), so a second server or the CLI's `export` waits out the busy
 * timeout and gets SQLITE_BUSY.
 */
export const isHeldElsewhere = (e: unknown): boolean =>
  (e as { code?: unknown } | null)?.code === 'SQLITE_BUSY';

/**
 * `db` with a cache of its prepared statements by SQL text (the most recent 500). Kysely's
 * SQLite driver prepares every query it runs, and SQLite compiling the same SQL again was the
 * largest single cost of a read: 14 % of an inclusion proof's time. A statement an unfinished
 * `iterate()` holds (a streamed query) is busy: the caller then gets a fresh one.
 */
const preparedOnce = (db: SQLite.Database, max = 500): SQLite.Database => {
  const cache = new Map<string, SQLite.Statement>();
  const prepare = (sql: string): SQLite.Statement => {
    const hit = cache.get(sql);
    if (hit && !hit.busy) {
      // Most recently used last, so the first key is the one to drop.
      cache.delete(sql);
      cache.set(sql, hit);
      return hit;
    }
    const st = db.prepare(sql);
    if (!hit) {
      cache.set(sql, st);
      if (cache.size > max) cache.delete(cache.keys().next().value!);
    }
    return st;
  };
  return new Proxy(db, {
    get: (target, key) => {
      if (key === 'prepare') return prepare;
      const v = Reflect.get(target, key, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
};

/** True for `postgres://…` and `postgresql://…` URLs. */
export const isPostgresUrl = (url: string) => /^postgres(ql)?:\/\//.test(url);

/**
 * Opens a store from a URL: `sqlite:path/to/file.db`, `sqlite::memory:` or `postgres://…`.
 * Does not migrate: call `store.migrate()` (the server does on start).
 */
export const openStore = (url: string, opts: OpenOptions = {}): Store => {
  if (isPostgresUrl(url)) {
    // int8 (count(*)) as a JS number: our counts stay far below 2^53.
    pg.types.setTypeParser(20, (v) => Number(v));
    const pool = new pg.Pool({ connectionString: url, max: opts.poolSize ?? OPTION_DEFAULTS.poolSize });
    // A connection PostgreSQL terminates (stopped, restarted, failover, pg_terminate_backend)
    // or the network drops is an 'error' event: on the pool for an idle client, on the client
    // itself for one checked out (a transaction in progress, "terminating connection due to
    // administrator command", ECONNRESET, "Connection terminated unexpectedly"). Unhandled,
    // either would crash the process. Each client gets its own listener for its whole life;
    // pg fails the client's queries (so requests answer 503) and the pool drops the broken
    // client on release (it is no longer queryable); the next query opens a new connection.
    const onError = (err: Error) => opts.onConnectionError?.(err);
    pool.on('connect', (client) => {
      client.on('error', onError);
      // No parallel query: Assent's queries are key lookups and keyset pages, except the
      // console's scans, and a scan's parallel workers take the cores the receipts'
      // transactions need. bench:admin at 1,000,000 receipts (2 cores, A/B twice): receipts
      // stored one after another while overviews ran, 38 and 123 in 5 s with it, 375 and 560
      // without; the overview itself took 226–422 ms with it, 206–214 ms without. Sent before
      // any query of the connection (a client runs its queries in order); a failure is
      // reported like a connection's error (logged, throttled), not dropped.
      client.query('SET max_parallel_workers_per_gather = 0').catch(onError);
    });
    // The pool re-emits an idle client's error: that client's own listener has reported it.
    pool.on('error', () => {});
    return new KyselyStore(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), 'postgres');
  }
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    const file = path === ':memory:' ? path : resolve(path);
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const db = file === ':memory:' ? new SQLite(file) : openSqliteFile(file);
    for (const p of SQLITE_PRAGMAS) db.pragma(p);
    // Receipts are appended by a writer thread with its own connection to the file (an
    // in-memory database cannot be shared with a thread: it appends on this one).
    const reads = new KyselyStore(
      new Kysely<Database>({ dialect: new SqliteDialect({ database: preparedOnce(db) }) }),
      'sqlite',
    );
    if (file === ':memory:') return reads;
    // The console's reads go to a reader thread with its own connection (sqlite-reader.ts).
    return new SqliteThreadStore(reads, new SqliteWriter(file, opts.maxBatch), new SqliteReader(file));
  }
  throw new Error(`unsupported database URL "${url}": use sqlite:path or postgres://…`);
};
