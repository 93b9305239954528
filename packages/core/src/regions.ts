import type { Mode } from './config.js';

/**
 * Region groups an owner can name in `regions`, most specific first: a group that lists
 * states wins over one that lists countries, and the smaller of two such groups wins.
 */
export const REGION_GROUPS: Readonly<Record<string, string>> = {
  // US states whose laws require honouring a universal opt-out signal such as GPC, in force or
  // taking effect by 2026. Sources: Cal. Civ. Code §1798.135(e) and CCPA Regs.
  // §7025; Colo. Rev. Stat. §6-1-1306(1)(a)(IV); Conn. Gen. Stat. §42-520(e)(1)(A)(ii); Del.
  // Code tit. 6 §12D-106(e); Md. Com. Law §14-4607(a)(2); Minn. Stat. §325O.05 subd. 1(b);
  // Mont. Code §30-14-2808(2)(a); Neb. Rev. Stat. §87-1113(2); N.H. RSA 507-H:6(II)(a);
  // N.J. Stat. §56:8-166.11(b); Or. Rev. Stat. §646A.578(1)(b); Tex. Bus. & Com. Code
  // §541.055(e) (IAPP's US State Privacy Legislation Tracker, 2026).
  'US-GPC': 'US-CA US-CO US-CT US-DE US-MD US-MN US-MT US-NE US-NH US-NJ US-OR US-TX',
  // US states with opt-out privacy laws in force (sale/sharing/targeted ads) as of 2026.
  'US-OPT-OUT':
    'US-CA US-CO US-CT US-VA US-UT US-TX US-OR US-MT US-IA US-DE US-NH US-NJ US-NE US-TN US-MN US-MD US-IN US-KY US-RI',
  // EU/EEA + UK + CH: GDPR, UK GDPR and the Swiss FADP all call for opt-in consent to
  // non-essential cookies. With the parts of the EU that have ISO 3166-1 codes of their own
  // (GDPR applies there: Art. 52 TEU, Art. 349 and 355(1) and (4) TFEU): the outermost regions
  // Réunion, Guadeloupe, Martinique, French Guiana, Mayotte and Saint-Martin, and Åland. Not
  // the overseas countries and territories (New Caledonia, French Polynesia, Greenland …), nor
  // the Faroe Islands: outside the EU.
  EU: 'AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO GB CH RE GP MQ GF YT MF AX',
};

/**
 * The mode for a visitor's region (`US-CA`, or a country alone, `US`, as `cf-ipcountry`
 * sends it): the most specific entry wins, whatever the order of `regions`: the region
 * itself, a group listing it (`US-GPC`, then `US-OPT-OUT`), its country, a group listing its
 * country (`EU`), then `*`. A country alone is in no group of states: `US` is `US`, else `*`.
 * An unknown region — none, or Cloudflare's `XX` (unknown) and `T1` (Tor) — is `opt-in`:
 * privacy by default.
 *
 * @example
 * modeForRegion({ EU: 'opt-in', 'US-CA': 'opt-out', '*': 'notice' }, 'US-CA') // 'opt-out'
 */
export const modeForRegion = (regions: Readonly<Record<string, Mode>>, region?: string | null): Mode => {
  const r = region?.toUpperCase();
  if (!r || r === 'XX' || r === 'T1') return 'opt-in';
  for (const x of [r, r.split('-')[0]!]) {
    if (regions[x]) return regions[x];
    for (const g in REGION_GROUPS)
      if (regions[g] && REGION_GROUPS[g]!.split(' ').includes(x)) return regions[g];
  }
  return regions['*'] ?? 'opt-in';
};

/**
 * Every mode a visitor of a site with this config can be shown, so every mode its receipts may
 * name: the config's `mode`, and with `regions` each region's mode and `opt-in`, what
 * `modeForRegion` gives an unknown region (and the banner while the region is asked). The
 * server accepts receipts in these modes only: one list, or a visitor from an unlisted region
 * was shown a banner whose receipts the server refused.
 */
export const modesOf = (config: {
  readonly mode: Mode;
  readonly regions?: Readonly<Record<string, Mode>>;
}): Mode[] => [
  ...new Set<Mode>([
    config.mode,
    ...(config.regions ? [...Object.values(config.regions), 'opt-in' as const] : []),
  ]),
];
