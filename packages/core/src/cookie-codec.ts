import { type ConsentId, isConsentId, METHODS, type StoredConsent } from './consent.js';

/**
 * The consent cookie, version 1: `1|id|policy|hash|bits|given|expires|method[g]`.
 * Numbers are base 36, times in seconds; `g` marks a Global Privacy Control signal.
 * About 60 bytes: compact, first-party, readable in devtools.
 */
const VERSION = '1';
const M = 'arcgwn'; // one letter per method, in METHODS order

export const encodeConsent = (c: StoredConsent): string =>
  [
    VERSION,
    c.id,
    encodeURIComponent(c.policy),
    c.hash,
    c.bits.toString(36),
    Math.floor(c.givenAt / 1000).toString(36),
    Math.floor(c.expiresAt / 1000).toString(36),
    M[METHODS.indexOf(c.method)]! + (c.gpc ? 'g' : ''),
  ].join('|');

const B36 = /^[0-9a-z]{1,11}$/;

/**
 * Decodes a cookie value. Garbage — truncated, tampered, an older or newer version, an
 * impossible date — yields `null` ("no consent"), never an exception: a broken cookie must
 * not break the page, and must not be read as consent.
 */
export const decodeConsent = (raw: string | null | undefined): StoredConsent | null => {
  if (typeof raw !== 'string' || raw.length > 512) return null;
  const p = raw.split('|');
  if (p.length !== 8 || p[0] !== VERSION) return null;
  const [, id, pol, hash, bits, given, expires, m] = p as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (!isConsentId(id) || !B36.test(hash) || !B36.test(bits) || !B36.test(given) || !B36.test(expires))
    return null;
  if (!/^[a-z]g?$/.test(m)) return null;
  const method = METHODS[M.indexOf(m[0]!)];
  let policy: string;
  try {
    policy = decodeURIComponent(pol);
  } catch {
    return null;
  }
  const givenAt = Number.parseInt(given, 36) * 1000;
  const expiresAt = Number.parseInt(expires, 36) * 1000;
  const b = Number.parseInt(bits, 36);
  if (
    !method ||
    !policy ||
    expiresAt < givenAt ||
    !Number.isSafeInteger(b) ||
    !Number.isSafeInteger(expiresAt)
  )
    return null;
  return { id: id as ConsentId, policy, hash, bits: b, method, gpc: m.length === 2, givenAt, expiresAt };
};
