import { rmSync } from 'node:fs';
import SQLite from 'better-sqlite3';

// better-sqlite3 reads this once, when its addon loads (lazily, on the first `new SQLite`):
// with it, a filename starting with `file:` is a URI, which is how a connection names a VFS.
process.env.SQLITE_USE_URI = '1';

/**
 * Every connection's settings, the request thread's and the writer thread's alike (some are
 * per connection, so each applies the whole list):
 * - durability: WAL with synchronous=FULL fsyncs the WAL on every commit, so a receipt
 *   acknowledged after commit survives kill -9 and power loss (group commit keeps the number
 *   of commits, and fsyncs, per second low);
 * - busy_timeout: the two connections wait for each other's locks instead of failing;
 * - no larger page cache: 64 MiB per connection instead of SQLite's 2 MiB measured no faster
 *   (inclusion proofs at 30,000 receipts, and receipt writes, A/B on 2026-11-30); the OS page
 *   cache serves what SQLite's misses. No `mmap_size` either: a mapped file that shrinks under
 *   the server (another process truncating it) is a SIGBUS, the failure `sqliteUri` avoids;
 * - secure_delete: what a purge or an erasure clears is overwritten with zeros, not left in
 *   free pages of the file, where whoever holds the file or a backup would still read the
 *   consent ID beside the receipt's ID (the writer also checkpoints the WAL after each, below).
 */
export const SQLITE_PRAGMAS = [
  'journal_mode = WAL',
  'synchronous = FULL',
  'busy_timeout = 5000',
  'secure_delete = ON',
] as const;

/**
 * The URI that opens `path` (absolute) with SQLite's `unix-excl` VFS. Why: in WAL mode the
 * default VFS keeps the WAL index in `<db>-shm`, mapped into memory and updated with plain
 * memory writes; made immutable while the server runs (`chattr +i receipts.db*`), the kernel
 * answers the next write to that mapping with SIGBUS, which kills the process with no log line
 * and no 503. `unix-excl` keeps the WAL index on the heap (no `-shm` file at all) and takes a
 * process-wide exclusive lock, so the request thread's and the writer thread's connections
 * share it while no other process can open the file mid-write: a failed write is then an
 * ordinary error (503, `/readyz` 503, recovery) and the CLI's `export` or `migrate` says the
 * server holds the file. The WAL index on the heap also saves the mapping's page faults.
 */
export const sqliteUri = (path: string) =>
  `file:${path
    .split('/')
    .map((seg) => encodeURIComponent(seg))
    .join('/')}?vfs=unix-excl`;

/**
 * A connection to the SQLite file at `path` (absolute) through `sqliteUri`. Refuses to go on
 * if the URI was taken for a file name (better-sqlite3 loaded with URIs off, before this
 * module): that connection would have the shared, mapped WAL index the URI exists to avoid.
 */
export const openSqliteFile = (path: string): SQLite.Database => {
  const db = new SQLite(sqliteUri(path));
  const file = (db.pragma('database_list') as { name: string; file: string }[]).find(
    (d) => d.name === 'main',
  )?.file;
  // Taken for a file name, SQLite created a stray file named after the whole URI: that one,
  // and only that one, goes. (SQLite names the main file by its resolved path: a path through
  // a symlink differs from `path` and is the right file, which this once deleted, with every
  // receipt in it, even under a running server.)
  if (!file || file.includes('?vfs=')) {
    db.close();
    if (file) rmSync(file, { force: true });
    throw new Error(
      `SQLite took "${sqliteUri(path)}" for a file name: better-sqlite3 was loaded with URI filenames off (set SQLITE_USE_URI=1 before it loads)`,
    );
  }
  return db;
};
