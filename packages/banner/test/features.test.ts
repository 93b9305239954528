import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { bannerTag, launch, open, serve } from '../../../test-support/browser.js';

/** Opt-out mode and Global Privacy Control (US state laws) are in the full build. */
const FULL = 'assent.full.min.js';
const STRICT = (nonce: string) =>
  `default-src 'self'; script-src 'self' 'nonce-${nonce}'; style-src 'self'; frame-src 'self'`;

describe('banner features in Chromium', () => {
  let browser: Browser;
  let site: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    browser = await launch();
    site = await serve({
      '/embed': {
        head: bannerTag('categories=(marketing)'),
        body: `<iframe data-assent-src="/hit/video" data-assent-category="marketing" data-assent-provider="YouTube" title="Launch video" width="560" height="315"></iframe>
               <iframe data-assent-src="/hit/video2" data-assent-category="marketing" data-assent-provider="YouTube" title="Second video"></iframe>`,
      },
      '/csp': {
        csp: STRICT('r4nd0m'),
        head: bannerTag('categories=(analytics)'),
        body: `<script type="text/plain" data-assent-category="analytics" nonce="r4nd0m">document.body.dataset.ran = 'yes';</script>
               <iframe data-assent-src="/hit/frame" data-assent-category="analytics" title="Chart"></iframe>`,
      },
      '/optout': {
        head: `${bannerTag('mode=(opt-out) categories=(analytics,marketing)', '', FULL)}
               <script type="text/plain" data-assent-category="analytics" src="/hit/oo-analytics"></script>
               <script type="text/plain" data-assent-category="marketing" src="/hit/oo-ads"></script>`,
      },
      '/gpc': { head: bannerTag('categories=(analytics,marketing)', '', FULL) },
      '/de': {
        lang: 'de',
        head: `<script src="/i18n/de.js" defer></script>${bannerTag('categories=(analytics)')}`,
      },
      '/fr-browser': { lang: '', head: `<script src="/i18n/fr.js" defer></script>${bannerTag('')}` },
      '/bots': {
        head: `<script type="application/json" id="assent-config">{"hideFromBots":true}</script>${bannerTag('categories=(analytics)')}`,
      },
      // The on/off fields through the minified build (mangling must not touch them).
      '/bools': {
        head: `<script type="application/json" id="assent-config">{"hideFromBots":false,"floatingButton":false}</script>${bannerTag('')}`,
      },
      '/shared': { head: bannerTag('domain=(.assent.test)') },
      '/esm': {
        head: '<link rel="stylesheet" href="/assent.css"><script type="module">import { init } from "/assent.esm.js"; window.api = init("buttons=(Got it) mode=(notice)");</script>',
      },
    });
  });
  after(async () => {
    await browser.close();
    await site.close();
  });
  const hits = (n: string) => site.hits.get(n) ?? 0;

  it('embeds wait behind an accessible placeholder; "Load content" loads one, "Accept" grants the category', async () => {
    site.hits.clear();
    const o = await open(browser, `${site.origin}/embed`);
    const ph = o.page.getByRole('group', { name: 'Launch video' });
    await ph.waitFor();
    assert.match(await ph.innerText(), /This content is hosted by YouTube\./);
    // Themed like the banner: its buttons have the accent background (the theme's variables apply).
    assert.equal(
      await ph
        .getByRole('button', { name: 'Load content' })
        .evaluate((b) => getComputedStyle(b).backgroundColor),
      'rgb(24, 73, 184)',
    );
    assert.equal(hits('video') + hits('video2'), 0);
    await ph.getByRole('button', { name: 'Load content' }).click();
    await o.page.waitForFunction(() => document.querySelector('iframe')?.src.endsWith('/hit/video'));
    assert.equal(
      await o.page.evaluate(() => window.Assent!.allowed('marketing')),
      false,
      'one-off load stores nothing',
    );
    assert.equal(hits('video2'), 0);
    await o.page
      .getByRole('group', { name: 'Second video' })
      .getByRole('button', { name: 'Accept Marketing' })
      .click();
    await o.page.waitForFunction(() =>
      [...document.querySelectorAll('iframe')].every((f) => f.src && !f.hidden),
    );
    assert.equal(await o.page.locator('.assent-embed').count(), 0);
    assert.equal(await o.page.evaluate(() => window.Assent!.allowed('marketing')), true);
    await o.context.close();
  });

  it('under a strict CSP, a nonce-bearing held inline script activates with zero violations', async () => {
    const o = await open(browser, `${site.origin}/csp`);
    // The styles came inside the script, as one constructed stylesheet, and apply.
    const banner = o.page.locator('#assent-banner');
    await banner.waitFor();
    assert.equal(await banner.evaluate((b) => getComputedStyle(b).position), 'fixed');
    assert.equal(await o.page.evaluate(() => document.adoptedStyleSheets.length), 1);
    await o.page.getByRole('button', { name: 'Accept', exact: true }).click();
    await o.page.waitForFunction(() => document.body.dataset.ran === 'yes');
    await o.page.waitForFunction(() => document.querySelector('iframe')?.src);
    assert.deepEqual(await o.csp(), []);
    assert.deepEqual(o.errors, []);
    await o.context.close();
  });

  it('opt-out mode: on until the visitor opts out; "Do not sell or share" turns marketing off', async () => {
    site.hits.clear();
    const o = await open(browser, `${site.origin}/optout`);
    await o.page.waitForFunction(() => (window as { hits?: string[] }).hits?.length === 2);
    const region = o.page.getByRole('region', { name: 'Cookie notice' });
    assert.deepEqual(await region.getByRole('button').allInnerTexts(), [
      'Accept',
      'Preferences',
      'Do not sell or share my personal information',
    ]);
    await region.getByRole('button', { name: /Do not sell/ }).click();
    const s = await o.page.evaluate(() => window.Assent!.get());
    assert.deepEqual([s.granted.analytics, s.granted.marketing, s.method], [true, false, 'custom']);
    site.hits.clear();
    await o.page.reload();
    await o.page.waitForFunction(() => (window as { hits?: string[] }).hits?.length === 1);
    assert.deepEqual([hits('oo-analytics'), hits('oo-ads')], [1, 0]);
    await o.context.close();
  });

  it('Global Privacy Control: opt-out mode opts out without asking; opt-in mode says so and keeps marketing off', async () => {
    const init = `Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true });`;
    site.hits.clear();
    const oo = await open(browser, `${site.origin}/optout`, { init });
    await oo.page.waitForFunction(() => (window as { hits?: string[] }).hits?.length === 1);
    assert.equal(await oo.page.locator('#assent-banner').count(), 0, 'no banner: the signal is the answer');
    const s = await oo.page.evaluate(() => window.Assent!.get());
    // Applied live, never stored as the visitor's own choice: no method, no cookie.
    assert.deepEqual([s.method, s.gpc, s.granted.marketing, s.granted.analytics], [null, true, false, true]);
    assert.equal(hits('oo-ads'), 0);
    assert.equal((await oo.cookies()).assent, undefined, 'no consent cookie');
    // The page shows that the opt-out was honoured (CCPA regulations §7025(c)(6)), beside the button.
    const fab = oo.page.getByRole('region', { name: 'Cookie settings' });
    assert.equal(await fab.locator('.assent-gpc').innerText(), 'Opt-out request honored');
    assert.ok(await fab.locator('.assent-gpc').isVisible());
    await oo.context.close();

    const oi = await open(browser, `${site.origin}/gpc`, { init });
    const region = oi.page.getByRole('region', { name: 'Cookie notice' });
    await region.waitFor();
    assert.match(await region.innerText(), /Global Privacy Control/);
    await region.getByRole('button', { name: 'Accept' }).click();
    const t = await oi.page.evaluate(() => window.Assent!.get());
    assert.deepEqual([t.granted.analytics, t.granted.marketing, t.gpc], [true, false, true]);
    await oi.context.close();
  });

  it('speaks the page language, from <html lang> then navigator.languages, with presets as separate files', async () => {
    const o = await open(browser, `${site.origin}/de`);
    const region = o.page.getByRole('region', { name: 'Cookie-Hinweis' });
    await region.waitFor();
    assert.equal(await region.getAttribute('lang'), 'de');
    assert.deepEqual(await region.getByRole('button').allInnerTexts(), [
      'Akzeptieren',
      'Ablehnen',
      'Einstellungen',
    ]);
    await o.context.close();
    const ctx = await browser.newContext({ locale: 'fr-FR' });
    const f = await open(browser, `${site.origin}/fr-browser`, { context: ctx });
    await f.page.locator('#assent-banner').waitFor();
    assert.equal(await f.page.locator('#assent-banner').getAttribute('lang'), 'fr');
    await ctx.close();
  });

  it('is visible to automation by default, hidden from it with hideFromBots; data-nosnippet always', async () => {
    const o = await open(browser, `${site.origin}/gpc`);
    assert.equal(await o.page.locator('#assent-banner[data-nosnippet]').count(), 1);
    await o.context.close();
    // A crawler driving a browser, with navigator.webdriver set (the project's Chromium runs
    // without it, as a visitor's browser: see CHROMIUM_ARGS).
    const crawler = await browser.newContext();
    // A string, not a function: the test runner's transform would name its arrows in it.
    await crawler.addInitScript(
      "Object.defineProperty(Navigator.prototype, 'webdriver', { configurable: true, get: () => true });",
    );
    const b = await open(browser, `${site.origin}/bots`, { context: crawler });
    await b.page.waitForFunction(() => window.Assent);
    assert.equal(await b.page.locator('#assent-banner').count(), 0);
    assert.equal(
      await b.page.evaluate(() => window.Assent!.allowed('analytics')),
      false,
      'hidden, not granted',
    );
    await b.context.close();
    const s = await open(browser, `${site.origin}/bools`);
    await s.page.locator('#assent-banner').waitFor();
    assert.deepEqual(s.errors, [], 'hideFromBots: false and floatingButton: false are valid');
    await s.page.getByRole('button', { name: 'Accept', exact: true }).click();
    assert.equal(await s.page.locator('.assent-fab').count(), 0, 'no floating button');
    await s.context.close();
  });

  it('domain=(.assent.test) shares one consent across subdomains', async () => {
    const o = await open(browser, `http://www.assent.test:${site.port}/shared`);
    await o.page.getByRole('button', { name: 'Accept' }).click();
    const c = (await o.cookies()).assent;
    assert.equal(c?.domain, '.assent.test');
    await o.page.goto(`http://shop.assent.test:${site.port}/shared`);
    await o.page.waitForFunction(() => window.Assent);
    assert.equal(
      await o.page.locator('#assent-banner').count(),
      0,
      'no second banner on the sibling subdomain',
    );
    await o.context.close();
  });

  it('the ESM build starts with init() and returns the same API; a page that links assent.css keeps it', async () => {
    const o = await open(browser, `${site.origin}/esm`);
    const banner = o.page.locator('#assent-banner');
    await banner.waitFor();
    assert.equal(await banner.evaluate((b) => getComputedStyle(b).position), 'fixed');
    assert.equal(await o.page.evaluate(() => document.adoptedStyleSheets.length), 0, 'no second copy');
    await o.page.getByRole('button', { name: 'Got it' }).click();
    assert.equal(
      await o.page.evaluate(() => (window as unknown as { api: typeof window.Assent }).api!.get().method),
      'notice-ack',
    );
    assert.deepEqual(o.errors, []);
    await o.context.close();
  });
});
