import { STORAGE_KEYS } from '@assent/core';
import type { Browser } from 'playwright-core';
import { ruleCookieNames } from './autoconsent.js';
import { describeBrowser, launch, scanExecutable } from './browser.js';
import { createClassifier } from './classify.js';
import { DEFAULT_CONFIG, type ScanConfig } from './config.js';
import { Frontier, fetchSitemap } from './crawl.js';
import { type PhaseOutput, runVisit, ScanFailure, type VisitName } from './phase.js';
import {
  consentCookies,
  DEFAULT_FAIL_ON,
  findingsFor,
  isConsentCookie,
  uncheckedFor,
} from './rules/index.js';
import { loadTrackerDb, TRACKERDB_LICENCE } from './trackerdb.js';
import type {
  Classification,
  PageResult,
  PhaseName,
  PhaseRecord,
  RuleId,
  ScanError,
  ScanReport,
} from './types.js';

/** The localStorage keys Assent's banner keeps beside its cookie: core's list, the banner's own. */
export const ASSENT_STORAGE_KEYS: readonly string[] = STORAGE_KEYS;

export const VERSION = '0.1.0';

export type ProgressEvent =
  | {
      readonly type: 'phase';
      readonly url: string;
      readonly phase: PhaseName;
      readonly ms: number;
      readonly page: number;
      /** Milliseconds per step of the visit (load, banner, choice, quiet-network waits…). */
      readonly steps: Readonly<Record<string, number>>;
    }
  | {
      readonly type: 'page';
      readonly url: string;
      readonly page: number;
      readonly violations: number;
      readonly ms: number;
    }
  | { readonly type: 'error'; readonly url: string; readonly message: string };

export interface ScanOptions extends Partial<ScanConfig> {
  /** Pages per start URL (breadth-first, same origin, sitemap first). Default 1. */
  readonly pages?: number;
  /**
   * Pages in their busy part at once (each runs its three visits at once). Default 1, for a
   * 2-core machine. A page whose three visits have all made their choice and only wait for late
   * requests no longer counts: the next page starts then, so one page's waits overlap the
   * next one's loading, with at most twice this many pages open (unless `overlap` is false).
   */
  readonly concurrency?: number;
  /** Start the next page while the current one only waits for late requests. Default true. */
  readonly overlap?: boolean;
  /** Rules that make the scan fail (exit 1). Default: every rule of severity `error`. */
  readonly failOn?: readonly RuleId[];
  /** Use the tracker database when it is installed. Default true. */
  readonly trackerDb?: boolean;
  /** Record a HAR per phase (request bodies included) for the evidence pack. Default false. */
  readonly har?: boolean;
  /** Reuse a browser (tests, benches); otherwise one is launched and closed. */
  readonly browser?: Browser;
  readonly onProgress?: (e: ProgressEvent) => void;
}

export interface ScanResult {
  readonly report: ScanReport;
  /** Screenshots by their report path (`screenshots/1-before.jpg`). */
  readonly images: ReadonlyMap<string, Buffer>;
  /** Other evidence files by report path: the HARs (`har/1-before.har`). */
  readonly files: ReadonlyMap<string, Buffer>;
}

/** `true` for an absolute http(s) URL. */
export const validUrl = (url: string): boolean => {
  try {
    return /^https?:$/.test(new URL(url).protocol);
  } catch {
    return false;
  }
};

/**
 * Scans pages in four phases — before consent, after reject, after accept, with Global
 * Privacy Control — recorded in three fresh visits (the reject visit records the before
 * phase first), and
 * returns the report with its screenshots. Never throws for what a user can cause (bad URL,
 * site down): those are `report.errors` and exit code 2.
 *
 * @example
 * const { report } = await scan(['https://example.com'], { pages: 5 });
 * if (report.summary.exitCode !== 0) console.log(report.pages.flatMap((p) => p.findings));
 */
export const scan = async (urls: readonly string[], options: ScanOptions = {}): Promise<ScanResult> => {
  const startedAt = new Date();
  const config: ScanConfig = { ...DEFAULT_CONFIG, ...definedOnly(options) };
  const failOn = options.failOn ?? DEFAULT_FAIL_ON;
  const errors: ScanError[] = [];
  const pages: { n: number; result: PageResult }[] = [];
  const images = new Map<string, Buffer>();
  const files = new Map<string, Buffer>();
  const progress = options.onProgress ?? (() => {});

  const frontiers: Frontier[] = [];
  for (const url of urls) {
    if (!validUrl(url)) {
      errors.push({ url, code: 'bad-url', message: `not an http(s) URL: ${JSON.stringify(url)}` });
      continue;
    }
    const f = new Frontier(new URL(url).origin, Math.max(1, options.pages ?? 1));
    f.add(url, true);
    // The rest waits for the start URL's first load: where it ends is the origin crawled.
    f.hold();
    frontiers.push(f);
  }
  const crawling = (options.pages ?? 1) > 1;

  const db = options.trackerDb === false ? null : await loadTrackerDb();
  const classifier = createClassifier(db, config.essentialHosts);
  let browser = options.browser;
  let browserName = '';
  if (frontiers.length) {
    try {
      browser ??= await launch(config.hostResolverRules, config.chromiumArgs, scanExecutable());
      browserName = await describeBrowser(browser);
    } catch (e) {
      errors.push({
        url: urls[0] ?? '',
        code: 'browser',
        message: `cannot start Chromium: ${firstLine(e)}. Run scripts/install-chromium.sh`,
      });
    }
  }
  // Each start URL's sitemap, fetched through the browser (its host resolver rules apply).
  if (crawling && browser) {
    const b = browser;
    await Promise.all(
      frontiers.map(async (f) => {
        for (const u of await fetchSitemap(f.origin, b)) f.add(u);
      }),
    );
  }
  /** Start URLs that ended on another origin, and the origin crawled from there on. */
  const redirects: { url: string; origin: string }[] = [];
  /** Wakes the page loop (below): a page freed its place, or a frontier has pages to give. */
  let wake = () => {};
  /**
   * The crawl goes on from where the start URL ended (`http://example.com` → `https://www.example.com`):
   * the frontier's origin, and the sitemap of that origin. Without it every link of the
   * site was of "another origin", and dropped. Then the frontier gives its other pages.
   */
  const rebaseOn = async (f: Frontier, finalUrl: string | null): Promise<void> => {
    try {
      const u = finalUrl ? new URL(finalUrl) : null;
      if (u && /^https?:$/.test(u.protocol) && u.origin !== f.origin) {
        redirects.push({ url: f.start ?? f.origin, origin: u.origin });
        f.rebase(u.origin);
        if (crawling && browser) for (const s of await fetchSitemap(u.origin, browser)) f.add(s);
      }
    } catch {
      // not a URL: the origin stays the start URL's
    } finally {
      f.settle();
      wake();
    }
  };

  let counter = 0;
  /** Whether the configured banner selector (`selectors.banner`) found the banner on any visit. */
  let selectorsMatched = false;
  /** `waiting()` is called once all three visits of the page only wait (or have ended). */
  const scanOne = async (url: string, frontier: Frontier, waiting: () => void) => {
    const n = ++counter;
    const t0 = Date.now();
    let settling = 0;
    const oneWaiting = () => {
      if (++settling === 3) waiting();
    };
    try {
      // Three fresh contexts at once (the reject visit records the before phase first): each
      // finds the banner itself, so they are independent, and most of a visit is waiting on
      // the network, not the CPU.
      /** The start URL's first visit to load tells where the crawl goes on (rebaseOn). */
      let based: Promise<void> | null = null;
      const loaded = (finalUrl: string) => {
        if (url === frontier.start) based ??= rebaseOn(frontier, finalUrl);
      };
      const run = (visit: VisitName) => {
        let told = false;
        const tell = () => {
          if (!told) oneWaiting();
          told = true;
        };
        return runVisit(browser!, url, visit, null, classifier, config, options.har === true, tell, loaded)
          .then(async (outs) => {
            for (const out of outs) {
              if (out.record.name === 'before') {
                // The sitemap of the origin the crawl goes on from comes before the links.
                await based;
                for (const l of out.links) frontier.add(l);
              }
              progress({
                type: 'phase',
                url,
                phase: out.record.name,
                ms: out.record.durationMs,
                page: n,
                steps: out.steps,
              });
            }
            return outs;
          })
          .finally(tell);
      };
      const settled = await Promise.allSettled([run('reject'), run('accept'), run('gpc')]);
      const failed = settled.find((s) => s.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      const outs = settled.flatMap((s) => (s as PromiseFulfilledResult<PhaseOutput[]>).value);
      const of = (name: PhaseName): PhaseOutput => {
        const o = outs.find((x) => x.record.name === name);
        if (!o) throw new Error(`the scan recorded no ${name} phase`);
        return o;
      };
      const [before, reject, accept, gpc] = [of('before'), of('reject'), of('accept'), of('gpc')];
      if ([before, accept, gpc].some((o) => o.banner.kind === 'selectors')) selectorsMatched = true;
      // Whether reject is on the first layer of another CMP shows when opting out (clicks).
      const banner =
        before.banner.kind === 'autoconsent' && reject.banner.kind === 'autoconsent'
          ? { ...before.banner, rejectOnFirstLayer: reject.banner.rejectOnFirstLayer }
          : before.banner;
      const withShots = (o: PhaseOutput): PhaseRecord => {
        if (o.har) files.set(`har/${n}-${o.record.name}.har`, o.har);
        if (!o.image || !o.record.screenshot) return o.record;
        const file = `screenshots/${n}-${o.record.name}.jpg`;
        images.set(file, o.image);
        return { ...o.record, screenshot: { ...o.record.screenshot, file } };
      };
      let phases = {
        before: withShots(before),
        reject: withShots(reject),
        accept: withShots(accept),
        gpc: withShots(gpc),
      };
      const cc = consentCookies(
        phases,
        before.assentCookie ?? reject.assentCookie,
        config,
        { ...reject.assentDeclared, ...before.assentDeclared },
        [...new Set([...reject.assentSale, ...before.assentSale])],
        banner.kind === 'autoconsent' && banner.cmp ? ruleCookieNames(banner.cmp) : [],
      );
      const endpoint = before.assentEndpoint ?? reject.assentEndpoint;
      const server = before.assentServer ?? reject.assentServer;
      const services = { ...reject.assentServices, ...before.assentServices };
      // Posting the receipt to Assent's endpoint records the choice, and what the banner asks
      // its receipt server (itself, its preferences, the policy, a stored choice's
      // revalidation: all under `…/v1/`) keeps that record: none of it tracks anyone.
      const isConsentTraffic = (url: string) =>
        (!!endpoint && url.split('?')[0] === endpoint.split('?')[0]) || (!!server && url.startsWith(server));
      const assent = before.banner.kind === 'assent' || reject.banner.kind === 'assent';
      const consent = <T extends { classification: Classification }>(x: T): T => ({
        ...x,
        classification: { ...x.classification, kind: 'consent' as const, tracker: null },
      });
      const markConsent = (p: PhaseRecord): PhaseRecord => ({
        ...p,
        thirdPartyRequests: p.thirdPartyRequests.map((q) => (isConsentTraffic(q.url) ? consent(q) : q)),
        // Nor does what the receipt carries (the page's path) count as personal data sent away.
        ...(p.detections
          ? {
              detections: p.detections.filter(
                (d) => !(d.detector === 'personal-data-in-url' && d.url && isConsentTraffic(d.url)),
              ),
            }
          : {}),
        cookies: p.cookies.map((c) => (isConsentCookie(c, cc) ? consent(c) : c)),
        // The banner's own keys beside its cookie are the same record (when it was served
        // from the receipt server they were written by a third-party script).
        storage: p.storage.map((x) =>
          assent && x.area === 'localStorage' && ASSENT_STORAGE_KEYS.includes(x.key) ? consent(x) : x,
        ),
      });
      phases = {
        before: markConsent(phases.before),
        reject: markConsent(phases.reject),
        accept: markConsent(phases.accept),
        gpc: markConsent(phases.gpc),
      };
      const mode = config.mode ?? before.assentMode ?? reject.assentMode ?? 'opt-in';
      const findings = findingsFor(url, { banner, mode, phases, cc }, config);
      const unchecked = uncheckedFor({ banner, mode, phases, cc });
      const result: PageResult = {
        url,
        finalUrl: before.finalUrl,
        title: before.title,
        durationMs: Date.now() - t0,
        banner,
        mode,
        ...(cc.declared && Object.keys(cc.declared).length ? { declaredCookies: cc.declared } : {}),
        ...(Object.keys(services).length ? { declaredServices: services } : {}),
        phases,
        findings,
        unchecked,
      };
      pages.push({ n, result });
      progress({
        type: 'page',
        url,
        page: n,
        ms: result.durationMs,
        // What fails the scan: a warning outside --fail-on is reported, not counted.
        violations: findings.filter((f) => !f.allowed && failOn.includes(f.rule)).length,
      });
    } catch (e) {
      // A start URL that never loaded: the crawl goes on from its own origin.
      if (url === frontier.start) void rebaseOn(frontier, null);
      const err: ScanError =
        e instanceof ScanFailure
          ? { url, code: e.code, message: e.message }
          : { url, code: 'internal', message: `scanner error on ${url}: ${firstLine(e)}` };
      errors.push(err);
      progress({ type: 'error', url, message: err.message });
    }
  };

  if (browser) {
    const concurrency = Math.max(1, options.concurrency ?? 1);
    /** Pages open, and those of them still busy (not yet only waiting for late requests). */
    const active = new Set<Promise<void>>();
    const busy = new Set<Promise<void>>();
    for (;;) {
      while (busy.size < concurrency && active.size < concurrency * 2) {
        let picked: [string, Frontier] | undefined;
        for (const f of frontiers) {
          const u = f.next();
          if (u) {
            picked = [u, f];
            break;
          }
        }
        if (!picked) break;
        const p: Promise<void> = scanOne(...picked, () => {
          if (options.overlap === false) return;
          busy.delete(p);
          wake();
        }).finally(() => {
          active.delete(p);
          busy.delete(p);
        });
        active.add(p);
        busy.add(p);
      }
      if (!active.size) break;
      // On until a page ends or starts only waiting: either frees a place.
      await Promise.race([...active, new Promise<void>((r) => (wake = r))]);
    }
    if (!options.browser) await browser.close().catch(() => {});
  }

  const sorted = pages.sort((a, b) => a.n - b.n).map((p) => p.result);
  // A banner selector the owner configured that showed on no page, where pages had no banner:
  // the selector is wrong (or the banner gone), and the scan could not do what it was told.
  // Exit 2, naming it, rather than pages "without a banner" whose choice rules are unchecked.
  const selector = config.selectors?.banner;
  const bare = sorted.filter((p) => p.banner.kind === 'none');
  if (selector && !selectorsMatched && bare.length) {
    const where =
      bare.length === 1 ? bare[0]!.url : `${bare.length} pages (${bare.map((p) => p.url).join(', ')})`;
    errors.push({
      url: bare[0]!.url,
      code: 'config',
      message: `the configured banner selector ${JSON.stringify(selector)} (selectors.banner) never matched: no banner was found on ${where}, and the selector showed on no page of the scan`,
    });
  }
  const all = sorted.flatMap((p) => p.findings);
  const violations = all.filter((f) => !f.allowed && failOn.includes(f.rule)).length;
  const finishedAt = new Date();
  return {
    images,
    files,
    report: {
      schemaVersion: 1,
      tool: {
        name: 'assent-scan',
        version: VERSION,
        browser: browserName,
        trackerDb: { enabled: db !== null, licence: db ? TRACKERDB_LICENCE : null },
      },
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt.getTime() - startedAt.getTime(),
      failOn,
      summary: {
        pages: sorted.length,
        violations,
        allowed: all.filter((f) => f.allowed).length,
        errors: errors.length,
        exitCode: errors.length ? 2 : violations ? 1 : 0,
      },
      pages: sorted,
      errors,
      ...(redirects.length ? { redirects } : {}),
    },
  };
};

const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

const definedOnly = (o: ScanOptions): Partial<ScanConfig> =>
  Object.fromEntries(
    Object.entries(o).filter(([k, v]) => v !== undefined && k in DEFAULT_CONFIG),
  ) as Partial<ScanConfig>;
