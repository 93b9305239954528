import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { Autoconsent } from './autoconsent.js';
import { assentConfig, bannerShowing, choose, detectBanner } from './banner.js';
import { inspectBanner } from './banner-design.js';
import type { Classifier } from './classify.js';
import type { ScanConfig } from './config.js';
import { GPC_SIGNAL, GPC_TEXT, HELD_AFTER_CHOICE, SCROLL } from './instrument.js';
import { Recorder } from './recorder.js';
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
  /** Cookie names (a trailing `*` is a prefix) the site's Assent config declares non-essential → category. */
  readonly assentDeclared: Readonly<Record<string, string>>;
  /** The titles of the services the site's Assent config names, by `category:service`. */
  readonly assentServices: Readonly<Record<string, string>>;
  /** The mode Assent's first layer shows (opt-out: "Do not sell"; notice: no reject, no preferences); `null` for other banners. */
  readonly assentMode: SiteMode | null;
  /** The visit's HAR, when asked for. */
  readonly har: Buffer | null;
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
  page.evaluate<SiteMode | null>(ASSENT_MODE).catch(() => null);

/** A same-origin page linked from this one, other than itself: where a returning visitor goes next. */
const secondPageUrl = async (page: Page): Promise<string | null> => {
  const here = new URL(page.url());
  const hrefs = await page
    .$$eval('a[href]', (as) => as.map((a) => (a as HTMLAnchorElement).href))
    .catch(() => [] as string[]);
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
 * Types sentinel values into the page's visible text fields, without submitting, as a visitor
 * who starts filling a form and stops: a request that carries one afterwards is keylogging.
 * Passwords are left alone. At most four fields, so a long form does not slow the scan.
 */
const typeSentinels = async (page: Page, rec: Recorder): Promise<void> => {
  const tag = Math.random().toString(36).slice(2, 8);
  const text = `assentkey${tag}`;
  const email = `assent.${tag}@example.org`;
  const fields = page.locator(
    'input:not([type]), input[type="text"], input[type="email"], input[type="search"], input[type="tel"], textarea',
  );
  const n = Math.min(await fields.count().catch(() => 0), 4);
  if (!n) return;
  rec.markTyped([text, email]);
  for (let i = 0; i < n; i++) {
    const f = fields.nth(i);
    if (!(await f.isVisible().catch(() => false))) continue;
    const type = await f.getAttribute('type').catch(() => null);
    await f.pressSequentially(type === 'email' ? email : text, { delay: 5, timeout: 3000 }).catch(() => {});
  }
  // Leave the last field, as a visitor would: some recorders send on blur.
  await page.keyboard.press('Tab').catch(() => {});
  await rec.idle(300);
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

/**
 * One visit in a fresh browser context (no cookies, no storage): load, settle, find the
 * banner, make the phase's choice, then reload as a returning visitor (after reject: and go
 * on to a second page of the site), scroll, and record. The GPC visit makes no choice: its
 * browser sends the signal.
 */
export const runPhase = async (
  browser: Browser,
  url: string,
  name: PhaseName,
  known: BannerInfo | null,
  classifier: Classifier,
  config: ScanConfig,
  /** Record a HAR of the visit (request bodies included, response bodies left out) for the evidence pack. */
  har = false,
): Promise<PhaseOutput> => {
  const started = Date.now();
  const gpc = name === 'gpc';
  const harDir = har ? mkdtempSync(join(tmpdir(), 'assent-scan-har-')) : null;
  const context = await browser.newContext({
    viewport: VIEWPORT,
    locale: 'en-GB',
    serviceWorkers: 'block',
    // The GPC visit: the header on every request, and the property scripts read.
    ...(gpc ? { extraHTTPHeaders: { 'Sec-GPC': '1' } } : {}),
    ...(harDir ? { recordHar: { path: join(harDir, 'visit.har'), content: 'omit' as const } } : {}),
  });
  let out: PhaseOutput;
  try {
    context.setDefaultTimeout(config.navigationTimeout);
    if (gpc) await context.addInitScript(GPC_SIGNAL);
    const rec = new Recorder(context, classifier);
    await rec.attach();
    const useAc = config.autoconsent && (known === null || known.kind === 'autoconsent');
    const ac = useAc ? new Autoconsent() : null;
    if (ac) await ac.attach(context);
    const page = await context.newPage();
    await rec.watchInitiators(page);

    let status = 0;
    try {
      const res = await page.goto(url, { waitUntil: 'load', timeout: config.navigationTimeout });
      status = res?.status() ?? 0;
    } catch (e) {
      throw explain(url, e);
    }
    if (status >= 400) throw new ScanFailure('http-error', `${url} answered HTTP ${status}`);

    let banner = known ?? (await detectBanner(page, ac, config.selectors, config.bannerTimeout));
    const mode = banner.kind === 'assent' ? await assentMode(page) : null;
    let choice: ChoiceResult | null = null;
    let image: Buffer | null = null;
    let heldAfterChoice: string[] | undefined;
    let secondPage: PhaseRecord['secondPage'];
    if (name === 'before' || gpc) {
      await rec.idle(300);
      image = await shoot(page);
      if (name === 'before') await typeSentinels(page, rec);
    } else if (name === 'reject' && mode === 'notice') {
      // A notice offers nothing to refuse: this visit is not a refusal, and counts as none.
      choice = {
        method: banner.kind,
        clicked: false,
        effective: null,
        clicks: null,
        note: 'notice mode: nothing to reject',
      };
    } else {
      rec.markChoice();
      choice = await choose(page, banner, name, ac, config.selectors, config.bannerTimeout);
      if (choice.clicked) {
        await rec.idle(300);
        // A returning visitor: the choice must hold on the next page view.
        const reloadedAt = Date.now();
        await page.reload({ waitUntil: 'load' }).catch(() => {});
        await rec.idle(300);
        if (banner.kind === 'autoconsent') await sleep(500); // autoconsent detects asynchronously
        if (
          choice.effective !== false &&
          (await bannerShowing(page, banner, ac, config.selectors, reloadedAt))
        ) {
          choice = {
            ...choice,
            effective: false,
            note: `the banner came back after a reload: the ${name} did not stick`,
          };
        }
        if (name === 'accept') {
          heldAfterChoice = await page.evaluate<string[]>(HELD_AFTER_CHOICE).catch(() => []);
          // With every tracker running: where keyloggers show themselves.
          await typeSentinels(page, rec);
        }
      }
      if (banner.kind === 'autoconsent' && name === 'reject' && choice.clicks !== null) {
        banner = { ...banner, rejectOnFirstLayer: choice.clicks <= 1 };
      }
    }
    await page.evaluate(SCROLL).catch(() => {});
    await rec.idle();
    if (name === 'reject' || name === 'accept') image = await shoot(page);
    const gpcSeen: GpcObservation | undefined = gpc
      ? {
          headerSent: rec.documentHeader('sec-gpc') === '1',
          navigatorFlag: await page.evaluate('navigator.globalPrivacyControl === true').then(
            (v) => v === true,
            () => false,
          ),
          displayed: await page.evaluate(GPC_TEXT).then(
            (v) => (typeof v === 'string' ? v : null),
            () => null,
          ),
        }
      : undefined;

    const pageUrl = page.url();
    const [cookies, storage] = await Promise.all([rec.cookies(pageUrl), rec.storage(page, pageUrl)]);
    const { thirdParty, firstPartyCount } = rec.requestLog(pageUrl);
    const links =
      name === 'before'
        ? await page
            .$$eval('a[href]', (as) => as.map((a) => (a as HTMLAnchorElement).href))
            .catch(() => [] as string[])
        : [];
    const assent = banner.kind === 'assent' ? await assentConfig(page) : null;
    const title = await page.title().catch(() => '');
    const detections = rec.detections(pageUrl, title);
    // After everything was recorded: opening the second layer chooses nothing, but loads it.
    const bannerDesign =
      name === 'before' && banner.kind !== 'none'
        ? await inspectBanner(page, banner, config.selectors, ac?.popup() ? 1 : 0)
        : undefined;
    // A refusal must hold on the site's next page, not only on a reload of this one. Checked
    // after everything above was recorded: what the next page loads is that page's own scan.
    if (name === 'reject' && choice?.clicked) {
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
    }
    // Opt-in mode: GPC changes nothing a visitor is asked, but the site must at least record
    // it. After everything above was recorded, the GPC visitor refuses, and the receipt the
    // banner posts to the site's consent record must carry the signal.
    let gpcRecorded: GpcObservation['recorded'];
    if (gpcSeen && banner.kind === 'assent' && (config.mode ?? mode) === 'opt-in' && assent?.endpoint) {
      gpcRecorded = await receiptSignal(page, rec, banner, config, new URL(assent.endpoint, pageUrl).href);
    }
    out = {
      record: {
        name,
        url: pageUrl,
        durationMs: Date.now() - started,
        choice,
        cookies,
        storage,
        thirdPartyRequests: thirdParty,
        firstPartyRequestCount: firstPartyCount,
        screenshot: image ? { file: null, sha256: createHash('sha256').update(image).digest('hex') } : null,
        ...(heldAfterChoice ? { heldAfterChoice } : {}),
        ...(secondPage !== undefined
          ? { secondPage }
          : name === 'reject' && choice?.clicked
            ? { secondPage: null }
            : {}),
        ...(gpcSeen
          ? { gpc: gpcRecorded !== undefined ? { ...gpcSeen, recorded: gpcRecorded } : gpcSeen }
          : {}),
        detections,
        ...(bannerDesign ? { bannerDesign } : {}),
      },
      banner,
      image,
      title,
      finalUrl: pageUrl,
      links,
      assentCookie: banner.kind === 'assent' ? (assent?.cookieName ?? 'assent') : null,
      assentEndpoint: assent?.endpoint ? new URL(assent.endpoint, pageUrl).href : null,
      assentDeclared: assent?.declared ?? {},
      assentServices: assent?.services ?? {},
      assentMode: mode,
      har: null,
    };
  } finally {
    // The HAR is written when the context closes.
    await context.close().catch(() => {});
  }
  if (!harDir) return out;
  try {
    return { ...out, har: await readFile(join(harDir, 'visit.har')).catch(() => null) };
  } finally {
    await rm(harDir, { recursive: true, force: true }).catch(() => {});
  }
};

/**
 * Rejects on the GPC visit and reads the receipt the banner posts: whether the consent record
 * holds the signal (`signals.gpc`). `null` when no receipt was posted within a few seconds.
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
  const deadline = Date.now() + 5000;
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

const shoot = (page: Page): Promise<Buffer | null> =>
  page.screenshot({ type: 'jpeg', quality: 60, timeout: 5000 }).catch(() => null);
