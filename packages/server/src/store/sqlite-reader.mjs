// The SQLite reader thread: runs the admin console's queries (the overview's grouping, the
// receipts table, a receipt's detail, counts) on a connection of its own, so that a query that
// reads a million rows does not stop the request thread, which better-sqlite3 would block for
// the whole query: no receipt accepted, no consent page served, not even /healthz.
//
// Plain JavaScript for the same reason as sqlite-writer.mjs (a worker does not inherit the
// TypeScript loader). It holds no SQL of its own: the queries arrive compiled by Kysely on the
// request thread (store/sqlite-reader.ts is the other side). It only reads: its connection is
// `query_only`, so a write sent here by mistake fails loudly instead of taking the writer
// thread's place as the one connection that writes.
//
// The protocol, on `workerData.port`:
//   in:  { id, sql, params }   runs one query, returns all its rows;
//        { close: true }       closes the connection and ends the thread.
//   out: { id, rows } or { id, error, code }.

import { workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';

// `uri` names the file and the VFS (store/sqlite-file.ts says why unix-excl). The file exists
// (the request thread opened it first): a reader started after it was deleted opens nothing,
// and never creates an empty database in its place.
const db = new SQLite(workerData.uri, { fileMustExist: true });
for (const p of workerData.pragmas) db.pragma(p);
db.pragma('query_only = ON');

// Prepared once per distinct SQL (the console runs a handful of shapes), the most recent 200.
const cache = new Map();
const prepare = (sql) => {
  let st = cache.get(sql);
  if (st) cache.delete(sql);
  else st = db.prepare(sql);
  cache.set(sql, st);
  if (cache.size > 200) cache.delete(cache.keys().next().value);
  return st;
};

const port = workerData.port;
port.on('message', (m) => {
  if (m.close) {
    db.close();
    port.close();
    return;
  }
  try {
    const st = prepare(m.sql);
    if (!st.reader) throw new Error(`the SQLite reader thread runs queries only, not: ${m.sql}`);
    port.postMessage({ id: m.id, rows: st.all(m.params) });
  } catch (e) {
    port.postMessage({ id: m.id, error: String(e?.message ?? e), code: e?.code });
  }
});
