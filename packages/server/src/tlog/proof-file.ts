import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { canonicalReceipt, leafHash, type Receipt, type SignedReceipt, verifyInclusion } from '@assent/core';
import { keyId, verifyHashSignature } from '../signer.js';
import { AT_SLACK, daysOf, daysOfPolicy, expiryFrom, isoOf as iso, SLACK_TEXT } from '../verify.js';
import { commitment } from './commitment.js';
import { entryData } from './entries.js';
import { nodeSha } from './log.js';
import { type Cosigner, logOrigin, signatureLines, verifyCheckpoint, verifyCosignature } from './note.js';

/**
 * The visitor's proof: one JSON file with everything needed to check, offline and without the
 * server, that their receipt is what the server signed and that it is in the site's log:
 *
 * - `receipt`: the signed receipt (its `hash` and Ed25519 `sig`);
 * - `salt`: its leaf's salt, so `leaf data = SHA-256(salt ‖ canonical JSON)` can be recomputed;
 * - `index`, `proof`: its leaf's index and the inclusion proof (base64 hashes, RFC 9162);
 * - `checkpoint`: the signed checkpoint (C2SP) whose tree size and root the proof reaches,
 *   followed by the cosignatures (C2SP tlog-cosignature) the log holds for it;
 * - `policy` (when the log holds the publication: not for one published before the log
 *   began): the policy the receipt names, as the exact JSON whose SHA-256 it names (the
 *   wording the visitor was shown), and its publication entry in the same log with the entry's
 *   index and inclusion proof against the same checkpoint. The entry comes before the receipt's
 *   leaf: the wording was public before the choice was made.
 *
 * Kept by the visitor, it lets an auditor see that the operator committed to this receipt in
 * a log everyone sees the same way (witnesses compare checkpoints): the operator cannot later
 * drop it or show a different history without the checkpoints disagreeing.
 *
 * Time: the file holds the receipt's signed `at` and `expiresAt`, the policy's publication time
 * (its log entry's `at`, signed into the log before the receipt's leaf) and days, and the
 * cosignatures' timestamps; the checkpoint itself (C2SP) carries no time, and the receipts
 * around this one are not in the file.
 */
export interface ProofFile {
  readonly type: 'assent-receipt-proof';
  readonly v: 1;
  readonly receipt: SignedReceipt;
  readonly salt: string;
  readonly index: number;
  readonly proof: readonly string[];
  readonly checkpoint: string;
  readonly policy?: PolicyProof;
}

/** The policy a receipt names, and its publication in the site's log (see ProofFile). */
export interface PolicyProof {
  /** The policy's canonical JSON: its SHA-256 is the receipt's `policy.sha256`. */
  readonly doc: string;
  /** The publication's log entry, `{"at","policy","site","type":"policy"}` (tlog/entries.ts). */
  readonly entry: string;
  readonly index: number;
  readonly proof: readonly string[];
}

export type ProofCheck =
  | {
      readonly ok: true;
      readonly site: string;
      readonly index: number;
      readonly size: number;
      /** The policy's publication in the log, when the file carries it. */
      readonly policy: { readonly sha256: string; readonly index: number; readonly at: string } | null;
      /** The cosignatures of the checkpoint by the witnesses required, with their timestamps (seconds). */
      readonly cosigned: readonly { readonly name: string; readonly time: number }[];
      /**
       * The days of the policy the receipt's `expiresAt` was checked against (its `at` plus
       * them); null when the file carries no policy, so the expiry could not be checked.
       */
      readonly days: number | null;
    }
  | { readonly ok: false; readonly what: string; readonly reason: string };

type Obj = Record<string, unknown>;

/**
 * Checks a visitor's proof file with the log's public key(s), and requires a valid cosignature
 * of its checkpoint by each of `witnesses` (a client that trusts witnesses accepts a proof only
 * against a checkpoint they cosigned). Names the first check that fails: `file`,
 * `receipt-hash`, `receipt-signature`, `checkpoint`, `cosignature`, `inclusion`, `policy`,
 * `time`.
 *
 * `time`, with the slack `verify` allows between clocks ({@link AT_SLACK}): the receipt's `at`
 * is not more than that before its policy's publication (the entry comes before the receipt in
 * the log, so the policy was published first), nor more than that after each required witness's
 * cosignature of the checkpoint (the checkpoint holds the receipt, so the receipt existed when
 * the witness cosigned it; cosignatures of witnesses not required are not verified, so their
 * times count for nothing); its `expiresAt` is its `at` plus the policy's days, exactly.
 */
export const verifyProofFile = (
  file: unknown,
  publicKeys: readonly (KeyObject | string)[],
  witnesses: readonly Cosigner[] = [],
): ProofCheck => {
  const fail = (what: string, reason: string): ProofCheck => ({ ok: false, what, reason });
  const f = file as Obj | null;
  if (typeof f !== 'object' || f === null || f.type !== 'assent-receipt-proof' || f.v !== 1)
    return fail('file', 'not an Assent receipt proof (type "assent-receipt-proof", v 1)');
  const r = f.receipt as Obj | null;
  if (typeof r !== 'object' || r === null || typeof r.hash !== 'string' || typeof r.sig !== 'string')
    return fail('file', 'the receipt, with its hash and sig, is missing');
  if (typeof r.site !== 'string' || typeof r.kid !== 'string')
    return fail('file', 'the receipt has no site or kid');
  if (typeof f.salt !== 'string' || !/^[0-9a-f]{64}$/.test(f.salt))
    return fail('file', 'salt must be 64 hex digits');
  if (!Number.isSafeInteger(f.index) || (f.index as number) < 0)
    return fail('file', 'index must be a whole number');
  if (!Array.isArray(f.proof) || !f.proof.every((p) => typeof p === 'string'))
    return fail('file', 'proof must be a list of base64 hashes');
  if (typeof f.checkpoint !== 'string') return fail('file', 'the checkpoint is missing');
  const keys = new Map<string, KeyObject>();
  for (const k of publicKeys) {
    const key = typeof k === 'string' ? createPublicKey(k) : k;
    keys.set(keyId(key), key);
  }
  const body = canonicalReceipt(r as unknown as Receipt);
  if (createHash('sha256').update(body).digest('hex') !== r.hash)
    return fail('receipt-hash', 'the receipt was altered: its content does not match its hash');
  const key = keys.get(r.kid);
  if (!key)
    return fail('receipt-signature', `signed with key ${r.kid}, which is not among the public keys given`);
  if (!verifyHashSignature(key, r.hash, r.sig))
    return fail('receipt-signature', 'the signature does not verify');
  const origin = logOrigin(r.site);
  let cp: ReturnType<typeof verifyCheckpoint> = { ok: false, reason: 'no key verifies it' };
  for (const k of keys.values()) {
    cp = verifyCheckpoint(f.checkpoint, origin, k);
    if (cp.ok) break;
  }
  if (!cp.ok) return fail('checkpoint', cp.reason);
  const { size, root } = cp.checkpoint;
  const note = f.checkpoint;
  const cosigned: { name: string; time: number }[] = [];
  for (const w of witnesses) {
    const found = signatureLines(note)
      .map((line) => verifyCosignature(note, line, [w]))
      .find((v) => v.ok);
    if (!found?.ok)
      return fail(
        'cosignature',
        `the checkpoint (tree size ${size}) carries no valid cosignature by the witness ${w.name} with the key given (a newer download of the file may be against a checkpoint it cosigned)`,
      );
    cosigned.push({ name: found.name, time: found.time });
  }
  const at = typeof r.at === 'string' ? Date.parse(r.at) : Number.NaN;
  const index = f.index as number;
  if (index >= size)
    return fail('inclusion', `leaf ${index} is not in the checkpoint's tree of size ${size}`);
  const proof = (f.proof as string[]).map((p) => new Uint8Array(Buffer.from(p, 'base64')));
  const leaf = leafHash(Buffer.from(commitment(f.salt, body), 'hex'), nodeSha);
  if (!verifyInclusion(leaf, index, size, proof, root, nodeSha))
    return fail(
      'inclusion',
      `the inclusion proof does not lead from the receipt's leaf ${index} to the checkpoint's root (tree size ${size})`,
    );
  /** The receipt's `at` against the cosignatures' times (seconds). */
  const cosignedTimes = (): ProofCheck | null => {
    if (Number.isNaN(at))
      return fail('time', `the receipt's at ${JSON.stringify(r.at ?? null)} is not a time`);
    for (const c of cosigned)
      if (at > c.time * 1000 + AT_SLACK)
        return fail(
          'time',
          `the receipt's at ${String(r.at)} is later than ${c.name}'s cosignature of the checkpoint (${iso(c.time * 1000)}) by more than ${SLACK_TEXT} (${daysOf(at - c.time * 1000)}), though the checkpoint holds the receipt: the server's clock was ahead when it signed the receipt`,
        );
    return null;
  };
  if (f.policy === undefined)
    return cosignedTimes() ?? { ok: true, site: r.site, index, size, policy: null, cosigned, days: null };
  const p = f.policy as Obj | null;
  const named = (r.policy as Obj | undefined)?.sha256;
  if (
    typeof p !== 'object' ||
    p === null ||
    typeof p.doc !== 'string' ||
    typeof p.entry !== 'string' ||
    !Number.isSafeInteger(p.index) ||
    !Array.isArray(p.proof) ||
    !p.proof.every((h) => typeof h === 'string')
  )
    return fail('file', 'policy must hold doc, entry, index and proof');
  if (createHash('sha256').update(p.doc).digest('hex') !== named)
    return fail('policy', `the policy text is not the one the receipt names (SHA-256 ${named})`);
  let e: Obj;
  try {
    e = JSON.parse(p.entry) as Obj;
  } catch {
    return fail('policy', 'the publication entry is not JSON');
  }
  if (e.type !== 'policy' || e.site !== r.site || e.policy !== named || typeof e.at !== 'string')
    return fail('policy', `the entry is not the publication of policy ${named} on ${r.site}`);
  const publishedAt = Date.parse(e.at);
  if (Number.isNaN(publishedAt))
    return fail('policy', `the publication's at ${JSON.stringify(e.at)} is not a time`);
  const entryIndex = p.index as number;
  if (entryIndex >= index)
    return fail(
      'policy',
      `the publication (leaf ${entryIndex}) does not come before the receipt (leaf ${index})`,
    );
  const entryLeaf = leafHash(Buffer.from(entryData(p.entry), 'hex'), nodeSha);
  const entryProof = (p.proof as string[]).map((h) => new Uint8Array(Buffer.from(h, 'base64')));
  if (!verifyInclusion(entryLeaf, entryIndex, size, entryProof, root, nodeSha))
    return fail(
      'policy',
      `the inclusion proof does not lead from the publication's leaf ${entryIndex} to the checkpoint's root (tree size ${size})`,
    );
  let days: number | undefined;
  try {
    days = daysOfPolicy(JSON.parse(p.doc));
  } catch {}
  if (days === undefined) return fail('policy', 'the policy text gives no days (a whole number)');
  const times = cosignedTimes();
  if (times) return times;
  if (publishedAt > at + AT_SLACK)
    return fail(
      'time',
      `the receipt's at ${String(r.at)} is ${daysOf(publishedAt - at)} before the publication of the policy it names (${e.at}, leaf ${entryIndex}), which comes before it in the log (more than the ${SLACK_TEXT} clocks may differ by): the server's clock was wrong when it signed the receipt`,
    );
  const want = expiryFrom(at, days);
  if (typeof r.expiresAt !== 'string' || Date.parse(r.expiresAt) !== want)
    return fail(
      'time',
      `its expiresAt ${String(r.expiresAt ?? null)} is not its at ${String(r.at)} plus the ${days} days of the policy it names (${iso(want)})`,
    );
  return {
    ok: true,
    site: r.site,
    index,
    size,
    policy: { sha256: named, index: entryIndex, at: e.at },
    cosigned,
    days,
  };
};
