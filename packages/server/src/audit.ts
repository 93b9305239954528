import { createHash, createPublicKey, type KeyObject, sign } from 'node:crypto';
import { GENESIS, stableStringify } from '@assent/core';
import type { Signer } from './signer.js';
import { keyId, verifyHashSignature } from './signer.js';
import { type AuditAction, type AuditRow, AuditTaken } from './store/admin-store.js';

export type { AuditAction };

import type { Store } from './store/types.js';

/** Small facts about an action: never a password, a token or a visitor's consent ID. */
export type AuditDetail = Readonly<Record<string, string | number | boolean | null>>;

/**
 * One entry, as exported and verified. Hash-chained like the receipts: `hash` is the SHA-256
 * of the canonical JSON of every other field (keys sorted), `prev` the hash of the entry
 * before (`seq` − 1; 64 zeros for the first), `sig` Ed25519 over the 32 hash bytes by the
 * server's receipt signing key (`kid`), so `assent-server audit-verify` checks it offline
 * with the same public key as an export of receipts.
 */
export interface AuditEntry {
  readonly v: 1;
  readonly seq: number;
  readonly at: string;
  /**
   * Who: a user's email, `admin token`, `cli`, or (sign-in-failed) the email of the user that
   * was tried, `(unknown email)` when no user has what was typed (never the text itself).
   */
  readonly actor: string;
  /** The actor's role then; null when there is none (a failed sign-in). */
  readonly role: string | null;
  readonly action: AuditAction;
  /** What it was done to: a user's email, a site, … */
  readonly target: string | null;
  readonly detail: AuditDetail;
  readonly prev: string;
  readonly kid: string;
  readonly hash: string;
  readonly sig: string;
}

export type AuditInput = Pick<AuditEntry, 'actor' | 'role' | 'action' | 'target' | 'detail'>;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** The JSON an entry's hash covers: every field but `hash` and `sig`, keys sorted. */
export const canonicalAudit = (e: Omit<AuditEntry, 'hash' | 'sig'>): string =>
  stableStringify({
    v: e.v,
    seq: e.seq,
    at: e.at,
    actor: e.actor,
    role: e.role,
    action: e.action,
    target: e.target,
    detail: e.detail,
    prev: e.prev,
    kid: e.kid,
  });

export const entryOf = (r: AuditRow): AuditEntry => ({
  v: 1,
  seq: Number(r.seq),
  at: r.at,
  actor: r.actor,
  role: r.role,
  action: r.action as AuditAction,
  target: r.target,
  detail: JSON.parse(r.detail) as AuditDetail,
  prev: r.prev,
  kid: r.kid,
  hash: r.hash,
  sig: r.sig,
});

/**
 * The append-only audit log. Appends in one process are queued one after another; across
 * processes (several servers on one PostgreSQL) the primary key on `seq` lets only one
 * writer take each place, and the other reads the new head and tries again: the chain can
 * never fork. There is no update or delete of an entry anywhere in the code.
 */
export class AuditLog {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly signer: Pick<Signer, 'kid' | 'key' | 'sign'>,
  ) {}

  /**
   * Appends an entry. `commit` stores it instead of the plain insert: in the transaction of the
   * act it records (Write's `audit`, Store.erase), so the two happen together or not at all. It
   * throws AuditTaken when another writer took the entry's place (the entry is built again on
   * the new head); anything else it throws fails the append, and the act with it.
   */
  append(
    input: AuditInput,
    now = new Date(),
    commit?: (row: AuditRow) => Promise<void>,
  ): Promise<AuditEntry> {
    const run = this.queue.then(() => this.appendNow(input, now.toISOString(), commit));
    this.queue = run.catch(() => {});
    return run;
  }

  private async appendNow(
    input: AuditInput,
    at: string,
    commit = async (row: AuditRow) => {
      if (!(await this.store.admin.addAudit(row))) throw new AuditTaken();
    },
  ): Promise<AuditEntry> {
    for (let attempt = 0; attempt < 200; attempt++) {
      // Another writer took the place: let it finish before reading the head again.
      if (attempt) await new Promise((r) => setTimeout(r, Math.random() * 5 * Math.min(attempt, 10)));
      const head = await this.store.admin.auditHead();
      const body = {
        v: 1 as const,
        seq: (head?.seq ?? 0) + 1,
        at,
        actor: input.actor.slice(0, 254),
        role: input.role,
        action: input.action,
        target: input.target,
        detail: input.detail,
        prev: head?.hash ?? GENESIS,
        kid: this.signer.kid,
      };
      const hash = sha256(canonicalAudit(body));
      const sig = this.signer.key
        ? sign(null, Buffer.from(hash, 'hex'), this.signer.key).toString('base64url')
        : (await this.signer.sign([hash]))[0]!;
      const entry: AuditEntry = { ...body, hash, sig };
      const { v: _v, ...row } = entry;
      try {
        await commit({ ...row, detail: JSON.stringify(entry.detail) });
        return entry;
      } catch (e) {
        if (!(e instanceof AuditTaken)) throw e;
      }
    }
    throw new Error('the audit log could not be appended to: its head kept moving');
  }
}

export type AuditVerifyResult =
  | { readonly ok: true; readonly entries: number; readonly head: string }
  | { readonly ok: false; readonly seq: number | null; readonly line: number; readonly reason: string };

/**
 * Verifies the audit log (NDJSON lines or entries, in `seq` order from 1): each entry's hash
 * is the SHA-256 of its canonical JSON, its signature verifies under the key its `kid`
 * names, its `seq` follows and its `prev` is the previous entry's hash. Stops at the first
 * broken link.
 */
export const verifyAudit = async (
  lines: AsyncIterable<string | AuditEntry> | Iterable<string | AuditEntry>,
  publicKeys: readonly (KeyObject | string)[],
): Promise<AuditVerifyResult> => {
  const keys = new Map<string, KeyObject>();
  for (const k of publicKeys) {
    const key = typeof k === 'string' ? createPublicKey(k) : k;
    keys.set(keyId(key), key);
  }
  let prev = GENESIS;
  let seq = 0;
  let line = 0;
  for await (const raw of lines) {
    line++;
    if (typeof raw === 'string' && !raw.trim()) continue;
    let e: AuditEntry;
    try {
      e = typeof raw === 'string' ? (JSON.parse(raw) as AuditEntry) : raw;
    } catch {
      return { ok: false, seq: null, line, reason: 'not JSON' };
    }
    if (typeof e !== 'object' || e === null || Array.isArray(e))
      return { ok: false, seq: null, line, reason: 'not a JSON object (an audit entry)' };
    const fail = (reason: string) => ({
      ok: false as const,
      seq: typeof e.seq === 'number' ? e.seq : null,
      line,
      reason,
    });
    if (e.seq !== seq + 1)
      return fail(`seq ${e.seq} where ${seq + 1} was due (an entry is missing or out of order)`);
    if (e.prev !== prev) return fail('prev is not the hash of the entry before: the chain is broken');
    const { hash, sig, ...body } = e;
    if (sha256(canonicalAudit(body)) !== hash)
      return fail('its hash does not match its content: it was altered');
    const key = keys.get(e.kid);
    if (!key) return fail(`signed by key ${e.kid}, which is not among the public keys given`);
    if (!verifyHashSignature(key, hash, sig)) return fail('its signature does not verify');
    prev = hash;
    seq = e.seq;
  }
  return { ok: true, entries: seq, head: prev };
};
