import { readdirSync, readlinkSync, realpathSync, rmSync, statSync } from 'node:fs';
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

/** Which file a path names: its device and inode (what `rm`, or `mv` over it, changes). */
export interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
}

/**
 * The identity of the file at `path` now: null when there is none (ENOENT, ENOTDIR),
 * 'unknown' when it cannot be told (a directory made unreadable says nothing of which file is
 * in it).
 */
export const fileIdentity = (path: string): FileIdentity | null | 'unknown' => {
  try {
    const s = statSync(path);
    return { dev: s.dev, ino: s.ino };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? null : 'unknown';
  }
};

/**
 * The code of the error a write gets once the database's file was deleted or replaced under
 * the server: SQLite's own name for it (a write to "a database that has been moved or unlinked
 * since it was opened"), which SQLite itself does not check in WAL mode. Like every
 * `SQLITE_READONLY*`, an answer of 503 (errors.ts isUnavailable).
 */
export const FILE_GONE = 'SQLITE_READONLY_DBMOVED';

/**
 * Whether the SQLite file at `path` is still the one the store opened (`opened`, taken when it
 * opened it), and its WAL the one it writes (taken the first time there is one: a new database
 * has none until its first write). A file deleted or replaced under a running server (`rm
 * receipts.db receipts.db-wal`, a backup copied over it) goes on taking writes into the
 * unlinked inode, which the next start never sees: every receipt acknowledged meanwhile would
 * be lost, and the log would start again (a fork to every witness). The writer thread checks
 * the same before each commit (sqlite-writer.mjs); this is readiness's check.
 */
export class FileWatch {
  private wal: FileIdentity | null = null;
  /** Where SQLite keeps the WAL: beside the file the path resolves to (symlinks followed). */
  private readonly walPath: string;

  constructor(
    readonly path: string,
    readonly opened: FileIdentity,
  ) {
    let real = path;
    try {
      real = realpathSync(path);
    } catch {}
    this.walPath = `${real}-wal`;
    this.walIdentity();
  }

  /**
   * The WAL's identity, taken now if it was not yet (a writer thread starts after migrations,
   * which made the WAL): handed to each writer thread, so a WAL replaced in between is seen.
   */
  walIdentity(): FileIdentity | null {
    if (!this.wal) {
      const wal = fileIdentity(this.walPath);
      if (wal && wal !== 'unknown') this.wal = wal;
    }
    return this.wal;
  }

  /** Null while the files are the ones opened; else the error (code FILE_GONE) that says so. */
  problem(): (Error & { code: string }) | null {
    const now = fileIdentity(this.path);
    let gone = sameFile(now, this.opened) ? null : this.path;
    if (!gone) {
      const wal = this.wal;
      if (!wal) this.walIdentity();
      else if (!sameFile(fileIdentity(this.walPath), wal)) gone = this.walPath;
    }
    if (!gone) return null;
    // The old files, each where it still is: through this process's descriptor when it was
    // deleted, at its path when it was not (a WAL left beside a replaced file: the server's
    // stop would checkpoint it into the old file and remove it).
    const real = this.walPath.slice(0, -'-wal'.length);
    const deleted = openDeleted(real);
    const old = [
      [real, this.opened],
      [this.walPath, this.wal],
    ] as const;
    const held = old.flatMap(([name, id]) => {
      const fd = deleted.get(name);
      if (fd) return [`${fd} (${name})`];
      const now = id && fileIdentity(name);
      return now && now !== 'unknown' && sameFile(now, id) ? [name] : [];
    });
    return Object.assign(
      new Error(
        `the database file ${gone} was deleted or replaced since the server opened it: nothing more is written (receipts answer 503)${
          deleted.size
            ? `; this process still holds the old files open, with every receipt acknowledged so far: copy ${held.join(' and ')} to a safe place now, then stop the server, put the copies back in place and start it again (stopped first, what is only in them is lost)`
            : '; stop the server, put the right file back in place and start it again'
        }`,
      ),
      { code: FILE_GONE },
    );
  }
}

const sameFile = (a: FileIdentity | null | 'unknown', b: FileIdentity) =>
  a === 'unknown' || (a !== null && a.dev === b.dev && a.ino === b.ino);

/**
 * This process's descriptors of the deleted file `real` (resolved) and its WAL, by name, as
 * `/proc/<pid>/fd/<n>` (Linux; elsewhere none): while the server runs, the only way to what a
 * deleted database held.
 */
const openDeleted = (real: string): Map<string, string> => {
  const found = new Map<string, string>();
  try {
    for (const fd of readdirSync('/proc/self/fd')) {
      let target: string;
      try {
        target = readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        continue;
      }
      const name = target.endsWith(' (deleted)') ? target.slice(0, -' (deleted)'.length) : null;
      if ((name === real || name === `${real}-wal`) && !found.has(name))
        found.set(name, `/proc/${process.pid}/fd/${fd}`);
    }
  } catch {}
  return found;
};
