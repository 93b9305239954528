/**
 * One helper for every browser test: real headless Chromium (Debian's, via playwright-core)
 * against pages served on 127.0.0.1. `open()` returns the page plus what a test asks most:
 * cookies, requests to other origins, console errors, CSP violations, layout shifts.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { launch as launchChromium } from '../packages/scanner/src/browser.js';

export const ROOT = join(import.meta.dirname, '..');
export const BANNER_DIST = join(ROOT, 'packages/banner/dist');

/** The project's one Chromium set-up (the scanner's): Debian's binary, nothing phoning home. */
export { CHROMIUM, CHROMIUM_ARGS } from '../packages/scanner/src/browser.js';

/** *.assent.test resolves to this machine, so tests can use real subdomains. */
export const launch = (): Promise<Browser> => launchChromium('MAP *.assent.test 127.0.0.1');

export type Handler = (req: IncomingMessage, res: ServerResponse) => boolean | undefined;

/** A page of the test site: `head`/`body` HTML, optional CSP header. */
export interface PageSpec {
  head?: string;
  body?: string;
  csp?: string;
  lang?: string;
}

const TYPES: Record<string, string> = {
  js: 'text/javascript',
  css: 'text/css',
  html: 'text/html; charset=utf-8',
};

/** Served at `/__errors.js`: collects the page's console errors and uncaught errors in `window.__errors`. */
const ERRORS_JS = `(() => {
  const errors = (window.__errors = []);
  const text = (a) => (a instanceof Error ? String(a) : typeof a === 'string' ? a : JSON.stringify(a));
  const original = console.error;
  console.error = function (...args) {
    errors.push(args.map(text).join(' '));
    return original.apply(this, args);
  };
  addEventListener('error', (e) => errors.push(e.error ? String(e.error) : e.message));
  addEventListener('unhandledrejection', (e) => errors.push('Unhandled rejection: ' + text(e.reason)));
})();`;

/**
 * Serves `pages` (path → spec) plus the banner's dist files at `/assent.min.js`, `/assent.full.min.js`
 * (each with its preferences file, `/assent.prefs.min.js`, `/assent.full.prefs.min.js`),
 * `/assent.css`, `/i18n/*.js`, and `/hit/<name>` which counts requests (for "ran once").
 */
export const serve = async (pages: Record<string, PageSpec>, extra?: Handler, listenPort = 0) => {
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (extra?.(req, res)) return;
    if (url.pathname === '/__errors.js') {
      // For engines without console events (WebDriver classic): a page's first script collects
      // console.error calls and uncaught errors into window.__errors (test-support/engines.ts).
      res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' });
      res.end(ERRORS_JS);
      return;
    }
    if (url.pathname.startsWith('/hit/')) {
      const name = url.pathname.slice(5);
      hits.set(name, (hits.get(name) ?? 0) + 1);
      res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' });
      res.end(`window.hits=(window.hits||[]).concat(${JSON.stringify(name)});`);
      return;
    }
    const spec = pages[url.pathname];
    if (spec) {
      res.writeHead(200, {
        'content-type': TYPES.html!,
        'cache-control': 'no-store',
        ...(spec.csp ? { 'content-security-policy': spec.csp } : {}),
      });
      res.end(
        `<!doctype html><html lang="${spec.lang ?? 'en'}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Test page</title>${spec.head ?? ''}</head><body><main><h1>Test page</h1>${spec.body ?? ''}</main></body></html>`,
      );
      return;
    }
    const file = url.pathname.slice(1);
    if (
      /^(assent\.((full\.)?(prefs\.)?min\.js|vendors\.min\.js|css|esm\.js)|i18n\/[a-z]{2}\.js)$/.test(file)
    ) {
      try {
        const body = readFileSync(join(BANNER_DIST, file));
        res.writeHead(200, { 'content-type': TYPES[file.split('.').pop()!]!, 'cache-control': 'no-store' });
        res.end(body);
        return;
      } catch {}
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  });
  await new Promise<void>((r) => server.listen(listenPort, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    hits,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
};

/** Collects CSP violations, console errors and layout shifts from the first moment of each page. */
const INIT = () => {
  const w = window as unknown as { __csp: string[]; __cls: number };
  w.__csp = [];
  w.__cls = 0;
  document.addEventListener('securitypolicyviolation', (e) =>
    w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`),
  );
  new PerformanceObserver((l) => {
    for (const e of l.getEntries() as (PerformanceEntry & { value: number; hadRecentInput: boolean })[])
      if (!e.hadRecentInput) w.__cls += e.value;
  }).observe({ type: 'layout-shift', buffered: true });
};

export interface Opened {
  page: Page;
  context: BrowserContext;
  errors: string[];
  /** console.warn messages. */
  warnings: string[];
  requests: Request[];
  /** Cookies of the page's context, by name. */
  cookies(): Promise<
    Record<string, { value: string; expires: number; sameSite: string; path: string; domain: string }>
  >;
  /** Requests to origins other than `origin`. */
  requestsTo(origin: string): string[];
  csp(): Promise<string[]>;
  cls(): Promise<number>;
}

/** Opens `url` in a fresh context (or the one given). */
export const open = async (
  browser: Browser,
  url: string,
  opts: {
    context?: BrowserContext;
    init?: string;
    colorScheme?: 'dark' | 'light';
    viewport?: { width: number; height: number };
  } = {},
): Promise<Opened> => {
  const context =
    opts.context ??
    (await browser.newContext({
      colorScheme: opts.colorScheme ?? 'light',
      viewport: opts.viewport ?? { width: 1280, height: 800 },
    }));
  await context.addInitScript(INIT);
  if (opts.init) await context.addInitScript(opts.init);
  const page = await context.newPage();
  const errors: string[] = [];
  const warnings: string[] = [];
  const requests: Request[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
    if (m.type() === 'warning') warnings.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => requests.push(r));
  await page.goto(url);
  return {
    page,
    context,
    errors,
    warnings,
    requests,
    async cookies() {
      const all = await context.cookies();
      return Object.fromEntries(all.map((c) => [c.name, c]));
    },
    requestsTo(origin: string) {
      return requests.map((r) => r.url()).filter((u) => !u.startsWith(origin));
    },
    csp: () => page.evaluate(() => (window as unknown as { __csp: string[] }).__csp),
    cls: () => page.evaluate(() => (window as unknown as { __cls: number }).__cls),
  };
};

/**
 * The banner's script tag with a shortcode: the drop-in as a site writes it (the styles come
 * inside the script). `file`: the lite build by default; `assent.full.min.js` for opt-out,
 * GPC, receipts and the integrations.
 */
export const bannerTag = (shortcode: string, extra = '', file = 'assent.min.js') =>
  `<script src="/${file}" data-assent="${shortcode}" ${extra} defer></script>`;

/**
 * Polls `check` (in this process) every 20 ms until it holds, for up to `ms`; its last answer.
 * For what the browser causes elsewhere, such as a request reaching the test server, which
 * can arrive after the page shows its result.
 */
export const until = async (check: () => boolean, ms = 5000): Promise<boolean> => {
  for (const end = Date.now() + ms; !check() && Date.now() < end; )
    await new Promise((r) => setTimeout(r, 20));
  return check();
};
