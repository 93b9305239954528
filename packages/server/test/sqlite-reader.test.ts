/**
 * The SQLite reader thread (store/sqlite-reader.ts): the console's reads run there, so a long
 * one does not stop the request thread; it only reads; it starts again after it dies.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { type Kysely, sql } from 'kysely';
import { openStore, type Store } from '../src/index.js';
import { createSigner } from '../src/signer.js';
import type { SqliteReader } from '../src/store/sqlite-reader.js';
import { newReceipt, tempDir } from './helpers.js';

const signer = createSigner(generateKeyPairSync('ed25519').privateKey);

const item = () => newReceipt(signer.kid);

/** The store's console connection and its thread (private: reached for the test only). */
const consoleOf = (store: Store) => (store as unknown as { console: { db: Kysely<unknown> } }).console.db;
const readerThread = (store: Store): Worker | undefined =>
  (store as unknown as { reader: { worker?: Worker } }).reader?.worker;

/** A query that keeps SQLite busy for a while (counting to n in a recursive CTE). */
const slow = (n: number) =>
  sql<{
    n: number;
  }>`with recursive c(x) as (select 1 union all select x + 1 from c where x < ${n}) select count(*) as n from c`;

const fileStore = async () => {
  const store = openStore(`sqlite:${join(tempDir(), 'receipts.db')}`);
  await store.migrate();
  return store;
};

describe('the SQLite reader thread', () => {
  it('runs a long console query while the request thread goes on: timers fire, a receipt is stored and a user looked up meanwhile', async () => {
    const store = await fileStore();
    const db = consoleOf(store);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const events: string[] = [];
    const query = slow(3_000_000)
      .execute(db)
      .then((r) => {
        events.push('query');
        return { rows: r.rows, ticks };
      });
    const append = store.append([item()], signer).then((r) => {
      events.push('receipt');
      return r;
    });
    // A key lookup of the console (a session, the users) is not queued behind the long query.
    const users = store.admin.users().then(() => events.push('users'));
    const [{ rows, ticks: during }, stored] = await Promise.all([query, append, users]);
    clearInterval(timer);
    assert.equal(rows[0]!.n, 3_000_000);
    assert.equal(stored.length, 1);
    // On the request thread the query would have held it: no timer, no receipt until it ended.
    assert.deepEqual(events.slice(-1), ['query']);
    assert.deepEqual([...events].sort(), ['query', 'receipt', 'users']);
    assert.ok(during >= 5, `the event loop ran ${during} timer ticks during the query`);
    // What the writer committed is what the console reads next.
    assert.equal((await store.admin.receipts({}, null, 10)).length, 1);
    await store.close();
  });

  it('only reads: a write sent to it fails and changes nothing', async () => {
    const store = await fileStore();
    await store.append([item()], signer);
    const db = consoleOf(store);
    await assert.rejects(sql`delete from receipts`.execute(db), /queries only/);
    await assert.rejects(sql`pragma query_only = off`.execute(db), /queries only/);
    assert.equal((await store.admin.receipts({}, null, 10)).length, 1);
    await store.close();
  });

  it('starts again after it dies: the query it held fails, the next one is answered', async () => {
    const store = await fileStore();
    await store.append([item()], signer);
    const db = consoleOf(store);
    await sql`select 1`.execute(db);
    const w = readerThread(store);
    assert.ok(w, 'a query started the reader thread');
    const held = slow(50_000_000).execute(db);
    await w.terminate();
    await assert.rejects(held, /reader thread exited/);
    assert.equal((await store.admin.receipts({}, null, 10)).length, 1);
    assert.notEqual(readerThread(store), w, 'a new thread');
    await store.close();
  });

  it('lets the process exit when idle; close() answers the queries sent before it, then ends it', async () => {
    const store = await fileStore();
    await store.stats({}, 'method', []);
    const w = readerThread(store)!;
    assert.ok(w);
    const exited = new Promise((r) => w.once('exit', r));
    const reader = (store as unknown as { reader: SqliteReader }).reader;
    const last = reader.query(slow(500_000).compile(consoleOf(store)).sql, [500_000]);
    await store.close();
    assert.deepEqual(await last, [{ n: 500_000 }]);
    await exited;
    assert.equal(readerThread(store), undefined);
    await assert.rejects(reader.query('select 1', []), /is closed/);
  });
});
