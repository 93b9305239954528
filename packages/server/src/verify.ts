import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import {
  canonicalPolicy,
  canonicalReceipt,
  GENESIS,
  isSha256,
  type PolicyDoc,
  type Receipt,
} from '@assent/core';
import { PURGED_FIELDS } from './export.js';
import { keyId, verifyHashSignature } from './signer.js';

export type VerifyResult =
  | {
      readonly ok: true;
      readonly receipts: number;
      readonly purged: number;
      readonly sites: number;
      /** Policies the export carries, each checked against its SHA-256. */
      readonly policies: number;
      /** Receipts of schema v1, which name no published policy (recorded before the registry). */
      readonly legacy: number;
      /** Sites whose export starts mid-chain (a date-filtered export): their first `prev` is taken on trust. */
      readonly partial: readonly string[];
    }
  | {
      readonly ok: false;
      /** 1-based line of the first broken link. */
      readonly line: number;
      readonly id: string | null;
      readonly site: string | null;
      readonly seq: number | null;
      readonly reason: string;
    };

/** A line of the NDJSON export, parsed. */
export type Line = Record<string, unknown>;

const DAY = 86_400_000;

/**
 * How far apart two times the server's clocks gave may lie out of the order the chain (or the
 * log) puts them in, before a check calls it a clock that was wrong: one definition for
 * `verify`, `verify-db` (store-check.ts, a purged receipt's unsigned `at` too) and
 * `verify-receipt` (tlog/proof-file.ts). Receipts are chained in the order they are committed,
 * and each takes its `at` a little before (its request's, then the wait for the chain's lock,
 * and a batch's receipts share or nearly share it); several processes on one PostgreSQL each
 * read their own clock; a witness's cosignature is stamped by the witness's clock. A day is far
 * more than any of these, and far less than a clock set back by a month. A clock wrong by
 * less than this is not seen (README "Verifying an export").
 */
export const AT_SLACK = DAY;

/** A span of time in messages: days with one decimal (every gap reported is over `AT_SLACK`). */
export const daysOf = (ms: number): string => `${(ms / DAY).toFixed(1)} days`;

/** `AT_SLACK` in messages. */
export const SLACK_TEXT = AT_SLACK === DAY ? 'a day' : daysOf(AT_SLACK);

/** A time in ms as ISO 8601, or the number when no date can hold it. */
export const isoOf = (ms: number): string => {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
};

/**
 * When a receipt made at `at` (ms) under a policy of `days` expires, as the server writes it
 * (policies.ts `expiryOf`: the policy's days from the receipt's own `at`, one reading of the
 * clock, withdrawals included: routes/consents.ts records them under the site's current policy).
 */
export const expiryFrom = (at: number, days: number): number => at + days * DAY;

/** A published policy's SHA-256 (of core's canonical JSON), as `verify` and `verify-db` check it. */
export const policySha256 = (doc: PolicyDoc): string =>
  createHash('sha256').update(canonicalPolicy(doc)).digest('hex');

/** A policy's `days`, when its document gives a whole number of them (every published one does). */
export const daysOfPolicy = (doc: unknown): number | undefined => {
  const days = (doc as { config?: { days?: unknown } } | null)?.config?.days;
  return Number.isSafeInteger(days) && (days as number) > 0 ? (days as number) : undefined;
};

/**
 * The policies a receipt may name, as the caller holds them: `has` whether a policy is given
 * (checked against its SHA-256), `days` its `days` when known (undefined: not known, e.g. its
 * text was altered, which the caller reports itself; the expiry is then not checked).
 */
export interface KnownPolicies {
  has(sha256: string): boolean;
  days?(sha256: string): number | undefined;
}

/**
 * What a purged receipt keeps, exactly as `export` writes it (export.ts `ndjsonLine`): its
 * place in the chain and its signature, nothing else. A purged line carries no payload to
 * hash, so any other field on it would be unverified content: it is refused.
 */
const PURGED = new Set<string>(PURGED_FIELDS);

/** The outcome of checking one receipt: what failed, and why. */
export type ReceiptCheck =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly reason: string;
      /**
       * What failed: the line's shape (fields missing, a purged line holding more than purging
       * keeps), its content (the hash), the policy it names, its key or signature, its place
       * in its site's chain, or its times (`at` against the receipt before it, `expiresAt`
       * against `at` and its policy's days). After `policy`, `chain` or `time`, the content is
       * the one that was signed; after `shape`, `hash` or `signature`, it is not known to be.
       */
      readonly stage: 'shape' | 'hash' | 'policy' | 'signature' | 'chain' | 'time';
    };

/**
 * The checks of one receipt line, shared by `verify` (an NDJSON export, this file) and
 * `verify-db` (the database itself, store-check.ts), so the two cannot drift: the hash must be
 * the SHA-256 of the receipt's canonical JSON, the Ed25519 signature must verify with the key
 * its `kid` names, and within each site `seq` must follow and `prev` must be the hash of the
 * receipt before it. Purged receipts have no payload to hash: their line must hold exactly what
 * purging keeps, and their signed hash still links the chain. Lines come in chain order per
 * site, as `export` writes them.
 *
 * Time: a receipt's `at` is signed, and the chain orders receipts as they were committed, so a
 * receipt whose `at` is earlier than that of the last receipt before it with a signed `at` (a
 * purged receipt's is no longer signed) by more than {@link AT_SLACK} was signed by a clock
 * that was wrong (set back; or the earlier one's, set forward). And a receipt of schema 2 or
 * later expires its policy's `days` after its `at`, exactly, as the server writes it (v1
 * receipts, before the policy registry, carried the banner's expiry: not checked).
 */
export class ChainVerifier {
  private readonly keys = new Map<string, KeyObject>();
  /** Each site's last receipt checked: its `seq` and `hash`. */
  readonly heads = new Map<string, { seq: number; hash: string }>();
  /** Sites whose first receipt checked is not their chain's first (a date-filtered export). */
  readonly partial: string[] = [];
  /** Each site's last receipt whose `at` is signed (not purged): its `at` in ms, as written, and its `seq`. */
  private readonly signedAt = new Map<string, { ms: number; at: string; seq: number }>();
  /** Receipts that passed, of which purged and of schema v1. */
  receipts = 0;
  purged = 0;
  legacy = 0;

  constructor(
    publicKeys: readonly (KeyObject | string)[],
    /** What holds the policies, in messages: "the export", "the database". */
    private readonly carrier = 'the export',
  ) {
    for (const k of publicKeys) {
      const key = typeof k === 'string' ? createPublicKey(k) : k;
      this.keys.set(keyId(key), key);
    }
  }

  /** The public key of `kid`, if given. */
  key(kid: string): KeyObject | undefined {
    return this.keys.get(kid);
  }

  /**
   * Checks one receipt line (parsed) after the ones before it. `policies`: the policies given
   * so far, each already checked against its text. The site's head moves to this receipt
   * whenever it has a site, a seq and a hash, even when a check failed (so a caller that goes on
   * after a failure checks the next link against this one); so does the site's last signed
   * `at` once the receipt's signature verifies (its `at` is then the server's, right or wrong).
   */
  check(r: Line, policies: KnownPolicies): ReceiptCheck {
    const { site, seq, prev, hash, sig, kid } = r;
    if (
      typeof site !== 'string' ||
      typeof seq !== 'number' ||
      typeof prev !== 'string' ||
      typeof hash !== 'string' ||
      typeof sig !== 'string' ||
      typeof kid !== 'string'
    )
      return { ok: false, stage: 'shape', reason: 'missing site, seq, prev, hash, sig or kid' };
    const head = this.heads.get(site);
    this.heads.set(site, { seq, hash });
    const purged = 'purged' in r;
    if (purged) {
      if (r.purged !== true)
        return { ok: false, stage: 'shape', reason: `purged must be true, got ${JSON.stringify(r.purged)}` };
      // Nothing is hashed on a purged line: it must hold what purging keeps and nothing more.
      const extra = Object.keys(r).find((k) => !PURGED.has(k));
      if (extra !== undefined)
        return {
          ok: false,
          stage: 'shape',
          reason: `a purged receipt keeps only ${PURGED_FIELDS.join(', ')}; this one has ${extra}`,
        };
      if (r.v !== 1 || typeof r.id !== 'string' || typeof r.at !== 'string')
        return { ok: false, stage: 'shape', reason: 'a purged receipt needs v 1, id and at' };
    } else {
      const actual = createHash('sha256')
        .update(canonicalReceipt(r as unknown as Receipt))
        .digest('hex');
      if (actual !== hash)
        return {
          ok: false,
          stage: 'hash',
          reason: 'the receipt was altered: its content does not match its hash',
        };
      const named = (r.policy as { sha256?: unknown } | undefined)?.sha256;
      if (r.v !== 1 && (typeof named !== 'string' || !policies.has(named)))
        return {
          ok: false,
          stage: 'policy',
          reason: `the receipt names policy ${String(named)}, which ${this.carrier} does not carry`,
        };
    }
    const key = this.keys.get(kid);
    if (!key)
      return {
        ok: false,
        stage: 'signature',
        reason: `signed with key ${kid}, which is not among the public keys given`,
      };
    if (!verifyHashSignature(key, hash, sig))
      return { ok: false, stage: 'signature', reason: 'the signature does not verify' };
    // The content is the one signed from here on: its `at` is the one to compare the next with.
    const before = this.signedAt.get(site);
    const at = purged ? Number.NaN : typeof r.at === 'string' ? Date.parse(r.at) : Number.NaN;
    if (!purged && !Number.isNaN(at)) this.signedAt.set(site, { ms: at, at: r.at as string, seq });
    if (head) {
      if (seq !== head.seq + 1)
        return {
          ok: false,
          stage: 'chain',
          reason: `expected seq ${head.seq + 1} of ${site}, found ${seq}: receipts are missing or out of order`,
        };
      if (prev !== head.hash)
        return {
          ok: false,
          stage: 'chain',
          reason: `prev does not match the hash of ${site} seq ${head.seq}`,
        };
    } else if (seq === 1) {
      if (prev !== GENESIS)
        return {
          ok: false,
          stage: 'chain',
          reason: 'the first receipt of a site must have the genesis prev',
        };
    } else this.partial.push(site);
    if (!purged) {
      const time = this.time(r, at, before, policies);
      if (time) return { ok: false, stage: 'time', reason: time };
    }
    this.receipts++;
    if (purged) this.purged++;
    else if (r.v === 1) this.legacy++;
    return { ok: true };
  }

  /** What is wrong with a signed receipt's times (see the class), or null. */
  private time(
    r: Line,
    at: number,
    before: { ms: number; at: string; seq: number } | undefined,
    policies: KnownPolicies,
  ): string | null {
    if (Number.isNaN(at)) return `its at ${JSON.stringify(r.at ?? null)} is not a time`;
    if (before && at < before.ms - AT_SLACK)
      return `its at ${String(r.at)} is ${daysOf(before.ms - at)} earlier than the at ${before.at} of seq ${before.seq}, before it in the chain of ${String(r.site)} (more than the ${SLACK_TEXT} clocks may differ by): the server's clock was wrong when one of them was signed (set back, or set forward before)`;
    if (r.v === 1) return null;
    const named = (r.policy as { sha256?: unknown } | undefined)?.sha256;
    const days = typeof named === 'string' ? policies.days?.(named) : undefined;
    if (days === undefined) return null;
    const want = expiryFrom(at, days);
    if (typeof r.expiresAt !== 'string' || Date.parse(r.expiresAt) !== want)
      return `its expiresAt ${String(r.expiresAt ?? null)} is not its at ${String(r.at)} plus the ${days} days of the policy it names (${isoOf(want)})`;
    return null;
  }
}

/**
 * Verifies an NDJSON export offline, line by line, and stops at the first broken link (see
 * {@link ChainVerifier} for what each receipt must satisfy).
 *
 * The policies come first (`{"type":"policy","sha256":…,"doc":…}`): each must hash to its
 * SHA-256, and every receipt must name one of them: the proof of what each visitor was shown
 * travels with the export and is checked with it.
 */
export const verifyExport = async (
  lines: AsyncIterable<string> | Iterable<string>,
  publicKeys: readonly (KeyObject | string)[],
): Promise<VerifyResult> => {
  const chain = new ChainVerifier(publicKeys);
  let n = 0;
  // SHA-256 → the policy's days.
  const days = new Map<string, number>();
  const policies: KnownPolicies = { has: (sha) => days.has(sha), days: (sha) => days.get(sha) };
  for await (const text of lines) {
    n++;
    if (!text.trim()) continue;
    let r: Line;
    const fail = (reason: string): VerifyResult => ({
      ok: false,
      line: n,
      id: typeof r?.id === 'string' ? r.id : null,
      site: typeof r?.site === 'string' ? r.site : null,
      seq: typeof r?.seq === 'number' ? r.seq : null,
      reason,
    });
    try {
      r = JSON.parse(text) as Line;
    } catch {
      r = {};
      return fail('not valid JSON');
    }
    if (typeof r !== 'object' || r === null || Array.isArray(r)) {
      r = {};
      return fail('not a JSON object (a receipt or a policy)');
    }
    if (r.type === 'policy') {
      const { sha256, doc } = r;
      if (!isSha256(sha256) || typeof doc !== 'object' || doc === null)
        return fail('a policy line needs sha256 (64 hex digits) and doc');
      if (policySha256(doc as PolicyDoc) !== sha256)
        return fail(`policy ${sha256} was altered: its text does not match its SHA-256`);
      const d = daysOfPolicy(doc);
      // Every policy the server publishes has them (core's config defaults them).
      if (d === undefined)
        return fail(
          `policy ${sha256} gives no days (a whole number): the expiry of the receipts naming it cannot be checked`,
        );
      days.set(sha256, d);
      continue;
    }
    const check = chain.check(r, policies);
    if (!check.ok) return fail(check.reason);
  }
  return {
    ok: true,
    receipts: chain.receipts,
    purged: chain.purged,
    sites: chain.heads.size,
    partial: chain.partial,
    policies: days.size,
    legacy: chain.legacy,
  };
};
