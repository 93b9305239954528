import type { Granted } from './decide.js';

/**
 * Google Consent Mode v2: the seven signals, and which of our categories grant each.
 * Unset is not the same as denied, so every signal is always sent.
 * https://developers.google.com/tag-platform/security/guides/consent
 */
export type ConsentSignal =
  | 'ad_storage'
  | 'ad_user_data'
  | 'ad_personalization'
  | 'analytics_storage'
  | 'functionality_storage'
  | 'personalization_storage'
  | 'security_storage';

export const SIGNALS: readonly ConsentSignal[] = [
  'ad_storage',
  'ad_user_data',
  'ad_personalization',
  'analytics_storage',
  'functionality_storage',
  'personalization_storage',
  'security_storage',
];

/** The default mapping (c15t uses the same). `necessary` grants `security_storage`, always. */
export const DEFAULT_SIGNAL_MAP: Readonly<Record<string, readonly ConsentSignal[]>> = {
  necessary: ['security_storage'],
  functional: ['functionality_storage'],
  analytics: ['analytics_storage'],
  marketing: ['ad_storage', 'ad_user_data', 'ad_personalization'],
  personalization: ['personalization_storage'],
};

export type SignalState = Record<ConsentSignal, 'granted' | 'denied'>;

/** The signals `necessary` may grant: security, and the site's own functionality (Google's definitions). */
export const isNecessarySignal = (s: string): boolean =>
  s === 'security_storage' || s === 'functionality_storage';

/**
 * The seven signals for a consent: a signal is granted when any category mapped to it is.
 * `necessary` is always granted: its signals are the map's `necessary`, else the default's
 * (`security_storage`), so a custom map that leaves it out still grants `security_storage`.
 *
 * @example
 * consentModeSignals({ analytics: true, marketing: false }).analytics_storage // 'granted'
 */
export const consentModeSignals = (
  granted: Granted,
  map: Readonly<Record<string, readonly string[]>> = DEFAULT_SIGNAL_MAP,
): SignalState => {
  // Necessary is on before any choice: it never grants a signal that needs consent (a map
  // that tries is a config error, see crossCheck).
  const on = new Set<string>((map.necessary ?? DEFAULT_SIGNAL_MAP.necessary)!.filter(isNecessarySignal));
  for (const cat in map) if (cat !== 'necessary' && granted[cat]) for (const s of map[cat]!) on.add(s);
  return Object.fromEntries(SIGNALS.map((s) => [s, on.has(s) ? 'granted' : 'denied'])) as SignalState;
};
