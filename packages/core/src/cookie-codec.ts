import { type ConsentId, METHODS, type StoredConsent } from './consent.js';

/**
 * The consent cookie, version 1: `1|id|policy|hash|bits|given|expires|method[g]`.
 * Numbers are base 36, times in seconds; `g` marks a Global Privacy Control signal.
 * About 60 bytes: compact, first-party, readable in devtools.
 */
const VERSION = '1';
const M = 'arcgwn'; // one letter per method, in METHODS order

const b36 = (n: number) => n.toString(36);
const seconds = (ms: number) => b36(Math.floor(ms / 1000));

export const encodeConsent = (c: StoredConsent): string =>
  [
    VERSION,
    c.id,
    encodeURIComponent(c.policy),
    c.hash,
    b36(c.bits),
    seconds(c.givenAt),
    seconds(c.expiresAt),
    M[METHODS.indexOf(c.method)]! + (c.gpc ? 'g' : ''),
  ].join('|');

const B36 = '\\|([0-9a-z]{1,11})';
/** The whole cookie at once: version, id, policy, then hash, bits, given, expires (base 36), method. */
const COOKIE = new RegExp(`^${VERSION}\\|([\\w-]{22})\\|([^|]+)${B36.repeat(4)}\\|([a-z])(g?)$`);

/**
 * Decodes a cookie value. Garbage — truncated, tampered, an older or newer version, an
 * impossible date — yields `null` ("no consent"), never an exception: a broken cookie must
 * not break the page, and must not be read as consent.
 */
export const decodeConsent = (raw: string | null | undefined): StoredConsent | null => {
  const m = typeof raw === 'string' && raw.length <= 512 && COOKIE.exec(raw);
  if (!m) return null;
  const [, id, pol, hash, bits, given, expires, letter, g] = m as unknown as string[];
  const method = METHODS[M.indexOf(letter!)];
  const b = Number.parseInt(bits!, 36);
  const givenAt = Number.parseInt(given!, 36) * 1000;
  const expiresAt = Number.parseInt(expires!, 36) * 1000;
  try {
    const policy = decodeURIComponent(pol!);
    if (
      method &&
      policy &&
      expiresAt >= givenAt &&
      Number.isSafeInteger(b) &&
      Number.isSafeInteger(expiresAt)
    )
      return { id: id as ConsentId, policy, hash: hash!, bits: b, method, gpc: !!g, givenAt, expiresAt };
  } catch {
    // a broken %-escape: no consent
  }
  return null;
};
