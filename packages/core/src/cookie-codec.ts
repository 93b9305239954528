import { type ConsentId, METHODS, type StoredConsent } from './consent.js';

/**
 * The consent cookie, version 2: `2|id|hash|bits|given|expires|method[g]`.
 * Numbers are base 36, times in seconds; `g` marks a Global Privacy Control signal.
 * About 50 bytes: compact, first-party, readable in devtools. The policy version is not
 * stored on its own: it is part of the fingerprint (`hash`, see createPolicy), so a new
 * version changes the hash. Version 1 (which also held the version) reads as "no consent".
 */
const VERSION = '2';
const M = 'arcgwn'; // one letter per method, in METHODS order

const b36 = (n: number) => n.toString(36);
const seconds = (ms: number) => b36(Math.floor(ms / 1000));

export const encodeConsent = (c: StoredConsent): string =>
  [
    VERSION,
    c.id,
    c.hash,
    b36(c.bits),
    seconds(c.givenAt),
    seconds(c.expiresAt),
    // (The lite build has no GPC.)
    globalThis.ASSENT_LITE
      ? M[METHODS.indexOf(c.method)]!
      : M[METHODS.indexOf(c.method)]! + (c.gpc ? 'g' : ''),
  ].join('|');

/**
 * The whole cookie at once: version, id, hash and bits (base 36), given and expires (seconds,
 * base 36, at most 8 digits: year 90,000, and exact as milliseconds), method.
 */
// A literal (VERSION is its first character): the bytes of a RegExp built from a string are
// what the banner ships.
const COOKIE =
  /^2\|([\w-]{22})\|([a-z0-9]{1,11})\|([a-z0-9]{1,11})\|([a-z0-9]{1,8})\|([a-z0-9]{1,8})\|([a-z])(g?)$/;

/**
 * Decodes a cookie value. Garbage — truncated, tampered, an older or newer version, an
 * impossible date — yields `null` ("no consent"), never an exception: a broken cookie must
 * not break the page, and must not be read as consent.
 */
export const decodeConsent = (raw: string | null | undefined): StoredConsent | null => {
  // Anchored and bounded: a long or odd value fails at once. (`exec` reads null and undefined
  // as the strings "null" and "undefined": no match.)
  const m = COOKIE.exec(raw as string);
  if (!m) return null;
  const [, id, hash, bits, given, expires, letter, g] = m as unknown as string[];
  const method = METHODS[M.indexOf(letter!)];
  const [b, givenAt, expiresAt] = [bits, given, expires].map((x, i) => parseInt(x!, 36) * (i ? 1000 : 1)) as [
    number,
    number,
    number,
  ];
  if (method && expiresAt >= givenAt && Number.isSafeInteger(b))
    return {
      id: id as ConsentId,
      hash: hash!,
      bits: b,
      method,
      // (The lite build has no GPC: its records never carry it.)
      ...(!globalThis.ASSENT_LITE && { gpc: !!g }),
      givenAt,
      expiresAt,
    } as StoredConsent;
  return null;
};
