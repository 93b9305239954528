import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyConsistency } from '@assent/core';
import { nodeSha } from './log.js';
import { type Checkpoint, verifyCheckpoint } from './note.js';

/**
 * A witness keeps the operator honest: it fetches a log's checkpoint, checks its signature,
 * checks that it extends the last checkpoint it saw (a consistency proof from the server,
 * verified here), and only then stores it. A log that shows this witness a history that does
 * not extend what it showed before (a receipt dropped, changed or reordered; a tree that
 * shrank) is caught: the witness keeps both checkpoints as evidence and reports a fork.
 * Several witnesses (auditors, the visitors' tools) comparing checkpoints catch a log that
 * shows different histories to different people.
 */
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
  });
  return { ok: res.status === 201, status: res.status, text: await res.text() };
};

export type WitnessResult =
  | {
      readonly ok: true;
      readonly origin: string;
      readonly from: number | null;
      readonly size: number;
      /** The checkpoint as verified and stored (the log's own signature lines only). */
      readonly note: string;
    }
  | { readonly ok: false; readonly fork: boolean; readonly reason: string; readonly evidence?: string };

const originOf = (note: string) => note.slice(0, Math.max(0, note.indexOf('\n')));

/**
 * `url`: the checkpoint's URL (`…/v1/log/checkpoint?site=…`); its consistency proofs are beside it.
 * `origin`: the log the witness expects (`logOrigin(site)` of the URL's site, or what the
 * operator named): a checkpoint under any other origin is refused, never stored as a new log.
 */
export const witness = async (
  url: string,
  stateDir: string,
  publicKeys: readonly (KeyObject | string)[],
  origin: string,
  get: (url: string) => Promise<{ status: number; text: string }> = async (u) => {
    const res = await fetch(u);
    return { status: res.status, text: await res.text() };
  },
): Promise<WitnessResult> => {
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
  let check: ReturnType<typeof verifyCheckpoint> = { ok: false, reason: 'no public key given' };
  for (const k of publicKeys) {
    check = verifyCheckpoint(note, origin, typeof k === 'string' ? createPublicKey(k) : k);
    if (check.ok) break;
  }
  if (!check.ok) return { ok: false, fork: false, reason: `the checkpoint does not verify: ${check.reason}` };
  const now = check.checkpoint;
  mkdirSync(stateDir, { recursive: true });
  const file = join(stateDir, `${createHash('sha256').update(origin).digest('hex').slice(0, 16)}.checkpoint`);
  let from: number | null = null;
  if (existsSync(file)) {
    const oldNote = readFileSync(file, 'utf8');
    // What was stored was verified when it was stored; parsed again with the same keys.
    let old: Checkpoint | null = null;
    for (const k of publicKeys) {
      const c = verifyCheckpoint(oldNote, origin, typeof k === 'string' ? createPublicKey(k) : k);
      if (c.ok) old = c.checkpoint;
    }
    if (!old) return { ok: false, fork: false, reason: `the stored checkpoint ${file} does not verify` };
    from = old.size;
    const forked = (reason: string): WitnessResult => {
      const evidence = join(
        stateDir,
        `${createHash('sha256').update(origin).digest('hex').slice(0, 16)}.fork-${Date.now()}`,
      );
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
  // Atomically: a crash never leaves a half-written state.
  writeFileSync(`${file}.tmp`, note);
  renameSync(`${file}.tmp`, file);
  return { ok: true, origin, from, size: now.size, note };
};
