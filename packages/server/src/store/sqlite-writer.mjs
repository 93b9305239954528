// The SQLite writer thread: it owns its own connection to the database file and appends
// batches of receipts: lock and read each site's chain head, hash and Ed25519-sign each
// receipt in chain order, insert, move the heads, commit (fsync), and only then answer.
//
// Why a thread: better-sqlite3 is synchronous, so on the request thread every commit's fsync
// and every signature (~40 µs each) stopped HTTP parsing. Here they overlap it: while this
// thread signs and commits batch N, the request thread reads, validates and queues batch N+1.
//
// Plain JavaScript because a worker does not inherit the TypeScript loader that
// bin/assent-server.js registers with tsx's register(); so it holds no definition of its own:
// its SQL, the receipts row's columns and the layout of the batches it receives come from
// TypeScript (store/statements.ts, store/sqlite-writer.ts) in workerData, and the canonical
// JSON arrives pre-built in three parts (store/canonical.ts, checked against core's
// canonicalReceipt by the tests); this thread only joins, hashes, signs and runs statements.
//
// The protocol (store/sqlite-writer.ts is the other side):
// on `workerData.port` (a MessagePort, so pending messages can be taken synchronously):
//   in:  { id, keyId, key?, items: flat array, STRIDE values per receipt (see appendOne) }
//        `key` (an Ed25519 KeyObject) comes once per key; later batches name it by keyId.
//        { id, op: 'purge' | 'erase' | 'execAudited' | 'salt' | 'dropSaltsBefore' | 'publish' | 'probeWrite' | 'logSave' | 'exec' | 'pragmas', args } runs one of OPS.
//        { close: true } closes the connection and ends the thread (after what came before it).
//   out: { id, out: [seq, prev, hash, sig, …] } after COMMIT, { id, value } for an op,
//        or { id, error } after ROLLBACK.

import { createHash, randomBytes, sign } from 'node:crypto';
import { closeSync, fdatasyncSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';

// What this thread writes and how is defined once, in TypeScript, and arrives in workerData:
// `statements`: every write's SQL, compiled from the Kysely queries KyselyStore runs
//   (store/statements.ts), each with what goes in each `?` (an argument index or a constant);
// `columns`: the receipts row's columns in the order the insert statement takes them;
// `wire`: the fields of each receipt in a batch's flat array (store/sqlite-writer.ts packs them).
const { statements, columns, wire } = workerData;
const STRIDE = wire.length;
const W = Object.fromEntries(wire.map((name, i) => [name, i]));
const GENESIS = '0'.repeat(64);
// tlog/commitment.ts SALT_BYTES.
const SALT_BYTES = workerData.saltBytes;
// Where each column of the receipts row comes from: a wire field's index, or what this thread
// computes (seq, prev, hash, sig, body, and the consent log's salt and leaf index); purged_at
// is null on a new receipt.
const [SEQ, PREV, HASH, SIG, BODY, NONE, SALT, LEAF] = [-1, -2, -3, -4, -5, -6, -7, -8];
const COMPUTED = {
  seq: SEQ,
  prev: PREV,
  hash: HASH,
  sig: SIG,
  body: BODY,
  purged_at: NONE,
  salt: SALT,
  leaf: LEAF,
};
const SOURCE = columns.map((c) => {
  const from = COMPUTED[c] ?? W[c];
  if (from === undefined) throw new Error(`writer thread: no value for column ${c}`);
  return from;
});

// The database's file as the request thread opened it, and its WAL once there is one
// (store/sqlite-file.ts FileWatch): a file deleted or replaced under the server goes on taking
// writes into the unlinked inode, which the next start never sees, so every receipt
// acknowledged meanwhile would be lost. Checked once per transaction, before its COMMIT (a
// stat or two, not per receipt): a file that is gone fails the transaction, and nothing of it
// is acknowledged. Absent for a store made some other way (then nothing is checked).
const FILE = workerData.file ?? null;
/** dev and ino of the file at `path`; null if there is none; 'unknown' if it cannot be told. */
const identity = (path) => {
  try {
    const st = statSync(path);
    return { dev: st.dev, ino: st.ino };
  } catch (e) {
    return e?.code === 'ENOENT' || e?.code === 'ENOTDIR' ? null : 'unknown';
  }
};
const same = (now, then) =>
  now === 'unknown' || (now !== null && now.dev === then.dev && now.ino === then.ino);
let walPath = `${workerData.path}-wal`;
let walIdentity = FILE?.wal ?? null;
/** The path of the database's file or WAL that is no longer the one opened, or null. */
const gone = () => {
  if (!FILE) return null;
  if (!same(identity(workerData.path), FILE.opened)) return workerData.path;
  const wal = identity(walPath);
  if (!walIdentity) {
    if (wal && wal !== 'unknown') walIdentity = wal;
    return null;
  }
  return same(wal, walIdentity) ? null : walPath;
};
const checkFile = (path = gone()) => {
  if (path)
    throw Object.assign(
      new Error(
        `the database file ${path} was deleted or replaced since the server opened it: nothing was written`,
      ),
      { code: FILE.code },
    );
};
// A thread started after the file went (the last one died) opens nothing: without this, and
// without fileMustExist, it would create a new, empty database in its place.
if (FILE && !same(identity(workerData.path), FILE.opened)) checkFile(workerData.path);

// `uri` names the file and the VFS (store/sqlite-file.ts says why unix-excl).
const db = new SQLite(workerData.uri, FILE ? { fileMustExist: true } : {});
// The request thread's settings (store/sqlite-file.ts SQLITE_PRAGMAS; most are per
// connection): WAL fsynced on every commit, so a receipt acknowledged after commit survives
// kill -9; the same page cache.
for (const p of workerData.pragmas) db.pragma(p);
// SQLite keeps the WAL beside the file the path resolves to (a symlinked data dir).
{
  const main = db.pragma('database_list').find((d) => d.name === 'main')?.file;
  if (main) walPath = `${main}-wal`;
}

/** A prepared statement of `statements`, called with its arguments in order. */
const prepare = (name) => {
  const st = statements[name];
  const stmt = db.prepare(st.sql);
  const bind = (args) => st.params.map((p) => (typeof p === 'number' ? args[p] : p.value));
  return {
    run: (...args) => stmt.run(bind(args)),
    runArgs: (args) => stmt.run(bind(args)),
    get: (...args) => stmt.get(bind(args)),
    all: (...args) => stmt.all(bind(args)),
  };
};

// In a transaction begun with BEGIN IMMEDIATE the database's write lock is already held when
// readHead's upsert runs, so RETURNING gives the head as the previous writer committed it.
const readHead = prepare('readHead');
const insert = prepare('insertReceipt');
const writeHead = prepare('writeHead');
const insertLeaf = prepare('insertLeaf');
const upsertLatest = prepare('upsertLatest');

// The process's other writes (retention, the daily IP-hash salt, publishing, readiness's
// probe) run here too, so this is the only connection that ever writes: the request thread's
// connection only reads, and never waits (synchronously, on the event loop) for this one's lock.
const purge = prepare('purge');
const purgeLatest = prepare('purgeLatest');
const erase = prepare('erase');
const eraseLatest = prepare('eraseLatest');
const addSalt = prepare('addSalt');
const getSalt = prepare('getSalt');
const dropSalts = prepare('dropSalts');
const addPolicy = prepare('addPolicy');
const lastPublication = prepare('lastPublication');
const addPublication = prepare('addPublication');
const probe = prepare('probe');
const insertNode = prepare('insertNode');
const insertCheckpoint = prepare('insertCheckpoint');
// The consent log's integration (tlog/log.ts computes; this stores): subtree hashes, flat
// (level, index, hash, …), and the checkpoint, in one transaction.
const logSave = db.transaction((site, flat, size, root, note, at) => {
  for (let i = 0; i < flat.length; i += 3) insertNode.run(site, flat[i], flat[i + 1], flat[i + 2]);
  insertCheckpoint.run(site, size, root, note, at);
});
// Thrown inside a transaction to roll it back: what the request thread is told instead.
class Outcome extends Error {
  constructor(outcome) {
    super(outcome);
    this.outcome = outcome;
  }
}
// A transaction run with BEGIN IMMEDIATE, answering its Outcome when it threw one.
const outcomeOf =
  (tx) =>
  (...args) => {
    try {
      return tx.immediate(...args);
    } catch (e) {
      if (e instanceof Outcome) return e.outcome;
      throw e;
    }
  };
// Publishing a policy (KyselyStore.publish): store it once, then make it the site's current
// one unless it already is, in one transaction.
// With an audit entry (routes/admin.ts), the entry too, and only if it says rightly whether the
// current policy changed (Outcome 'stale' otherwise; 'taken' when its place was taken).
const publish = db.transaction((site, sha256, doc, at, entry, data, changed, auditSql, auditParams) => {
  if (auditSql !== undefined && OPS.exec(auditSql, auditParams) !== 1) throw new Outcome('taken');
  addPolicy.run(sha256, doc, at);
  const last = lastPublication.get(site);
  if (auditSql !== undefined && (last?.sha256 !== sha256) !== changed) throw new Outcome('stale');
  if (last?.sha256 === sha256) return false;
  addPublication.run(site, Number(last?.seq ?? 0) + 1, sha256, at);
  // The publication's entry in the site's consent log (tlog/entries.ts), as KyselyStore.publish.
  appendEntries(site, [entry], [data]);
  return true;
});
// Public entries of a site's consent log, under its chain head (KyselyStore's appendEntries).
const insertEntry = prepare('insertEntry');
const appendEntries = (site, entries, data) => {
  const h = readHead.get(site, GENESIS);
  const first = Number(h.leaves);
  for (let i = 0; i < entries.length; i++) insertEntry.run(site, first + i, data[i], entries[i]);
  writeHead.run(Number(h.seq), h.hash, first + entries.length, site);
  return entries.map((_, i) => first + i);
};
const logAppend = db.transaction(appendEntries);
const purgeBoth = db.transaction((cutoff, now, limit) => {
  purgeLatest.run(cutoff);
  return purge.run(now, cutoff, limit).changes;
});
// An admin write and its audit entry (store/admin-store.ts Write): nothing changed, no entry;
// the entry's place taken, both rolled back.
const execAudited = db.transaction((sql, params, auditSql, auditParams) => {
  const n = OPS.exec(sql, params);
  if (!n) return 0;
  if (OPS.exec(auditSql, auditParams) !== 1) throw new Outcome('taken');
  return n;
});
// An erasure request and its audit entry (KyselyStore.erase): the entry, the overview's row and
// the receipts together, or nothing.
const eraseBoth = db.transaction((now, site, consentId, expect, auditSql, auditParams) => {
  if (OPS.exec(auditSql, auditParams) !== 1) throw new Outcome('taken');
  eraseLatest.run(site, consentId);
  const ids = erase.all(now, site, consentId).map((r) => r.id);
  const want = new Set(expect);
  if (ids.length !== want.size || !ids.every((id) => want.has(id))) throw new Outcome('stale');
  return 'done';
});
// After a purge or an erasure that cleared something, the WAL still holds the pages as they
// were (consent IDs and all) until SQLite reuses them: a TRUNCATE checkpoint copies the cleared
// pages into the file (where secure_delete zeroed what was freed) and empties the WAL. Without
// waiting: a reader mid-query (an export) would otherwise hold this thread, and every receipt
// behind it, for the busy timeout. A checkpoint a reader kept from finishing is tried again,
// between batches, after SCRUB_RETRY_MS, then twice as long each time (at most a minute), until
// it completes: an erased consent ID must not stay in the WAL until the next purge, a day later.
const busyTimeout = db.pragma('busy_timeout', { simple: true });
const SCRUB_RETRY_MS = 1_000;
let scrubRetry = null;
const checkpoint = (wait) => {
  scrubRetry = null;
  // Not into a file deleted under the server: what an operator copies out of it must hold still.
  if (closing || gone()) return;
  db.pragma('busy_timeout = 0');
  let busy = 1;
  try {
    busy = db.pragma('wal_checkpoint(TRUNCATE)')[0]?.busy ?? 1;
  } catch {
    // SQLITE_BUSY from another writer's lock: the same as a reader in the way.
  } finally {
    db.pragma(`busy_timeout = ${busyTimeout}`);
  }
  if (busy) scrubRetry = setTimeout(checkpoint, wait, Math.min(wait * 2, 60_000)).unref();
};
const scrubbed = (result) => {
  if (!result) return result;
  if (scrubRetry) clearTimeout(scrubRetry);
  checkpoint(SCRUB_RETRY_MS);
  return result;
};
const eraseOp = outcomeOf(eraseBoth);
// The admin console's writes (users, sessions; store/admin-store.ts): one statement each,
// compiled by Kysely on the request thread, prepared here once per distinct SQL.
const adminStatements = new Map();
const OPS = {
  exec: (sql, params) => {
    let st = adminStatements.get(sql);
    if (!st) adminStatements.set(sql, (st = db.prepare(sql)));
    return st.run(params).changes;
  },
  // An admin write and the audit entry that records it (store/admin-store.ts Write), together or
  // not at all: nothing changed, no entry; the entry's place taken, both rolled back.
  execAudited: outcomeOf(execAudited),
  // One transaction: the overview's latest rows and the receipts they stand for go together.
  purge: (cutoff, now, limit) => scrubbed(purgeBoth.immediate(cutoff, now, limit)),
  erase: (...args) => {
    const r = eraseOp(...args);
    return r === 'done' ? scrubbed(r) : r;
  },
  salt: (day, fresh) => {
    addSalt.run(day, fresh);
    return getSalt.get(day).salt;
  },
  dropSaltsBefore: (day) => {
    dropSalts.run(day);
    return null;
  },
  publish: outcomeOf(publish),
  logAppend: (...args) => logAppend.immediate(...args),
  logSave: (...args) => {
    logSave.immediate(...args);
    return null;
  },
  // The values this connection runs with, by pragma name (store.test.ts checks them).
  pragmas: (names) => Object.fromEntries(names.map((n) => [n, db.pragma(n, { simple: true })])),
  probeWrite: (at, room) => {
    probe.run(at);
    if (room) probeRoom(room);
    return null;
  },
};

/**
 * Whether the database's files can grow by `room` bytes: `room` bytes (incompressible) written
 * to a file beside the database at the offset where the database's largest file (the main file
 * or its WAL) ends now, synced, then removed. The probe row alone proves too little on a full
 * disk: a one-page write fits in space SQLite already holds (a recycled WAL), while every
 * receipt batch needs new pages. And at the database's own size, not at 0: a per-file limit
 * (RLIMIT_FSIZE: `ulimit -f`, systemd's LimitFSIZE; or the file system's largest file) refuses
 * a write by where it ends, so a fresh 1 MiB file passed under a limit just above the
 * database's size while every receipt failed with EFBIG, and /readyz said 200. The part before
 * the offset is a hole: only `room` bytes of the disk are used, on any file system with sparse
 * files (ext4, XFS, btrfs, ZFS, tmpfs). Fails as the receipts do (ENOSPC, EFBIG, EDQUOT, EROFS).
 */
const probeRoom = (room) => {
  const path = `${workerData.path}-probe`;
  const end = (p) => {
    try {
      return statSync(p).size;
    } catch {
      return 0;
    }
  };
  const at = Math.max(end(workerData.path), end(walPath));
  const fd = openSync(path, 'w');
  try {
    const chunk = randomBytes(Math.min(room, 1 << 16));
    // A write that crosses the limit is cut short at it (the next one fails): go on from where
    // each one ended.
    for (let done = 0; done < room; ) {
      const n = writeSync(fd, chunk, 0, Math.min(room - done, chunk.length), at + done);
      if (n <= 0) throw Object.assign(new Error(`${path}: no room to write`), { code: 'ENOSPC' });
      done += n;
    }
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
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
    const site = items[i * STRIDE + W.site];
    if (!heads.has(site)) sites.push(site);
  }
  // Sites in sorted order, like every other writer, so two writers never deadlock.
  for (const site of sites.sort()) {
    const h = readHead.get(site, GENESIS);
    heads.set(site, { seq: Number(h.seq), hash: h.hash, leaves: Number(h.leaves) });
  }
  sites.length = 0;
  const out = new Array(n * 4);
  // The salts of this batch's leaves, from one call into the CSPRNG.
  const salts = randomBytes(SALT_BYTES * n);
  for (let i = 0; i < n; i++) {
    const at = i * STRIDE;
    const site = items[at + W.site];
    const head = heads.get(site);
    const seq = head.seq + 1;
    const prev = head.hash;
    // The canonical JSON from its three parts around prev and seq (canonical.ts joinBody).
    const body = items[at + W.head] + prev + items[at + W.middle] + seq + items[at + W.tail];
    const digest = createHash('sha256').update(body).digest();
    const hash = digest.toString('hex');
    // Ed25519 over the 32 hash bytes, as signer.ts signs and verify.ts checks.
    const sig = sign(null, digest, key).toString('base64url');
    // The receipt's leaf in the site's consent log: SHA-256(salt ‖ body), as
    // tlog/commitment.ts defines it (the tests compare the two).
    const saltBytes = salts.subarray(i * SALT_BYTES, (i + 1) * SALT_BYTES);
    const salt = saltBytes.toString('hex');
    const leaf = head.leaves;
    const data = createHash('sha256').update(saltBytes).update(body).digest('hex');
    const row = new Array(columns.length);
    for (let c = 0; c < columns.length; c++) {
      const from = SOURCE[c];
      row[c] =
        from >= 0
          ? items[at + from]
          : from === SEQ
            ? seq
            : from === PREV
              ? prev
              : from === HASH
                ? hash
                : from === SIG
                  ? sig
                  : from === BODY
                    ? body
                    : from === SALT
                      ? salt
                      : from === LEAF
                        ? leaf
                        : null;
    }
    insert.runArgs(row);
    upsertLatest.runArgs(row);
    insertLeaf.run(site, leaf, data);
    head.seq = seq;
    head.hash = hash;
    head.leaves = leaf + 1;
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
  for (const [site, h] of heads) writeHead.run(h.seq, h.hash, h.leaves, site);
  // Last, right before COMMIT: the file these receipts go to is still the database's.
  checkFile();
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
      if (m.op !== 'pragmas') checkFile();
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
