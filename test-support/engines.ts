/**
 * The banner's browser tests in all three engines through one small driver API:
 * - Chromium: Debian's, via playwright-core (the same launch as test-support/browser.ts);
 * - Firefox: Debian's firefox-esr, via puppeteer-core over WebDriver BiDi;
 * - WebKit (Safari's engine): WebKitGTK's WebKitWebDriver with its MiniBrowser on an Xvfb display,
 *   via selenium-webdriver (WebDriver classic).
 * `scripts/install-browsers.sh` installs Firefox, the WebKit driver and Xvfb. Nothing here
 * downloads a browser: every engine runs the distro's binary, and puppeteer-core has no installer.
 *
 * WebDriver classic has no console events, so console errors come from the page itself: test
 * pages load `/__errors.js` (served by `serve()`) first, which fills `window.__errors`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser as PlaywrightBrowser } from 'playwright-core';
import puppeteer, { type ElementHandle } from 'puppeteer-core';
import { Builder, Key, type WebDriver, type WebElement } from 'selenium-webdriver';
import { launch as launchChromium } from './browser.js';
import { freePort } from './ports.js';

export type EngineName = 'chromium' | 'firefox' | 'webkit';

export const FIREFOX = process.env.ASSENT_FIREFOX ?? '/usr/bin/firefox-esr';
export const WEBKIT_DRIVER = process.env.ASSENT_WEBKIT_DRIVER ?? '/usr/bin/WebKitWebDriver';
/** WebKitGTK's MiniBrowser lives beside its helper processes, under the multiarch library folder. */
export const minibrowser = (): string => {
  if (process.env.ASSENT_MINIBROWSER) return process.env.ASSENT_MINIBROWSER;
  for (const arch of readdirSync('/usr/lib').filter((d) => d.endsWith('-linux-gnu')))
    for (const dir of readdirSync(`/usr/lib/${arch}`)
      .filter((d) => d.startsWith('webkit2gtk-4.'))
      .sort()
      .reverse()) {
      const bin = `/usr/lib/${arch}/${dir}/MiniBrowser`;
      if (existsSync(bin)) return bin;
    }
  throw new Error('MiniBrowser not found: run `bash scripts/install-browsers.sh`');
};

/** One cookie as the driver sees it (HttpOnly ones included). `expires`: seconds since the epoch, null for a session cookie. */
export interface EngineCookie {
  value: string;
  expires: number | null;
  httpOnly: boolean;
  path: string;
}

export interface EnginePage {
  goto(url: string): Promise<void>;
  /** Runs an expression (a string) or a function's source in the page; awaits a promise; returns its JSON-able result. */
  eval<T>(fn: string | (() => T)): Promise<Awaited<T>>;
  /**
   * A real click through the driver on the first element matching `selector` (and whose trimmed
   * text is `text`, when given), waiting up to 5 s for it to exist.
   */
  click(selector: string, text?: string): Promise<void>;
  /** Keyboard on the focused element: 'Tab', 'Shift+Tab', 'Enter', 'Escape', ' '. */
  press(key: string): Promise<void>;
  /** The cookies the driver holds for the page's host, by name. */
  cookies(): Promise<Record<string, EngineCookie>>;
  /** Polls a JS expression in the page until it is truthy; throws with the expression after `timeoutMs`. */
  waitFor(expression: string, timeoutMs?: number): Promise<void>;
  /** What the page's `/__errors.js` collected: console.error calls and uncaught errors. */
  consoleErrors(): Promise<string[]>;
  /** Closes the page with its context or session, and so its cookie jar. */
  close(): Promise<void>;
}

export interface Engine {
  name: EngineName;
  /** A page in a context of its own: a clean cookie jar and storage. */
  newPage(): Promise<EnginePage>;
  close(): Promise<void>;
}

const ALL: EngineName[] = ['chromium', 'firefox', 'webkit'];

/** All three, or the ones named in ASSENT_ENGINES (e.g. `ASSENT_ENGINES=firefox,webkit`). */
export const engines: EngineName[] = (() => {
  const wanted = process.env.ASSENT_ENGINES?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!wanted?.length) return ALL;
  const unknown = wanted.filter((w) => !ALL.includes(w as EngineName));
  if (unknown.length) throw new Error(`ASSENT_ENGINES: unknown engine(s) ${unknown} (known: ${ALL})`);
  return ALL.filter((e) => wanted.includes(e));
})();

const VIEWPORT = { width: 1280, height: 800 };

/** `fn` as an expression for the page. */
const source = (fn: string | (() => unknown)) => (typeof fn === 'string' ? fn : `(${fn})()`);

/** Finds the element for `click()` in the page; passed as source to every engine. */
const FIND = `(selector, text) => [...document.querySelectorAll(selector)].find((e) => text == null || e.textContent.trim() === text) || null`;
const findExpr = (selector: string, text?: string) =>
  `(${FIND})(${JSON.stringify(selector)}, ${JSON.stringify(text ?? null)})`;

const TRACE = !!process.env.ASSENT_ENGINES_TRACE;
/** One driver call, bounded: a driver that stops answering fails the test that called it, naming the call. */
const call = async <T>(engine: EngineName, what: string, run: () => Promise<T>, ms = 15_000): Promise<T> => {
  const start = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      run(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${engine}: ${what} got no answer in ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (TRACE) console.error(`[${engine}] ${what.slice(0, 100)}: ${Date.now() - start} ms`);
  }
};

type DriverPage = Omit<EnginePage, 'waitFor' | 'consoleErrors' | 'click'> & {
  clickFound(selector: string, text?: string): Promise<void>;
};

/**
 * The engine-neutral half of a page: polling, errors, click's wait, all on top of `eval`; and
 * every driver call bounded by `call()` (ASSENT_ENGINES_TRACE=1 logs each with its duration).
 */
const withCommon = (engine: EngineName, driver: DriverPage): EnginePage => {
  const page: DriverPage = {
    goto: (url) => call(engine, `goto ${url}`, () => driver.goto(url), 30_000),
    eval: ((fn) => call(engine, `eval ${source(fn)}`, () => driver.eval(fn))) as EnginePage['eval'],
    clickFound: (selector, text) =>
      call(engine, `click ${selector} ${text ?? ''}`, () => driver.clickFound(selector, text)),
    press: (key) => call(engine, `press ${key}`, () => driver.press(key)),
    cookies: () => call(engine, 'cookies', () => driver.cookies()),
    close: () => call(engine, 'close', () => driver.close()),
  };
  const waitFor = async (expression: string, timeoutMs = 5000) => {
    const end = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      try {
        if (await page.eval(`!!(${expression})`)) return;
        last = 'falsy';
      } catch (e) {
        last = e; // e.g. the page is navigating: try again
      }
      if (Date.now() > end)
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${expression} (${last})`);
      await sleep(20);
    }
  };
  const { clickFound, ...rest } = page;
  return {
    ...rest,
    waitFor,
    consoleErrors: () => page.eval<string[]>('window.__errors || []'),
    async click(selector, text) {
      await waitFor(findExpr(selector, text));
      await clickFound(selector, text);
    },
  };
};

/** Keeps only the cookies a page on `url`'s host would see. */
const forHost = <C extends { name: string; domain: string }>(url: string, all: C[]) => {
  const host = new URL(url).hostname;
  return all.filter((c) => c.domain === host || (c.domain.startsWith('.') && `.${host}`.endsWith(c.domain)));
};

/** Playwright's and puppeteer's cookies (`expires` -1 for a session cookie), by name. */
const byName = (all: { name: string; value: string; expires: number; httpOnly?: boolean; path: string }[]) =>
  Object.fromEntries(
    all.map((c): [string, EngineCookie] => [
      c.name,
      { value: c.value, expires: c.expires > 0 ? c.expires : null, httpOnly: !!c.httpOnly, path: c.path },
    ]),
  );

// ---------------------------------------------------------------------------------------------
// Chromium (playwright-core)

const openChromium = async (): Promise<Engine> => {
  const browser: PlaywrightBrowser = await launchChromium();
  return {
    name: 'chromium',
    async newPage() {
      const context = await browser.newContext({ viewport: VIEWPORT, colorScheme: 'light' });
      const page = await context.newPage();
      const KEYS: Record<string, string> = { ' ': 'Space' };
      return withCommon('chromium', {
        async goto(url) {
          await page.goto(url);
        },
        eval: ((fn) => page.evaluate(source(fn))) as EnginePage['eval'],
        async clickFound(selector, text) {
          const handle = (await page.evaluateHandle<Element | null>(findExpr(selector, text))).asElement();
          if (!handle) throw new Error(`no ${selector} ${text ?? ''}`);
          try {
            await handle.click();
          } finally {
            await handle.dispose();
          }
        },
        press: (key) => page.keyboard.press(KEYS[key] ?? key),
        async cookies() {
          return byName(forHost(page.url(), await context.cookies()));
        },
        close: () => context.close(),
      });
    },
    close: () => browser.close(),
  };
};

// ---------------------------------------------------------------------------------------------
// Processes this module starts, killed also when the test process ends abruptly.

const killers = new Set<() => void>();
const killAll = () => {
  for (const k of killers) k();
  killers.clear();
};
let hooked = false;
const hookExit = () => {
  if (hooked) return;
  hooked = true;
  process.once('exit', killAll);
  const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const onSignal = (signal: NodeJS.Signals) => {
    killAll();
    for (const s of SIGNALS) process.off(s, onSignal);
    // A listener changes the signal's default (ending the process): restore it, unless another
    // module (playwright's launcher) still handles the signal its own way.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  for (const s of SIGNALS) process.on(s, onSignal);
};

// ---------------------------------------------------------------------------------------------
// Firefox (puppeteer-core over WebDriver BiDi)

const openFirefox = async (): Promise<Engine> => {
  hookExit();
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    defaultViewport: VIEWPORT,
    // This module ends the browser itself on a signal (above); puppeteer's SIGTERM handler would
    // keep the process alive.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    protocolTimeout: 30_000,
    extraPrefsFirefox: {
      // Nothing phones home (puppeteer already turns most of it off).
      'app.update.enabled': false,
      'browser.safebrowsing.malware.enabled': false,
      'browser.safebrowsing.phishing.enabled': false,
      'network.captive-portal-service.enabled': false,
      'network.connectivity-service.enabled': false,
    },
  });
  // Abruptly: the browser, and the temp profile puppeteer would have removed on close().
  const args = browser.process()?.spawnargs ?? [];
  const profile = args[args.indexOf('--profile') + 1];
  const kill = () => {
    browser.process()?.kill('SIGKILL');
    if (args.includes('--profile') && profile?.includes('puppeteer'))
      rmSync(profile, { recursive: true, force: true });
  };
  killers.add(kill);
  return {
    name: 'firefox',
    async newPage() {
      const context = await browser.createBrowserContext();
      const page = await context.newPage();
      const KEYS: Record<string, string> = { ' ': 'Space' };
      return withCommon('firefox', {
        async goto(url) {
          await page.goto(url, { waitUntil: 'load' });
        },
        eval: ((fn) => page.evaluate(source(fn))) as EnginePage['eval'],
        async clickFound(selector, text) {
          const handle = (
            await page.evaluateHandle(findExpr(selector, text))
          ).asElement() as ElementHandle<Element> | null;
          if (!handle) throw new Error(`no ${selector} ${text ?? ''}`);
          try {
            await handle.click();
          } finally {
            await handle.dispose();
          }
        },
        async press(key) {
          const [mod, k] = key.includes('+') ? key.split('+') : [undefined, key];
          if (mod) await page.keyboard.down(mod as 'Shift');
          await page.keyboard.press((KEYS[k!] ?? k) as 'Tab');
          if (mod) await page.keyboard.up(mod as 'Shift');
        },
        async cookies() {
          return byName(forHost(page.url(), await context.cookies()));
        },
        close: () => context.close(),
      });
    },
    async close() {
      await browser.close();
      killers.delete(kill);
    },
  };
};

// ---------------------------------------------------------------------------------------------
// WebKit (WebKitWebDriver + MiniBrowser on Xvfb, selenium-webdriver)

/** Whether a process of group `pgid` is still running (a zombie has ended: it only waits to be reaped). */
const groupAlive = (pgid: number) =>
  readdirSync('/proc').some((pid) => {
    if (!/^\d+$/.test(pid)) return false;
    try {
      // pid (comm) state ppid pgrp …: comm may hold spaces and parentheses, so split after the last ')'.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return Number(pgrp) === pgid && state !== 'Z';
    } catch {
      return false; // gone meanwhile
    }
  });

/** The driver's keys for `press()`. */
const WD_KEYS: Record<string, string> = {
  Tab: Key.TAB,
  Enter: Key.ENTER,
  Escape: Key.ESCAPE,
  ' ': Key.SPACE,
  Space: Key.SPACE,
  Shift: Key.SHIFT,
};

/** A child in a process group of its own, so that it and everything it starts can be ended at once. */
const startGroup = (command: string, args: string[], env: NodeJS.ProcessEnv = process.env, fds = 0) => {
  const child: ChildProcess = spawn(command, args, {
    detached: true,
    env,
    stdio: ['ignore', 'ignore', 'pipe', ...Array<'pipe'>(fds).fill('pipe')],
  });
  const g = {
    child,
    pgid: child.pid!,
    output: '',
    exited: false,
    /** SIGTERM (a clean exit: Xvfb removes its lock file and socket), then SIGKILL for stragglers. */
    async stop() {
      signal(g.pgid, 'SIGTERM');
      for (const end = Date.now() + 5000; groupAlive(g.pgid) && Date.now() < end; ) await sleep(20);
      g.kill();
    },
    kill: () => signal(g.pgid, 'SIGKILL'),
  };
  child.stderr!.on('data', (d) => {
    g.output = (g.output + d).slice(-4000);
  });
  child.once('exit', () => {
    g.exited = true;
  });
  child.once('error', (e) => {
    g.exited = true;
    g.output += String(e);
  });
  return g;
};
const signal = (pgid: number | undefined, sig: NodeJS.Signals) => {
  try {
    // The whole group, even when its leader is gone: a straggler keeps the group alive.
    if (pgid) process.kill(-pgid, sig);
  } catch {}
};

/**
 * An X display for MiniBrowser: Debian's Xvfb (package xvfb, as `xvfb-run` uses it), started
 * here rather than through `xvfb-run -a`, whose display pick races with another run starting at
 * the same moment (two servers on one display; the first to exit takes the other's browsers'
 * display with it). `-displayfd` makes Xvfb take the first free display itself, atomically.
 */
const startXvfb = async () => {
  const x = startGroup(
    'Xvfb',
    ['-displayfd', '3', '-screen', '0', `${VIEWPORT.width}x${VIEWPORT.height + 100}x24`, '-nolisten', 'tcp'],
    process.env,
    1,
  );
  const display = await new Promise<string>((resolve, reject) => {
    let out = '';
    const fd = x.child.stdio[3] as NodeJS.ReadableStream;
    fd.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(`:${out.trim()}`);
    });
    x.child.once('exit', () => reject(new Error(`Xvfb exited: ${x.output}`)));
    x.child.once('error', reject);
    setTimeout(() => reject(new Error(`Xvfb did not start: ${x.output}`)), 20_000).unref();
  }).catch((e) => {
    x.kill();
    throw e;
  });
  return { ...x, display };
};

const openWebKit = async (): Promise<Engine> => {
  hookExit();
  const binary = minibrowser();
  const xvfb = await startXvfb();
  // Abruptly too, Xvfb gets SIGTERM: it needs no one to wait for it to remove its lock and socket.
  const endXvfb = () => signal(xvfb.pgid, 'SIGTERM');
  killers.add(endXvfb);
  const port = await freePort();
  // WebKitWebDriver's group holds the MiniBrowsers and web processes it starts, too.
  const driverProcess = startGroup(WEBKIT_DRIVER, [`--port=${port}`, '--host=127.0.0.1'], {
    ...process.env,
    DISPLAY: xvfb.display,
  });
  killers.add(driverProcess.kill);
  const output = () => `${driverProcess.output}${xvfb.output}`;
  const url = `http://127.0.0.1:${port}`;
  const stopAll = async () => {
    await driverProcess.stop();
    await xvfb.stop();
    killers.delete(driverProcess.kill);
    killers.delete(endXvfb);
  };
  try {
    const end = Date.now() + 20_000;
    for (;;) {
      if (driverProcess.exited) throw new Error(`WebKitWebDriver exited: ${output()}`);
      try {
        const r = await fetch(`${url}/status`);
        if (((await r.json()) as { value?: { ready?: boolean } }).value?.ready) break;
      } catch {}
      if (Date.now() > end) throw new Error(`WebKitWebDriver did not start: ${output()}`);
      await sleep(25);
    }
  } catch (e) {
    await stopAll();
    throw e;
  }
  const sessions = new Set<WebDriver>();
  const capabilities = {
    browserName: 'MiniBrowser',
    'webkitgtk:browserOptions': { binary, args: ['--automation'] },
    pageLoadStrategy: 'normal',
  };
  return {
    name: 'webkit',
    async newPage() {
      // A session is a new MiniBrowser with an ephemeral data store: a clean cookie jar.
      // Asked twice at most: under load WebKitWebDriver's HTTP server (libsoup) now and then
      // drops a new-session request unanswered (a CRITICAL line in its output, nothing else).
      // That is the harness's plumbing, not the banner under test; a second failure fails.
      const session = () =>
        call(
          'webkit',
          'new session',
          async () => new Builder().usingServer(url).withCapabilities(capabilities).build(),
          30_000,
        );
      const driver = await session()
        .catch(() => session())
        .catch((e) => {
          throw new Error(`${e.message} (twice)\nWebKitWebDriver's output: ${output()}`);
        });
      sessions.add(driver);
      await driver.manage().setTimeouts({ script: 15_000, pageLoad: 30_000 });
      await driver
        .manage()
        .window()
        .setRect({ ...VIEWPORT, x: 0, y: 0 });
      const run = async <T>(expr: string): Promise<T> => {
        // The callback form works in every WebDriver and awaits promises the same way.
        const r = (await driver.executeAsyncScript(
          `const done = arguments[arguments.length - 1];
           Promise.resolve().then(() => (${expr})).then(
             (value) => done({ value: value === undefined ? null : value }),
             (e) => done({ error: String(e && e.stack || e) }));`,
        )) as { value?: T; error?: string };
        if (r.error !== undefined) throw new Error(r.error);
        return r.value as T;
      };
      return withCommon('webkit', {
        async goto(u) {
          await driver.get(u);
        },
        eval: ((fn) => run(source(fn))) as EnginePage['eval'],
        async clickFound(selector, text) {
          const el = (await driver.executeScript(`return ${findExpr(selector, text)}`)) as WebElement | null;
          if (!el) throw new Error(`no ${selector} ${text ?? ''}`);
          await el.click();
        },
        async press(key) {
          const parts = key === '+' ? ['+'] : key.split('+');
          const keys = parts.map((k) => WD_KEYS[k] ?? k);
          const actions = driver.actions();
          for (const k of keys.slice(0, -1)) actions.keyDown(k);
          actions.sendKeys(keys[keys.length - 1]!);
          for (const k of keys.slice(0, -1).reverse()) actions.keyUp(k);
          await actions.perform();
        },
        async cookies() {
          const all = await driver.manage().getCookies();
          return Object.fromEntries(
            all.map((c) => [
              c.name,
              {
                value: c.value,
                expires: typeof c.expiry === 'number' ? c.expiry : c.expiry ? +c.expiry / 1000 : null,
                httpOnly: !!c.httpOnly,
                path: c.path ?? '/',
              },
            ]),
          );
        },
        async close() {
          sessions.delete(driver);
          await driver.quit();
        },
      });
    },
    async close() {
      await Promise.allSettled([...sessions].map((d) => d.quit()));
      await stopAll();
    },
  };
};

/** Starts one engine; `close()` ends every process it started. */
export const openEngine = (engine: EngineName): Promise<Engine> =>
  engine === 'chromium' ? openChromium() : engine === 'firefox' ? openFirefox() : openWebKit();
