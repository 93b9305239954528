import { MAX_DAYS } from '@assent/core';
import { glob, needsConsent } from './classify.js';
import { allowedBy, type ScanConfig } from './config.js';
import type {
  BannerInfo,
  Classification,
  CookieRecord,
  Finding,
  PhaseName,
  PhaseRecord,
  RuleId,
  StorageRecord,
} from './types.js';

/**
 * What each rule means, in words a site owner and a lawyer can both read, with its source.
 * The HTML and Markdown reports quote these.
 */
export const RULE_TEXT: Record<RuleId, { title: string; why: string }> = {
  'banner-missing': {
    title: 'No consent banner',
    why: 'Consent must be asked before non-essential cookies or trackers are used (ePrivacy Directive Art. 5(3); GDPR Art. 4(11), 7).',
  },
  'reject-missing': {
    title: 'No reject option on the first layer',
    why: 'Refusing must be as easy as accepting, on the same layer (EDPB Cookie Banner Taskforce report, 2023, type A; CNIL 2020 guidelines).',
  },
  'reject-ineffective': {
    title: 'Reject does not work',
    why: 'A refusal must be respected and remembered like an acceptance (GDPR Art. 7(3); CNIL 2020 recommendation).',
  },
  'cookie-before-consent': {
    title: 'Non-essential cookie before consent',
    why: 'Storing non-essential information on the device needs prior consent (ePrivacy Directive Art. 5(3)).',
  },
  'cookie-after-reject': {
    title: 'Non-essential cookie after reject',
    why: 'After a refusal no non-essential information may be stored (ePrivacy Directive Art. 5(3)).',
  },
  'storage-before-consent': {
    title: 'Non-essential storage before consent',
    why: 'localStorage, sessionStorage and IndexedDB are covered like cookies (ePrivacy Directive Art. 5(3); EDPB Guidelines 2/2023).',
  },
  'storage-after-reject': {
    title: 'Non-essential storage after reject',
    why: 'After a refusal no non-essential information may be stored (ePrivacy Directive Art. 5(3); EDPB Guidelines 2/2023).',
  },
  'request-before-consent': {
    title: 'Tracker or unknown third party contacted before consent',
    why: 'A request to a tracker sends the visitor’s IP address and identifiers to a third party (EDPB Guidelines 2/2023 on the technical scope of Art. 5(3)).',
  },
  'request-after-reject': {
    title: 'Tracker or unknown third party contacted after reject',
    why: 'After a refusal trackers must stay off (EDPB Guidelines 2/2023; GDPR Art. 7(3)).',
  },
  'consent-cookie-too-long': {
    title: 'Consent remembered longer than 13 months',
    why: `The consent cookie may live at most 13 months (${MAX_DAYS} days) before asking again (CNIL 2020 recommendation).`,
  },
};

const who = (c: Classification): string => {
  if (c.tracker) {
    const org = c.tracker.organization ? `${c.tracker.organization}, ` : '';
    return `${c.tracker.name} (${org}${c.tracker.category.replace(/_/g, ' ')})`;
  }
  return c.kind === 'unknown-third-party' ? `unknown third party ${c.site}` : c.site;
};

/** The cookie names that are the site's consent record. */
export interface ConsentCookies {
  readonly names: ReadonlySet<string>;
  readonly globs: readonly RegExp[];
  /** Cookies the site's Assent config declares non-essential: name or `prefix*` → category. */
  readonly declared?: Readonly<Record<string, string>>;
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
 * the first-party cookies that appear after a reject which were not there before, written by
 * the site itself: after a refusal the only thing a site may store is the refusal.
 */
export const consentCookies = (
  phases: { before: PhaseRecord; reject: PhaseRecord },
  assentCookie: string | null,
  config: ScanConfig,
  declared: Readonly<Record<string, string>> = {},
): ConsentCookies => {
  const names = new Set<string>(assentCookie ? [assentCookie] : []);
  const before = new Set(phases.before.cookies.map((c) => c.name));
  if (phases.reject.choice?.clicked) {
    for (const c of phases.reject.cookies) {
      if (!before.has(c.name) && c.classification.kind === 'first-party') names.add(c.name);
    }
  }
  return { names, globs: config.consentCookies.map(glob), declared };
};

const RULE_BY_PHASE = {
  before: {
    cookie: 'cookie-before-consent',
    storage: 'storage-before-consent',
    request: 'request-before-consent',
  },
  reject: { cookie: 'cookie-after-reject', storage: 'storage-after-reject', request: 'request-after-reject' },
} as const;

/** Every rule, applied to one page's three phases. Pure: the same input gives the same findings. */
export const findingsFor = (
  pageUrl: string,
  banner: BannerInfo,
  phases: { before: PhaseRecord; reject: PhaseRecord; accept: PhaseRecord },
  cc: ConsentCookies,
  config: ScanConfig,
): Finding[] => {
  const out: Omit<Finding, 'allowed'>[] = [];
  const add = (
    rule: RuleId,
    phase: PhaseName,
    type: Finding['subject']['type'],
    name: string,
    message: string,
    c: Classification | null = null,
  ) =>
    out.push({
      rule,
      phase,
      subject: { type, name },
      message,
      tracker: c?.tracker ?? null,
      kind: c?.kind ?? null,
    });

  if (banner.kind === 'none') {
    add(
      'banner-missing',
      'before',
      'banner',
      'banner',
      'No consent banner was found (Assent, a CMP autoconsent knows, or the configured selectors).',
    );
  } else {
    if (banner.rejectOnFirstLayer === false) {
      add(
        'reject-missing',
        'before',
        'banner',
        banner.cmp ?? banner.kind,
        `${banner.cmp} offers no reject option on its first layer.`,
      );
    }
    const r = phases.reject.choice;
    if (r?.clicked && r.effective === false) {
      add(
        'reject-ineffective',
        'reject',
        'banner',
        banner.cmp ?? banner.kind,
        `Clicking reject in ${banner.cmp} did not work: ${r.note ?? 'the choice was not kept'}.`,
      );
    }
  }

  for (const phase of ['before', 'reject'] as const) {
    const p = phases[phase];
    // Without a reject click the "after reject" visit is just another visit without consent.
    if (phase === 'reject' && !p.choice?.clicked) continue;
    const rules = RULE_BY_PHASE[phase];
    const when = phase === 'before' ? 'before consent' : 'after reject';
    for (const c of p.cookies) {
      const declared = declaredCategory(c.name, cc);
      if (isConsentCookie(c, cc) || !(needsConsent(c.classification) || declared)) continue;
      const by = c.setBy
        ? ` set by ${c.setBy.via === 'script' ? 'script' : 'response from'} ${c.setBy.url}`
        : '';
      const what =
        needsConsent(c.classification) || !declared
          ? who(c.classification)
          : `declared as "${declared}" in the site's Assent config`;
      add(
        rules.cookie,
        phase,
        'cookie',
        c.name,
        `Cookie ${c.name} (${c.domain})${by}: ${what}, ${when}.`,
        c.classification,
      );
    }
    for (const s of p.storage) {
      if (!needsConsent(s.classification)) continue;
      add(
        rules.storage,
        phase,
        'storage',
        s.key,
        `${storageLabel(s)}: ${who(s.classification)}, ${when}.`,
        s.classification,
      );
    }
    const seen = new Set<string>();
    for (const q of p.thirdPartyRequests) {
      if (phase === 'reject' && !q.afterChoice) continue;
      if (!needsConsent(q.classification) || seen.has(q.url)) continue;
      seen.add(q.url);
      add(
        rules.request,
        phase,
        'request',
        q.url,
        `${q.type} request to ${who(q.classification)}, ${when}: ${q.url}`,
        q.classification,
      );
    }
  }

  for (const phase of ['reject', 'accept'] as const) {
    for (const c of phases[phase].cookies) {
      if (!isConsentCookie(c, cc) || c.lifetimeDays === null) continue;
      const days = Math.max(c.lifetimeDays, c.requestedLifetimeDays ?? 0);
      if (days > MAX_DAYS) {
        add(
          'consent-cookie-too-long',
          phase,
          'cookie',
          c.name,
          `Consent cookie ${c.name} lives ${Math.round(days)} days (at most ${MAX_DAYS}).`,
          c.classification,
        );
      }
    }
  }

  return out.map((f) => {
    const a = allowedBy(config.allow, f, pageUrl);
    return { ...f, allowed: a ? { reason: a.reason } : null };
  });
};

const storageLabel = (s: StorageRecord) =>
  `${s.area} ${s.area === 'indexedDB' ? 'database' : 'key'} ${s.key} (${s.origin})`;
