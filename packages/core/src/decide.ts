import type { ConsentId, Method, StoredConsent } from './consent.js';
import type { Policy } from './policy.js';

/**
 * Categories that mean sale/sharing or targeted advertising. Global Privacy Control is a
 * refusal of exactly these (CCPA/CPRA, Colorado, Connecticut …); see README "GPC".
 */
export const SALE_CATEGORIES: readonly string[] = ['marketing', 'advertising', 'ads', 'targeting', 'sale'];

export type Granted = Readonly<Record<string, boolean>>;

export type DecideInput =
  /** Page load: what the cookie holds (already decoded), the clock, the signals. */
  | {
      readonly kind: 'load';
      readonly stored: StoredConsent | null;
      readonly now: number;
      readonly gpc?: boolean;
      /** Unused: a load makes no record (GPC is applied live, never stored). */
      readonly id?: ConsentId;
    }
  /** A visitor's choice. `granted` lists category ids and `category:service` keys (custom only). */
  | {
      readonly kind: 'choice';
      readonly method: Method;
      readonly id: ConsentId;
      readonly now: number;
      readonly gpc?: boolean;
      readonly granted?: readonly string[];
    };

export interface Decision {
  /** Whether the first layer must be shown. */
  readonly show: boolean;
  /** Effective consent per key of `policy.keys` (necessary is always granted, and not listed). */
  readonly granted: Granted;
  /** A record to store in the cookie and send as a receipt; absent when nothing was chosen. */
  readonly record?: StoredConsent;
  /** Why stored consent was not used: so the UI can say "our policy changed". */
  readonly stale?: 'expired' | 'policy';
  /** Whether Global Privacy Control applied (absent in the lite build, which has no GPC). */
  readonly gpc?: boolean;
}

const DAY = 86_400_000;

/**
 * Whether a key (`marketing`, `marketing:ads` …) is sale/sharing or targeted advertising: one
 * of {@link SALE_CATEGORIES}, or a category the policy's Consent Mode map sends as an ad signal
 * (`ad_storage`, `ad_user_data`, `ad_personalization`). The one definition: GPC refuses these,
 * "Do not sell" leaves them out, and GPC is shown as honoured while none of them is granted.
 * Without `policy`, only the fixed ids count.
 */
export const isSale = (key: string, policy?: Policy): boolean => {
  const c = key.split(':')[0]!;
  // The signals as one string: no ad signal, `undefined` and an inherited name all lack `ad_`.
  return SALE_CATEGORIES.includes(c) || `${policy?.config.googleConsentMode?.map?.[c]}`.includes('ad_');
};

/** Whether GPC shows as honoured: nothing of sale/sharing is granted (README "GPC"). */
export const gpcHonored = (policy: Policy, granted: Granted): boolean =>
  !policy.keys.some((k) => granted[k] && isSale(k, policy));

/**
 * "Do not sell or share my personal information" (opt-out mode): a custom choice of every key
 * of the policy except the sale/sharing and marketing ones — the same rule GPC applies.
 */
export const doNotSell = (policy: Policy): string[] => policy.keys.filter((k) => !isSale(k, policy));

/** Bits are plain arithmetic, not `<<`: keys past 31 must not wrap. */
/**
 * How many categories and services a policy can have: the consent cookie stores one bit for
 * each in a number, exact up to 2^53. More, and the choice could not be stored: the server
 * refuses to publish such a policy (`publishable`).
 */
export const MAX_KEYS = 53;

/**
 * Whether the stored bits `a` grant any key `b` does not. BigInt: JavaScript's `&` and `~`
 * work on 32 bits, and a policy has up to 53 keys.
 */
export const grantsBeyond = (a: number, b: number): boolean => !!(BigInt(a) & ~BigInt(b));

export const toBits = (policy: Policy, granted: Granted): number =>
  policy.keys.reduce((n, k, i) => (granted[k] ? n + 2 ** i : n), 0);

// Bit i is the last bit of the quotient's integer part: `&` reads it at any size (it keeps
// the low 32 bits of the integer part), where `bits & 2 ** i` would wrap past bit 31.
export const fromBits = (policy: Policy, bits: number): Granted =>
  all(policy, (_, i) => !!((bits / 2 ** i) & 1));

/** Every key of the policy, without a prototype: only what the policy lists can be granted. */
const all = (policy: Policy, on: (key: string, i: number) => boolean): Granted =>
  ({
    __proto__: null,
    ...Object.fromEntries(policy.keys.map((k, i) => [k, on(k, i)])),
  }) as unknown as Granted;

/**
 * Every consent rule in one pure function: modes, expiry, re-consent, GPC.
 *
 * - A stored choice counts only for the same policy version and fingerprint, and only
 *   until it expires; its expiry is never extended by reading it.
 * - `opt-in` and `notice`: nothing non-essential until the visitor acts; in `notice` the
 *   acknowledgement (`notice-ack`) grants every category (a notice informs, it asks nothing).
 * - `opt-out`: on until the visitor opts out; a GPC signal opts out without asking, read
 *   live on every page and never recorded as the visitor's own choice.
 * - GPC keeps sale/sharing and marketing categories off, unless the visitor ticks them
 *   one by one in the preferences while the signal is on (an explicit, specific choice).
 *
 * @example
 * decide(policy, { kind: 'load', stored: null, now: Date.now() }).show // true
 */
export const decide = (policy: Policy, input: DecideInput): Decision => {
  // GPC (a US opt-out signal) is honoured by the full build; the lite build has no US features.
  const gpc = !globalThis.ASSENT_LITE && input.gpc === true;
  // Everything on except what GPC refuses: accept-all, notice-ack, and opt-out before a choice.
  const unlessGpc = (k: string) => !(gpc && isSale(k, policy));
  let stale: Decision['stale'];
  let method: Method;
  let granted: Granted;
  if (input.kind === 'load') {
    const s = input.stored;
    if (s) {
      // Expired by its own date, or by the policy's `days` now: a site that shortens `days`
      // (its config, not its policy version) shortens the choices already given too.
      if (
        s.hash === policy.hash &&
        input.now < Math.min(s.expiresAt, s.givenAt + policy.config.days * DAY) &&
        input.now >= s.givenAt - DAY
      ) {
        const g = fromBits(policy, s.bits);
        // GPC is read live, on every page: a signal sent now refuses sale/sharing even under an
        // earlier "accept all". Only a custom choice made while the signal was on overrides it:
        // then the preferences showed sale/sharing off and the visitor ticked it. One made
        // before (opt-out's preferences start all ticked: saving them ticks nothing) gives way.
        return {
          show: false,
          granted:
            gpc && !(s.method === 'custom' && s.gpc) ? all(policy, (k) => g[k]! && !isSale(k, policy)) : g,
          ...(!globalThis.ASSENT_LITE && { gpc }),
        };
      }
      // Why, for callers that tell the visitor (not the lite banner, which drops it).
      if (!globalThis.ASSENT_LITE) stale = s.hash !== policy.hash ? 'policy' : 'expired';
    }
    // opt-out is in the full build only (US state laws, with GPC's opt-out and regions).
    const optOut = !globalThis.ASSENT_LITE && policy.mode === 'opt-out';
    // GPC is a valid opt-out in opt-out regions: applied without asking, and never stored as
    // if it were the visitor's own choice (no record, no cookie, no receipt): it is read again
    // on every page, so turning the signal off gives the visitor their own choice back.
    return {
      show: !(optOut && gpc),
      granted: all(policy, (k) => optOut && unlessGpc(k)),
      ...(!globalThis.ASSENT_LITE && stale && { stale }),
      ...(!globalThis.ASSENT_LITE && { gpc }),
    };
  } else {
    method = input.method;
    const list = new Set(input.granted);
    granted = all(policy, (k) =>
      method === 'custom'
        ? // A category granted grants its services; a service may be granted alone.
          list.has(k) || list.has(k.split(':')[0]!)
        : method === 'accept-all' || method === 'notice-ack'
          ? unlessGpc(k)
          : !globalThis.ASSENT_LITE && method === 'gpc' && !isSale(k, policy),
    );
  }
  return {
    show: false,
    granted,
    record: globalThis.ASSENT_LITE
      ? record(policy, input.now, method, input.id, granted)
      : record(policy, input.now, method, input.id, granted, gpc),
    ...(!globalThis.ASSENT_LITE && { gpc }),
  };
};

const record = (
  policy: Policy,
  now: number,
  method: Method,
  id: ConsentId,
  granted: Granted,
  gpc?: boolean,
): StoredConsent => {
  // To the second (a clock after 1970: `now` is positive).
  const givenAt = now - (now % 1000);
  return {
    id,
    hash: policy.hash,
    bits: toBits(policy, granted),
    method,
    // (Unset in the lite build, which has no GPC: the cookie says no GPC, as for false.)
    ...(!globalThis.ASSENT_LITE && { gpc }),
    givenAt,
    expiresAt: givenAt + policy.config.days * DAY,
  } as StoredConsent;
};

/**
 * Whether a category (or one of its services) may run under a consent. `granted` has no
 * prototype (see `all`): a page that polluted `Object.prototype.analytics` grants nothing.
 */
export const allowed = (granted: Granted, category: string, service?: string): boolean =>
  category === 'necessary' ||
  granted[category] === true ||
  (!!service && granted[`${category}:${service}`] === true);
