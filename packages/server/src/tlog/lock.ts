import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A lock older than this is taken over even when its process still runs: a witness run takes
 * seconds (each of its requests gives up after FETCH_TIMEOUT_MS, tlog/witness.ts), so a lock
 * this old is a run that hangs, and must not keep every later run out.
 */
export const STALE_LOCK_MS = 10 * 60_000;

/** How often a run waiting for a lock looks again. */
const POLL_MS = 100;

/** What a lock file holds: who holds it, since when, and the token only the holder knows. */
interface Holder {
  readonly pid: number;
  readonly host: string;
  readonly at: string;
  readonly token: string;
}

export type Lock =
  | {
      readonly ok: true;
      /** Whether the lock is still this run's (not taken over as stale meanwhile). */
      held(): boolean;
      /** Removes the lock if it is still this run's. */
      release(): void;
    }
  | { readonly ok: false; readonly file: string; readonly holder: string };

const code = (e: unknown) => (e as NodeJS.ErrnoException).code;

/** The lock file's holder and age; null when it is gone. Text that is not a holder (yet) is undefined. */
const read = (file: string): { holder: Holder | undefined; ageMs: number } | null => {
  try {
    const ageMs = Date.now() - statSync(file).mtimeMs;
    let holder: Holder | undefined;
    try {
      const h = JSON.parse(readFileSync(file, 'utf8')) as Partial<Holder>;
      if (Number.isSafeInteger(h.pid) && typeof h.host === 'string' && typeof h.token === 'string')
        holder = h as Holder;
    } catch {
      // Being written (created, not filled yet), or not a lock of ours: only its age counts.
    }
    return { holder, ageMs };
  } catch (e) {
    if (code(e) === 'ENOENT') return null;
    throw e;
  }
};

/** Whether process `pid` runs: signal 0 checks without sending anything (EPERM: runs, as another user). */
const running = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return code(e) === 'EPERM';
  }
};

/** Why a lock may be taken over, or null. A pid is only judged on its own host (NFS state dirs). */
const staleness = (l: { holder: Holder | undefined; ageMs: number }): string | null => {
  if (l.ageMs > STALE_LOCK_MS) return `it is older than ${STALE_LOCK_MS / 60_000} minutes`;
  if (l.holder && l.holder.host === hostname() && !running(l.holder.pid))
    return `its process (pid ${l.holder.pid}) is not running`;
  return null;
};

const whoHolds = (file: string, h: Holder | undefined) =>
  h ? `${file} (pid ${h.pid} on ${h.host}, since ${h.at})` : file;

/** Creates `file` holding `content`, only if it does not exist ('wx'); false if it does. */
const create = (file: string, content: string): boolean => {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o644);
  } catch (e) {
    if (code(e) === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  return true;
};

const remove = (file: string) => {
  try {
    unlinkSync(file);
  } catch (e) {
    if (code(e) !== 'ENOENT') throw e;
  }
};

/**
 * Removes the stale lock `file` if it still holds `token`, under a guard (`file.takeover`,
 * itself taken with 'wx'): two runs that both found the same stale lock must not both remove
 * it, or the second would remove the lock the first has just taken. True when it removed it.
 */
const takeOver = (
  file: string,
  token: string | undefined,
  why: string,
  warn: (m: string) => void,
): boolean => {
  const guard = `${file}.takeover`;
  if (!create(guard, String(process.pid))) {
    // A run that died between two system calls leaves the guard: a minute is far beyond them.
    const g = read(guard);
    if (g && g.ageMs > 60_000) remove(guard);
    return false;
  }
  try {
    const now = read(file);
    if (!now || now.holder?.token !== token) return false;
    warn(`taking over the lock ${whoHolds(file, now.holder)}: ${why}`);
    remove(file);
    return true;
  } finally {
    remove(guard);
  }
};

/**
 * Takes the exclusive lock `file` (created with 'wx'), waiting up to `waitMs` for the run that
 * holds it. A stale lock (STALE_LOCK_MS old, or its process gone) is taken over, said through
 * `warn`.
 */
export const takeLock = async (file: string, waitMs: number, warn: (m: string) => void): Promise<Lock> => {
  const token = randomBytes(12).toString('hex');
  const me: Holder = { pid: process.pid, host: hostname(), at: new Date().toISOString(), token };
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (create(file, JSON.stringify(me))) {
      const held = () => read(file)?.holder?.token === token;
      return {
        ok: true,
        held,
        release: () => {
          if (held()) remove(file);
        },
      };
    }
    const other = read(file);
    if (!other) continue; // released meanwhile
    const why = staleness(other);
    if (why && takeOver(file, other.holder?.token, why, warn)) continue;
    if (Date.now() >= deadline) return { ok: false, file, holder: whoHolds(file, other.holder) };
    await sleep(POLL_MS);
  }
};
