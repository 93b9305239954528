/**
 * The user-agent family, never the full string (which, with versions and platform, helps
 * fingerprint a visitor). Order matters: Edge and Opera also say "Chrome", Chrome says "Safari".
 */
const FAMILIES: readonly [RegExp, string][] = [
  [/bot|crawler|spider|slurp|headless/i, 'Bot'],
  [/Edg(e|A|iOS)?\//, 'Edge'],
  [/OPR\/|Opera/, 'Opera'],
  [/SamsungBrowser\//, 'Samsung Internet'],
  [/Firefox\/|FxiOS\//, 'Firefox'],
  [/Chrome\/|CriOS\/|Chromium\//, 'Chrome'],
  [/Safari\//, 'Safari'],
  [/^curl\//, 'curl'],
];

export const uaFamily = (ua: string | undefined): string => {
  if (!ua) return 'unknown';
  for (const [re, name] of FAMILIES) if (re.test(ua)) return name;
  return 'other';
};
