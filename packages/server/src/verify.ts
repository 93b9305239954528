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

type Line = Record<string, unknown>;

/**
 * What a purged receipt keeps, exactly as `export` writes it (export.ts `ndjsonLine`): its
 * place in the chain and its signature, nothing else. A purged line carries no payload to
 * hash, so any other field on it would be unverified content: it is refused.
 */
const PURGED = new Set<string>(PURGED_FIELDS);

/**
 * Verifies an NDJSON export offline, line by line, and stops at the first broken link:
 * each receipt's hash must be the SHA-256 of its canonical JSON, its Ed25519 signature must
 * verify, and within each site its `seq` must follow and its `prev` must be the hash of the
 * receipt before it. Purged receipts have no payload to hash, but their signed hash still
 * links the chain. Lines must be in chain order per site, as `export` writes them.
 *
 * The policies come first (`{"type":"policy","sha256":…,"doc":…}`): each must hash to its
 * SHA-256, and every receipt must name one of them: the proof of what each visitor was shown
 * travels with the export and is checked with it.
 */
export const verifyExport = async (
  lines: AsyncIterable<string> | Iterable<string>,
  publicKeys: readonly (KeyObject | string)[],
): Promise<VerifyResult> => {
  const keys = new Map<string, KeyObject>();
  for (const k of publicKeys) {
    const key = typeof k === 'string' ? createPublicKey(k) : k;
    keys.set(keyId(key), key);
  }
  const heads = new Map<string, { seq: number; hash: string }>();
  const partial: string[] = [];
  let n = 0;
  let receipts = 0;
  let purged = 0;
  let legacy = 0;
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
    const { site, seq, prev, hash, sig, kid } = r;
    if (
      typeof site !== 'string' ||
      typeof seq !== 'number' ||
      typeof prev !== 'string' ||
      typeof hash !== 'string' ||
      typeof sig !== 'string' ||
      typeof kid !== 'string'
    )
      return fail('missing site, seq, prev, hash, sig or kid');
    if ('purged' in r) {
      if (r.purged !== true) return fail(`purged must be true, got ${JSON.stringify(r.purged)}`);
      // Nothing is hashed on a purged line: it must hold what purging keeps and nothing more.
      const extra = Object.keys(r).find((k) => !PURGED.has(k));
      if (extra !== undefined)
        return fail(`a purged receipt keeps only ${PURGED_FIELDS.join(', ')}; this one has ${extra}`);
      if (r.v !== 1 || typeof r.id !== 'string' || typeof r.at !== 'string')
        return fail('a purged receipt needs v 1, id and at');
      purged++;
    } else {
      const actual = createHash('sha256')
        .update(canonicalReceipt(r as unknown as Receipt))
        .digest('hex');
      if (actual !== hash) return fail('the receipt was altered: its content does not match its hash');
      const named = (r.policy as { sha256?: unknown } | undefined)?.sha256;
      if (r.v === 1) legacy++;
      else if (typeof named !== 'string' || !policies.has(named))
        return fail(`the receipt names policy ${String(named)}, which the export does not carry`);
    }
    const key = keys.get(kid);
    if (!key) return fail(`signed with key ${kid}, which is not among the public keys given`);
    if (!verifyHashSignature(key, hash, sig)) return fail('the signature does not verify');
    const head = heads.get(site);
    if (head) {
      if (seq !== head.seq + 1)
        return fail(
          `expected seq ${head.seq + 1} of ${site}, found ${seq}: receipts are missing or out of order`,
        );
      if (prev !== head.hash) return fail(`prev does not match the hash of ${site} seq ${head.seq}`);
    } else if (seq === 1) {
      if (prev !== GENESIS) return fail('the first receipt of a site must have the genesis prev');
    } else partial.push(site);
    heads.set(site, { seq, hash });
    receipts++;
  }
  return { ok: true, receipts, purged, sites: heads.size, partial, policies: policies.size, legacy };
};
