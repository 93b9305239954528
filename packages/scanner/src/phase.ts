import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Autoconsent } from './autoconsent.js';
import {
  assentConfig,
  bannerShowing,
  choose,
  detectBanner,
  notClicked,
  rejectAllInDialog,
} from './banner.js';
import { closeSecondLayer, inspectBanner } from './banner-design.js';
import type { Classifier } from './classify.js';
import type { ScanConfig } from './config.js';
import { PAGE_CALL_MS, within } from './deadline.js';
import { GPC_SIGNAL, GPC_TEXT, HELD_AFTER_CHOICE, SCROLL } from './instrument.js';
import { Recorder } from './recorder.js';
import { Stopwatch } from './stopwatch.js';
import type { BannerInfo, ChoiceResult, GpcObservation, PhaseName, PhaseRecord, SiteMode } from './types.js';

/** A scanner error a user can cause (bad URL, site down): reported as a message, exit code 2. */
export class ScanFailure extends Error {
  constructor(
    readonly code: 'bad-url' | 'unreachable' | 'http-error' | 'timeout',
    message: string,
  ) {
    super(message);
  }
}

export interface PhaseOutput {
  readonly record: PhaseRecord;
  readonly banner: BannerInfo;
  readonly image: Buffer | null;
  readonly title: string;
  readonly finalUrl: string;
  readonly links: readonly string[];
  readonly assentCookie: string | null;
  /** Assent's receipt endpoint, absolute; requests to it are the consent record, not tracking. */
  readonly assentEndpoint: string | null;
  /** Assent's receipt server API (`…/v1/`), absolute: what the banner asks there is consent traffic. */
  readonly assentServer: string | null;
  /** Cookie names (a trailing `*` is a prefix) the site's Assent config declares non-essential → category. */
  readonly assentDeclared: Readonly<Record<string, string>>;
  /** The titles of the services the site's Assent config names, by `category:service`. */
  readonly assentServices: Readonly<Record<string, string>>;
  /** The categories the site's Assent config has GPC refuse (core's `isSale`). */
  readonly assentSale: readonly string[];
  /** The mode Assent's first layer shows (opt-out: "Do not sell"; notice: no reject, no preferences); `null` for other banners. */
  readonly assentMode: SiteMode | null;
  /** The visit's HAR, when asked for. */
  readonly har: Buffer | null;
  /** Milliseconds per step of the visit (see Stopwatch): for the benchmark, not the report. */
  readonly steps: Readonly<Record<string, number>>;
}

/**
 * Assent's mode, read from its first layer as a visitor sees it. A string, not a function:
 * tsx's helpers (`__name`) do not exist in the page.
 */
const ASSENT_MODE = `(() => {
  const b = document.getElementById('assent-banner');
  if (!b) return null;
  const has = (a) => b.querySelector('[data-assent-action="' + a + '"]') !== null;
  return has('do-not-sell') ? 'opt-out' : !has('reject') && !has('preferences') ? 'notice' : 'opt-in';
})()`;

const assentMode = (page: Page): Promise<SiteMode | null> =>
  within(
    page.evaluate<SiteMode | null>(ASSENT_MODE).catch(() => null),
    PAGE_CALL_MS,
    null,
  );

/** The `href` of every link on the page (bounded: see deadline.ts). */
const linksOf = (page: Page): Promise<string[]> =>
  within(
    page.$$eval('a[href]', (as) => as.map((a) => (a as HTMLAnchorElement).href)).catch(() => [] as string[]),
    PAGE_CALL_MS,
    [],
  );

/** `page.evaluate`, bounded, `fallback` on an error or no answer. */
const ask = <T>(page: Page, expression: string, fallback: T): Promise<T> =>
  within(
    page.evaluate<T>(expression).catch(() => fallback),
    PAGE_CALL_MS,
    fallback,
  );

/** A same-origin page linked from this one, other than itself: where a returning visitor goes next. */
const secondPageUrl = async (page: Page): Promise<string | null> => {
  const here = new URL(page.url());
  const hrefs = await linksOf(page);
  for (const h of hrefs) {
    try {
      const u = new URL(h);
      if (u.origin !== here.origin || u.pathname === here.pathname) continue;
      if (/\.(pdf|zip|png|jpe?g|gif|svg|webp|mp4|mp3|xml|json|txt|csv)$/i.test(u.pathname)) continue;
      return u.href.replace(/#.*$/, '');
    } catch {
      // not a URL
    }
  }
  return null;
};

const VIEWPORT = { width: 1280, height: 800 };

/**
 * The bound on late requests: every phase records at least this long after the load event of
 * the page it records (the first load, or the reload after the choice), then until the
 * network has been quiet for 500 ms (5 s at most). A tag on a 2-second timer is caught
 * (test/late.test.ts); one on a longer timer is caught only when the page is still busy.
 */
export const SETTLE_MS = 2000;

/** Milliseconds left until the page's load event is SETTLE_MS old, by the page's own clock. */
const SETTLE_LEFT = `(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const end = nav && nav.loadEventEnd > 0 ? nav.loadEventEnd : performance.now();
  return Math.max(0, Math.ceil(end + ${SETTLE_MS} - performance.now()));
})()`;

/** Waits until the page's load event is SETTLE_MS old (Node's timer: the page may replace its own). */
const settle = async (page: Page): Promise<void> => {
  const left = await ask<number>(page, SETTLE_LEFT, 0);
  if (left > 0) await sleep(Math.min(left, SETTLE_MS));
};

/** The page loaded SETTLE_MS ago and the network quiet: as long as the reject visit reads the page before its click. */
const settleQuietly = async (page: Page, rec: Recorder): Promise<void> => {
  await rec.idle(300);
  await settle(page);
  await rec.idle();
};

/**
 * Types sentinel values into the page's visible text fields, without submitting, as a visitor
 * who starts filling a form and stops: a request that carries one afterwards is keylogging.
 * Passwords are left alone. At most four fields, so a long form does not slow the scan. The
 * caller waits for the network afterwards: what a recorder sends on blur comes then. Returns
 * how many visible fields there were and how many took the sentinel (`undefined`: none), so
 * a form that could not be typed into is reported as not checked rather than passed.
 */
const typeSentinels = async (page: Page, rec: Recorder, sw: Stopwatch): Promise<PhaseRecord['sentinels']> => {
  const tag = Math.random().toString(36).slice(2, 8);
  const text = `assentkey${tag}`;
  const email = `assent.${tag}@example.org`;
  const fields = page.locator(
    'input:not([type]), input[type="text"], input[type="email"], input[type="search"], input[type="tel"], textarea',
  );
  const n = Math.min(await fields.count().catch(() => 0), 4);
  if (!n) return undefined;
  rec.markTyped([text, email]);
  let visible = 0;
  let typed = 0;
  for (let i = 0; i < n; i++) {
    const f = fields.nth(i);
    if (!(await f.isVisible().catch(() => false))) continue;
    visible++;
    const type = await f.getAttribute('type').catch(() => null);
    await f.pressSequentially(type === 'email' ? email : text, { delay: 5, timeout: 5000 }).then(
      () => typed++,
      () => {},
    );
  }
  // Leave the last field, as a visitor would: some recorders send on blur.
  await page.keyboard.press('Tab').catch(() => {});
  sw.lap('sentinels');
  return visible ? { fields: visible, typed } : undefined;
};

/** Turns Chromium's network error codes into a sentence for the site owner. */
const explain = (url: string, e: unknown): ScanFailure => {
  const msg = e instanceof Error ? e.message : String(e);
  const net = /net::(ERR_[A-Z_]+)/.exec(msg)?.[1];
  if (/Timeout \d+ms exceeded/.test(msg))
    return new ScanFailure('timeout', `${url} did not finish loading in time`);
  const words: Record<string, string> = {
    ERR_CONNECTION_REFUSED: 'the connection was refused (is the site running?)',
    ERR_NAME_NOT_RESOLVED: 'its host name does not resolve',
    ERR_ADDRESS_UNREACHABLE: 'its address is unreachable',
    ERR_CONNECTION_RESET: 'the connection was reset',
    ERR_CERT_AUTHORITY_INVALID: 'its TLS certificate is not trusted',
    ERR_EMPTY_RESPONSE: 'the server closed the connection without answering',
  };
  return new ScanFailure(
    'unreachable',
    `cannot load ${url}: ${net ? (words[net] ?? net) : msg.split('\n')[0]}`,
  );
};

/** The three visits of a page: `reject` records the `before` phase first, then refuses. */
export type VisitName = 'reject' | 'accept' | 'gpc';

/**
 * One visit in a fresh browser context (no cookies, no storage): load, find the banner,
 * make the visit's choice, then reload as a returning visitor (after reject: and go on to a
 * second page of the site), scroll, and record. The GPC visit makes no choice: its browser
 * sends the signal.
 *
 * The reject visit first records what happens before any choice (the `before` phase: wait
 * for the network, screenshot, type sentinels, scroll, let late tags fire, inspect the
 * banner's design) and only then refuses. A visitor who reads the page before refusing does
 * exactly this, and the scan saves a fourth browser context per page: about an eighth of its
 * CPU (0.87× in the same bench run; bench/results/scanner.md and the scanner README).
 */
export const runVisit = async (
  browser: Browser,
  url: string,
  visit: VisitName,
  known: BannerInfo | null,
  classifier: Classifier,
  config: ScanConfig,
  /** Record a HAR of the visit (request bodies included, response bodies left out) for the evidence pack. */
  har = false,
  /** Called once the visit has made its choice and only waits for late requests (see scan.ts). */
  onSettling: () => void = () => {},
  /** Called with the page's URL once its first load is done (after any redirect). */
  onLoaded: (finalUrl: string) => void = () => {},
): Promise<PhaseOutput[]> => {
  // The visit's deadline: a page whose script never yields (`for (;;) {}`) answers no call
  // into it, some of which Playwright cannot bound (a locator's visibility check). At the
  // deadline the context is closed, which ends every call still waiting on it, and the page
  // is reported as a timeout (exit 2: the scan could not run), never waited on for ever.
  let context: BrowserContext | null = null;
  const work = visitOnce(browser, url, visit, known, classifier, config, har, onSettling, onLoaded, (c) => {
    context = c;
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new ScanFailure(
            'timeout',
            `${url} stopped responding: its ${visit} visit did not finish within ${Math.round(config.visitTimeout / 1000)} s (a script that never yields?)`,
          ),
        ),
      config.visitTimeout,
    );
  });
  try {
    return await Promise.race([work, deadline]);
  } catch (e) {
    if (e instanceof ScanFailure && e.code === 'timeout') {
      work.catch(() => {});
      await (context as BrowserContext | null)?.close().catch(() => {});
    }
    throw e;
  } finally {
    clearTimeout(timer);
  }
};

const visitOnce = async (
  browser: Browser,
  url: string,
  visit: VisitName,
  known: BannerInfo | null,
  classifier: Classifier,
  config: ScanConfig,
  har: boolean,
  onSettling: () => void,
  onLoaded: (finalUrl: string) => void,
  onContext: (context: BrowserContext) => void,
): Promise<PhaseOutput[]> => {
  const started = Date.now();
  let sw = new Stopwatch();
  const gpc = visit === 'gpc';
  const harDir = har ? mkdtempSync(join(tmpdir(), 'assent-scan-har-')) : null;
  const context = await browser.newContext({
    viewport: VIEWPORT,
    locale: 'en-GB',
    serviceWorkers: 'block',
    // The GPC visit: the header on every request, and the property scripts read.
    ...(gpc ? { extraHTTPHeaders: { 'Sec-GPC': '1' } } : {}),
    ...(harDir ? { recordHar: { path: join(harDir, 'visit.har'), content: 'omit' as const } } : {}),
  });
  onContext(context);
  const outs: PhaseOutput[] = [];
  /** When the `before` record was taken: the end of the before phase's part of the HAR. */
  let beforeEnd = 0;
  /** The reject visit: Assent's preferences dialog, opened for its design, would not close. */
  let secondLayerOpen = false;
  sw.lap('context: new');
  try {
    context.setDefaultTimeout(config.navigationTimeout);
    if (gpc) await context.addInitScript(GPC_SIGNAL);
    const rec = new Recorder(context, classifier);
    await rec.attach();
    sw.lap('context: recorder');
    const useAc = config.autoconsent && (known === null || known.kind === 'autoconsent');
    // The reject visit runs autoconsent from the start: its before phase counts the consent
    // interfaces on screen, another CMP beside Assent's among them. The accept and GPC visits
    // start it only when Assent's banner is not there.
    const ac = useAc ? new Autoconsent(visit !== 'reject') : null;
    if (ac) await ac.attach(context);
    sw.lap('context: autoconsent');
    const page = await context.newPage();
    sw.lap('context: new page');
    await rec.watchInitiators(page);
    sw.lap('context: initiators (CDP)');

    let status = 0;
    try {
      const res = await page.goto(url, { waitUntil: 'load', timeout: config.navigationTimeout });
      status = res?.status() ?? 0;
    } catch (e) {
      throw explain(url, e);
    }
    if (status >= 400) throw new ScanFailure('http-error', `${url} answered HTTP ${status}`);
    onLoaded(page.url());
    sw.lap('load');

    let banner = known ?? (await detectBanner(page, ac, config.selectors, config.bannerTimeout));
    const mode = banner.kind === 'assent' ? await assentMode(page) : null;
    sw.lap('banner');

    /** The visit as it stands, as the record of phase `name`. */
    const record = async (
      name: PhaseName,
      seen: Pick<
        PhaseRecord,
        'choice' | 'heldAfterChoice' | 'sentinels' | 'secondPage' | 'gpc' | 'bannerDesign'
      >,
      image: Buffer | null,
    ): Promise<PhaseOutput> => {
      const pageUrl = page.url();
      const [cookies, storage] = await Promise.all([rec.cookies(pageUrl), rec.storage(page, pageUrl)]);
      const { thirdParty, firstPartyCount } = rec.requestLog(pageUrl);
      const links = name === 'before' ? await linksOf(page) : [];
      const assent = banner.kind === 'assent' ? await assentConfig(page) : null;
      const title = await within(
        page.title().catch(() => ''),
        PAGE_CALL_MS,
        '',
      );
      const detections = rec.detections(pageUrl, title);
      return {
        record: {
          name,
          url: pageUrl,
          durationMs: Date.now() - started,
          choice: seen.choice,
          cookies,
          storage,
          thirdPartyRequests: thirdParty,
          firstPartyRequestCount: firstPartyCount,
          screenshot: image ? { file: null, sha256: createHash('sha256').update(image).digest('hex') } : null,
          ...(seen.heldAfterChoice ? { heldAfterChoice: seen.heldAfterChoice } : {}),
          ...(seen.sentinels ? { sentinels: seen.sentinels } : {}),
          ...(seen.secondPage !== undefined ? { secondPage: seen.secondPage } : {}),
          ...(seen.gpc ? { gpc: seen.gpc } : {}),
          detections,
          ...(seen.bannerDesign ? { bannerDesign: seen.bannerDesign } : {}),
        },
        banner,
        image,
        title,
        finalUrl: pageUrl,
        links,
        assentCookie: banner.kind === 'assent' ? (assent?.cookieName ?? 'assent') : null,
        assentEndpoint: assent?.endpoint ? new URL(assent.endpoint, pageUrl).href : null,
        assentServer: assent?.server ? new URL(assent.server, pageUrl).href : null,
        assentDeclared: assent?.declared ?? {},
        assentServices: assent?.services ?? {},
        assentSale: assent?.sale ?? [],
        assentMode: mode,
        har: null,
        steps: {},
      };
    };

    if (visit === 'reject') {
      // The before phase: a visitor reading the page, no choice made yet.
      await rec.idle(300);
      sw.lap('quiet: after load');
      const shot = await shoot(page);
      sw.lap('screenshot');
      const sentinels = await typeSentinels(page, rec, sw);
      await ask(page, SCROLL, undefined);
      sw.lap('scroll');
      await settle(page);
      sw.lap('settle: 2 s after load');
      await rec.idle();
      sw.lap('quiet: after scroll');
      // Opening the second layer chooses nothing, but it is the visitor's first click and key
      // press: a tag held until the first interaction ("delay JavaScript until user
      // interaction") fires now. The before record is taken after it, and after the dialog
      // was closed again, so what it sets off is judged as before consent.
      const bannerDesign =
        banner.kind !== 'none'
          ? await inspectBanner(page, banner, config.selectors, ac?.popup() ? 1 : 0)
          : undefined;
      secondLayerOpen = !(await closeSecondLayer(page, banner));
      sw.lap('banner design');
      await rec.idle(300);
      sw.lap('quiet: after banner design');
      outs.push(await record('before', { choice: null, sentinels, bannerDesign }, shot));
      sw.lap('record');
      beforeEnd = Date.now();
      outs[0] = { ...outs[0]!, steps: sw.laps };
      sw = new Stopwatch();
    }

    let choice: ChoiceResult | null = null;
    let image: Buffer | null = null;
    let heldAfterChoice: string[] | undefined;
    let sentinels: PhaseRecord['sentinels'];
    let secondPage: PhaseRecord['secondPage'];
    let reloadedAt = 0;
    let backAtLoad = false;
    /** The accept visit clicked a second time (the first did not take). */
    let retried = false;
    /** Clicked, then reloaded: the choice as a returning visitor meets it. */
    const reloadAfter = async (made: ChoiceResult): Promise<void> => {
      // What the click itself sets off (held scripts starting, a tracker ignoring the
      // refusal) is sent before the reload cuts it short.
      await rec.idle(300);
      sw.lap('quiet: after choice');
      // Assent's or the configured banner is found by its selectors from here on:
      // autoconsent's rules need not be set up again in the reloaded page and the next.
      if (banner.kind !== 'autoconsent') ac?.stop();
      // A returning visitor: the choice must hold on the next page view.
      reloadedAt = Date.now();
      rec.markReload();
      await page.reload({ waitUntil: 'load' }).catch(() => {});
      sw.lap('reload');
      // Whether the banner came back is asked twice: now, and once the page has settled
      // after the scroll below (a banner drawn late gets that long to show).
      backAtLoad =
        made.effective !== false && (await bannerShowing(page, banner, ac, config.selectors, reloadedAt));
      sw.lap('banner after reload');
    };
    /**
     * The recorded page, after the reload (or the first load): after accept, sentinels typed
     * with every tracker running (given a moment to start: where keyloggers show
     * themselves); then the scroll, and the last and longest wait: what the page sends late
     * (a tag on a timer, a lazy embed the scroll revealed) is recorded here, until the network
     * is quiet for 500 ms.
     */
    const afterReload = async (): Promise<void> => {
      if (visit === 'accept' && choice?.clicked) {
        await rec.idle(300);
        sw.lap('quiet: after reload');
        sentinels = await typeSentinels(page, rec, sw);
      }
      await ask(page, SCROLL, undefined);
      sw.lap('scroll');
      onSettling();
      await settle(page);
      sw.lap('settle: 2 s after load');
      await rec.idle();
      sw.lap('quiet: after scroll');
    };
    /**
     * An accept that did not take (the banner stayed, or came back after the reload) is tried
     * once more, on the reloaded page, after the wait before the first click: what runs after
     * accept is the point of this visit. A second failure is reported as such, and what needs
     * an accept is "not checked" (rules/device.ts, acceptNotMade).
     */
    const acceptAgain = async (): Promise<void> => {
      if (!choice) return;
      const first =
        choice.effective === false
          ? (choice.note ?? 'the banner stayed')
          : 'the banner came back after a reload';
      await settleQuietly(page, rec);
      rec.markChoice();
      const again = await choose(
        page,
        banner,
        'accept',
        ac,
        config.selectors,
        config.bannerTimeout,
        reloadedAt,
      );
      sw.lap('choice: second try');
      if (again.clicked) {
        retried = true;
        choice = {
          ...again,
          note:
            again.effective === false
              ? `${again.note ?? 'the banner stayed'} (second try; the first: ${first})`
              : `accepted on the second try (the first did not take: ${first})`,
        };
        await reloadAfter(choice);
      } else if (
        choice.effective === false &&
        !(await bannerShowing(page, banner, ac, config.selectors, reloadedAt))
      ) {
        // The banner was only slow to go: the returning visitor does not see it again.
        choice = {
          ...choice,
          effective: true,
          note: `${first}, yet it did not come back after the reload: the accept took`,
        };
      }
    };
    if (gpc) {
      await rec.idle(300);
      sw.lap('quiet: after load');
      image = await shoot(page);
      sw.lap('screenshot');
    } else if (visit === 'reject' && mode === 'notice') {
      // A notice offers nothing to refuse: this visit is not a refusal, and counts as none.
      choice = notClicked(banner.kind, 'notice mode: nothing to reject');
    } else {
      if (visit === 'accept' && banner.kind !== 'assent') {
        // The reject visit reads the page before its click (its before phase); the accept
        // visit waits as long: a CMP that draws its banner before it can keep a choice
        // (tarteaucitron, whose accept clicked at once did not stick) gets the page loaded,
        // settled and quiet first. Assent's banner takes a choice as soon as it shows.
        await settleQuietly(page, rec);
        sw.lap('quiet: before the choice');
      }
      rec.markChoice();
      // The before phase may have left Assent's second layer open (its design was inspected
      // and Escape did not close it): the refusal is then the dialog's own "Reject all".
      choice = secondLayerOpen
        ? await rejectAllInDialog(
            page,
            'the preferences dialog, opened to inspect the second layer, did not close on Escape, and its Reject all could not be clicked',
          )
        : await choose(page, banner, visit, ac, config.selectors, config.bannerTimeout);
      sw.lap('choice');
      if (choice.clicked) {
        await reloadAfter(choice);
        // An accept that did not take at once (the banner stayed) or is back at once after
        // the reload is tried again now; one back only once the page settled, below.
        if (visit === 'accept' && (backAtLoad || choice.effective === false)) await acceptAgain();
      }
      // One click is a reject on the first layer, more are not. None (a rule that calls the
      // CMP's API: autoconsent's Cookiebot opt-out runs Cookiebot.withdraw()) or an uncounted
      // run says nothing about the controls a visitor sees: not known (reject-missing is then
      // "not checked", never passed).
      if (banner.kind === 'autoconsent' && visit === 'reject' && choice.clicked) {
        banner = {
          ...banner,
          rejectOnFirstLayer: choice.clicks === null || choice.clicks === 0 ? null : choice.clicks === 1,
        };
      }
    }
    await afterReload();
    if (
      visit === 'accept' &&
      choice?.clicked &&
      !retried &&
      reloadedAt &&
      choice.effective !== false &&
      (await bannerShowing(page, banner, ac, config.selectors, reloadedAt))
    ) {
      // The banner came back once the reloaded page settled (drawn late): the accept did not
      // take; tried once more, and what runs after it recorded again.
      await acceptAgain();
      if (retried) await afterReload();
    }
    if (choice?.clicked && reloadedAt) {
      const back =
        backAtLoad ||
        (choice.effective !== false && (await bannerShowing(page, banner, ac, config.selectors, reloadedAt)));
      if (back) {
        choice = {
          ...choice,
          effective: false,
          note: `the banner came back after a reload${retried ? ', after a second try too' : ''}: the ${visit} did not stick`,
        };
      }
      if (visit === 'accept') heldAfterChoice = await ask<string[]>(page, HELD_AFTER_CHOICE, []);
      sw.lap('banner after reload');
    }
    if (!gpc) image = await shoot(page);
    sw.lap('screenshot');
    const gpcSeen: GpcObservation | undefined = gpc
      ? {
          headerSent: rec.documentHeader('sec-gpc') === '1',
          navigatorFlag:
            (await ask<unknown>(page, 'navigator.globalPrivacyControl === true', false)) === true,
          displayed: await ask<unknown>(page, GPC_TEXT, null).then((v) => (typeof v === 'string' ? v : null)),
        }
      : undefined;
    const out = await record(visit, { choice, heldAfterChoice, sentinels, gpc: gpcSeen }, image);
    sw.lap('record');
    // A refusal must hold on the site's next page, not only on a reload of this one. Checked
    // after everything above was recorded: what the next page loads is that page's own scan.
    if (visit === 'reject' && choice?.clicked) {
      secondPage = null;
      const next = await secondPageUrl(page);
      const at = Date.now();
      if (
        next &&
        (await page.goto(next, { waitUntil: 'load' }).then(
          () => true,
          () => false,
        ))
      ) {
        if (banner.kind === 'autoconsent') await sleep(500);
        const shown = await bannerShowing(page, banner, ac, config.selectors, at);
        secondPage = { url: page.url(), bannerShown: shown };
        if (shown && choice.effective !== false)
          choice = {
            ...choice,
            effective: false,
            note: `the banner came back on the next page of the site (${page.url()}): the reject did not stick`,
          };
      }
      sw.lap('second page');
    }
    // Opt-in mode: GPC changes nothing a visitor is asked, but the site must at least record
    // it. After everything above was recorded, the GPC visitor refuses, and the receipt the
    // banner posts to the site's consent record must carry the signal.
    let gpcRecorded: GpcObservation['recorded'];
    if (gpcSeen && banner.kind === 'assent' && (config.mode ?? mode) === 'opt-in' && out.assentEndpoint) {
      gpcRecorded = await receiptSignal(page, rec, banner, config, out.assentEndpoint);
      sw.lap('GPC receipt');
    }
    outs.push({
      ...out,
      // The banner as the choice showed it (another CMP: reject on the first layer or not).
      banner,
      record: {
        ...out.record,
        durationMs: Date.now() - started,
        choice,
        ...(secondPage !== undefined ? { secondPage } : {}),
        ...(gpcSeen && gpcRecorded !== undefined ? { gpc: { ...gpcSeen, recorded: gpcRecorded } } : {}),
      },
    });
  } finally {
    // The HAR is written when the context closes.
    await context.close().catch(() => {});
    sw.lap('close');
  }
  const last = outs.length - 1;
  outs[last] = { ...outs[last]!, steps: sw.laps };
  if (!harDir) return outs;
  try {
    const file = await readFile(join(harDir, 'visit.har')).catch(() => null);
    // The before phase's HAR is the visit's until its record was taken; the reject phase's is
    // the whole visit, as the reject phase's requests are (those before the click say so).
    // Either way without cookie values (harUntil).
    return outs.map((o) => ({
      ...o,
      har: file && harUntil(file, o.record.name === 'before' ? beforeEnd : Number.POSITIVE_INFINITY),
    }));
  } finally {
    await rm(harDir, { recursive: true, force: true }).catch(() => {});
  }
};

interface HarMessage {
  headers?: { name: string; value: string; comment?: string }[];
  cookies?: { name: string; value: string; comment?: string }[];
}

const VALUES_REMOVED = 'cookie values removed by assent-scan (names kept)';

/**
 * A request's or response's cookies without their values, names kept: the `Cookie` header
 * (`a=; b=`), each `Set-Cookie` line (`a=; Path=/; Max-Age=…`: its attributes kept) and the
 * HAR's `cookies` lists. Cookie values are never recorded, in the report or in a HAR.
 */
const stripCookies = (m: HarMessage | undefined): void => {
  if (!m) return;
  for (const h of m.headers ?? []) {
    const name = h.name.toLowerCase();
    if (name === 'cookie') {
      h.value = h.value
        .split(';')
        .map((c) => c.split('=')[0]!.trim())
        .filter(Boolean)
        .map((n) => `${n}=`)
        .join('; ');
      h.comment = VALUES_REMOVED;
    } else if (name === 'set-cookie') {
      h.value = h.value
        .split('\n')
        .map((line) => {
          const eq = line.indexOf('=');
          const semi = line.indexOf(';');
          if (eq < 0 || (semi >= 0 && semi < eq)) return line;
          return `${line.slice(0, eq)}=${semi < 0 ? '' : line.slice(semi)}`;
        })
        .join('\n');
      h.comment = VALUES_REMOVED;
    }
  }
  for (const c of m.cookies ?? []) {
    c.value = '';
    c.comment = VALUES_REMOVED;
  }
};

/**
 * A HAR cut to the entries (and pages) that started before `until` (ms epoch; all of them by
 * default), its cookies without their values (stripCookies).
 */
export const harUntil = (file: Buffer, until = Number.POSITIVE_INFINITY): Buffer => {
  try {
    const har = JSON.parse(file.toString('utf8')) as {
      log: {
        pages?: { startedDateTime: string }[];
        entries?: { startedDateTime: string; request?: HarMessage; response?: HarMessage }[];
      };
    };
    const early = (x: { startedDateTime: string }) => Date.parse(x.startedDateTime) < until;
    har.log.pages = har.log.pages?.filter(early);
    har.log.entries = har.log.entries?.filter(early);
    for (const e of har.log.entries ?? []) {
      stripCookies(e.request);
      stripCookies(e.response);
    }
    return Buffer.from(`${JSON.stringify(har, null, 2)}\n`);
  } catch {
    // Not a HAR that can be read: left out rather than kept with the cookie values it may hold.
    return Buffer.from(
      `${JSON.stringify({ log: { version: '1.2', comment: 'the HAR could not be read, and was left out: its cookie values could not be removed', entries: [] } }, null, 2)}\n`,
    );
  }
};

/**
 * Rejects on the GPC visit and reads the receipt the banner posts: whether the consent record
 * holds the signal (`signals.gpc`). `null` when no receipt was posted within 15 seconds: it
 * returns as soon as the receipt is seen, so the bound costs nothing on a healthy site, and a
 * busy machine (CI on two shared cores) must not turn a slow POST into a finding.
 */
const receiptSignal = async (
  page: Page,
  rec: Recorder,
  banner: BannerInfo,
  config: ScanConfig,
  endpoint: string,
): Promise<GpcObservation['recorded']> => {
  const choice = await choose(page, banner, 'reject', null, config.selectors, config.bannerTimeout);
  if (!choice.clicked) return null;
  const deadline = Date.now() + 15_000;
  for (;;) {
    const body = rec.postedTo(endpoint);
    if (body !== null) {
      try {
        const r = JSON.parse(body) as { signals?: { gpc?: unknown } };
        return { receipt: endpoint, gpc: r.signals?.gpc === true };
      } catch {
        return null;
      }
    }
    if (Date.now() > deadline) return null;
    await sleep(100);
  }
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A screenshot, or `null` (the record then has none). Generous: on two shared cores a
 * screenshot during three visits' loads took over a second at the median (bench), and a
 * missing one is evidence lost.
 */
const shoot = (page: Page): Promise<Buffer | null> =>
  page.screenshot({ type: 'jpeg', quality: 60, timeout: 10_000 }).catch(() => null);
