import { LANG_RE, MODES, type Mode } from './config.js';
import { type ConsentId, isConsentId, METHODS, type Method } from './consent.js';
import { allowed, decide, type Granted } from './decide.js';
import { stableStringify } from './hash.js';
import { type Policy, pickLanguage } from './policy.js';
import { isSha256 } from './published.js';
import { modeForRegion, REGION_GROUPS } from './regions.js';

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

// Host names as browsers serialise them in `location.origin` (punycode, so ASCII; underscores
// too, which browsers allow in names), or a bracketed IPv6 address; an optional port.
const ORIGIN_RE = /^https?:\/\/[a-z0-9._-]+(:\d{1,5})?$|^https?:\/\/\[[0-9a-f:.]+\](:\d{1,5})?$/i;
/**
 * Whether `s` is an origin a browser sends (`https://news.example`, `http://[::1]:8443`): no
 * path, query, credentials or trailing slash. The one rule for a receipt's `page.origin` and
 * every site the server is configured with or asked about (after its `normalizeOrigin`), so a
 * site it starts with is one its receipts can name.
 */
export const isOrigin = (s: string): boolean => s.length <= 200 && ORIGIN_RE.test(s);
const PATH_RE = /^\/[^\s?#]{0,1023}$/;
/**
 * The longest language tag a receipt (and so a published policy) may name: the server's schema
 * and `publishable` use it too, so a policy cannot publish a language its receipts would be
 * refused in.
 */
export const LANG_MAX = 35;
const VERSION_RE = /^[\w.-]{1,32}$/;
const FIELDS = ['consentId', 'policy', 'mode', 'choices', 'method', 'source', 'signals', 'page', 'lang'];

/** What a method grants, in words: the reason a receipt that says otherwise is refused. */
const GRANTS: Readonly<Record<Exclude<Method, 'custom'>, string>> = {
  'accept-all': 'grants every category and service of the policy',
  'notice-ack': 'grants every category and service of the policy',
  'reject-all': 'grants nothing',
  withdraw: 'grants nothing',
  gpc: 'grants every category and service but sale/sharing and targeted advertising (Global Privacy Control)',
};

/**
 * The languages a policy publishes texts for: English (the banner's fallback) and each of its
 * `texts`. Lower-case, as `pickLanguage` compares them.
 */
const languagesOf = (policy: Policy): string[] => [
  ...new Set(['en', ...Object.keys(policy.config.texts)].map((l) => l.toLowerCase())),
];

/**
 * Checks a receipt as the banner sent it, against the policy it names (`createPolicy` of the
 * site's published config; the server passes its own). Pure. The first problem found is
 * returned, naming its field. With the policy, beyond each field's format:
 *
 * - every key of `choices` is one of the policy's categories or services (`necessary: true` is
 *   allowed; a key left out was not granted);
 * - the choices are what the method grants, as `decide()` builds them and `allowed()` reads
 *   them: `reject-all` and `withdraw` nothing; `accept-all` and `notice-ack` every key, except
 *   that with `signals.gpc` the sale/sharing ones (`isSale`) are refused, as the banner does
 *   under Global Privacy Control; `gpc` every key but those; `custom` anything. A refused
 *   receipt names the first key that differs (`choices.marketing`);
 * - `lang` is a language the policy publishes texts for, as the banner picks it: English, a
 *   language of `texts`, or a regional form of one (`de-AT` when `de` is published).
 *
 * Without a policy (`null`) only the formats are checked.
 *
 * @example
 * const r = validateReceiptInput(JSON.parse(body), policy);
 * if (!r.ok) reply.code(400).send({ error: 'ASSENT_BAD_FIELD', ...r.error });
 */
export const validateReceiptInput = (input: unknown, policy: Policy | null): ReceiptCheck => {
  const bad = (field: string, message: string): ReceiptCheck => ({ ok: false, error: { field, message } });
  if (!isObj(input)) return bad('body', 'must be a JSON object');
  for (const f of FIELDS) if (input[f] === undefined) return bad(f, 'is required');
  for (const k of Object.keys(input)) if (!FIELDS.includes(k)) return bad(k, 'is not a known field');
  const { consentId, policy: named, mode, choices, method, source, signals, page, lang } = input;
  const keys = policy?.keys;
  if (!isConsentId(consentId)) return bad('consentId', 'must be 22 base64url characters (128 random bits)');
  if (!isObj(named)) return bad('policy', 'must be an object {version, sha256}');
  if (typeof named.version !== 'string' || !VERSION_RE.test(named.version))
    return bad('policy.version', 'must be a version of letters, digits, . _ - (e.g. "v3")');
  if (!isSha256(named.sha256))
    return bad('policy.sha256', "must be the published policy's SHA-256 (64 lower-case hex digits)");
  if (Object.keys(named).length !== 2) return bad('policy', 'must hold only version and sha256');
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
  if (typeof page.origin !== 'string' || !isOrigin(page.origin))
    return bad('page.origin', 'must be an origin such as "https://example.com" (no path)');
  if (typeof page.path !== 'string' || !PATH_RE.test(page.path))
    return bad('page.path', 'must be a path starting with "/" without query string or fragment');
  if (Object.keys(page).length !== 2) return bad('page', 'must hold only origin and path');
  if (typeof lang !== 'string' || lang.length > LANG_MAX || !LANG_RE.test(lang))
    return bad('lang', 'must be a language tag such as "en"');
  if (policy) {
    // What the method grants, by the one rule the banner records it with (`decide`), read by
    // the one rule everything else reads it with (`allowed`: a category grants its services).
    const m = method as Method;
    if (m !== 'custom') {
      const gpc = signals.gpc;
      const grants = (g: boolean) =>
        decide(policy, { kind: 'choice', method: m, id: consentId, now: 0, gpc: g }).granted;
      const given = (k: string) => {
        const [category = k, service] = k.split(':');
        return allowed(choices as Granted, category, service);
      };
      const expected = grants(gpc);
      // With the signal on, also what a banner grants that did not see it: the server records
      // `Sec-GPC: 1` in signals.gpc too (context.ts), and the receipt says both, truthfully —
      // the browser sent the signal, and this is what the page applied.
      const unseen = gpc && (m === 'accept-all' || m === 'notice-ack') ? grants(false) : expected;
      if (!policy.keys.every((k) => given(k) === unseen[k]))
        for (const k of policy.keys)
          if (given(k) !== expected[k])
            return bad(
              `choices.${k}`,
              `must be ${expected[k]}: method "${m}" ${GRANTS[m]}${
                gpc && (m === 'accept-all' || m === 'notice-ack')
                  ? ' but sale/sharing and targeted advertising, which Global Privacy Control (signals.gpc) refuses'
                  : ''
              } (a choice of some categories is method "custom")`,
            );
    }
    // The language as the banner picks it (`createPolicy`): a tag or its primary subtag, of
    // those the policy publishes; anything else would have been shown in English.
    const langs = languagesOf(policy);
    const l = lang.toLowerCase();
    const shown = pickLanguage(langs, [l]);
    if (shown !== l && shown !== l.split('-')[0])
      return bad(
        'lang',
        `"${lang}" is not a language this policy publishes texts for (${langs.join(', ')}): the banner shows such a visitor "${shown}"`,
      );
  }
  return { ok: true, value: input as unknown as ReceiptInput };
};

/** How strict each mode is: opt-in (nothing before consent) over opt-out over notice. */
const STRICTNESS: Readonly<Record<Mode, number>> = { 'opt-in': 2, 'opt-out': 1, notice: 0 };

/** Whether mode `a` asks less of the site than mode `b` (`notice` is laxer than `opt-in`). */
export const laxerThan = (a: Mode, b: Mode): boolean => STRICTNESS[a] < STRICTNESS[b];

/**
 * The least strict mode a receipt may name for a visitor from `region` (the server's trusted
 * region header), by core's one region→mode rule (`modeForRegion`); null when the region is
 * unknown (none, `XX`, `T1`: the header says nothing about the visitor).
 *
 * A country alone (`US`, all `cf-ipcountry` sends) may be any of its states, and the page may
 * know which (`data-assent-region="US-CA"`): the least strict of the country's own mode and
 * those of its states `regions` names (itself or through a group such as `US-OPT-OUT`).
 *
 * @example
 * requiredMode({ EU: 'opt-in', '*': 'notice' }, 'DE') // 'opt-in'
 */
export const requiredMode = (
  regions: Readonly<Record<string, Mode>>,
  region: string | null | undefined,
): Mode | null => {
  // Unknown to core's rule: it gives opt-in whatever `*` says.
  if (!region || modeForRegion({ '*': 'notice' }, region) !== 'notice') return null;
  const r = region.toUpperCase();
  const places = [r];
  if (!r.includes('-'))
    for (const k of Object.keys(regions))
      for (const x of Object.hasOwn(REGION_GROUPS, k) ? REGION_GROUPS[k]!.split(' ') : [k])
        if (x.startsWith(`${r}-`)) places.push(x);
  return places.map((x) => modeForRegion(regions, x)).reduce((least, m) => (laxerThan(m, least) ? m : least));
};

/**
 * What a receipt's choices grant and refuse, by core's one rule (`allowed`: a key left out is
 * refused, a granted category grants its services, a service may be granted alone), over
 * `keys`: the policy's (`createPolicy(config).keys`), or the receipt's own keys without one.
 * What the consent page, the CSV export and the standard exports say the visitor chose.
 */
export const decidedKeys = (
  choices: Readonly<Record<string, boolean>>,
  keys: readonly string[],
): { readonly granted: string[]; readonly refused: string[] } => {
  const granted: string[] = [];
  const refused: string[] = [];
  for (const k of keys) {
    if (k === 'necessary') continue;
    const [category = k, service] = k.split(':');
    (allowed(choices, category, service) ? granted : refused).push(k);
  }
  return { granted, refused };
};

/** The category and service keys a receipt grants, in the order the choices list them. */
export const grantedKeys = (choices: Readonly<Record<string, boolean>>): string[] =>
  Object.keys(choices).filter((k) => k !== 'necessary' && choices[k] === true);
