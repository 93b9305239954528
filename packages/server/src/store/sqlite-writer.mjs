// The SQLite writer thread: it owns its own connection to the database file and appends
// batches of receipts: lock and read each site's chain head, hash and Ed25519-sign each
// receipt in chain order, insert, move the heads, commit (fsync), and only then answer.
//
// Why a thread: better-sqlite3 is synchronous, so on the request thread every commit's fsync
// and every signature (~40 µs each) stopped HTTP parsing. Here they overlap it: while this
// thread signs and commits batch N, the request thread reads, validates and queues batch N+1.
//
// Plain JavaScript on purpose: a worker does not inherit the TypeScript loader that
// bin/assent-server.js registers with tsx's register(), so this file must run as is. It is kept
// small: the canonical JSON arrives pre-built in three parts (store/canonical.ts, checked
// against core's canonicalReceipt by the tests); this thread only joins, hashes and signs.
//
// The protocol (store/sqlite-writer.ts is the other side):
// on `workerData.port` (a MessagePort, so pending messages can be taken synchronously):
//   in:  { id, keyId, key?, items: flat array, STRIDE values per receipt (see appendOne) }
//        `key` (an Ed25519 KeyObject) comes once per key; later batches name it by keyId.
//        { id, op: 'purge' | 'salt' | 'dropSaltsBefore', args } runs one of OPS.
//        { close: true } closes the connection and ends the thread (after what came before it).
//   out: { id, out: [seq, prev, hash, sig, …] } after COMMIT, { id, value } for an op,
//        or { id, error } after ROLLBACK.

import { createHash, sign } from 'node:crypto';
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';

const STRIDE = 14;
const GENESIS = '0'.repeat(64);

const db = new SQLite(workerData.path);
// The same durability as the request thread's connection (synchronous is per connection):
// WAL fsynced on every commit, so a receipt acknowledged after commit survives kill -9.
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = 5000');

// The same statements as the Kysely path (store/kysely-store.ts), prepared once.
// The no-op upsert creates a site's head on its first receipt; in a transaction begun with
// BEGIN IMMEDIATE the database's write lock is already held, so RETURNING gives the head as
// the previous writer (this thread, or any other connection) committed it.
const readHead = db.prepare(
  'INSERT INTO chain_heads (site, seq, hash) VALUES (?, 0, ?) ON CONFLICT (site) DO UPDATE SET site = excluded.site RETURNING seq, hash',
);
const insert = db.prepare(
  'INSERT INTO receipts (id, site, seq, at, expires_at, consent_id, method, region, granted, accepted, body, prev, hash, sig, kid, policy) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
);
const writeHead = db.prepare('UPDATE chain_heads SET seq = ?, hash = ? WHERE site = ?');

// The process's other writes (retention, the daily IP-hash salt) run here too, so this is the
// only connection that ever writes: the request thread's connection only reads, and never
// waits (synchronously, on the event loop) for this one's write lock. Same SQL as the Kysely
// versions in store/kysely-store.ts.
const purge = db.prepare(
  'UPDATE receipts SET body = NULL, consent_id = NULL, method = NULL, region = NULL, granted = NULL, accepted = NULL, purged_at = ? WHERE id IN (SELECT id FROM receipts WHERE expires_at < ? AND body IS NOT NULL LIMIT ?)',
);
const addSalt = db.prepare('INSERT INTO salts (day, salt) VALUES (?, ?) ON CONFLICT (day) DO NOTHING');
const getSalt = db.prepare('SELECT salt FROM salts WHERE day = ?').pluck();
const dropSalts = db.prepare('DELETE FROM salts WHERE day < ?');
// Publishing a policy (store/kysely-store.ts publish): store it once, then make it the site's
// current one unless it already is, in one transaction.
const addPolicy = db.prepare(
  'INSERT INTO policies (sha256, doc, created_at) VALUES (?, ?, ?) ON CONFLICT (sha256) DO NOTHING',
);
const lastPublication = db.prepare(
  'SELECT seq, sha256 FROM publications WHERE site = ? ORDER BY seq DESC LIMIT 1',
);
const addPublication = db.prepare('INSERT INTO publications (site, seq, sha256, at) VALUES (?, ?, ?, ?)');
const publish = db.transaction((site, sha256, doc, at) => {
  addPolicy.run(sha256, doc, at);
  const last = lastPublication.get(site);
  if (last?.sha256 === sha256) return false;
  addPublication.run(site, Number(last?.seq ?? 0) + 1, sha256, at);
  return true;
});
const probe = db.prepare(
  "INSERT INTO probes (name, at) VALUES ('readiness', ?) ON CONFLICT (name) DO UPDATE SET at = excluded.at",
);
const OPS = {
  probeWrite: (at) => {
    probe.run(at);
    return null;
  },
  purge: (cutoff, now, limit) => purge.run(now, cutoff, limit).changes,
  salt: (day, fresh) => {
    addSalt.run(day, fresh);
    return getSalt.get(day);
  },
  dropSaltsBefore: (day) => {
    dropSalts.run(day);
    return null;
  },
  publish: (site, sha256, doc, at) => publish.immediate(site, sha256, doc, at),
};

const keys = new Map();

// Group commit, second stage: every batch the request thread sent while the previous
// transaction was committing is already in the port's queue when it ends; they are all taken
// (receiveMessageOnPort) and committed in one transaction, up to MAX_RECEIPTS. The request
// thread never has to wait for a reply before sending more, so this thread is never idle
// while receipts wait, and one fsync still covers many receipts.
const MAX_RECEIPTS = workerData.maxBatch ?? 1000;

const appendOne = (items, key, heads, sites) => {
  const n = items.length / STRIDE;
  for (let i = 0; i < n; i++) {
    const site = items[i * STRIDE + 1];
    if (!heads.has(site)) sites.push(site);
  }
  // Sites in sorted order, like every other writer, so two writers never deadlock.
  for (const site of sites.sort()) {
    const h = readHead.get(site, GENESIS);
    heads.set(site, { seq: Number(h.seq), hash: h.hash });
  }
  sites.length = 0;
  const out = new Array(n * 4);
  for (let i = 0; i < n; i++) {
    const at = i * STRIDE;
    const site = items[at + 1];
    const head = heads.get(site);
    const seq = head.seq + 1;
    const prev = head.hash;
    const body = items[at + 10] + prev + items[at + 11] + seq + items[at + 12];
    const digest = createHash('sha256').update(body).digest();
    const hash = digest.toString('hex');
    // Ed25519 over the 32 hash bytes, as signer.ts signs and verify.ts checks.
    const sig = sign(null, digest, key).toString('base64url');
    // id, site, seq, at, expires_at, consent_id, method, region, granted, accepted, body, prev, hash, sig, kid, policy
    insert.run(
      items[at],
      site,
      seq,
      items[at + 2],
      items[at + 3],
      items[at + 4],
      items[at + 5],
      items[at + 6],
      items[at + 7],
      items[at + 8],
      body,
      prev,
      hash,
      sig,
      items[at + 9],
      items[at + 13],
    );
    head.seq = seq;
    head.hash = hash;
    out[i * 4] = seq;
    out[i * 4 + 1] = prev;
    out[i * 4 + 2] = hash;
    out[i * 4 + 3] = sig;
  }
  return out;
};

// One transaction for several batches: the heads read under the write lock carry over from
// one batch to the next, so the chain runs on across them exactly as in one big batch.
// A head is read once per transaction, the first time a batch names its site; a site that
// appears only in a later batch is read then (still under the same lock), in sorted order
// within that batch. Two processes never share a SQLite file for writing here, but if one did,
// BEGIN IMMEDIATE makes it wait for this whole transaction.
const appendAll = db.transaction((msgs) => {
  const heads = new Map();
  const sites = [];
  const outs = msgs.map((m) => appendOne(m.items, keys.get(m.keyId), heads, sites));
  for (const [site, h] of heads) writeHead.run(h.seq, h.hash, site);
  return outs;
});

const port = workerData.port;
let closing = false;

const take = (m, msgs, ops) => {
  if (m.close) {
    closing = true;
    return;
  }
  if (m.op) {
    ops.push(m);
    return;
  }
  if (m.key) keys.set(m.keyId, m.key);
  if (!keys.has(m.keyId)) {
    port.postMessage({ id: m.id, error: `writer thread: unknown signing key ${m.keyId}` });
    return;
  }
  msgs.push(m);
};

port.on('message', (first) => {
  const msgs = [];
  const ops = [];
  take(first, msgs, ops);
  let n = first.items ? first.items.length / STRIDE : 0;
  while (!closing && n < MAX_RECEIPTS) {
    const next = receiveMessageOnPort(port);
    if (!next) break;
    take(next.message, msgs, ops);
    n += next.message.items ? next.message.items.length / STRIDE : 0;
  }
  if (msgs.length) {
    try {
      // .immediate: BEGIN IMMEDIATE, the write lock before the heads are read. Throws (and
      // rolls back) on any error: then nothing of these batches was written, and each caller
      // hears so. Replies go only after COMMIT returned, i.e. after the WAL was fsynced.
      const outs = appendAll.immediate(msgs);
      for (let i = 0; i < msgs.length; i++) port.postMessage({ id: msgs[i].id, out: outs[i] });
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      for (const m of msgs) port.postMessage({ id: m.id, error, code: e?.code });
    }
  }
  // Each in its own transaction (autocommit), after the receipts.
  for (const m of ops) {
    try {
      port.postMessage({ id: m.id, value: OPS[m.op](...m.args) });
    } catch (e) {
      port.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e), code: e?.code });
    }
  }
  if (closing) {
    db.close();
    port.close();
  }
});
