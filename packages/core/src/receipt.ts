import { LANG_RE, MODES, type Mode } from './config.js';
import { type ConsentId, isConsentId, METHODS, type Method } from './consent.js';
import { stableStringify } from './hash.js';
import { isSha256 } from './published.js';

/**
 * Receipts: the proof of consent that GDPR Art. 7(1) asks the site owner to keep.
 * The banner sends a {@link ReceiptInput}; the receipt server adds what only it can know
 * (its clock, region, a keyed hash of the IP, the chain link) and signs the result.
 * The shapes and the validation live here so both sides agree on every field.
 */

/**
 * Where the choice was made: the banner's UI, the page's own script through `window.Assent`
 * (`sdk`), a server-to-server call with the site's API key (`api`), or the server's own page
 * `/consent/:id`.
 */
export type Source = 'banner' | 'preferences' | 'floating-button' | 'sdk' | 'api' | 'consent-page';
export const SOURCES: readonly Source[] = [
  'banner',
  'preferences',
  'floating-button',
  'sdk',
  'api',
  'consent-page',
];

/** The largest receipt body the server accepts, in bytes (a real one is well under 1 KiB). */
export const RECEIPT_MAX_BYTES = 8192;

/** What the banner POSTs to the config's `endpoint`. */
export interface ReceiptInput {
  readonly consentId: ConsentId;
  /**
   * The published policy the visitor was shown: its SHA-256 (see `canonicalPolicy`), and the
   * owner's version label for people reading the receipt. The server refuses (409) a receipt
   * whose policy is not the one it publishes for the site.
   */
  readonly policy: { readonly version: string; readonly sha256: string };
  readonly mode: Mode;
  /** Category ids and `category:service` keys of the policy; a missing key was not granted. */
  readonly choices: Readonly<Record<string, boolean>>;
  readonly method: Method;
  readonly source: Source;
  readonly signals: { readonly gpc: boolean };
  /** Origin and path only: never the query string, which can carry personal data. */
  readonly page: { readonly origin: string; readonly path: string };
  readonly lang: string;
}

/** The receipt as the server signs it: the visitor's input plus the server's facts. */
export interface Receipt extends ReceiptInput {
  /**
   * Schema version of the receipt. 2: `policy` names the published policy by SHA-256 and the
   * server sets `expiresAt` from that policy's `days`. (1: `policy.hash` was a 32-bit
   * fingerprint and `expiresAt` came from the browser; such receipts still verify.)
   */
  readonly v: 2;
  /** ISO-8601: when the site asks again, the receipt's time plus the policy's `days`. */
  readonly expiresAt: string;
  /** The receipt's own ID (not the consent ID: one consent has many receipts). */
  readonly id: string;
  /** The page origin; each site has its own chain. */
  readonly site: string;
  /** Position in the site's chain, from 1. */
  readonly seq: number;
  /** Server time, ISO-8601 UTC. */
  readonly at: string;
  /** SHA-256 (hex) of the canonical JSON of the site's previous receipt; {@link GENESIS} for the first. */
  readonly prev: string;
  /** ISO 3166 code from the server's trusted region header, or null. */
  readonly region: string | null;
  /** User-agent family (`Chrome`, `Firefox` …), never the full string. */
  readonly ua: string;
  /** Keyed hash of the IP with a salt that rotates daily; never the IP itself. */
  readonly ipHash: string;
  /** Fingerprint of the signing key, so a verifier knows which public key to use. */
  readonly kid: string;
}

/** A receipt with its hash (SHA-256 hex of {@link canonicalReceipt}) and Ed25519 signature of that hash. */
export interface SignedReceipt extends Receipt {
  readonly hash: string;
  readonly sig: string;
}

/**
 * What is left of a receipt after retention: its place in the chain and its signature, so
 * the chain of the receipts around it still verifies, but no personal data.
 */
export type PurgedReceipt = Pick<
  SignedReceipt,
  'v' | 'id' | 'site' | 'seq' | 'at' | 'prev' | 'kid' | 'hash' | 'sig'
> & {
  readonly purged: true;
};

/** The `prev` of a site's first receipt. */
export const GENESIS = '0'.repeat(64);

/**
 * The exact string that is hashed (and whose hash is signed): the receipt without
 * `hash`, `sig` and `purged`, keys sorted at every level.
 */
export const canonicalReceipt = (r: Receipt | SignedReceipt): string => {
  const { hash: _h, sig: _s, ...body } = r as SignedReceipt;
  return stableStringify(body);
};

/** A field that is wrong in a receipt, named the way the JSON path reads (`policy.version`). */
export interface ReceiptError {
  readonly field: string;
  readonly message: string;
}

export type ReceiptCheck =
  | { readonly ok: true; readonly value: ReceiptInput }
  | { readonly ok: false; readonly error: ReceiptError };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const ORIGIN_RE = /^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$|^https?:\/\/\[[0-9a-f:.]+\](:\d{1,5})?$/i;
const PATH_RE = /^\/[^\s?#]{0,1023}$/;
/**
 * The longest language tag a receipt (and so a published policy) may name: the server's schema
 * and `publishable` use it too, so a policy cannot publish a language its receipts would be
 * refused in.
 */
export const LANG_MAX = 35;
const VERSION_RE = /^[\w.-]{1,32}$/;
const FIELDS = ['consentId', 'policy', 'mode', 'choices', 'method', 'source', 'signals', 'page', 'lang'];

/**
 * Checks a receipt as the banner sent it. Pure: the caller passes the valid choice keys
 * (`createPolicy(config).keys` of the site the page belongs to) and the clock.
 * The first problem found is returned, naming its field.
 *
 * @example
 * const r = validateReceiptInput(JSON.parse(body), policy.keys);
 * if (!r.ok) reply.code(400).send({ error: 'ASSENT_BAD_FIELD', ...r.error });
 */
export const validateReceiptInput = (input: unknown, keys: readonly string[] | null): ReceiptCheck => {
  const bad = (field: string, message: string): ReceiptCheck => ({ ok: false, error: { field, message } });
  if (!isObj(input)) return bad('body', 'must be a JSON object');
  for (const f of FIELDS) if (input[f] === undefined) return bad(f, 'is required');
  for (const k of Object.keys(input)) if (!FIELDS.includes(k)) return bad(k, 'is not a known field');
  const { consentId, policy, mode, choices, method, source, signals, page, lang } = input;
  if (!isConsentId(consentId)) return bad('consentId', 'must be 22 base64url characters (128 random bits)');
  if (!isObj(policy)) return bad('policy', 'must be an object {version, sha256}');
  if (typeof policy.version !== 'string' || !VERSION_RE.test(policy.version))
    return bad('policy.version', 'must be a version of letters, digits, . _ - (e.g. "v3")');
  if (!isSha256(policy.sha256))
    return bad('policy.sha256', "must be the published policy's SHA-256 (64 lower-case hex digits)");
  if (Object.keys(policy).length !== 2) return bad('policy', 'must hold only version and sha256');
  if (!(MODES as unknown[]).includes(mode)) return bad('mode', `must be one of ${MODES.join(', ')}`);
  if (!isObj(choices)) return bad('choices', 'must be an object of category or service keys to true/false');
  for (const k of Object.keys(choices)) {
    const v = choices[k];
    if (typeof v !== 'boolean') return bad(`choices.${k}`, 'must be true or false');
    // `necessary` is implicit and always on; saying so is allowed, refusing it is not meaningful.
    if (k === 'necessary') {
      if (!v) return bad('choices.necessary', 'is always granted and cannot be refused');
    } else if (keys && !keys.includes(k))
      return bad(`choices.${k}`, 'is not a category or service of this site');
  }
  if (!(METHODS as unknown[]).includes(method)) return bad('method', `must be one of ${METHODS.join(', ')}`);
  if (!(SOURCES as unknown[]).includes(source)) return bad('source', `must be one of ${SOURCES.join(', ')}`);
  if (!isObj(signals)) return bad('signals', 'must be an object {gpc}');
  if (typeof signals.gpc !== 'boolean') return bad('signals.gpc', 'must be true or false');
  if (Object.keys(signals).length !== 1) return bad('signals', 'must hold only gpc');
  if (!isObj(page)) return bad('page', 'must be an object {origin, path}');
  if (typeof page.origin !== 'string' || page.origin.length > 200 || !ORIGIN_RE.test(page.origin))
    return bad('page.origin', 'must be an origin such as "https://example.com" (no path)');
  if (typeof page.path !== 'string' || !PATH_RE.test(page.path))
    return bad('page.path', 'must be a path starting with "/" without query string or fragment');
  if (Object.keys(page).length !== 2) return bad('page', 'must hold only origin and path');
  if (typeof lang !== 'string' || lang.length > LANG_MAX || !LANG_RE.test(lang))
    return bad('lang', 'must be a language tag such as "en"');
  return { ok: true, value: input as unknown as ReceiptInput };
};

/** The category and service keys a receipt grants, in the order the choices list them. */
export const grantedKeys = (choices: Readonly<Record<string, boolean>>): string[] =>
  Object.keys(choices).filter((k) => k !== 'necessary' && choices[k] === true);
