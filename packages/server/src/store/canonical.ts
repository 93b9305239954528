import { type Receipt, stableStringify } from '@assent/core';

/**
 * A receipt's canonical JSON (core's `canonicalReceipt`: keys sorted at every level, no
 * `hash`/`sig`), written field by field instead of sorting keys at run time, and split around
 * the two values only the writer knows: `body = head + prev + middle + seq + tail`.
 *
 * Why: the request thread prepares everything of a receipt except its place in the chain, and
 * the writer thread (store/sqlite-writer.mjs) only has to concatenate, hash and sign. The keys
 * below are core's sorted order; `test/canonical.test.ts` checks the result equals
 * `canonicalReceipt` for arbitrary receipts, and the compile-time check under `KEYS` fails the
 * build if `Receipt` gains a field this function does not write.
 */
export interface BodyParts {
  /** Everything up to and including `"prev":"`. */
  readonly head: string;
  /** From the closing quote of `prev` up to and including `"seq":`. */
  readonly middle: string;
  /** From the `,` after `seq` to the end. */
  readonly tail: string;
}

const KEYS = [
  'at',
  'choices',
  'consentId',
  'expiresAt',
  'id',
  'ipHash',
  'kid',
  'lang',
  'method',
  'mode',
  'page',
  'policy',
  'prev',
  'region',
  'seq',
  'signals',
  'site',
  'source',
  'ua',
  'v',
] as const satisfies readonly (keyof Receipt)[];
type Missing = Exclude<keyof Receipt, (typeof KEYS)[number]>;
// Fails to compile when Receipt has a key KEYS (and so the serializer below) lacks.
const complete: Missing extends never ? true : Missing = true;
void complete;

const j = JSON.stringify;

export const bodyParts = (r: Omit<Receipt, 'seq' | 'prev'>): BodyParts => ({
  head:
    `{"at":${j(r.at)},"choices":${stableStringify(r.choices)},"consentId":${j(r.consentId)}` +
    `,"expiresAt":${j(r.expiresAt)},"id":${j(r.id)},"ipHash":${j(r.ipHash)},"kid":${j(r.kid)}` +
    `,"lang":${j(r.lang)},"method":${j(r.method)},"mode":${j(r.mode)}` +
    `,"page":{"origin":${j(r.page.origin)},"path":${j(r.page.path)}}` +
    `,"policy":{"sha256":${j(r.policy.sha256)},"version":${j(r.policy.version)}},"prev":"`,
  middle: `","region":${j(r.region)},"seq":`,
  tail:
    `,"signals":{"gpc":${j(r.signals.gpc)}},"site":${j(r.site)},"source":${j(r.source)}` +
    `,"ua":${j(r.ua)},"v":${j(r.v)}}`,
});

/** The whole canonical JSON from its parts (`prev` is hex: nothing to escape). */
export const joinBody = (p: BodyParts, prev: string, seq: number): string =>
  `${p.head}${prev}${p.middle}${seq}${p.tail}`;
