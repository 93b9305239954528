/**
 * The scan report's data model. `report.json` is exactly a {@link ScanReport}; its shape is
 * versioned by `schemaVersion` and documented in the README. Add fields, never rename them.
 * @packageDocumentation
 */

import type { GoogleConsent } from './detectors/google-consent.js';
import type { RuleId } from './rules/index.js';

export type { RuleId };

/**
 * The four phases: before any choice, after rejecting (both recorded in one visit, the before
 * record taken before the click), after accepting, and a first visit whose browser sends
 * Global Privacy Control (`Sec-GPC: 1`, `navigator.globalPrivacyControl`).
 */
export type PhaseName = 'before' | 'reject' | 'accept' | 'gpc';
export const PHASES: readonly PhaseName[] = ['before', 'reject', 'accept', 'gpc'];

/** The site's consent mode as the scan saw it (Assent's banner) or was told (`mode` in the config). */
export type SiteMode = 'opt-in' | 'opt-out' | 'notice';

/** First party: same registrable domain as the page (Public Suffix List); IPs and `localhost` are their own site. */
export type Party = 'first' | 'third';

/** A match in the tracker database (Ghostery's WhoTracks.me data, when installed). */
export interface Tracker {
  /** The database's pattern key, e.g. `google_analytics`. */
  readonly key: string;
  readonly name: string;
  /** e.g. `site_analytics`, `advertising`, `hosting`. */
  readonly category: string;
  readonly organization: string | null;
}

/**
 * What a request, cookie or storage key is, as far as the scanner can tell:
 * - `tracker`: a known tracker in a non-essential category (advertising, analytics, …);
 * - `functional`: a known third party in an essential category (hosting, CDN, consent, utilities);
 * - `unknown-third-party`: a third party the database does not know; treated as non-essential;
 * - `first-party`: the site's own, purpose unknown, not flagged;
 * - `consent`: the consent record itself;
 * - `allowed`: declared essential in the scanner config.
 */
export type Kind = 'tracker' | 'functional' | 'unknown-third-party' | 'first-party' | 'consent' | 'allowed';

export interface Classification {
  readonly party: Party;
  /** The registrable domain (or the IP / host when there is none). */
  readonly site: string;
  readonly kind: Kind;
  readonly tracker: Tracker | null;
  /**
   * A fingerprinting vendor (data/fingerprinting-vendors.json): needs consent whatever
   * category the tracker database gives it (many are filed as "utilities").
   */
  readonly fingerprinter?: true;
}

/** Who wrote a cookie or a storage key: a response's `Set-Cookie` or a script. */
export interface Source {
  readonly via: 'response' | 'script';
  readonly url: string;
  /**
   * A script's write: the stack of script frames at the write, innermost first, each
   * `url:line:column` (`url` is the first one's script). Absent for `Set-Cookie`.
   */
  readonly stack?: readonly string[];
}

export interface CookieRecord {
  readonly name: string;
  readonly domain: string;
  readonly path: string;
  /** Unix seconds; `null` for a session cookie. */
  readonly expires: number | null;
  /** Days from the scan until expiry, one decimal; `null` for a session cookie. */
  readonly lifetimeDays: number | null;
  /** What the site asked for, when seen (Chromium caps stored lifetimes at 400 days). */
  readonly requestedLifetimeDays: number | null;
  readonly httpOnly: boolean;
  readonly secure: boolean;
  readonly sameSite: 'Strict' | 'Lax' | 'None';
  readonly setBy: Source | null;
  readonly classification: Classification;
  /**
   * Reject and accept visits: whether the last write seen was after the choice was clicked.
   * Absent when no write was seen (the jar alone shows it). A cookie written before the
   * choice and left in the jar is judged by the rules of that time, not as the choice's.
   */
  readonly afterChoice?: boolean;
  /**
   * Reject and accept visits: a script wrote it between the click and the reload after it —
   * the choice's own doing (a CMP storing it). Absent otherwise.
   */
  readonly writtenAtChoice?: true;
  /**
   * Written during the visit and gone when the jar was read: deleted by the page or its CMP (a
   * clean-up at start). It existed, so the rules judge it as any other; its jar fields
   * (`domain` is the page's host, `expires`, flags) are unknown. Absent otherwise.
   */
  readonly deleted?: true;
}

export type StorageArea = 'localStorage' | 'sessionStorage' | 'indexedDB';

export interface StorageRecord {
  readonly area: StorageArea;
  readonly origin: string;
  /** The key (web storage) or the database name (IndexedDB). */
  readonly key: string;
  readonly setBy: Source | null;
  readonly classification: Classification;
  /** As for cookies: whether the last write seen was after the choice; absent when none was seen. */
  readonly afterChoice?: boolean;
}

export interface Initiator {
  /** Chromium's initiator type: `parser`, `script`, `preload`, `other`, … */
  readonly type: string;
  readonly url: string | null;
}

export interface RequestRecord {
  readonly url: string;
  readonly method: string;
  /** Playwright's resource type: `script`, `image`, `xhr`, `fetch`, `ping`, `document`, …, or `websocket`. */
  readonly type: string;
  readonly initiator: Initiator | null;
  /** `true` when the request was sent after the choice was clicked (reject/accept phases). */
  readonly afterChoice: boolean;
  readonly classification: Classification;
  /** Where a redirected request ended (the chain counts once, under the URL that was asked for). */
  readonly redirectedTo?: string;
}

export type BannerKind = 'assent' | 'autoconsent' | 'selectors' | 'none';

export interface BannerInfo {
  readonly kind: BannerKind;
  /** The CMP's name: `Assent`, an autoconsent rule name, `configured selectors`, or `null`. */
  readonly cmp: string | null;
  /** A reject control on the first layer; `null` when it cannot be told before clicking. */
  readonly rejectOnFirstLayer: boolean | null;
  readonly acceptOnFirstLayer: boolean | null;
}

export interface ChoiceResult {
  readonly method: BannerKind;
  /** A control was found and clicked (or the CMP's rule ran). */
  readonly clicked: boolean;
  /**
   * The banner went away and the choice stuck; `false` too when the control was visible but
   * could not be clicked (covered, `pointer-events: none`); `null` when nothing was clicked.
   */
  readonly effective: boolean | null;
  /** Clicks it took (autoconsent counts them); 1 for Assent and selectors. */
  readonly clicks: number | null;
  readonly note: string | null;
}

export interface Screenshot {
  /** Path relative to the report directory, or `null` when no directory was written. */
  readonly file: string | null;
  readonly sha256: string;
}

export interface PhaseRecord {
  readonly name: PhaseName;
  readonly url: string;
  readonly durationMs: number;
  readonly choice: ChoiceResult | null;
  readonly cookies: readonly CookieRecord[];
  readonly storage: readonly StorageRecord[];
  /** Every request to a third-party site, in order. */
  readonly thirdPartyRequests: readonly RequestRecord[];
  /** How many first-party requests there were (they are not listed). */
  readonly firstPartyRequestCount: number;
  readonly screenshot: Screenshot | null;
  /**
   * Accept phase: elements still held back (`type="text/plain"` with a consent category,
   * `data-assent-src` iframes) after the choice, as `tag category src`. Empty when all ran.
   */
  readonly heldAfterChoice?: readonly string[];
  /**
   * Before and after accept: the visible text fields the keylogging check typed sentinels
   * into (at most four), and how many took them. Absent when the page had none.
   */
  readonly sentinels?: { readonly fields: number; readonly typed: number };
  /** Reject phase: the second page of the site visited after the choice, and whether the banner came back. */
  readonly secondPage?: { readonly url: string; readonly bannerShown: boolean } | null;
  /** GPC phase: what was sent and whether the page said it honoured it. */
  readonly gpc?: GpcObservation;
  /** Before phase: the banner's design, the interfaces on screen, the second layer's boxes. */
  readonly bannerDesign?: BannerDesign;
  /** What the detectors found: pixels, session replay, keylogging, fingerprinting, personal data in URLs. */
  readonly detections?: readonly Detection[];
}

export interface ButtonLook {
  readonly width: number;
  readonly height: number;
  readonly fontSize: number;
  readonly fontWeight: number;
  /** Text against the button's face (WCAG contrast ratio). */
  readonly textContrast: number;
  /** The button's face against what surrounds it: a filled button stands out, a bare link does not. */
  readonly faceContrast: number;
}

/** Before phase: the consent interface as a regulator looks at it. */
export interface BannerDesign {
  /** First-layer accept and reject side by side; `null` when either is not there. */
  readonly buttons: { readonly accept: ButtonLook; readonly reject: ButtonLook } | null;
  /** Consent interfaces visible at once (CMP containers). */
  readonly interfaces: readonly string[];
  /** Assent's second layer: non-essential boxes ticked when it opens; `null` when not inspected. */
  readonly preTicked: readonly string[] | null;
  /** Why the second layer was not inspected (`preTicked` is null), in words; null when it was. */
  readonly secondLayerNotInspected?: string | null;
}

export type DetectorName =
  | 'pixel'
  | 'session-replay'
  | 'keylogging'
  | 'fingerprinting'
  | 'personal-data-in-url';

export interface Detection {
  readonly detector: DetectorName;
  /** The vendor (pixel, session replay, third party) or the technique (fingerprinting). */
  readonly name: string;
  /** The script behind it, when known. */
  readonly script: string | null;
  readonly url: string | null;
  readonly detail: string;
  /** A call seen in the page (Meta's `fbq('track', …)`): the caller's stack, innermost first, `url:line:column`. */
  readonly stack?: readonly string[];
  /** Pixels to Google: the consent state the request carried (gcs / gcd). */
  readonly google?: GoogleConsent;
  /** Whether it happened after the choice was clicked (reject and accept visits); absent when not known. */
  readonly afterChoice?: boolean;
}

export interface GpcObservation {
  /** `Sec-GPC: 1` went out with the page's request. */
  readonly headerSent: boolean;
  /** `navigator.globalPrivacyControl === true` in the page. */
  readonly navigatorFlag: boolean;
  /** The visible sentence that says the opt-out was honoured, or `null` when none was found. */
  readonly displayed: string | null;
  /**
   * Opt-in mode, Assent with a receipt endpoint: after a reject on this visit (once everything
   * else was recorded), whether the receipt posted to the site's consent record carried
   * `signals.gpc: true`. `null`: no receipt was posted; absent: not checked (another CMP, no
   * endpoint, another mode).
   */
  readonly recorded?: { readonly receipt: string; readonly gpc: boolean } | null;
}

export interface Finding {
  readonly rule: RuleId;
  readonly phase: PhaseName;
  readonly subject: {
    readonly type: 'banner' | 'cookie' | 'storage' | 'request' | 'element' | 'signal';
    readonly name: string;
  };
  readonly message: string;
  readonly tracker: Tracker | null;
  readonly kind: Kind | null;
  /** Set when the scanner config allows this finding; it then does not fail the scan. */
  readonly allowed: { readonly reason: string } | null;
}

export interface PageResult {
  readonly url: string;
  readonly finalUrl: string;
  readonly title: string;
  readonly durationMs: number;
  readonly banner: BannerInfo;
  /** The mode the rules applied: opt-in rules, opt-out (GPC) rules, or a notice. */
  readonly mode: SiteMode;
  /** Cookies the site's Assent config declares (name or `prefix*` → `category[:service]`). */
  readonly declaredCookies?: Readonly<Record<string, string>>;
  /** The titles of the services the site's Assent config names (`category:service` → title). */
  readonly declaredServices?: Readonly<Record<string, string>>;
  readonly phases: {
    readonly before: PhaseRecord;
    readonly reject: PhaseRecord;
    readonly accept: PhaseRecord;
    readonly gpc: PhaseRecord;
  };
  readonly findings: readonly Finding[];
  /** Rules this page's visits could not test, each with why (see Rule.unchecked). */
  readonly unchecked: readonly { readonly rule: RuleId; readonly reason: string }[];
}

export interface ScanError {
  readonly url: string;
  /** `config`: the config asked for what the scan could not do (a banner selector that never matched). */
  readonly code: 'bad-url' | 'unreachable' | 'http-error' | 'timeout' | 'browser' | 'internal' | 'config';
  readonly message: string;
}

export interface ScanReport {
  readonly schemaVersion: 1;
  readonly tool: {
    readonly name: 'assent-scan';
    readonly version: string;
    readonly browser: string;
    readonly trackerDb: { readonly enabled: boolean; readonly licence: string | null };
  };
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  readonly failOn: readonly RuleId[];
  readonly summary: {
    readonly pages: number;
    readonly violations: number;
    readonly allowed: number;
    readonly errors: number;
    /** 0 clean, 1 violations, 2 scanner error. */
    readonly exitCode: 0 | 1 | 2;
  };
  readonly pages: readonly PageResult[];
  readonly errors: readonly ScanError[];
  /**
   * Start URLs that ended on another origin (a redirect: `http://example.com` →
   * `https://www.example.com`), with the origin the crawl went on from (its links and its
   * sitemap). Absent when none did.
   */
  readonly redirects?: readonly { readonly url: string; readonly origin: string }[];
}
