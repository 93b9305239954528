import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { canonicalReceipt, GENESIS, isSha256, type Receipt, stableStringify } from '@assent/core';
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
       * keeps), its content (the hash), the policy it names, its key or signature, or its place
       * in its site's chain. After `policy` or `chain`, the content is the one that was signed;
       * after `shape`, `hash` or `signature`, it is not known to be.
       */
      readonly stage: 'shape' | 'hash' | 'policy' | 'signature' | 'chain';
    };

/**
 * The checks of one receipt line, shared by `verify` (an NDJSON export, this file) and
 * `verify-db` (the database itself, store-check.ts), so the two cannot drift: the hash must be
 * the SHA-256 of the receipt's canonical JSON, the Ed25519 signature must verify with the key
 * its `kid` names, and within each site `seq` must follow and `prev` must be the hash of the
 * receipt before it. Purged receipts have no payload to hash: their line must hold exactly what
 * purging keeps, and their signed hash still links the chain. Lines come in chain order per
 * site, as `export` writes them.
 */
export class ChainVerifier {
  private readonly keys = new Map<string, KeyObject>();
  /** Each site's last receipt checked: its `seq` and `hash`. */
  readonly heads = new Map<string, { seq: number; hash: string }>();
  /** Sites whose first receipt checked is not their chain's first (a date-filtered export). */
  readonly partial: string[] = [];
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
   * Checks one receipt line (parsed) after the ones before it. `policies`: the SHA-256s of the
   * policies given so far, each already checked against its text. The site's head moves to
   * this receipt whenever it has a site, a seq and a hash, even when a check failed (so a
   * caller that goes on after a failure checks the next link against this one).
   */
  check(r: Line, policies: { has(sha256: string): boolean }): ReceiptCheck {
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
    this.receipts++;
    if (purged) this.purged++;
    else if (r.v === 1) this.legacy++;
    return { ok: true };
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
  const policies = new Set<string>();
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
      const actual = createHash('sha256').update(stableStringify(doc)).digest('hex');
      if (actual !== sha256) return fail(`policy ${sha256} was altered: its text does not match its SHA-256`);
      policies.add(sha256);
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
    policies: policies.size,
    legacy: chain.legacy,
  };
};
