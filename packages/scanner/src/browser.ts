import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';

/** Where Debian installs Chromium (`scripts/install-chromium.sh`). */
const DEBIAN_CHROMIUM = '/usr/bin/chromium';

/** The Chromium of the banner's tests and benches: `ASSENT_CHROMIUM`, else Debian's. */
export const CHROMIUM = process.env.ASSENT_CHROMIUM ?? DEBIAN_CHROMIUM;

/** Debian's `chromium-headless-shell`, installed beside it by the same script. */
export const HEADLESS_SHELL = '/usr/bin/chromium-headless-shell';

/**
 * The browser a scan runs: `ASSENT_CHROMIUM` when set, otherwise Chromium's headless shell when
 * installed, otherwise Chromium. The shell is the same Blink, V8 and network stack without the
 * browser's UI: headless Chromium still builds, lays out and paints a window with its tab strip
 * and toolbar for every browser context, and a scan opens three per page. On the demo's five
 * pages (2026-11-30, same run): 5.4 s of CPU and 5.3–5.4 s per page with the shell, 8.3–9.1 s
 * and 6.3–6.5 s with Chromium. It is also Playwright's own default for headless runs. The
 * report names the one that ran; `test/scan.test.ts` holds Chromium's findings equal to the
 * shell's on the fixtures a browser could most change (third-party cookies, storage, GPC).
 */
export const scanExecutable = (
  env: Record<string, string | undefined> = process.env,
  installed: (path: string) => boolean = existsSync,
): string => env.ASSENT_CHROMIUM ?? (installed(HEADLESS_SHELL) ? HEADLESS_SHELL : DEBIAN_CHROMIUM);

/** What the report calls the browser that ran: "Chromium headless shell 156.0…" or "Chromium 156.0…". */
export const describeBrowser = async (browser: Browser): Promise<string> => {
  const cdp = await browser.newBrowserCDPSession();
  try {
    const { product } = await cdp.send('Browser.getVersion');
    return `${product.startsWith('HeadlessChrome/') ? 'Chromium headless shell' : 'Chromium'} ${browser.version()}`;
  } finally {
    await cdp.detach().catch(() => {});
  }
};

/**
 * The features Playwright turns off in its own `--disable-features` (playwright-core's
 * `chromiumSwitches`: no sign-in, AI-mode or optimisation-hint requests, no third-party storage
 * partitioning, no paint holding…). Chromium honours only the **last** `--disable-features` on
 * its command line, so the project's must repeat them; `test/browser.test.ts` reads the
 * browser's real command line and fails when a Playwright upgrade adds one that is missing here.
 */
const PLAYWRIGHT_DISABLED = [
  'AvoidUnnecessaryBeforeUnloadCheckSync',
  'DestroyProfileOnBrowserClose',
  'HttpsUpgrades',
  'HttpsFirstBalancedModeAutoEnable',
  'LensOverlay',
  'MediaRouter',
  'PaintHolding',
  'ThirdPartyStoragePartitioning',
  'AvoidCorsURLLoaderRestartOnRedirect',
  'TcpPortRandomizationWin',
  'OptimizationHints',
  'NetworkTimeServiceQuerying',
  'AimEnabled',
  'PreconnectToSearch',
  'msForceBrowserSignIn',
  'msEdgeUpdateLaunchServicesPreferredVersion',
];
/** And what it turns on (its `--enable-features`), for the same reason. */
const PLAYWRIGHT_ENABLED = ['CDPScreenshotNewSurface', 'SkipListAccountsWithoutGaiaCookies'];

/**
 * Browser UI that a headless browser never shows, yet Chromium 156 builds for every window,
 * and every browser context is a window: the omnibox's WebUI popups, two `chrome://` pages in
 * a renderer of their own. Each context cost ~1.2 s of renderer CPU and ~0.3 s of the browser
 * process for them (measured 2026-11-30: a context that loads the demo's article, waits 1.5 s
 * and takes a screenshot, 2.8–2.9 s of CPU with them, 0.98 s without). A scan opens three
 * contexts per page. The test checks that no `browser_ui` target is left.
 */
const UNSHOWN_UI = ['WebUIOmniboxPopup', 'WebUIOmniboxAimPopup', 'WebUIOmniboxFullPopup'];

/**
 * Chromium's RenderDocument gives every navigation a new frame host and runs the old page's
 * pagehide and unload handlers only after the new page has committed, when DevTools has let go
 * of the old one: a beacon sent there (`navigator.sendBeacon`, `fetch` with `keepalive`, the
 * "session end" hit of many analytics tags) reaches its server, yet neither Playwright's
 * request events nor DevTools' saw it, and a binding called from the page then (a wrapper
 * of sendBeacon reporting itself) was dropped the same way. Without it, a same-site
 * navigation (the reload after the choice, the next page) unloads the old page first, as
 * before, and both see the beacon (`test/beacons.test.ts`). A page cannot tell the difference.
 */
const UNLOAD_SEEN = ['RenderDocument'];

/**
 * Flags: no sandbox (CI containers run as root), no GPU, nothing that phones home — a
 * scan must record only what the site makes the browser do — and no automation flag a page
 * can read. Without a GPU, compositing is
 * done in software by the GPU process anyway: `--in-process-gpu` runs it as a thread of the
 * browser process instead, with no process of its own and no IPC to it (on the demo's 5
 * pages, 2026-11-30, interleaved: 0.8 s less CPU and 0.6–0.8 s less wall time per page).
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--in-process-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
  // `navigator.webdriver` false, as in a visitor's browser: a banner that hides from
  // automation (Assent's `hideFromBots`, other CMPs' bot rules) is audited as visitors see it,
  // not passed unseen.
  '--disable-blink-features=AutomationControlled',
  `--disable-features=${[...PLAYWRIGHT_DISABLED, ...UNSHOWN_UI, ...UNLOAD_SEEN].join(',')}`,
  `--enable-features=${PLAYWRIGHT_ENABLED.join(',')}`,
];

const FEATURE_FLAGS = ['--disable-features=', '--enable-features='] as const;

/**
 * `args` with every `--disable-features` merged into one, and every `--enable-features`: an
 * owner's `chromiumArgs: ["--disable-features=X"]` adds X to the project's list instead of
 * silently replacing it (Chromium keeps only the last of each).
 */
export const mergeFeatureFlags = (args: readonly string[]): string[] => {
  const rest = args.filter((a) => !FEATURE_FLAGS.some((f) => a.startsWith(f)));
  const merged = FEATURE_FLAGS.map((f) => {
    const names = args.filter((a) => a.startsWith(f)).flatMap((a) => a.slice(f.length).split(','));
    const unique = [...new Set(names.filter(Boolean))];
    return unique.length ? [`${f}${unique.join(',')}`] : [];
  });
  return [...rest, ...merged.flat()];
};

/**
 * The profile a visitor's browser has by default: third-party cookies allowed
 * (`cookie_controls_mode` 0). Automation contexts are off-the-record, and Chromium blocks
 * third-party cookies there unless the profile they come from allows them — so without this
 * an embed's cookies (YouTube's `YSC`, `VISITOR_INFO1_LIVE`) would be missing from the
 * inventory although a visitor's browser keeps them.
 */
const DEFAULT_PROFILE_PREFS = { profile: { cookie_controls_mode: 0 } };

/**
 * Launches Chromium on a fresh profile with default cookie settings. Scan contexts are made
 * with `browser.newContext()` as before; each starts with no cookies and no storage.
 */
export const launch = async (
  hostResolverRules: string | null = null,
  extraArgs: readonly string[] = [],
  /** Chromium by default; scans pass `scanExecutable()`. */
  executable: string = CHROMIUM,
): Promise<Browser> => {
  const dir = mkdtempSync(join(tmpdir(), 'assent-scan-profile-'));
  mkdirSync(join(dir, 'Default'));
  writeFileSync(join(dir, 'Default', 'Preferences'), JSON.stringify(DEFAULT_PROFILE_PREFS));
  try {
    const context = await chromium.launchPersistentContext(dir, {
      executablePath: executable,
      args: mergeFeatureFlags([
        ...CHROMIUM_ARGS,
        ...(hostResolverRules ? [`--host-resolver-rules=${hostResolverRules}`] : []),
        ...extraArgs,
      ]),
    });
    const browser = context.browser();
    if (!browser) throw new Error('Chromium started without a browser handle');
    // Chromium may still be writing its profile as it exits: retried, and a leftover is harmless.
    browser.on('disconnected', () => {
      rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }).catch(() => {});
    });
    return browser;
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
};
