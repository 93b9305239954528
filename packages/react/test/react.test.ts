import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type BuildOptions, build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { BANNER_DIST, bannerTag, launch, open, ROOT, serve } from '../../../test-support/browser.js';
import type { PublicState as BannerState } from '../../banner/types/assent.js';
import type { PublicState } from '../src/index.js';

// Compile-time: the copy of the banner's PublicState in src/index.ts stays in step (tsc -b fails otherwise).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const inStep: Same<PublicState, BannerState> = true;

const FIXTURE = join(import.meta.dirname, 'fixture');

/** Bundles a fixture entry as a site would: React in production mode, JSX compiled by esbuild. */
const bundle = async (entry: string, options: BuildOptions): Promise<string> => {
  const r = await build({
    entryPoints: [join(FIXTURE, entry)],
    bundle: true,
    write: false,
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
    ...options,
  });
  return r.outputFiles![0]!.text;
};

/** Renders <App> as a server would: a Node bundle, loaded in this process, where there is no window. */
const serverRender = async (): Promise<string> => {
  const dir = mkdtempSync(join(tmpdir(), 'assent-react-'));
  try {
    const file = join(dir, 'server.cjs');
    writeFileSync(file, await bundle('server.tsx', { platform: 'node', format: 'cjs' }));
    return (createRequire(import.meta.url)(file) as { render(): string }).render();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

const SHORTCODE = 'categories=(analytics,marketing)';
const root = '<div id="root"></div>';
// Loaded without `defer` in the body, the app renders before the (deferred) banner has run.
const appFirst = '<script src="/app.js"></script>';
// Loaded with `defer` after the banner, the app renders once `window.Assent` exists.
const appAfter = '<script src="/app.js" defer></script>';
const SERVICES = JSON.stringify({
  categories: [{ id: 'analytics', services: [{ id: 'matomo' }] }, { id: 'marketing' }],
});

describe('@assent/react in Chromium, with the real banner', () => {
  let browser: Browser;
  let site: Awaited<ReturnType<typeof serve>>;
  let serverHtml: string;
  before(async () => {
    if (!existsSync(join(BANNER_DIST, 'assent.min.js'))) {
      const b = spawnSync('npm', ['run', 'build', '-w', '@assent/banner'], { cwd: ROOT, stdio: 'inherit' });
      assert.equal(b.status, 0, 'the banner builds');
    }
    const app = await bundle('app.tsx', { format: 'iife', platform: 'browser', minify: true });
    serverHtml = await serverRender();
    browser = await launch();
    site = await serve(
      {
        '/': { head: bannerTag(SHORTCODE), body: root + appFirst },
        '/late': { head: bannerTag(SHORTCODE) + appAfter, body: root },
        '/services': {
          head: `<script type="application/json" id="assent-config">${SERVICES}</script>${bannerTag('')}`,
          body: root + appFirst,
        },
        '/ssr': { head: bannerTag(SHORTCODE) + appAfter, body: `<div id="root">${serverHtml}</div>` },
        // The full build asks the receipt server for the region (slowly): window.Assent is there
        // from the start, but has no consent to report yet.
        '/region': {
          head: `<script type="application/json" id="assent-config">${JSON.stringify({
            ...JSON.parse(SERVICES),
            endpoint: '/v1/receipts',
            regions: { EU: 'opt-in', '*': 'opt-in' },
          })}</script><script src="/assent.full.min.js"></script>${appAfter}`,
          body: root,
        },
      },
      (req, res) => {
        if (req.url === '/v1/config') {
          setTimeout(
            () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"region":"DE"}'),
            800,
          );
          return true;
        }
        // No favicon: an empty answer instead of a 404 in the console errors the tests check.
        if (req.url === '/favicon.ico') {
          res.writeHead(204).end();
          return true;
        }
        if (req.url !== '/app.js') return false;
        res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' });
        res.end(app);
        return true;
      },
    );
  });
  after(async () => {
    await browser?.close();
    await site?.close();
  });

  /** What the app shows: readiness, the last method, then each gate's children or fallback. */
  const shown = (o: Awaited<ReturnType<typeof open>>) => o.page.locator('#root p').allTextContents();
  const methodIs = (o: Awaited<ReturnType<typeof open>>, method: string) =>
    o.page.getByTestId('method').getByText(method, { exact: true }).waitFor();
  const readyLog = (o: Awaited<ReturnType<typeof open>>) => o.page.evaluate(() => window.readyLog);

  it("is a client module for React Server Components ('use client' first, kept by tsc)", async () => {
    const { readFileSync } = await import('node:fs');
    const ts = await import('typescript');
    const src = readFileSync(join(import.meta.dirname, '../src/index.ts'), 'utf8');
    const out = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext } }).outputText;
    assert.match(out, /^'use client';\n/);
  });

  it('on the server: not ready, every gate shows its fallback, and no window is needed', async () => {
    assert.equal(inStep, true);
    assert.equal(typeof (globalThis as { window?: unknown }).window, 'undefined');
    assert.match(serverHtml, /<p data-testid="ready">waiting<\/p>/);
    assert.match(serverHtml, /Analytics is off/);
    assert.match(serverHtml, /Matomo is off/);
    assert.doesNotMatch(serverHtml, /is on/);
  });

  it('before any choice: the analytics gate shows its fallback and consent becomes ready when the banner starts after React', async () => {
    const o = await open(browser, `${site.origin}/`);
    await o.page.getByTestId('ready').getByText('ready', { exact: true }).waitFor();
    assert.deepEqual(await readyLog(o), [false, true], 'rendered before the banner, then ready');
    assert.deepEqual(await shown(o), ['ready', 'no choice', 'Analytics is off', 'Matomo is off']);
    assert.ok(await o.page.locator('#assent-banner').isVisible(), 'the banner asks');
    assert.deepEqual(o.errors, []);
    await o.context.close();
  });

  it('rendered after the banner: ready from the first render', async () => {
    const o = await open(browser, `${site.origin}/late`);
    await o.page.getByTestId('ready').getByText('ready', { exact: true }).waitFor();
    assert.deepEqual(await readyLog(o), [true]);
    assert.deepEqual(await shown(o), ['ready', 'no choice', 'Analytics is off', 'Matomo is off']);
    assert.deepEqual(o.errors, []);
    await o.context.close();
  });

  it('a banner that has not reported yet (the full build asking the region) is not ready, and its actions do nothing', async () => {
    const o = await open(browser, `${site.origin}/region`);
    // Before the region is known, a choice would be recorded under a mode the visitor may
    // never be shown (the region's answer comes 800 ms later): it is not made.
    await o.page.getByTestId('ready').getByText('waiting', { exact: true }).waitFor();
    await o.page.getByRole('button', { name: 'Allow Matomo only' }).click();
    assert.equal(await o.page.evaluate(() => document.cookie), '', 'no choice stored');
    await o.page.getByTestId('ready').getByText('ready', { exact: true }).waitFor();
    assert.deepEqual(await shown(o), ['ready', 'no choice', 'Analytics is off', 'Matomo is off']);
    assert.ok(await o.page.locator('#assent-banner').isVisible(), 'the banner asks');
    assert.deepEqual(await readyLog(o), [false, true], 'window.Assent was there, but not ready');
    assert.deepEqual(o.errors, []);
    await o.context.close();
  });

  it('a polluted Object.prototype opens no gate', async () => {
    const o = await open(browser, `${site.origin}/`, {
      init: `Object.prototype.analytics = true; Object.prototype['analytics:matomo'] = true;`,
    });
    await o.page.getByTestId('ready').getByText('ready', { exact: true }).waitFor();
    assert.equal(await o.page.evaluate(() => window.Assent!.allowed('analytics')), false);
    assert.deepEqual(await shown(o), ['ready', 'no choice', 'Analytics is off', 'Matomo is off']);
    await o.context.close();
  });

  it('clicking Accept in the banner shows the gated children without a reload; reject() from React hides them again', async () => {
    const o = await open(browser, `${site.origin}/`);
    await o.page.getByTestId('ready').getByText('ready', { exact: true }).waitFor();
    await o.page.evaluate(() => {
      document.body.dataset.sameDocument = 'yes';
    });
    await o.page.getByRole('button', { name: 'Accept', exact: true }).click();
    await methodIs(o, 'accept-all');
    assert.deepEqual(await shown(o), [
      'ready',
      'accept-all',
      'Analytics is on',
      'Matomo is on',
      'Marketing is on',
    ]);
    await o.page.getByRole('button', { name: 'Reject from React' }).click();
    await methodIs(o, 'reject-all');
    assert.deepEqual(await shown(o), ['ready', 'reject-all', 'Analytics is off', 'Matomo is off']);
    assert.equal(await o.page.evaluate(() => document.body.dataset.sameDocument), 'yes', 'no reload');
    assert.equal(
      await o.page.evaluate(() => window.Assent!.allowed('analytics')),
      false,
      'the banner agrees',
    );
    assert.deepEqual(o.errors, []);
    await o.context.close();
  });

  it('a service gate opens when only its service is accepted, through accept() from React', async () => {
    const o = await open(browser, `${site.origin}/services`);
    await o.page.getByTestId('ready').getByText('ready', { exact: true }).waitFor();
    assert.deepEqual(await shown(o), ['ready', 'no choice', 'Analytics is off', 'Matomo is off']);
    await o.page.getByRole('button', { name: 'Allow Matomo only' }).click();
    await methodIs(o, 'custom');
    assert.deepEqual(await shown(o), ['ready', 'custom', 'Analytics is off', 'Matomo is on']);
    assert.equal(await o.page.evaluate(() => window.Assent!.allowed('analytics', 'matomo')), true);
    assert.deepEqual(o.errors, []);
    await o.context.close();
  });

  it('withdraw() from React closes the gates and open() shows the preferences', async () => {
    const o = await open(browser, `${site.origin}/`);
    await o.page.getByRole('button', { name: 'Accept', exact: true }).click();
    await o.page.getByText('Analytics is on').waitFor();
    await o.page.getByRole('button', { name: 'Withdraw from React' }).click();
    await methodIs(o, 'withdraw');
    assert.deepEqual(await shown(o), ['ready', 'withdraw', 'Analytics is off', 'Matomo is off']);
    await o.page.getByRole('button', { name: 'Open preferences from React' }).click();
    await o.page.getByRole('dialog', { name: 'Cookie preferences' }).waitFor();
    assert.deepEqual(o.errors, []);
    await o.context.close();
  });

  it('hydrating server HTML matches it, then shows the stored choice', async () => {
    const o = await open(browser, `${site.origin}/ssr`);
    await o.page.getByTestId('ready').getByText('ready', { exact: true }).waitFor();
    await o.page.getByRole('button', { name: 'Accept', exact: true }).click();
    await o.page.getByText('Analytics is on').waitFor();
    // The next page load starts with consent stored: the client state differs from the server's.
    await o.page.reload();
    await methodIs(o, 'accept-all');
    assert.deepEqual(await shown(o), [
      'ready',
      'accept-all',
      'Analytics is on',
      'Matomo is on',
      'Marketing is on',
    ]);
    assert.deepEqual(await readyLog(o), [false, true], 'hydrated as the server rendered, then updated');
    assert.deepEqual(await o.page.evaluate(() => window.recoverable), [], 'no hydration mismatch');
    assert.deepEqual(o.errors, []);
    await o.context.close();
  });
});
