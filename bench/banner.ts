/**
 * `npm run bench:banner`: Assent's banner side by side with its peers, in one interleaved run.
 *
 * Every library shows the same notice (message, "Learn More" link, "Accept !" button, plus a
 * reject button where it has one) on its own page, served from one local HTTP server on
 * 127.0.0.1; every request to another origin is blocked and counted. Measured per library:
 * bytes (JS + CSS the page loads for the banner: raw / gzip -9 / brotli), and in Debian's
 * Chromium at 4× CPU throttling: first frame with the Accept button visible, main-thread
 * scripting, CLS, and the Accept click's event duration. Writes bench/results/banner.md and
 * bench/results/banner.json.
 *
 * Peers are installed from bench/peers/package.json (exact versions, own lock) into
 * bench/peers/node_modules, never into the workspace.
 *
 * Two embeddings, in the same interleaved run: the scripts with `defer` (as the README writes
 * the drop-in), and every library's scripts without `defer` (as owners paste snippets into
 * <head>), where a banner can delay the page's first paint. For both: first paint and first
 * contentful paint of the page, Accept visible, scripting, style + layout over the page alone.
 *
 * Env: BENCH_RUNS (default 9), BENCH_ONLY=id,id (subset; both embeddings of each),
 * BENCH_EMBED=defer|nodefer (one embedding only; default both), BENCH_SHOTS=dir (screenshots),
 * BENCH_SERVE=1 (only serve the pages and print their URLs).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, normalize } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { type Browser, chromium, type Page } from 'playwright-core';
import { BANNER_DIST, CHROMIUM, CHROMIUM_ARGS, ROOT } from '../test-support/browser.js';
import { MESSAGE, VANILLA_CC_CONFIG } from './notice-config.js';

const PEERS = join(ROOT, 'bench/peers');
const PEER_MODULES = join(PEERS, 'node_modules');
const RESULTS = join(ROOT, 'bench/results');
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const THROTTLE = 4;
const t0 = Date.now();
const loadBefore = loadavg()[0]!;
const log = (...a: unknown[]) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);

// ---------------------------------------------------------------------------------------------
// 1. Peers, installed on demand into bench/peers/node_modules.

const peerManifest = JSON.parse(readFileSync(join(PEERS, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};
const installed = (name: string): string | undefined => {
  try {
    return (JSON.parse(readFileSync(join(PEER_MODULES, name, 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return undefined;
  }
};
const stale = Object.entries(peerManifest.dependencies).some(([n, v]) => installed(n) !== v);
if (!existsSync(PEER_MODULES) || stale) {
  // Browser dist files are all we use: no install scripts (klaro drags in sass & co).
  const cmd = existsSync(join(PEERS, 'package-lock.json')) ? 'ci' : 'install';
  log(`npm ${cmd} --prefix bench/peers`);
  execFileSync('npm', [cmd, '--prefix', PEERS, '--ignore-scripts', '--no-audit', '--no-fund'], {
    stdio: 'inherit',
  });
}
const version = (name: string) => installed(name) ?? '?';

// Our banner, built from the current source (BENCH_NO_BUILD=1 measures dist/ as it is).
if (!process.env.BENCH_NO_BUILD) {
  log('npm run build -w @assent/banner');
  execFileSync('npm', ['run', 'build', '-w', '@assent/banner'], { cwd: ROOT, stdio: 'ignore' });
}
const git = (...args: string[]) => {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
};
const commit = `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--', 'packages/banner/src', 'packages/core/src') ? ' + uncommitted banner/core changes' : ''}`;

// ---------------------------------------------------------------------------------------------
// 2. c15t: the `c15t` package is a headless core (its banner UI is React-only: @c15t/react).
// Its documented framework-free path is the core's store plus your own DOM; we bundle the core
// with the vanilla-DOM banner from c15t's own docs (docs/frameworks/javascript/building-ui.md),
// with our texts, in offline mode (no backend: the hosted mode's /init round trip is not here).

// Everything waits for <body> when the script runs in <head> without `defer` (the core
// observes document.body at creation and the docs' banner appends to it: both throw in
// <head>); with `defer` it runs at once, as before.
const C15T_GLUE = `
import { getOrCreateConsentRuntime } from 'c15t';
const go = () => {
const { consentStore } = getOrCreateConsentRuntime({
  mode: 'offline',
  consentCategories: ['necessary', 'measurement'],
  overrides: { country: 'DE' },
});
function createBanner() {
  const banner = document.createElement('div');
  banner.id = 'consent-banner';
  banner.setAttribute('role', 'dialog');
  banner.setAttribute('aria-label', 'Cookie consent');
  banner.innerHTML =
    '<p>${MESSAGE} <a href="/privacy">Learn More</a></p>' +
    '<div><button id="consent-accept">Accept !</button> <button id="consent-reject">Reject</button>' +
    ' <button id="consent-customize">Preferences</button></div>';
  document.body.appendChild(banner);
  banner.querySelector('#consent-accept').addEventListener('click', () => consentStore.getState().saveConsents('all'));
  banner.querySelector('#consent-reject').addEventListener('click', () => consentStore.getState().saveConsents('necessary'));
  banner.querySelector('#consent-customize').addEventListener('click', () => consentStore.getState().setActiveUI('dialog'));
  return banner;
}
const banner = createBanner();
const render = (state) => { banner.style.display = state.activeUI === 'banner' ? 'block' : 'none'; };
render(consentStore.getState());
consentStore.subscribe(render);
};
if (document.body) go();
else document.addEventListener('DOMContentLoaded', go);
`;
// c15t ships no CSS for this path; the bench gives its banner the same kind of fixed bar.
const C15T_CSS =
  '#consent-banner{position:fixed;left:1rem;right:1rem;bottom:1rem;z-index:2147483000;padding:1rem 1.25rem;' +
  'background:#fff;color:#111;border:1px solid #ccc;border-radius:8px;box-shadow:0 4px 24px rgba(0,0,0,.15);' +
  'font:15px/1.5 system-ui,sans-serif}#consent-banner p{margin:0 0 .75rem}#consent-banner button{font:inherit;' +
  'padding:.5rem 1rem;border-radius:6px;border:1px solid #111;background:#fff;color:#111;cursor:pointer}' +
  '#consent-banner #consent-accept,#consent-banner #consent-reject{background:#111;color:#fff}';

const bundle = async (contents: string) => {
  const r = await build({
    stdin: { contents, resolveDir: PEERS, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    define: { 'process.env.NODE_ENV': '"production"' },
    write: false,
    logLevel: 'error',
  });
  return Buffer.from(r.outputFiles[0]!.contents);
};
const GEN: Record<string, Buffer> = {
  'c15t-banner.js': await bundle(C15T_GLUE),
  'c15t-banner.css': Buffer.from(C15T_CSS),
};
// For the notes: the core alone (only the runtime the banner uses), and every export of `c15t`.
const c15tCoreOnly = await bundle(
  `import { getOrCreateConsentRuntime } from 'c15t'; window.c15t = { getOrCreateConsentRuntime };`,
);
const c15tEverything = await bundle(`import * as c15t from 'c15t'; window.c15t = c15t;`);

// ---------------------------------------------------------------------------------------------
// 3. The libraries, each configured to the same notice. `head` is what a site puts in <head>;
// config lives in /cfg/<id>.js files (deferred, in order), so no page has inline script.

interface Lib {
  /** The page's path; `<base>-nodefer` for the embedding without `defer`. */
  id: string;
  /** The library (the same for both embeddings). */
  base: string;
  embed: 'defer' | 'nodefer';
  name: string;
  version: string;
  head: string;
  /** The Accept button. */
  accept: string;
  cfg?: Record<string, string>;
  /**
   * Config files that start the library and throw without <body> (it appends to or observes
   * document.body at once): without `defer` they wait for DOMContentLoaded, as the library's
   * docs and any working paste do. The library's own file still blocks the parser.
   */
  bodyCfg?: string[];
  note?: string;
}

const css = (href: string) => `<link rel="stylesheet" href="${href}">`;
const js = (src: string, attrs = '') => `<script src="${src}" defer${attrs}></script>`;
const assentVersion = (
  JSON.parse(readFileSync(join(ROOT, 'packages/banner/package.json'), 'utf8')) as {
    version: string;
  }
).version;

const LIBS: Omit<Lib, 'base' | 'embed'>[] = [
  {
    id: 'none',
    name: 'no banner (the page alone)',
    version: '',
    head: '',
    accept: '',
  },
  {
    id: 'assent',
    name: 'Assent (opt-in, default)',
    version: assentVersion,
    // The drop-in as the README writes it: one script, its styles inside.
    head: js('/assent.min.js', ' data-assent="buttons=(Accept !) days=(20) href=(/privacy)"'),
    accept: '#assent-banner [data-assent-action=accept]',
    note: 'Accept, Reject and Preferences on the first layer; preferences, blocking, events in the same bundle.',
  },
  {
    id: 'assent-notice',
    name: 'Assent (notice mode)',
    version: assentVersion,
    head: js('/assent.min.js', ' data-assent="buttons=(Accept !) days=(20) href=(/privacy) mode=(notice)"'),
    accept: '#assent-banner [data-assent-action=accept]',
    note: 'The same files as above; only the shortcode differs.',
  },
  {
    id: 'osano',
    name: 'Osano cookieconsent',
    version: version('cookieconsent'),
    head:
      css('/p/cookieconsent/build/cookieconsent.min.css') +
      js('/p/cookieconsent/build/cookieconsent.min.js') +
      js('/cfg/osano.js'),
    accept: '.cc-window .cc-allow',
    bodyCfg: ['osano.js'],
    cfg: {
      'osano.js': `window.cookieconsent.initialise({
  type: 'opt-in',
  content: { message: ${JSON.stringify(MESSAGE)}, allow: 'Accept !', deny: 'Reject', link: 'Learn More', href: '/privacy' },
});`,
    },
    note: "type 'opt-in' (Accept + Deny); no geolocation service configured, so no lookup request.",
  },
  {
    id: 'vanilla-cc',
    name: 'vanilla-cookieconsent',
    version: version('vanilla-cookieconsent'),
    head:
      css('/p/vanilla-cookieconsent/dist/cookieconsent.css') +
      js('/p/vanilla-cookieconsent/dist/cookieconsent.umd.js') +
      js('/cfg/vanilla-cc.js'),
    accept: '#cc-main [data-role="all"]',
    bodyCfg: ['vanilla-cc.js'],
    cfg: {
      'vanilla-cc.js': VANILLA_CC_CONFIG,
    },
    note: 'Full UMD build (UI included) + its CSS; default box layout. `hideFromBots: false`: by default it hides from automation (`navigator.webdriver`), so it would never show here.',
  },
  {
    id: 'c15t',
    name: 'c15t core + docs vanilla banner',
    version: version('c15t'),
    head: css('/gen/c15t-banner.css') + js('/gen/c15t-banner.js'),
    accept: '#consent-banner #consent-accept',
    note:
      'No framework-free banner UI in `c15t` (its UI is @c15t/react): the core (offline mode) bundled with the ' +
      'vanilla-DOM banner from its docs and a 0.6 KB stylesheet written for the bench.',
  },
  {
    id: 'tarteaucitron',
    name: 'tarteaucitron.js',
    version: version('tarteaucitronjs'),
    head:
      js('/cfg/tarteaucitron-texts.js') +
      js('/p/tarteaucitronjs/tarteaucitron.min.js') +
      js('/cfg/tarteaucitron.js'),
    accept: '#tarteaucitronPersonalize2',
    cfg: {
      'tarteaucitron-texts.js': `var tarteaucitronForceLanguage = 'en';
var tarteaucitronCustomText = {
  alertBigPrivacy: ${JSON.stringify(MESSAGE)}, acceptAll: 'Accept !', denyAll: 'Reject',
  privacyUrl: 'Learn More', personalize: 'Preferences',
};`,
      'tarteaucitron.js': `tarteaucitron.init({
  privacyUrl: '/privacy', orientation: 'bottom', highPrivacy: true, AcceptAllCta: true, DenyAllCta: true,
  showAlertSmall: false, showIcon: false, removeCredit: true, moreInfoLink: false, cookieslist: false,
  googleConsentMode: false, pianoConsentMode: false, bingConsentMode: false,
});
tarteaucitron.services.benchanalytics = {
  key: 'benchanalytics', type: 'analytic', name: 'Analytics', uri: '/privacy', needConsent: true, cookies: [],
  js: function () {}, fallback: function () {},
};
(tarteaucitron.job = tarteaucitron.job || []).push('benchanalytics');`,
    },
    note:
      'Loads its CSS, language file and services file itself (all counted); opens the banner only after ' +
      "window load, by design, and attaches the buttons' click listeners in a `setTimeout(…, 500)` after " +
      'showing them, so an early click on the visible Accept does nothing (see "Accept hid the banner"). ' +
      'One no-op service so there is something to consent to.',
  },
  {
    id: 'klaro',
    name: 'Klaro',
    version: version('klaro'),
    head: css('/p/klaro/dist/klaro.min.css') + js('/cfg/klaro.js') + js('/p/klaro/dist/klaro-no-css.js'),
    accept: '.cookie-notice .cn-buttons .cm-btn-success',
    cfg: {
      'klaro.js': `var klaroConfig = {
  elementID: 'klaro', storageMethod: 'cookie', cookieName: 'klaro', cookieExpiresAfterDays: 20,
  mustConsent: false, acceptAll: true, hideDeclineAll: false, hideLearnMore: false, noticeAsModal: false,
  disablePoweredBy: true, lang: 'en',
  translations: {
    en: {
      privacyPolicyUrl: '/privacy',
      consentNotice: { description: ${JSON.stringify(`${MESSAGE} {privacyPolicy}`)}, learnMore: 'Preferences' },
      privacyPolicy: { name: 'Learn More', text: '{privacyPolicy}' },
      ok: 'Accept !', decline: 'Reject',
      purposes: { analytics: { title: 'Analytics' } },
    },
  },
  services: [{ name: 'analytics', title: 'Analytics', purposes: ['analytics'], default: false, required: false }],
};`,
    },
    note: 'klaro-no-css.js (translations built in) + klaro.min.css, its smallest documented full-UI pair.',
  },
];
// The same pages without `defer`: the scripts run as the parser meets them in <head>, before
// <body> exists, in the same order. The page alone has no script: one baseline for both.
const noDefer = (l: (typeof LIBS)[number]) =>
  (l.bodyCfg ?? []).reduce(
    (head, f) => head.replace(`/cfg/${f}`, `/cfg/nd-${f}`),
    l.head.replace(/(<script [^>]*?) defer(?=[ >])/g, '$1'),
  );
const whenBody = (code: string) =>
  `(() => {\nconst go = () => {\n${code}\n};\nif (document.body) go();\nelse document.addEventListener('DOMContentLoaded', go);\n})();`;
const embeds = (process.env.BENCH_EMBED ?? 'defer,nodefer').split(',');
const ALL: Lib[] = [
  ...LIBS.map((l) => ({ ...l, base: l.id, embed: 'defer' as const })),
  ...LIBS.filter((l) => l.id !== 'none').map((l) => ({
    ...l,
    id: `${l.id}-nodefer`,
    base: l.id,
    embed: 'nodefer' as const,
    head: noDefer(l),
    cfg: {
      ...l.cfg,
      ...Object.fromEntries((l.bodyCfg ?? []).map((f) => [`nd-${f}`, whenBody(l.cfg![f]!)])),
    },
  })),
];
const only = process.env.BENCH_ONLY?.split(',');
const libs = ALL.filter(
  (l) => l.id === 'none' || ((!only || only.includes(l.base)) && embeds.includes(l.embed)),
);

// ---------------------------------------------------------------------------------------------
// 4. One local server for every page. Nothing is compressed on the wire (loopback); bytes are
// computed from the files. `cache-control: no-store`, and each run has a fresh context anyway.

const PARAGRAPH =
  'The council met on Tuesday to discuss the new cycle lanes along the river. Residents asked for ' +
  'safer crossings near the school, and the plans will be shown at the library next month. ';
const pageHtml = (head: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Bench page</title><style>body{margin:0 auto;max-width:44rem;padding:1rem;font:17px/1.6 Georgia,serif;color:#222}h1{font:700 2rem/1.2 system-ui,sans-serif}</style>${head}</head><body><main><h1>Cycle lanes for the river path</h1>${Array.from({ length: 8 }, () => `<p>${PARAGRAPH.repeat(3)}</p>`).join('')}</main></body></html>`;

const TYPES: Record<string, string> = { js: 'text/javascript', css: 'text/css' };
// Assent's two files as built above, read once: others may rebuild dist/ during the run.
const ASSENT_FILES: Record<string, Buffer> = Object.fromEntries(
  ['/assent.min.js', '/assent.prefs.min.js'].map((p) => [p, readFileSync(join(BANNER_DIST, p.slice(1)))]),
);
const fileFor = (path: string): string | Buffer | undefined => {
  if (ASSENT_FILES[path]) return ASSENT_FILES[path];
  if (path.startsWith('/gen/')) return GEN[path.slice(5)];
  if (path.startsWith('/p/')) {
    const rel = normalize(path.slice(3));
    if (rel.startsWith('..')) return undefined;
    return join(PEER_MODULES, rel);
  }
  return undefined;
};
const cfgFiles = new Map(libs.flatMap((l) => Object.entries(l.cfg ?? {})));
const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const p = url.pathname;
  const send = (type: string, body: string | Buffer) => {
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(body);
  };
  const lib = libs.find((l) => p === `/${l.id}`);
  if (lib) return send('text/html; charset=utf-8', pageHtml(lib.head));
  if (p === '/favicon.ico') return res.writeHead(204).end();
  if (p === '/privacy') return send('text/html; charset=utf-8', pageHtml(''));
  if (p.startsWith('/cfg/') && cfgFiles.has(p.slice(5))) return send(TYPES.js!, cfgFiles.get(p.slice(5))!);
  const f = fileFor(p);
  try {
    if (f !== undefined)
      return send(
        TYPES[p.split('.').pop()!] ?? 'application/octet-stream',
        typeof f === 'string' ? readFileSync(f) : f,
      );
  } catch {}
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found');
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const ORIGIN = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
if (process.env.BENCH_SERVE) {
  // Just serve the pages, to look at them in a browser.
  console.log(libs.map((l) => `${ORIGIN}/${l.id}`).join('\n'));
  await new Promise(() => {});
}

// ---------------------------------------------------------------------------------------------
// 5. What the page measures about itself (installed before any of its own script runs).

interface InPage {
  /** rAF timestamp (ms since navigation start) of the first frame with the Accept button visible. */
  visible: number | null;
  /** Same, but any opacity > 0 (differs from `visible` while a banner fades in). */
  painted: number | null;
  /** Same, for the page's own <h1> (the page's first frame with content). */
  ref: number | null;
  fp: number | null;
  fcp: number | null;
  cls: number;
  shifts: { value: number; t: number; sources: string[] }[];
  events: { name: string; duration: number; id: number; start: number }[];
  /** Click event timeStamp → the first rAF after every click listener has run. */
  clickToFrame: number | null;
  loaded: number | null;
}

const probe = (accept: string) => `(() => {
  const ACCEPT = ${JSON.stringify(accept)};
  const out = (window.__bench = { visible: null, painted: null, ref: null, fp: null, fcp: null, cls: 0, shifts: [], events: [], clickToFrame: null, loaded: null });
  const po = (type, fn, opts) => { try { new PerformanceObserver((l) => l.getEntries().forEach(fn)).observe({ type, buffered: true, ...opts }); } catch {} };
  po('layout-shift', (e) => {
    if (e.hadRecentInput) return;
    out.cls += e.value;
    out.shifts.push({ value: e.value, t: e.startTime, sources: (e.sources || []).map((s) => s.node ? (s.node.id || s.node.className || s.node.nodeName) + '' : '?') });
  });
  po('paint', (e) => { if (e.name === 'first-contentful-paint') out.fcp = e.startTime; else if (e.name === 'first-paint') out.fp = e.startTime; });
  po('event', (e) => out.events.push({ name: e.name, duration: e.duration, id: e.interactionId, start: e.startTime }), { durationThreshold: 16 });
  addEventListener('load', () => { out.loaded = performance.now(); });
  addEventListener('click', (e) => {
    const ts = e.timeStamp;
    requestAnimationFrame(() => { out.clickToFrame = performance.now() - ts; });
  }, true);
  // Visible: connected, non-empty box whose centre is inside the viewport, visibility:visible,
  // opacity (times every ancestor's) >= 0.5, and the topmost element at its centre is the button
  // or inside it (skipped for pointer-events:none, which hit testing ignores).
  const visible = (el, minOpacity = 0.5) => {
    if (!el) return false;
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) return false;
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) return false;
    const cs = getComputedStyle(el);
    if (cs.visibility !== 'visible') return false;
    let o = 1;
    for (let n = el; n && n.nodeType === 1; n = n.parentElement) o *= parseFloat(getComputedStyle(n).opacity);
    if (o < minOpacity || o === 0) return false;
    if (cs.pointerEvents === 'none') return true;
    const hit = document.elementFromPoint(x, y);
    return !!hit && (hit === el || el.contains(hit));
  };
  window.__benchVisible = visible;
  const tick = (t) => {
    if (out.ref === null && visible(document.querySelector('h1'))) out.ref = t;
    if (ACCEPT && out.painted === null && visible(document.querySelector(ACCEPT), 0)) out.painted = t;
    if (ACCEPT && out.visible === null && visible(document.querySelector(ACCEPT))) out.visible = t;
    if (out.ref === null || (ACCEPT && out.visible === null)) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();`;

// ---------------------------------------------------------------------------------------------
// 6. One measured load.

interface Sample {
  visible: number | null;
  painted: number | null;
  ref: number | null;
  /** The page's first paint and first contentful paint (Paint Timing). */
  fp: number | null;
  fcp: number | null;
  scriptMs: number;
  taskMs: number;
  /** Performance.getMetrics LayoutDuration + RecalcStyleDuration, ms. */
  styleLayoutMs: number;
  cls: number;
  shifts: InPage['shifts'];
  /** Longest Event Timing entry of the Accept click's interaction; 0 = none reached 16 ms. */
  clickDuration: number | null;
  clickToFrame: number | null;
  acceptHides: boolean | null;
  blocked: string[];
  loadedUrls: string[];
  error?: string;
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pollInPage = async (page: Page, fn: string, timeout: number) => {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    if (await page.evaluate(fn)) return true;
    await wait(25);
  }
  return false;
};

const measure = async (
  browser: Browser,
  lib: Lib,
  opts: { throttle: number; click: boolean; shots?: string },
): Promise<Sample> => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  const blocked: string[] = [];
  const loadedUrls: string[] = [];
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith(ORIGIN) || u.startsWith('data:')) return route.continue();
    blocked.push(u);
    return route.abort('blockedbyclient');
  });
  await context.addInitScript({ content: probe(lib.accept) });
  const page = await context.newPage();
  page.on('requestfinished', (r) => loadedUrls.push(r.url()));
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  if (opts.throttle > 1) await cdp.send('Emulation.setCPUThrottlingRate', { rate: opts.throttle });
  const s: Sample = {
    visible: null,
    painted: null,
    ref: null,
    fp: null,
    fcp: null,
    scriptMs: Number.NaN,
    taskMs: Number.NaN,
    styleLayoutMs: Number.NaN,
    cls: 0,
    shifts: [],
    clickDuration: null,
    clickToFrame: null,
    acceptHides: null,
    blocked,
    loadedUrls,
  };
  try {
    await page.goto(`${ORIGIN}/${lib.id}`, { waitUntil: 'load', timeout: 30_000 });
    const target = lib.accept ? 'window.__bench.visible !== null' : 'window.__bench.ref !== null';
    if (!(await pollInPage(page, target, 20_000))) throw new Error('Accept button never became visible');
    // Let late work (and late layout shifts) land before reading the counters.
    await wait(300);
    const metrics = (await cdp.send('Performance.getMetrics')).metrics;
    const m = (n: string) => (metrics.find((x) => x.name === n)?.value ?? Number.NaN) * 1000;
    s.scriptMs = m('ScriptDuration');
    s.taskMs = m('TaskDuration');
    s.styleLayoutMs = m('LayoutDuration') + m('RecalcStyleDuration');
    if (opts.shots) {
      mkdirSync(opts.shots, { recursive: true });
      await page.screenshot({ path: join(opts.shots, `${lib.id}.png`) });
    }
    if (opts.click && lib.accept) {
      const box = await page.locator(lib.accept).first().boundingBox();
      if (!box) throw new Error('no box for the Accept button');
      await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
      await pollInPage(page, 'window.__bench.clickToFrame !== null', 5_000);
      await wait(200);
      // Some fade out (Osano takes ~1 s); give them 2 s to get the button out of sight.
      s.acceptHides = await pollInPage(
        page,
        `!window.__benchVisible(document.querySelector(${JSON.stringify(lib.accept)}))`,
        2_000,
      );
    }
    const b = (await page.evaluate('window.__bench')) as InPage;
    Object.assign(s, {
      visible: b.visible,
      painted: b.painted,
      ref: b.ref,
      fp: b.fp,
      fcp: b.fcp,
      cls: b.cls,
      shifts: b.shifts,
    });
    s.clickToFrame = b.clickToFrame;
    if (opts.click && lib.accept) {
      // The click's interaction: pointerdown/pointerup/click share one interactionId.
      const ids = b.events.filter((e) => e.name === 'click' && e.id > 0).map((e) => e.id);
      const inClick = b.events.filter((e) => e.id > 0 && (ids.length === 0 || ids.includes(e.id)));
      s.clickDuration = inClick.reduce((a, e) => Math.max(a, e.duration), 0);
    }
  } catch (e) {
    s.error = String(e instanceof Error ? e.message : e).split('\n')[0];
  } finally {
    await context.close();
  }
  return s;
};

// ---------------------------------------------------------------------------------------------
// 7. Validation pass (unthrottled, not timed): the notice shows what it must, what it loads
// (for the byte counts), and that nothing leaves 127.0.0.1. Then the interleaved timed runs.

const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });
const chromiumVersion = browser.version();

interface Bytes {
  files: { path: string; raw: number; gzip: number; brotli: number }[];
  raw: number;
  gzip: number;
  brotli: number;
  jsGzip: number;
  cssGzip: number;
}
const sizes = (buf: Buffer) => ({
  raw: buf.length,
  gzip: gzipSync(buf, { level: 9 }).length,
  brotli: brotliCompressSync(buf, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: buf.length },
  }).length,
});
const bytesOf = (urls: string[]): Bytes => {
  const paths = [...new Set(urls.map((u) => new URL(u).pathname))].filter(
    (p) => /\.(js|css)$/.test(p) && !p.startsWith('/cfg/'),
  );
  const files = paths.map((p) => {
    const f = fileFor(p)!;
    return { path: p, ...sizes(typeof f === 'string' ? readFileSync(f) : f) };
  });
  const sum = (k: 'raw' | 'gzip' | 'brotli', re = /./) =>
    files.filter((f) => re.test(f.path)).reduce((a, f) => a + f[k], 0);
  return {
    files,
    raw: sum('raw'),
    gzip: sum('gzip'),
    brotli: sum('brotli'),
    jsGzip: sum('gzip', /\.js$/),
    cssGzip: sum('gzip', /\.css$/),
  };
};

interface Check {
  bytes: Bytes;
  configBytes: number;
  texts: Record<string, boolean>;
  blocked: string[];
  error?: string;
}
const checks: Record<string, Check> = {};
log(`Chromium ${chromiumVersion}; validating ${libs.length} pages`);
for (const lib of libs) {
  const s = await measure(browser, lib, { throttle: 1, click: false, shots: process.env.BENCH_SHOTS });
  const texts: Record<string, boolean> = {};
  if (lib.accept) {
    const ctx = await browser.newContext();
    await ctx.route('**/*', (r) => (r.request().url().startsWith(ORIGIN) ? r.continue() : r.abort()));
    await ctx.addInitScript({ content: probe(lib.accept) });
    const page = await ctx.newPage();
    await page.goto(`${ORIGIN}/${lib.id}`, { waitUntil: 'load' });
    await pollInPage(page, 'window.__bench.visible !== null', 20_000);
    // Rendered text (innerText), so hidden elements don't count.
    const got = (await page.evaluate(`(() => {
      const all = [...document.querySelectorAll('a, button, [role=link]')];
      const said = (e) => (e ? e.innerText.trim() : '');
      return {
        message: document.body.innerText.replace(said(document.querySelector('main')), '').includes(${JSON.stringify(MESSAGE)}),
        learnMore: all.some((e) => said(e) === 'Learn More'),
        accept: said(document.querySelector(${JSON.stringify(lib.accept)})) === 'Accept !',
        reject: all.some((e) => said(e) === 'Reject'),
      };
    })()`)) as Record<string, boolean>;
    Object.assign(texts, got);
    await ctx.close();
  }
  checks[lib.id] = {
    bytes: bytesOf(s.loadedUrls.filter((u) => u.startsWith(ORIGIN))),
    configBytes: Object.values(lib.cfg ?? {}).reduce((a, c) => a + Buffer.byteLength(c), 0),
    texts,
    blocked: s.blocked,
    error: s.error,
  };
  log(
    `${lib.id.padEnd(14)} ${s.error ? `ERROR ${s.error}` : 'ok'}  ${checks[lib.id]!.bytes.gzip} B gz  texts ${JSON.stringify(texts)}  blocked ${s.blocked.length}`,
  );
}

const samples: Record<string, Sample[]> = Object.fromEntries(libs.map((l) => [l.id, []]));
log(`${RUNS} interleaved runs × ${libs.length} pages at ${THROTTLE}× CPU throttling`);
for (let run = 0; run < RUNS; run++) {
  // Rotate the order each run, so every page takes every position.
  const order = libs.map((_, i) => libs[(i + run) % libs.length]!);
  for (const lib of order) {
    const s = await measure(browser, lib, { throttle: THROTTLE, click: true });
    samples[lib.id]!.push(s);
    if (s.error) log(`run ${run + 1} ${lib.id}: ERROR ${s.error}`);
  }
  log(`run ${run + 1}/${RUNS} done`);
}
await browser.close();
server.close();

// ---------------------------------------------------------------------------------------------
// 8. Summaries, table, files.

const quantile = (xs: number[], q: number) => {
  const a = xs.filter((x) => Number.isFinite(x)).sort((x, y) => x - y);
  if (a.length === 0) return Number.NaN;
  const i = (a.length - 1) * q;
  return a[Math.floor(i)]! + (a[Math.ceil(i)]! - a[Math.floor(i)]!) * (i - Math.floor(i));
};
const median = (xs: number[]) => quantile(xs, 0.5);
const ok = (id: string) => samples[id]!.filter((s) => !s.error);
const col = (id: string, f: (s: Sample) => number | null) => ok(id).map((s) => f(s) ?? Number.NaN);

const base = {
  frame: median(col('none', (s) => s.ref)),
  script: median(col('none', (s) => s.scriptMs)),
  fp: median(col('none', (s) => s.fp)),
  fcp: median(col('none', (s) => s.fcp)),
  styleLayout: median(col('none', (s) => s.styleLayoutMs)),
};

interface Row {
  id: string;
  base: string;
  embed: Lib['embed'];
  name: string;
  version: string;
  runs: number;
  errors: string[];
  bytes: Bytes;
  configBytes: number;
  texts: Record<string, boolean>;
  blocked: number;
  visible: { median: number; p25: number; p75: number };
  painted: number;
  overBaseline: number;
  afterOwnFirstFrame: number;
  fcp: number;
  fp: number;
  /** Median frame in which the page's own <h1> was visible. */
  ref: number;
  scriptMs: number;
  scriptOverBaseline: number;
  styleLayoutMs: number;
  cls: { max: number; median: number };
  shiftSources: string[];
  clickDuration: { median: number; max: number; over16: number; of: number };
  clickToFrame: number;
  acceptHides: string;
  note?: string;
}
const rows: Row[] = libs.map((lib) => {
  const vis = col(lib.id, (s) => (lib.accept ? s.visible : s.ref));
  // Only clicks that took effect: a click on a button whose listener isn't attached yet does
  // nothing, quickly (that shows as "Accept hid the banner" below n/n).
  const worked = ok(lib.id).filter((s) => s.acceptHides);
  const clicks = worked.map((s) => s.clickDuration ?? Number.NaN);
  const hides = ok(lib.id).map((s) => s.acceptHides);
  return {
    id: lib.id,
    base: lib.base,
    embed: lib.embed,
    name: lib.name,
    version: lib.version,
    runs: ok(lib.id).length,
    errors: samples[lib.id]!.filter((s) => s.error).map((s) => s.error!),
    bytes: checks[lib.id]!.bytes,
    configBytes: checks[lib.id]!.configBytes,
    texts: checks[lib.id]!.texts,
    blocked: checks[lib.id]!.blocked.length + samples[lib.id]!.reduce((a, s) => a + s.blocked.length, 0),
    visible: { median: median(vis), p25: quantile(vis, 0.25), p75: quantile(vis, 0.75) },
    painted: median(col(lib.id, (s) => s.painted)),
    overBaseline: median(vis) - base.frame,
    afterOwnFirstFrame: median(
      col(lib.id, (s) => (s.visible !== null && s.ref !== null ? s.visible - s.ref : null)),
    ),
    fcp: median(col(lib.id, (s) => s.fcp)),
    fp: median(col(lib.id, (s) => s.fp)),
    ref: median(col(lib.id, (s) => s.ref)),
    styleLayoutMs: median(col(lib.id, (s) => s.styleLayoutMs)),
    scriptMs: median(col(lib.id, (s) => s.scriptMs)),
    scriptOverBaseline: median(col(lib.id, (s) => s.scriptMs)) - base.script,
    cls: { max: Math.max(0, ...col(lib.id, (s) => s.cls)), median: median(col(lib.id, (s) => s.cls)) },
    shiftSources: [...new Set(ok(lib.id).flatMap((s) => s.shifts.flatMap((x) => x.sources)))],
    clickDuration: {
      median: median(clicks),
      max: Math.max(0, ...clicks.filter(Number.isFinite)),
      over16: clicks.filter((c) => c >= 16).length,
      of: clicks.filter(Number.isFinite).length,
    },
    clickToFrame: median(worked.map((s) => s.clickToFrame ?? Number.NaN)),
    acceptHides: lib.accept ? `${hides.filter((h) => h).length}/${hides.length}` : '',
    note: lib.note,
  };
});

const kb = (b: number) => `${(b / 1000).toFixed(1)}`;
const ms = (x: number) => (Number.isFinite(x) ? `${Math.round(x)}` : 'n/a');
const inp = (r: Row) =>
  !r.clickDuration.of
    ? ''
    : r.clickDuration.median >= 16
      ? `${ms(r.clickDuration.median)} (max ${ms(r.clickDuration.max)})`
      : `<16${r.clickDuration.max ? ` (max ${ms(r.clickDuration.max)})` : ''}`;
const header = [
  'Library',
  'JS+CSS raw KB',
  'gzip -9 KB',
  'brotli KB',
  'Accept visible ms, median (p25–p75)',
  'first painted ms (opacity > 0)',
  'Δ vs page alone',
  'after own 1st frame',
  'scripting ms (Δ)',
  'CLS',
  'Accept click event ms',
  'click→next frame ms',
];
const deferRows = rows.filter((r) => r.embed === 'defer');
const tableRows = deferRows.map((r) => {
  const isBase = r.id === 'none';
  return [
    `${r.name}${r.version ? ` ${r.version}` : ''}`,
    isBase ? '0' : kb(r.bytes.raw),
    isBase ? '0' : kb(r.bytes.gzip),
    isBase ? '0' : kb(r.bytes.brotli),
    `${ms(r.visible.median)} (${ms(r.visible.p25)}–${ms(r.visible.p75)})${isBase ? ' ¹' : ''}`,
    isBase ? '—' : ms(r.painted),
    isBase ? '—' : `+${ms(r.overBaseline)}`,
    isBase ? '—' : `+${ms(r.afterOwnFirstFrame)}`,
    isBase ? ms(r.scriptMs) : `${ms(r.scriptMs)} (+${ms(r.scriptOverBaseline)})`,
    r.cls.max.toFixed(3),
    isBase ? '—' : inp(r),
    isBase ? '—' : ms(r.clickToFrame),
  ];
});
const mdTable = [
  `| ${header.join(' | ')} |`,
  `|${header.map((_, i) => (i < 1 ? '---' : '---:')).join('|')}|`,
  ...tableRows.map((c) => `| ${c.join(' | ')} |`),
].join('\n');

// Both embeddings side by side: what the banner costs the page's own first paint, and the
// main thread's work up to 300 ms after the banner showed.
const delta = (x: number, b: number) => `${ms(x)} (${x - b >= 0 ? '+' : '−'}${ms(Math.abs(x - b))})`;
const embedHeader = [
  'Library',
  'embedding',
  'first paint ms (Δ)',
  'first contentful paint ms (Δ)',
  "page's <h1> frame ms (Δ)",
  'Accept visible ms, median (p25–p75)',
  'Δ vs page alone',
  'scripting ms (Δ)',
  'style + layout ms (Δ)',
  'CLS',
];
const pageAlone = rows.find((r) => r.id === 'none');
const embedRows = [
  ...(pageAlone ? [pageAlone] : []),
  ...[...new Set(rows.filter((r) => r.id !== 'none').map((r) => r.base))].flatMap((b) =>
    rows.filter((r) => r.base === b).sort((x, y) => (x.embed === 'defer' ? -1 : y.embed === 'defer' ? 1 : 0)),
  ),
].map((r) => {
  const isBase = r.id === 'none';
  return [
    `${r.name}${r.version ? ` ${r.version}` : ''}`,
    isBase ? '—' : r.embed === 'defer' ? '`defer`' : '**no `defer`**',
    isBase ? ms(r.fp) : delta(r.fp, base.fp),
    isBase ? ms(r.fcp) : delta(r.fcp, base.fcp),
    isBase ? ms(r.ref) : delta(r.ref, base.frame),
    isBase ? '—' : `${ms(r.visible.median)} (${ms(r.visible.p25)}–${ms(r.visible.p75)})`,
    isBase ? '—' : `+${ms(r.overBaseline)}`,
    isBase ? ms(r.scriptMs) : `${ms(r.scriptMs)} (+${ms(r.scriptOverBaseline)})`,
    isBase ? ms(r.styleLayoutMs) : delta(r.styleLayoutMs, base.styleLayout),
    r.cls.max.toFixed(3),
  ];
});
const embedTable = [
  `| ${embedHeader.join(' | ')} |`,
  `|${embedHeader.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`,
  ...embedRows.map((c) => `| ${c.join(' | ')} |`),
].join('\n');

const cpu = cpus();
const machine = `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, Chromium ${chromiumVersion} (Debian, headless), playwright-core`;
const date = new Date().toISOString();
const wall = (Date.now() - t0) / 1000;
const noisy = Math.max(loadBefore, loadavg()[0]!) > cpus().length;
const load = `1-minute load average ${loadBefore.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end`;

const filesTable = [
  '| Library | Files the page loaded for the banner (raw / gzip -9 / brotli bytes) | Config (site-written, not counted) |',
  '|---|---|---:|',
  ...deferRows
    .filter((r) => r.id !== 'none')
    .map(
      (r) =>
        `| ${r.name} | ${r.bytes.files.map((f) => `\`${f.path.replace(/^\/p\//, '')}\` ${f.raw} / ${f.gzip} / ${f.brotli}`).join('<br>')} | ${r.configBytes ? `${r.configBytes} B` : 'in the tag'} |`,
    ),
].join('\n');

const checksTable = [
  '| Library | message | Learn More | "Accept !" | Reject | requests blocked (other origins) | Accept hid the banner | failed runs | layout-shift sources |',
  '|---|:-:|:-:|:-:|:-:|---:|:-:|---:|---|',
  ...rows
    .filter((r) => r.id !== 'none')
    .map(
      (r) =>
        `| ${r.name}${r.embed === 'nodefer' ? ' (no `defer`)' : ''} | ${['message', 'learnMore', 'accept', 'reject'].map((k) => (r.texts[k] ? '✓' : '✗')).join(' | ')} | ${r.blocked} | ${r.acceptHides} | ${r.errors.length}${r.errors.length ? ` (${[...new Set(r.errors)].join('; ')})` : ''} | ${r.shiftSources.join(', ') || '—'} |`,
    ),
].join('\n');

const md = `# Banner benchmark: Assent and its peers

Generated by \`npm run bench:banner\` (\`bench/banner.ts\`) on ${date}, Assent at commit ${commit}; whole run ${wall.toFixed(0)} s.

**Machine:** ${machine}. CPU throttled ${THROTTLE}× with CDP \`Emulation.setCPUThrottlingRate\`; viewport 1280×800; ${RUNS} runs per page, interleaved (the order rotates every run), a fresh browser context per load; medians. ${load} (other work on the machine shares its ${cpu.length} cores; interleaving spreads that noise over every library alike, and the p25–p75 spread shows how much there was).

${mdTable}

¹ The page alone: its first frame with the article's \`<h1>\` visible, measured the same way; this is what "Δ vs page alone" subtracts.

## Without \`defer\` (as owners paste snippets)

The same pages with every library's \`<script>\` tags in \`<head>\` **without \`defer\`** (config files too, same order; stylesheets unchanged), measured in the same interleaved run as the table above (${RUNS} loads of each page, the order rotating over all ${libs.length} pages). A script without \`defer\` blocks the parser: the page's \`<body>\` is not parsed, so nothing of the page can paint, until it has been fetched and has run. Each library is shown in both embeddings; Δ is over the page alone (no script at all, the same page for both).

${embedTable}

- **first paint / first contentful paint**: Paint Timing (\`PerformanceObserver\` \`paint\`, buffered) of the page; with a banner that paints before the article these are the banner's. **page's <h1> frame**: the first \`requestAnimationFrame\` with the article's heading visible (as in the table above). Δ over the page alone is what the embedding costs the page's own first paint.
- **scripting**: \`ScriptDuration\` as above; **style + layout**: \`RecalcStyleDuration\` + \`LayoutDuration\` of \`Performance.getMetrics\` at the same moment (throttled wall time of the main thread, the probe's rAF checks included, hence the page alone's own number).
- Without \`defer\`, three peers throw in \`<head>\` (\`document.body\` is null): Osano's \`initialise\` and vanilla-cookieconsent's \`run\` append to the body, c15t's core observes it. Their start call (Osano's and vanilla-cookieconsent's config file; c15t's whole runtime and banner) waits for \`DOMContentLoaded\` when there is no body yet, as their docs' snippets (Osano: window \`load\`) and any working paste do; their library file itself still loads and runs without \`defer\`, blocking the parser. Assent (its DOM part waits for the body by itself), tarteaucitron.js (waits for window \`load\`) and Klaro run unchanged.

## Method

- **Pages.** One Node HTTP server on 127.0.0.1 serves one page per library: the same article (an \`<h1>\` and eight paragraphs) with that library's files in \`<head>\` (\`defer\`red scripts, config in its own deferred file, no inline script), each configured to the notice "${MESSAGE}" + "Learn More" link to \`/privacy\` + "Accept !" button, with a reject button where the library has one. Every request to another origin is aborted and counted (all zero below). Files are served uncompressed (loopback); bytes are computed from the files.
- **Bytes.** The JS and CSS files the page actually requested for the banner (from Chromium's finished requests, so files a library loads by itself are counted), each compressed on its own with gzip -9 and brotli q11, summed. The site-written config is not counted (Assent's is the \`data-assent\` attribute).
- **Time to banner.** A script installed before any page script (\`addInitScript\`) checks the Accept button in every \`requestAnimationFrame\` callback and keeps the first frame's timestamp (ms since navigation start) in which the button is *visible*: non-empty box with its centre in the viewport, \`visibility: visible\`, product of its and its ancestors' opacity ≥ 0.5 (so a fade-in counts once half-way), and \`document.elementFromPoint\` at its centre is the button or inside it (not covered). "first painted" is the same test with any opacity > 0: the gap between the two is a fade-in. The same check on the \`<h1>\` gives the page's own first frame. "Δ vs page alone" = median Accept frame − median first frame of the page without a banner; "after own 1st frame" = median, per load, of Accept frame − that load's own \`<h1>\` frame.
- **Scripting.** CDP \`Performance.getMetrics\` \`ScriptDuration\` (main-thread JS, throttled wall time) 300 ms after the banner became visible and the \`load\` event fired; Δ is over the page alone (whose own number is mostly the probe's rAF loop).
- **CLS.** Sum of \`layout-shift\` entries without recent input, up to the click; max over runs. Must be 0 for Assent.
- **Accept click.** After that, a real mouse click (CDP \`Input.dispatchMouseEvent\` via \`page.mouse\`) at the button's centre. "Accept click event ms" is the Event Timing API (\`PerformanceObserver({type: 'event', durationThreshold: 16})\`): the longest entry of the click's interaction (pointerdown/pointerup/click share an \`interactionId\`), i.e. what INP would count for it: input delay + handlers + time to the next paint, rounded to 8 ms. Entries under 16 ms are not reported by the API, so "<16" means no run reached 16 ms (the max over runs is shown when any did). "click→next frame" is a finer proxy: from the click event's \`timeStamp\` to the first \`requestAnimationFrame\` callback after all click listeners ran (excludes that frame's own render). "Accept hid the banner": the button is no longer visible (same test) within 2 s of the click; the click columns count only those clicks (a click that did nothing is cheap and would flatter the number). The click comes ~300 ms after the button became visible, like a quick visitor.

## What each page loads

${filesTable}

## Checks

${checksTable}

## Notes

${deferRows
  .filter((r) => r.note)
  .map((r) => `- **${r.name}**: ${r.note}`)
  .join('\n')}
- **c15t bytes for reference:** the core alone (\`getOrCreateConsentRuntime\`, tree-shaken, with zustand, schema and translations it imports) ${kb(sizes(c15tCoreOnly).raw)} KB raw / ${kb(sizes(c15tCoreOnly).gzip)} KB gzip -9 / ${kb(sizes(c15tCoreOnly).brotli)} KB brotli; every export of \`c15t\` ${kb(sizes(c15tEverything).raw)} / ${kb(sizes(c15tEverything).gzip)} / ${kb(sizes(c15tEverything).brotli)} KB. Its row is the core plus the docs' vanilla banner, not c15t's own UI (React-only, not measured here); offline mode, so no \`/init\` request that hosted mode would add before the banner.
- **Node 20:** all five peers install on Node ${process.version} (\`npm ci --prefix bench/peers --ignore-scripts\`); they are browser files, and none declares an engine Node 20 fails. Klaro lists build tools (sass, @babel/eslint-parser, webpack-merge) as runtime dependencies, so its install pulls ~150 packages; \`--ignore-scripts\` keeps their install scripts from running.
- Times are under ${THROTTLE}× CPU throttling on a ${cpu.length}-core machine; compare rows within this file, not with other machines.${noisy ? `\n- **Noise:** the load average was above the core count during this run (${load}), so the renderer competed for CPU and frame times moved by 100–200 ms from load to load (see the p25–p75 spreads, and those of the page alone). Rows whose p25–p75 ranges overlap are not told apart by this run; rerun on a quiet machine before reading differences of that size. Bytes, CLS, whether Accept works, the fade-ins (first painted vs visible) and waiting for window load are not affected by it.` : ''}
`;

mkdirSync(RESULTS, { recursive: true });
writeFileSync(join(RESULTS, 'banner.md'), md);
writeFileSync(
  join(RESULTS, 'banner.json'),
  JSON.stringify(
    { date, commit, machine, throttle: THROTTLE, runs: RUNS, baseline: base, rows, samples },
    null,
    2,
  ),
);

console.log(`\n${mdTable}\n`);
console.log(`${embedTable}\n`);
console.log(checksTable, '\n');
log(`wrote bench/results/banner.md and bench/results/banner.json`);
for (const ours of rows.filter((r) => r.base === 'assent'))
  if (ours.cls.max > 0) {
    console.error(
      `Assent's CLS (${ours.id}) is ${ours.cls.max}, must be 0 (sources: ${ours.shiftSources.join(', ')})`,
    );
    process.exitCode = 1;
  }

// ---------------------------------------------------------------------------------------------
// 9. The checked-in baseline (bench/BASELINE.md): compare with it, or rewrite it with
// BENCH_WRITE_BASELINE=1 after a change that is meant to move it.

const BASELINE = join(ROOT, 'bench/BASELINE.md');
const baselineOf = (r: Row) => ({
  raw: r.bytes.raw,
  gzip: r.bytes.gzip,
  brotli: r.bytes.brotli,
  visibleMs: Math.round(r.visible.median),
  overPageAloneMs: Math.round(r.overBaseline),
  afterOwnFirstFrameMs: Math.round(r.afterOwnFirstFrame),
  scriptingOverPageAloneMs: Math.round(r.scriptOverBaseline),
  cls: r.cls.max,
});
const current = Object.fromEntries(
  deferRows.filter((r) => r.id.startsWith('assent')).map((r) => [r.id, baselineOf(r)]),
);
if (process.env.BENCH_WRITE_BASELINE) {
  const a = current.assent;
  writeFileSync(
    BASELINE,
    `# Banner baseline

Assent's banner as checked in: bytes and time to banner from one \`npm run bench:banner\` run
(${date}, Assent at commit ${commit}, ${RUNS} interleaved runs, ${THROTTLE}× CPU throttling, ${machine}; ${load}).
Full table with the peers: [results/banner.md](results/banner.md). Method: see there.

${
  a
    ? `- **Bytes** (\`assent.min.js\`, its CSS inside): ${a.raw} raw / **${a.gzip} gzip -9** / ${a.brotli} brotli.
- **Time to banner** (first frame with Accept visible, median): ${a.visibleMs} ms after navigation start, **+${a.overPageAloneMs} ms** over the same page without a banner, +${a.afterOwnFirstFrameMs} ms after that load's own first frame.
- **Scripting** over the page alone: +${a.scriptingOverPageAloneMs} ms; **CLS** ${a.cls}.
`
    : ''
}
Bytes are exact and should only move with the code; times move with the machine's load, so
compare them within one run (results/banner.md) before reading much into a few ms here.
\`npm run bench:banner\` prints the difference from these numbers; \`BENCH_WRITE_BASELINE=1 npm run bench:banner\` rewrites this file.

\`\`\`json
${JSON.stringify(current, null, 2)}
\`\`\`
`,
  );
  log('wrote bench/BASELINE.md');
} else if (existsSync(BASELINE)) {
  const m = /```json\n([\s\S]*?)\n```/.exec(readFileSync(BASELINE, 'utf8'));
  const was = m ? (JSON.parse(m[1]!) as Record<string, ReturnType<typeof baselineOf>>) : {};
  for (const [id, now] of Object.entries(current)) {
    const b = was[id];
    if (!b) continue;
    const d = (k: keyof typeof now) =>
      `${k} ${now[k]} (${now[k] - b[k] >= 0 ? '+' : ''}${+(now[k] - b[k]).toFixed(3)})`;
    console.log(
      `vs BASELINE.md, ${id}: ${(['gzip', 'brotli', 'raw', 'overPageAloneMs', 'cls'] as const).map(d).join(', ')}`,
    );
  }
}
