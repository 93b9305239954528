import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Worker } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import { openStore, type Store, verifyExport } from '../src/index.js';
import { createSigner } from '../src/signer.js';
import { RECEIPT_COLUMNS, threadStatements } from '../src/store/statements.js';
import { newReceipt, PUBLISHED, tempDir } from './helpers.js';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const signer = createSigner(privateKey);

const item = () => newReceipt(signer.kid);

/** The writer thread of a store opened on a file (private: reached for the test only). */
const thread = (store: Store) => (store as unknown as { writer: { worker?: Worker } }).writer.worker;

describe('one storage definition', () => {
  it("the receipts row (and so the thread's insert) has every column the migrations create", async () => {
    const path = join(tempDir(), 'receipts.db');
    const store = openStore(`sqlite:${path}`);
    await store.migrate();
    const db = new SQLite(path, { readonly: true });
    const cols = (db.prepare('PRAGMA table_info(receipts)').all() as { name: string }[]).map((c) => c.name);
    db.close();
    assert.deepEqual([...RECEIPT_COLUMNS].sort(), cols.sort());
    // The thread's statements are compiled from the Kysely queries, one `?` per parameter.
    const st = threadStatements();
    assert.match(st.insertReceipt.sql, /^insert into "receipts"/);
    assert.equal(st.insertReceipt.params.length, RECEIPT_COLUMNS.length);
    for (const s of Object.values(st)) assert.equal(s.sql.split('?').length - 1, s.params.length, s.sql);
    await store.close();
  });
});

describe('the SQLite writer thread', () => {
  it('starts again after it dies: what it held fails, the next append works and the chain goes on', async () => {
    const store = openStore(`sqlite:${join(tempDir(), 'receipts.db')}`);
    await store.migrate();
    const [first] = await store.append([item()], signer);
    const w = thread(store)!;
    assert.ok(w, 'appending started the writer thread');
    // Batches in flight when the thread dies are rejected, never half-acknowledged.
    const inFlight = store.append([item(), item()], signer);
    await w.terminate();
    const settled = await inFlight.then(
      (r) => r.length,
      () => 'rejected',
    );
    const [next] = await store.append([item()], signer);
    assert.notEqual(thread(store), w, 'a new thread');
    const rows = await store.page({}, null, 100);
    // The two in-flight receipts either committed before the thread ended (and were answered
    // so), or were rejected; only terminate() between COMMIT and reply could store them and
    // still reject (see SqliteWriter). Acknowledged ones are there; the chain is whole.
    if (settled === 2) assert.equal(rows.length, 4);
    else assert.ok(rows.length === 2 || rows.length === 4);
    assert.equal(next!.prev, rows.at(-2)!.hash);
    assert.equal(first!.seq, 1);
    // The policy the receipts name first, as an export carries it.
    const lines = [
      JSON.stringify({ type: 'policy', sha256: PUBLISHED.sha256, doc: PUBLISHED.doc }),
      ...rows.map((r) => JSON.stringify({ ...JSON.parse(r.body!), hash: r.hash, sig: r.sig })),
    ];
    assert.equal((await verifyExport(lines, [publicKey])).ok, true);
    await store.close();
  });

  it('lets the process exit when idle, and close() ends it', async () => {
    const store = openStore(`sqlite:${join(tempDir(), 'receipts.db')}`);
    await store.migrate();
    await store.append([item()], signer);
    const w = thread(store)!;
    const exited = new Promise((r) => w.once('exit', r));
    await store.close();
    await exited;
    assert.equal(thread(store), undefined);
  });
});
