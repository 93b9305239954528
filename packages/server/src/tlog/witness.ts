import { createHash, createPublicKey, type KeyObject, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { verifyConsistency } from '@assent/core';
import { takeLock } from './lock.js';
import { nodeSha } from './log.js';
import { type NoteCheck, verifyCheckpoint } from './note.js';

/**
 * Each request of a witness run gives up after this long: a run holds its log's lock while it
 * fetches the checkpoint and the consistency proof and submits its cosignature, and must end
 * well before its lock counts as stale (STALE_LOCK_MS, tlog/lock.ts).
 */
export const FETCH_TIMEOUT_MS = 60_000;

/** How long a run waits for another run of the same log and state directory to finish. */
export const LOCK_WAIT_MS = 30_000;

/**
 * A witness's cosignature (C2SP tlog-cosignature) of the checkpoint it just verified, sent to
 * the log (`POST …/v1/log/cosignature`), which publishes it beside the checkpoint.
 */
export const submitCosignature = async (
  checkpointUrl: string,
  size: number,
  cosignature: string,
): Promise<{ ok: boolean; status: number; text: string }> => {
  const u = new URL(checkpointUrl);
  u.pathname = u.pathname.replace(/checkpoint$/, 'cosignature');
  const res = await fetch(u, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ size, cosignature }),
    signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
  });
  return { ok: res.status === 201, status: res.status, text: await res.text() };
};

export type WitnessOk = {
  readonly ok: true;
  readonly origin: string;
  readonly from: number | null;
  readonly size: number;
  /** The checkpoint as verified and stored (with the cosignatures the log served beside it). */
  readonly note: string;
};

export type WitnessResult =
  | WitnessOk
  | {
      readonly ok: false;
      readonly fork: boolean;
      readonly reason: string;
      readonly evidence?: string;
      /** The lock file another run of this log holds (nothing was checked or stored). */
      readonly busy?: string;
    };

export interface WitnessOptions {
  /** Fetches a URL (default: fetch, FETCH_TIMEOUT_MS). */
  readonly get?: (url: string) => Promise<{ status: number; text: string }>;
  /** How long to wait for another run's lock on this log (default LOCK_WAIT_MS). */
  readonly lockWaitMs?: number;
  /**
   * Runs once the checkpoint is stored, with the lock still held: the CLI cosigns (and
   * submits) here, so a run that lost the race cosigns nothing.
   */
  readonly stored?: (r: WitnessOk) => Promise<void>;
  /** Where a stale lock taken over is said (default stderr). */
  readonly warn?: (message: string) => void;
}

const originOf = (note: string) => note.slice(0, Math.max(0, note.indexOf('\n')));

/**
 * Writes `text` to `file` atomically: a crash never leaves a half-written state. Through a
 * temporary file of this run's own (two runs sharing one name wrote into each other's), flushed
 * to disk before the rename puts it in place.
 */
const writeAtomically = (file: string, text: string) => {
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
  }
};

/**
 * A witness keeps the operator honest: it fetches a log's checkpoint, checks its signature,
 * checks that it extends the last checkpoint it saw (a consistency proof from the server,
 * verified here), and only then stores it. A log that shows this witness a history that does
 * not extend what it showed before (a receipt dropped, changed or reordered; a tree that
 * shrank) is caught: the witness keeps both checkpoints as evidence and reports a fork.
 * Several witnesses (auditors, the visitors' tools) comparing checkpoints catch a log that
 * shows different histories to different people.
 *
 * `url`: the checkpoint's URL (`…/v1/log/checkpoint?site=…`); its consistency proofs are beside it.
 * `origin`: the log the witness expects (`logOrigin(site)` of the URL's site, or what the
 * operator named): a checkpoint under any other origin is refused, never stored as a new log.
 *
 * One run at a time per log and state directory: a run takes the log's lock (`<log>.lock`,
 * tlog/lock.ts) first, and only under it fetches the checkpoint, reads the stored one, checks
 * the new one against it, stores it and (`stored`) cosigns it. Two overlapping runs shown two
 * different trees used to both check against the same stored checkpoint and both succeed (and
 * both cosign); now the second one checks against what the first stored, and sees the fork.
 * The fetch is under the lock too: a run that fetched before a later run stored a larger tree
 * reported its own, older checkpoint as a shrunk tree (a fork that was not one).
 */
export const witness = async (
  url: string,
  stateDir: string,
  publicKeys: readonly (KeyObject | string)[],
  origin: string,
  opts: WitnessOptions = {},
): Promise<WitnessResult> => {
  const get =
    opts.get ??
    (async (u: string) => {
      const res = await fetch(u, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
      return { status: res.status, text: await res.text() };
    });
  const keys = publicKeys.map((k) => (typeof k === 'string' ? createPublicKey(k) : k));
  const check = (text: string): NoteCheck => {
    let c: NoteCheck = { ok: false, reason: 'no public key given' };
    for (const k of keys) {
      c = verifyCheckpoint(text, origin, k);
      if (c.ok) break;
    }
    return c;
  };
  mkdirSync(stateDir, { recursive: true });
  const base = join(stateDir, createHash('sha256').update(origin).digest('hex').slice(0, 16));
  const file = `${base}.checkpoint`;
  const lock = await takeLock(
    `${base}.lock`,
    opts.lockWaitMs ?? LOCK_WAIT_MS,
    opts.warn ?? ((m) => process.stderr.write(`assent-server: ${m}\n`)),
  );
  if (!lock.ok)
    return {
      ok: false,
      fork: false,
      busy: lock.file,
      reason: `another run is witnessing this log: the lock ${lock.holder} is held; runs of one state directory must not overlap (remove the file if no run is going on)`,
    };
  try {
    const res = await get(url);
    if (res.status !== 200)
      return { ok: false, fork: false, reason: `${url} answered ${res.status}: ${res.text.slice(0, 200)}` };
    const note = res.text;
    const shown = originOf(note);
    if (shown !== origin)
      return {
        ok: false,
        fork: false,
        reason: `the checkpoint is for the log ${JSON.stringify(shown)}, not ${JSON.stringify(origin)}, the log this witness watches at ${url}`,
      };
    const shownNow = check(note);
    if (!shownNow.ok)
      return { ok: false, fork: false, reason: `the checkpoint does not verify: ${shownNow.reason}` };
    const now = shownNow.checkpoint;
    let from: number | null = null;
    if (existsSync(file)) {
      // Read under the lock: what the previous run stored, verified when it was stored.
      const oldNote = readFileSync(file, 'utf8');
      const stored = check(oldNote);
      if (!stored.ok)
        return { ok: false, fork: false, reason: `the stored checkpoint ${file} does not verify` };
      const old = stored.checkpoint;
      from = old.size;
      const forked = (reason: string): WitnessResult => {
        const evidence = `${base}.fork-${Date.now()}`;
        writeFileSync(evidence, `${oldNote}\n----- then -----\n\n${note}`);
        return { ok: false, fork: true, reason, evidence };
      };
      if (now.size < old.size) return forked(`the tree shrank from ${old.size} to ${now.size} leaves`);
      if (now.size === old.size) {
        if (!Buffer.from(now.root).equals(Buffer.from(old.root)))
          return forked(`two different roots for the same tree size ${now.size}`);
      } else {
        const u = new URL(url);
        u.pathname = u.pathname.replace(/checkpoint$/, 'consistency');
        u.searchParams.set('from', String(old.size));
        u.searchParams.set('to', String(now.size));
        const p = await get(u.toString());
        let proof: Uint8Array[] = [];
        try {
          proof = (JSON.parse(p.text) as { proof: string[] }).proof.map(
            (x) => new Uint8Array(Buffer.from(x, 'base64')),
          );
        } catch {
          return {
            ok: false,
            fork: false,
            reason: `${u} answered ${p.status} without a proof: ${p.text.slice(0, 200)}`,
          };
        }
        if (!verifyConsistency(old.size, now.size, proof, old.root, now.root, nodeSha))
          return forked(
            `the checkpoint of size ${now.size} does not extend the one of size ${old.size} this witness stored: the log forked`,
          );
      }
    }
    // A run past STALE_LOCK_MS may have lost its lock to a later run: it then stores nothing.
    if (!lock.held())
      return {
        ok: false,
        fork: false,
        reason: `this run lost its lock ${base}.lock to a later run (it took too long): nothing stored`,
      };
    writeAtomically(file, note);
    const r: WitnessOk = { ok: true, origin, from, size: now.size, note };
    await opts.stored?.(r);
    return r;
  } finally {
    lock.release();
  }
};
