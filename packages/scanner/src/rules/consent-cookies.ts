import { glob } from '../classify.js';
import type { ScanConfig } from '../config.js';
import type { CookieRecord, PhaseRecord } from '../types.js';

/** The cookie names that are the site's consent record. */
export interface ConsentCookies {
  readonly names: ReadonlySet<string>;
  readonly globs: readonly RegExp[];
  /** Cookies the site's Assent config declares non-essential: name or `prefix*` → category. */
  readonly declared?: Readonly<Record<string, string>>;
  /** Of those categories, the ones GPC refuses in the site's config (core's `isSale`). */
  readonly sale?: readonly string[];
}

/** The category a cookie is declared under in the site's Assent config, if any. */
export const declaredCategory = (name: string, cc: ConsentCookies): string | undefined => {
  for (const [p, cat] of Object.entries(cc.declared ?? {}))
    if (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p) return cat;
  return undefined;
};

export const isConsentCookie = (c: CookieRecord, cc: ConsentCookies): boolean =>
  cc.names.has(c.name) || cc.globs.some((re) => re.test(c.name));

/**
 * The consent record's names: Assent's cookie, the configured ones, and — for any other CMP —
 * the one its autoconsent rule tests for (`cmpCookies`, when the jar holds it after reject)
 * and the first-party cookies that a script of the site wrote between the reject click and
 * the reload, which were not there before: storing the refusal is what the click does. A
 * cookie the server sets on the reloaded page (an A/B bucket, a session) is the site's, not
 * the record. Not with Assent (its record is known by name: a new cookie after its reject is
 * the site's bug, not a second record), and never a name the site's Assent config declares in
 * a category.
 */
export const consentCookies = (
  phases: { before: PhaseRecord; reject: PhaseRecord },
  assentCookie: string | null,
  config: ScanConfig,
  declared: Readonly<Record<string, string>> = {},
  sale: readonly string[] = [],
  cmpCookies: readonly string[] = [],
): ConsentCookies => {
  const names = new Set<string>(assentCookie ? [assentCookie] : []);
  const before = new Set(phases.before.cookies.map((c) => c.name));
  const cc = { names, globs: config.consentCookies.map(glob), declared, sale };
  if (phases.reject.choice?.clicked && !assentCookie) {
    for (const c of phases.reject.cookies) {
      if (declaredCategory(c.name, cc)) continue;
      if (cmpCookies.includes(c.name)) names.add(c.name);
      else if (c.writtenAtChoice && !before.has(c.name) && c.classification.kind === 'first-party')
        names.add(c.name);
    }
  }
  return cc;
};
