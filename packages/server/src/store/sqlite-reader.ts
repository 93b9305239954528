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
import { SqliteThread, type ThreadReply, type ThreadRequest } from './thread.js';

interface Query extends ThreadRequest {
  resolve(rows: unknown[]): void;
}

interface Rows extends ThreadReply {
  readonly rows: unknown[];
}

/**
 * The request thread's side of the SQLite reader thread (sqlite-reader.mjs): sends it a
 * query, resolves with the rows. Why a thread: better-sqlite3 runs a query synchronously, so
 * the console's overview at a million receipts (about a second of grouping) stopped the
 * request thread for that second: no receipt accepted, no page served. The thread runs one
 * query at a time, in the order sent; its life is SqliteThread's.
 */
export class SqliteReader extends SqliteThread<Rows, Query> {
  constructor(private readonly path: string) {
    super(new URL('./sqlite-reader.mjs', import.meta.url), 'reader');
  }

  protected workerData() {
    return { uri: sqliteUri(this.path), pragmas: SQLITE_PRAGMAS };
  }

  protected answer(reply: Rows, query: Query): void {
    query.resolve(reply.rows);
  }

  query(sql: string, params: readonly unknown[]): Promise<unknown[]> {
    return new Promise((resolve, reject) => this.send({ resolve, reject }, (id) => ({ id, sql, params })));
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
