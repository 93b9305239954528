import { readFileSync } from 'node:fs';
import { getDomain } from 'tldts';
import type { TrackerDb } from './trackerdb.js';
import type { Classification, Kind, Tracker } from './types.js';

/**
 * Tracker database categories that are not, by themselves, tracking: hosting and CDNs,
 * consent managers, utilities (tag managers, captchas). Everything else the database knows
 * (advertising, site analytics, social media, audio/video players, customer interaction,
 * misc) needs consent.
 */
export const FUNCTIONAL_CATEGORIES: readonly string[] = ['hosting', 'consent', 'utilities', 'extensions'];

/** The site of a host: its registrable domain, or the host itself for IPs and `localhost`. */
export const siteOf = (host: string): string => getDomain(host) ?? host.replace(/^\[|\]$/g, '');

const hostOf = (url: string): string => {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
};

/**
 * The URL without its port, as the tracker database is asked: its patterns name hosts, and
 * `www.googletagmanager.com:8080/gtm.js` matched another pattern (Google Tag, advertising)
 * than the same file on the default port (Google Tag Manager, utilities).
 */
const portless = (url: string): string => {
  try {
    const u = new URL(url);
    u.port = '';
    return u.href;
  } catch {
    return url;
  }
};

/** `*` matches any run of characters; everything else is literal. */
export const glob = (pattern: string): RegExp =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  );

/** One fingerprinting vendor from data/fingerprinting-vendors.json. */
export interface FingerprintingVendor {
  readonly vendor: string;
  readonly hosts: readonly string[];
  readonly source: string;
}

export const FINGERPRINTING_VENDORS: readonly FingerprintingVendor[] = (
  JSON.parse(readFileSync(new URL('../data/fingerprinting-vendors.json', import.meta.url), 'utf8')) as {
    vendors: FingerprintingVendor[];
  }
).vendors;

/** The fingerprinting vendor behind a host (the host or a subdomain of a listed one). */
export const fingerprintingVendor = (host: string): FingerprintingVendor | undefined =>
  FINGERPRINTING_VENDORS.find((v) => v.hosts.some((h) => host === h || host.endsWith(`.${h}`)));

export interface Classifier {
  /** Classifies a URL (a request, or the source of a cookie or storage key) seen on `pageUrl`. */
  url(url: string, pageUrl: string, type?: string): Classification;
  /** First or third party for a cookie domain (`.example.com`) seen on `pageUrl`. */
  domainParty(domain: string, pageUrl: string): Classification;
  readonly trackerDb: boolean;
}

/**
 * Builds the classifier: party by registrable domain (tldts, the Public Suffix List), then the
 * tracker database when there is one, else "unknown third party". `essentialHosts` (globs
 * from the scanner config) mark the site's own CDNs and services as allowed.
 */
export const createClassifier = (
  db: TrackerDb | null,
  essentialHosts: readonly string[] = [],
): Classifier => {
  const essential = essentialHosts.map(glob);
  const build = (host: string, pageUrl: string, tracker: Tracker | null): Classification => {
    const site = siteOf(host);
    const party = site === siteOf(hostOf(pageUrl)) ? 'first' : 'third';
    let kind: Kind;
    const fp = party === 'third' ? fingerprintingVendor(host) : undefined;
    if (essential.some((re) => re.test(host))) kind = 'allowed';
    else if (fp) {
      // Whatever the database calls it ("utilities", fraud prevention), a fingerprint is an identifier.
      const named = tracker ?? {
        key: `fingerprinting:${site}`,
        name: fp.vendor,
        category: 'fingerprinting',
        organization: null,
      };
      return { party, site, kind: 'tracker', tracker: named, fingerprinter: true };
    } else if (tracker) kind = FUNCTIONAL_CATEGORIES.includes(tracker.category) ? 'functional' : 'tracker';
    else kind = party === 'first' ? 'first-party' : 'unknown-third-party';
    return { party, site, kind, tracker };
  };
  return {
    trackerDb: db !== null,
    url(url, pageUrl, type = 'script') {
      const host = hostOf(url);
      // Pages served on the site itself are never matched: a first-party analytics pattern
      // would otherwise flag the site's own pages.
      const tracker =
        db && host && siteOf(host) !== siteOf(hostOf(pageUrl))
          ? db.match(portless(url), type, portless(pageUrl))
          : null;
      return build(host, pageUrl, tracker);
    },
    domainParty(domain, pageUrl) {
      const host = domain.replace(/^\./, '');
      const tracker = db ? db.match(`https://${host}/`, 'script', portless(pageUrl)) : null;
      return build(host, pageUrl, tracker && siteOf(host) !== siteOf(hostOf(pageUrl)) ? tracker : null);
    },
  };
};

/**
 * A cookie or storage key judged by its writer: its own domain or origin (`byDomain`) when it
 * is a third party's or no script of another site wrote it, else the script that wrote it
 * (`_ga`: a first-party cookie of Google Analytics), on the domain's party. A write by a tag
 * manager, or any script the database files as "utilities", is not essential for being
 * theirs: a tag manager writes what the tags it runs ask for (`_gcl_au`, Google Ads' cookie,
 * is written by gtm.js), so such a write is an unknown third party's (needs consent; the
 * allow-list takes it, with a reason).
 */
export const judgedByWriter = (byDomain: Classification, bySource: Classification | null): Classification => {
  if (byDomain.party === 'third' || !bySource || bySource.kind === 'first-party') return byDomain;
  const vouched = bySource.kind === 'functional' && bySource.tracker?.category === 'utilities';
  return {
    ...bySource,
    party: byDomain.party,
    site: byDomain.site,
    ...(vouched ? { kind: 'unknown-third-party' as const } : {}),
  };
};

/** Needs consent: a known tracker or a third party nobody vouched for. */
export const needsConsent = (c: Classification): boolean =>
  c.kind === 'tracker' || c.kind === 'unknown-third-party';
