import { createHash } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { Autoconsent } from './autoconsent.js';
import { assentConfig, bannerShowing, choose, detectBanner } from './banner.js';
import type { Classifier } from './classify.js';
import type { ScanConfig } from './config.js';
import { SCROLL } from './instrument.js';
import { Recorder } from './recorder.js';
import type { BannerInfo, ChoiceResult, PhaseName, PhaseRecord } from './types.js';

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
}

const VIEWPORT = { width: 1280, height: 800 };

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
 * banner, make the phase's choice, then reload as a returning visitor, scroll, and record.
 */
export const runPhase = async (
  browser: Browser,
  url: string,
  name: PhaseName,
  known: BannerInfo | null,
  classifier: Classifier,
  config: ScanConfig,
): Promise<PhaseOutput> => {
  const started = Date.now();
  const context = await browser.newContext({ viewport: VIEWPORT, locale: 'en-GB', serviceWorkers: 'block' });
  try {
    context.setDefaultTimeout(config.navigationTimeout);
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
    let choice: ChoiceResult | null = null;
    let image: Buffer | null = null;
    if (name === 'before') {
      await rec.idle(300);
      image = await shoot(page);
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
      }
      if (banner.kind === 'autoconsent' && name === 'reject' && choice.clicks !== null) {
        banner = { ...banner, rejectOnFirstLayer: choice.clicks <= 1 };
      }
    }
    await page.evaluate(SCROLL).catch(() => {});
    await rec.idle();
    if (name !== 'before') image = await shoot(page);

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
    return {
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
      },
      banner,
      image,
      title: await page.title().catch(() => ''),
      finalUrl: pageUrl,
      links,
      assentCookie: banner.kind === 'assent' ? (assent?.cookieName ?? 'assent') : null,
      assentEndpoint: assent?.endpoint ? new URL(assent.endpoint, pageUrl).href : null,
      assentDeclared: assent?.declared ?? {},
    };
  } finally {
    await context.close().catch(() => {});
  }
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const shoot = (page: Page): Promise<Buffer | null> =>
  page.screenshot({ type: 'jpeg', quality: 60, timeout: 5000 }).catch(() => null);
