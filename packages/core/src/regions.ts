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
