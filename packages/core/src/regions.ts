import type { Mode } from './config.js';

/**
 * Region groups an owner can name in `regions`. EU/EEA + UK + CH: GDPR, UK GDPR and the
 * Swiss FADP all call for opt-in consent to non-essential cookies.
 */
export const REGION_GROUPS: Readonly<Record<string, string>> = {
  EU: 'AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO GB CH',
  // US states with opt-out privacy laws in force (sale/sharing/targeted ads) as of 2026.
  'US-OPT-OUT':
    'US-CA US-CO US-CT US-VA US-UT US-TX US-OR US-MT US-IA US-DE US-NH US-NJ US-NE US-TN US-MN US-MD US-IN US-KY US-RI',
  // Of those, the states whose laws require honouring a universal opt-out signal such as GPC,
  // in force or taking effect by 2026. Sources: Cal. Civ. Code §1798.135(e) and CCPA Regs.
  // §7025; Colo. Rev. Stat. §6-1-1306(1)(a)(IV); Conn. Gen. Stat. §42-520(e)(1)(A)(ii); Del.
  // Code tit. 6 §12D-106(e); Md. Com. Law §14-4607(a)(2); Minn. Stat. §325O.05 subd. 1(b);
  // Mont. Code §30-14-2808(2)(a); Neb. Rev. Stat. §87-1113(2); N.H. RSA 507-H:6(II)(a);
  // N.J. Stat. §56:8-166.11(b); Or. Rev. Stat. §646A.578(1)(b); Tex. Bus. & Com. Code
  // §541.055(e) (IAPP's US State Privacy Legislation Tracker, 2026).
  'US-GPC': 'US-CA US-CO US-CT US-DE US-MD US-MN US-MT US-NE US-NH US-NJ US-OR US-TX',
};

/**
 * The mode for a visitor's region: the most specific entry wins (`US-CA`, then `US`, then a
 * group such as `EU`, then `*`). An unknown region is `opt-in`: privacy by default.
 *
 * @example
 * modeForRegion({ EU: 'opt-in', 'US-CA': 'opt-out', '*': 'notice' }, 'US-CA') // 'opt-out'
 */
export const modeForRegion = (regions: Readonly<Record<string, Mode>>, region?: string | null): Mode => {
  if (!region) return 'opt-in';
  const r = region.toUpperCase();
  const country = r.split('-')[0]!;
  for (const k of [r, country]) if (regions[k]) return regions[k];
  for (const k in regions)
    if (REGION_GROUPS[k]?.split(' ').some((x) => x === r || x === country)) return regions[k]!;
  return regions['*'] ?? 'opt-in';
};
