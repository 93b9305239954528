import { type CategoryConfig, ID_RE, type ServiceConfig } from '@assent/core';
import { declaredCategory } from '../rules/consent-cookies.js';
import type { Classification, CookieRecord, ScanReport } from '../types.js';

/**
 * The cookie declaration a privacy page needs, from what the scan saw after "Accept all": one
 * row per cookie (name and domain), its provider, purpose category, duration, party, and who
 * sets it; and a suggested Assent config (categories → services → cookies) so that the
 * banner deletes on reject exactly the cookies the scan saw.
 */
export interface DeclarationRow {
  readonly name: string;
  readonly domain: string;
  readonly provider: string;
  /** An Assent category id: `necessary`, `analytics`, `marketing`, `preferences`, or `unclassified`. */
  readonly category: string;
  readonly purpose: string;
  /** `session` or `N days`. */
  readonly duration: string;
  readonly party: 'first' | 'third';
  readonly setBy: string | null;
  /** Pages it was seen on (paths). */
  readonly pages: readonly string[];
}

export interface Declaration {
  readonly site: string;
  readonly generatedAt: string;
  readonly rows: readonly DeclarationRow[];
  /** Paste into the `categories` of an Assent config; `necessary` is implicit and not listed. */
  readonly suggestedConfig: { readonly categories: readonly CategoryConfig[] };
  /**
   * Pages (paths) whose accept was never made or did not take, and why: what runs there only
   * after an accept was never seen, so the declaration may miss it. Absent when there are none.
   */
  readonly unchecked?: readonly { readonly page: string; readonly reason: string }[];
}

/** Tracker database categories → Assent categories (what a visitor is asked about). */
const CATEGORY: Record<string, string> = {
  site_analytics: 'analytics',
  advertising: 'marketing',
  pornvertising: 'marketing',
  social_media: 'marketing',
  audio_video_player: 'marketing',
  customer_interaction: 'preferences',
  misc: 'marketing',
};

const PURPOSE: Record<string, string> = {
  necessary: 'Strictly necessary: remembers the visitor’s consent choice or keeps the site working.',
  analytics: 'Measures how visitors use the site.',
  marketing: 'Advertising, social media or embedded content that can track visitors across sites.',
  preferences: 'Remembers settings or provides a support or chat service.',
  unclassified: 'Set by the site itself; the scan cannot tell its purpose — please declare it.',
};

const categoryOf = (c: CookieRecord, declared: string | undefined): string => {
  if (c.classification.kind === 'consent') return 'necessary';
  if (declared) return declared.split(':')[0]!;
  if (c.classification.fingerprinter) return 'marketing';
  const t = c.classification.tracker;
  if (t && c.classification.kind === 'tracker') return CATEGORY[t.category] ?? 'marketing';
  if (c.classification.kind === 'functional' || c.classification.kind === 'allowed') return 'necessary';
  return c.classification.party === 'third' ? 'marketing' : 'unclassified';
};

const providerOf = (c: Classification): string =>
  c.kind === 'consent'
    ? 'this site (consent record)'
    : c.tracker
      ? `${c.tracker.name}${c.tracker.organization && c.tracker.organization !== c.tracker.name ? ` (${c.tracker.organization})` : ''}`
      : c.party === 'first'
        ? 'this site'
        : c.site;

/**
 * A service id core accepts (`ID_RE`: a lowercase letter first, at most 32 characters) for a
 * provider's name, not one already in `taken`: "123 Media" and a 40-letter vendor name make
 * valid ids, and two providers whose names slug alike ("Google", "Google (Alphabet)") get two.
 */
const serviceId = (provider: string, taken: Set<string>): string => {
  const s = provider
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/\(.*?\)/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^[^a-z]+/, '');
  const base = s.slice(0, 28).replace(/-+$/, '') || 'service';
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
  taken.add(id);
  return id;
};

/**
 * Builds the declaration from a report's accept phases (and its reject phases, for the
 * consent cookie). A cookie the site's Assent config already declares keeps its category.
 */
export const buildDeclaration = (report: ScanReport): Declaration => {
  const rows = new Map<string, DeclarationRow & { pages: string[] }>();
  // The service id a row's cookie is declared under in the site's config (`analytics:stats` →
  // `stats`): the suggestion keeps it, since receipts and the banner's choices name it.
  const declaredIds = new Map<DeclarationRow, string>();
  for (const p of report.pages) {
    const path = new URL(p.url).pathname;
    const declared = (name: string) =>
      declaredCategory(name, { names: new Set(), globs: [], declared: p.declaredCookies ?? {} });
    for (const c of [...p.phases.accept.cookies, ...p.phases.reject.cookies]) {
      const key = `${c.name}|${c.domain}`;
      const had = rows.get(key);
      if (had) {
        if (!had.pages.includes(path)) had.pages.push(path);
        continue;
      }
      const decl = declared(c.name);
      const category = categoryOf(c, decl);
      // The site's own declaration names the service (`analytics:stats`, titled "Ledger Stats")
      // better than "this site".
      const service =
        decl?.includes(':') && !c.classification.tracker
          ? (p.declaredServices?.[decl] ?? decl.split(':')[1]!)
          : null;
      const days = Math.max(c.lifetimeDays ?? 0, c.requestedLifetimeDays ?? 0);
      const row = {
        name: c.name,
        domain: c.domain,
        provider: service ?? providerOf(c.classification),
        category,
        purpose: PURPOSE[category] ?? PURPOSE.unclassified!,
        duration: c.expires === null ? 'session' : `${Math.max(1, Math.round(days))} days`,
        party: c.classification.party,
        setBy: c.setBy ? `${c.setBy.via === 'script' ? 'script' : 'response'} ${c.setBy.url}` : null,
        pages: [path],
      };
      rows.set(key, row);
      const id = decl?.split(':')[1];
      if (id && ID_RE.test(id)) declaredIds.set(row, id);
    }
  }
  const sorted = [...rows.values()].sort(
    (a, b) =>
      a.category.localeCompare(b.category) ||
      a.provider.localeCompare(b.provider) ||
      a.name.localeCompare(b.name),
  );
  // Categories → services → cookie names: what the banner deletes on reject. A service is the
  // site's declared one where the config names it, else one per provider; its id is unique in
  // the whole config (core refuses a repeated service id).
  const cats = new Map<string, Map<string, { title: string; names: Set<string> }>>();
  const taken = new Set([...declaredIds.values()]);
  const ids = new Map<string, string>();
  for (const r of sorted) {
    if (r.category === 'necessary' || r.category === 'unclassified') continue;
    const services = cats.get(r.category) ?? new Map<string, { title: string; names: Set<string> }>();
    const declaredId = declaredIds.get(r);
    const id =
      declaredId ??
      ids.get(`${r.category}\n${r.provider}`) ??
      (() => {
        const made = serviceId(r.provider, taken);
        ids.set(`${r.category}\n${r.provider}`, made);
        return made;
      })();
    const service = services.get(id) ?? { title: r.provider, names: new Set<string>() };
    service.names.add(r.name);
    services.set(id, service);
    cats.set(r.category, services);
  }
  const categories: CategoryConfig[] = [...cats].map(([id, services]) => ({
    id,
    services: [...services].map(
      ([serviceId, { title, names }]): ServiceConfig => ({
        id: serviceId,
        title,
        cookies: [...names].sort(),
      }),
    ),
  }));
  const first = report.pages[0];
  // The same reason the report gives for accept-ineffective: an accept never made or that did
  // not take leaves the accept phase a visitor who never accepted.
  const unchecked = report.pages.flatMap((p) => {
    const u = p.unchecked?.find((x) => x.rule === 'accept-ineffective');
    return u ? [{ page: new URL(p.url).pathname, reason: u.reason }] : [];
  });
  return {
    site: first ? new URL(first.url).origin : '',
    generatedAt: report.finishedAt,
    rows: sorted,
    suggestedConfig: { categories },
    ...(unchecked.length ? { unchecked } : {}),
  };
};

/**
 * The declaration with the scanned site's origin taken out: URLs on the site become paths
 * (`script /js/stats.js`) and first-party rows lose their domain, so a declaration generated
 * on a staging host, a CI runner or a random port reads the same as one of production, and a
 * committed copy can be compared with a fresh scan (the demo's privacy page does this).
 */
export const siteRelative = (d: Declaration): Declaration => {
  const origin = d.site;
  const strip = (s: string | null) => (s && origin ? s.split(origin).join('') : s);
  return {
    ...d,
    site: '',
    rows: d.rows.map((r) => ({
      ...r,
      domain: r.party === 'first' ? '' : r.domain,
      setBy: strip(r.setBy),
    })),
    ...(d.unchecked
      ? { unchecked: d.unchecked.map((u) => ({ ...u, reason: strip(u.reason) ?? u.reason })) }
      : {}),
  };
};
