/**
 * Google's consent parameters on its tags' requests, decoded so a report can say what consent
 * state each phase sent to Google.
 *
 * - `gcs=G1xy`: x = ad_storage, y = analytics_storage; 1 granted, 0 denied, `-` not set.
 * - `gcd=11a1b1c1d1…`: one letter per signal (ad_storage, analytics_storage, ad_user_data,
 *   ad_personalization) at positions 2, 4, 6, 8; the letter says the default and the update.
 *   Not documented by Google; decoded after Simo Ahava's Consent Mode v2 article (see
 *   data/pixels.json).
 */
export type SignalState = 'granted' | 'denied' | 'not set';

export interface GoogleConsent {
  readonly gcs?: {
    readonly raw: string;
    readonly ad_storage: SignalState;
    readonly analytics_storage: SignalState;
  };
  readonly gcd?: {
    readonly raw: string;
    readonly ad_storage: SignalState;
    readonly analytics_storage: SignalState;
    readonly ad_user_data: SignalState;
    readonly ad_personalization: SignalState;
  };
}

const GCS_BIT: Record<string, SignalState> = { '1': 'granted', '0': 'denied', '-': 'not set' };

/** `G100` → ad_storage denied, analytics_storage denied; `null` for anything else. */
export const decodeGcs = (gcs: string): GoogleConsent['gcs'] | null => {
  const m = /^G1([01-])([01-])$/.exec(gcs);
  return m ? { raw: gcs, ad_storage: GCS_BIT[m[1]!]!, analytics_storage: GCS_BIT[m[2]!]! } : null;
};

/** The final state a gcd letter encodes (default, then update if any). */
const GCD_LETTER: Record<string, SignalState> = {
  l: 'not set',
  p: 'denied', // denied by default, no update
  q: 'denied', // denied by default and by update
  t: 'granted', // granted by default, no update
  r: 'granted', // denied by default, granted by update
  m: 'denied', // no default, denied by update
  n: 'granted', // no default, granted by update
  u: 'denied', // granted by default, denied by update
  v: 'granted', // granted by default and by update
};

export const decodeGcd = (gcd: string): GoogleConsent['gcd'] | null => {
  if (!/^\d{2}([lpqtrmnuv]\d){4}/.test(gcd)) return null;
  const at = (i: number) => GCD_LETTER[gcd[i]!] ?? 'not set';
  return {
    raw: gcd,
    ad_storage: at(2),
    analytics_storage: at(4),
    ad_user_data: at(6),
    ad_personalization: at(8),
  };
};

/** Both parameters from a request's query (or form body), when present. */
export const googleConsent = (params: URLSearchParams): GoogleConsent | null => {
  const gcs = params.get('gcs');
  const gcd = params.get('gcd');
  const out: { gcs?: GoogleConsent['gcs']; gcd?: GoogleConsent['gcd'] } = {};
  const s = gcs ? decodeGcs(gcs) : null;
  const d = gcd ? decodeGcd(gcd) : null;
  if (s) out.gcs = s;
  if (d) out.gcd = d;
  return s || d ? out : null;
};

/** "ad_storage denied, analytics_storage granted (gcs=G101)" */
export const describeGoogleConsent = (g: GoogleConsent): string => {
  const parts: string[] = [];
  if (g.gcs)
    parts.push(
      `ad_storage ${g.gcs.ad_storage}, analytics_storage ${g.gcs.analytics_storage} (gcs=${g.gcs.raw})`,
    );
  if (g.gcd)
    parts.push(
      `ad_user_data ${g.gcd.ad_user_data}, ad_personalization ${g.gcd.ad_personalization} (gcd=${g.gcd.raw})`,
    );
  return parts.join('; ');
};
