/** How a choice was made: the receipt's `method`. */
export type Method = 'accept-all' | 'reject-all' | 'custom' | 'gpc' | 'withdraw' | 'notice-ack';
export const METHODS: readonly Method[] = [
  'accept-all',
  'reject-all',
  'custom',
  'gpc',
  'withdraw',
  'notice-ack',
];

/** 128 random bits, base64url: generated in the browser, the visitor's handle on their receipts. */
export type ConsentId = string & { readonly __brand: 'ConsentId' };
export const CONSENT_ID_RE = /^[A-Za-z0-9_-]{22}$/;
export const isConsentId = (s: unknown): s is ConsentId => typeof s === 'string' && CONSENT_ID_RE.test(s);

/**
 * A consent ID from exactly 16 random bytes (from `crypto.getRandomValues`; the caller brings
 * the randomness so this stays pure). 22 base64url characters; the last carries 2 bits.
 */
export const consentIdFrom = (bytes: Uint8Array): ConsentId =>
  btoa(String.fromCharCode(...bytes))
    .slice(0, 22)
    .replace(/\+/g, '-')
    .replace(/\//g, '_') as ConsentId;

/** A choice as the consent cookie stores it; meaningful only against the policy it names. */
export interface StoredConsent {
  readonly id: ConsentId;
  /** The policy's fingerprint (version, mode, texts, categories): see createPolicy. */
  readonly hash: string;
  /** Bit i set = `policy.keys[i]` granted. */
  readonly bits: number;
  readonly method: Method;
  readonly gpc: boolean;
  /** Milliseconds since the epoch, to the second. */
  readonly givenAt: number;
  readonly expiresAt: number;
}
