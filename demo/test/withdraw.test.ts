/**
 * Withdrawal reaches the site (GDPR Art. 7(3)), in each deployment, in Chromium:
 * - the demo, where the receipt server serves the site (same origin);
 * - the site and the receipt server behind a real nginx and a real Caddy, each running its
 *   deployment recipe (deploy/), the server under /assent/ (same origin);
 * - the receipt server on another origin: the banner revalidates the stored choice.
 * Each time: accept, follow the consent ID to the consent page, withdraw, come back — and no
 * analytics or ad stand-in runs, their cookies are gone, Consent Mode hears "denied", and the
 * banner's state says withdrawn.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type AssentServer, createServer } from '@assent/server';
import type { Browser } from 'playwright-core';
import { launch, type Opened, open } from '../../test-support/browser.js';
import { startCaddy } from '../../test-support/caddy.js';
import { freePort } from '../../test-support/ports.js';
import { type Proxy as ReverseProxy, startProxy } from '../../test-support/proxy.js';
import { demoPolicy } from '../src/pages.js';
import { demoSite } from '../src/site.js';

const ARTICLE = 'articles/city-library-late-opening';
const OTHER_ARTICLE = 'articles/rail-timetable-winter';

type W = { demoAnalyticsRuns?: number; demoAdsRuns?: number; Assent?: { get(): { method: string | null } } };

/** The demo site alone (pages and files), its API elsewhere: `assent` is where the page finds it. */
const siteServer = async (port: number, assent: string, site?: string): Promise<Server> => {
  const server = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/demo/collect') {
      res.writeHead(204).end();
      return;
    }
    const r = demoSite(url.pathname, { assent, ...(site ? { site } : {}) });
    if (!r) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(r.status, r.headers).end(r.body);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return server;
};

const receiptServer = async (port: number, site: string, trustProxy = false): Promise<AssentServer> => {
  const s = await createServer({
    db: 'sqlite::memory:',
    sites: { [site]: demoPolicy() },
    logger: false,
    rateLimit: false,
    retention: false,
    trustProxy,
  });
  await s.app.listen({ port, host: '127.0.0.1' });
  return s;
};

/** The demo site and its receipt server on two origins (localhost and 127.0.0.1 are different sites to the browser). */
const twoOrigins = async () => {
  const sitePort = await freePort();
  const assentPort = await freePort();
  const siteOrigin = `http://127.0.0.1:${sitePort}`;
  const assentOrigin = `http://localhost:${assentPort}`;
  const site = await siteServer(sitePort, `${assentOrigin}/v1/`, siteOrigin);
  const server = await receiptServer(assentPort, siteOrigin);
  const close = async () => {
    await new Promise((r) => site.close(r));
    await server.close();
  };
  return { siteOrigin, assentOrigin, close };
};

const method = (o: Opened) => o.page.evaluate(() => (window as unknown as W).Assent?.get().method);
const runs = async (o: Opened) => {
  const x = await o.page.evaluate(() => {
    const y = window as unknown as W;
    return { analytics: y.demoAnalyticsRuns ?? 0, ads: y.demoAdsRuns ?? 0 };
  });
  return x;
};

/**
 * The visitor's path: accept on an article (analytics and ads run), open the cookie settings,
 * follow the consent ID to the consent page, withdraw there (with or without JavaScript), come
 * back to the site by the page's own link, then read another article.
 */
const acceptThenWithdraw = async (browser: Browser, siteUrl: string, opts: { js?: boolean } = {}) => {
  const context = await browser.newContext({ javaScriptEnabled: true });
  const o = await open(browser, `${siteUrl}${ARTICLE}`, { context });
  const posted = o.page.waitForResponse((r) => r.url().endsWith('/v1/receipts'));
  await o.page.getByRole('button', { name: 'Accept !' }).click();
  assert.equal((await posted).status(), 201);
  await o.page.waitForFunction(() => (window as unknown as W).demoAnalyticsRuns === 1);
  await o.page.waitForFunction(() => (window as unknown as W).demoAdsRuns === 1);
  assert.ok((await o.cookies())._demo_stats, 'the analytics stand-in ran and set its cookie');
  const consentId = await o.page.evaluate(
    () => (window as unknown as { Assent: { get(): { consentId: string } } }).Assent.get().consentId,
  );

  await o.page.getByRole('button', { name: 'Cookie settings' }).click();
  await o.page.getByRole('dialog').getByRole('link', { name: consentId }).click();
  await o.page.waitForURL(`**/consent/${consentId}`);
  if (opts.js === false) await o.page.route('**/consent/assets/consent.js', (r) => r.abort());
  if (opts.js === false) await o.page.reload();
  const withdrawn = o.page.waitForURL(/done=withdrawn/);
  await o.page.getByRole('button', { name: 'Withdraw my consent' }).click();
  await withdrawn;
  const status = await o.page.getByRole('status').innerText();
  assert.match(status, /Your withdrawal was recorded/);

  await o.page.getByRole('link', { name: /^Back to / }).click();
  await o.page.waitForURL(`**/${ARTICLE}`);
  return { o, consentId, status };
};

/** What must hold on the site after the withdrawal, on the next page views. */
const assertWithdrawn = async (o: Opened) => {
  for (const path of [ARTICLE, OTHER_ARTICLE]) {
    if (!o.page.url().endsWith(path)) await o.page.goto(new URL(`/${path}`, o.page.url()).href);
    await o.page.waitForFunction(() => (window as unknown as W).Assent?.get().method === 'withdraw');
    // Long enough for a held script to have run, had it been released.
    await o.page.waitForTimeout(300);
    assert.deepEqual(await runs(o), { analytics: 0, ads: 0 }, `${path}: nothing held runs`);
    const cookies = await o.cookies();
    assert.equal(cookies._demo_stats, undefined, `${path}: the analytics cookie is gone`);
    assert.equal(cookies._demo_ads, undefined, `${path}: the ad cookie is gone`);
    assert.match(cookies.assent?.value ?? '', /\|w$/, 'the consent cookie records the withdrawal');
    const log = await o.page.locator('#gtag-log li').allInnerTexts();
    assert.ok(
      log.some((t) => /^consent update: ad_storage=denied.*analytics_storage=denied/.test(t)),
      `${path}: Consent Mode gets an update with everything denied:\n${log.join('\n')}`,
    );
    assert.ok(await o.page.getByRole('button', { name: 'Cookie settings' }).isVisible());
    assert.equal(
      await o.page.locator('#assent-banner').count(),
      0,
      'a withdrawal is remembered, not asked again',
    );
  }
};

describe('withdrawing on the consent page reaches the site', () => {
  let browser: Browser;
  before(async () => {
    browser = await launch();
  });
  after(() => browser.close());

  it('the demo (the receipt server serves the site): at the very next page view', async () => {
    process.env.ASSENT_DEMO_DATA = mkdtempSync(join(tmpdir(), 'assent-demo-'));
    const { startDemo } = await import('../src/server.js');
    const demo = await startDemo({ port: 0, host: '127.0.0.1', quiet: true });
    try {
      const { o, status } = await acceptThenWithdraw(browser, demo.url);
      assert.match(status, /from your next page view/);
      await assertWithdrawn(o);
      assert.deepEqual(o.errors, []);
      await o.context.close();
      // Without JavaScript on the consent page: the plain form does the same.
      const nojs = await acceptThenWithdraw(browser, demo.url, { js: false });
      await assertWithdrawn(nojs.o);
      await nojs.o.context.close();
    } finally {
      await demo.server.close();
    }
  });

  // The deployment recipes (deploy/nginx/assent.conf, deploy/caddy/Caddyfile) as they are.
  for (const [name, start] of [
    ['nginx', startProxy],
    ['Caddy', startCaddy],
  ] as const)
    it(`behind a real ${name} (the recipe), the receipt server under /assent/: at the very next page view`, async () => {
      const sitePort = await freePort();
      const assentPort = await freePort();
      let proxy: ReverseProxy | undefined;
      let site: Server | undefined;
      let server: AssentServer | undefined;
      try {
        proxy = await start({ sitePort, assentPort });
        const origin = proxy.url.replace(/\/$/, '');
        site = await siteServer(sitePort, '/assent/v1/');
        // trustProxy: the server believes nginx's X-Forwarded-* (the scheme and host visitors use).
        server = await receiptServer(assentPort, origin, true);
        const { o, consentId, status } = await acceptThenWithdraw(browser, proxy.url);
        assert.match(status, /from your next page view/);
        assert.ok(o.requests.some((r) => r.url() === `${origin}/assent/consent/${consentId}`));
        await assertWithdrawn(o);
        assert.deepEqual(o.errors, []);
        await o.context.close();
      } finally {
        await proxy?.close();
        await new Promise((r) => (site ? site.close(r) : r(undefined)));
        await server?.close();
      }
    });

  it('the receipt server on another origin: the banner revalidates and applies it at once', async () => {
    const { siteOrigin, assentOrigin, close } = await twoOrigins();
    try {
      const { o, status } = await acceptThenWithdraw(browser, `${siteOrigin}/`);
      assert.match(status, /checks this record/);
      await assertWithdrawn(o);
      assert.deepEqual(o.errors, []);

      // A change made elsewhere (here the API, server to server) reaches an open page at its
      // next check: not before `revalidate` seconds have passed since the last one …
      const again = await o.page.evaluate(() => {
        const a = (window as unknown as { Assent: { accept(): void; get(): { consentId: string } } }).Assent;
        a.accept();
        return a.get().consentId;
      });
      await o.page.waitForFunction(() => (window as unknown as W).demoAnalyticsRuns === 1);
      const api = await fetch(`${assentOrigin}/v1/consents/${again}/withdraw`, { method: 'POST' });
      assert.equal(api.status, 201);
      await o.page.reload();
      await o.page.waitForFunction(() => (window as unknown as W).demoAnalyticsRuns === 1);
      assert.equal(await method(o), 'accept-all', 'checked a moment ago: not due yet');
      // … and as soon as it is due, the withdrawal applies at once: held scripts stay held.
      await o.page.evaluate(() => localStorage.setItem('assent-checked', String(Date.now() - 301_000)));
      await o.page.reload();
      await assertWithdrawn(o);
      await o.context.close();
    } finally {
      await close();
    }
  });

  it('on another origin, while the check is on its way nothing hears the withdrawn grant: not the API, events, vendors or Consent Mode', async () => {
    const { siteOrigin, assentOrigin, close } = await twoOrigins();
    try {
      const o = await open(browser, `${siteOrigin}/${ARTICLE}`, {
        // Every answer the page's own scripts could get: events, and the API from the first moment.
        init: `window.__seen = [];
          const note = (what, s) => window.__seen.push(what + ' analytics=' + !!s.granted.analytics + ' marketing=' + !!s.granted.marketing);
          for (const t of ['assent:ready', 'assent:change']) document.addEventListener(t, (e) => note(t, e.detail));
          document.addEventListener('DOMContentLoaded', () => window.Assent && note('api', window.Assent.get()));`,
      });
      const posted = o.page.waitForResponse((r) => r.url().endsWith('/v1/receipts'));
      await o.page.getByRole('button', { name: 'Accept !' }).click();
      assert.equal((await posted).status(), 201);
      const id = await o.page.evaluate(
        () => (window as unknown as { Assent: { get(): { consentId: string } } }).Assent.get().consentId,
      );
      // Withdrawn elsewhere (server to server); the check is due and the server takes 400 ms.
      assert.equal(
        (await fetch(`${assentOrigin}/v1/consents/${id}/withdraw`, { method: 'POST' })).status,
        201,
      );
      await o.page.evaluate(() => localStorage.setItem('assent-checked', '0'));
      await o.page.route('**/cookie', async (r) => {
        await new Promise((x) => setTimeout(x, 400));
        await r.continue();
      });
      await o.page.reload();
      await o.page.waitForFunction(() => (window as unknown as W).Assent?.get().method === 'withdraw');
      await o.page.waitForTimeout(300);
      const seen = await o.page.evaluate(() => (window as unknown as { __seen: string[] }).__seen);
      assert.ok(seen.length >= 2, seen.join('\n'));
      for (const e of seen) assert.match(e, /analytics=false marketing=false/, seen.join('\n'));
      const vendors = await o.page.locator('#vendor-log li').allInnerTexts();
      assert.ok(vendors.length > 0 && !vendors.some((t) => /grant/i.test(t)), vendors.join('\n'));
      const gtag = await o.page.locator('#gtag-log li').allInnerTexts();
      assert.ok(
        !gtag.some((t) => /=granted/.test(t.replace(/security_storage=granted/g, ''))),
        gtag.join('\n'),
      );
      assert.deepEqual(await runs(o), { analytics: 0, ads: 0 });
      // One tag-manager event for the page view: the withdrawal the check found, not twice.
      const events = await o.page.evaluate(() =>
        (window as unknown as { dataLayer: { event?: string; assent?: { method: string } }[] }).dataLayer
          .filter((e) => e.event === 'assent_consent')
          .map((e) => e.assent!.method),
      );
      assert.deepEqual(events, ['withdraw']);
      await o.context.close();
    } finally {
      await close();
    }
  });

  it('a choice made while the check is on its way is not undone by its older answer', async () => {
    const { siteOrigin, close } = await twoOrigins();
    try {
      const o = await open(browser, `${siteOrigin}/${ARTICLE}`);
      const posted = o.page.waitForResponse((r) => r.url().endsWith('/v1/receipts'));
      await o.page.getByRole('button', { name: 'Reject' }).click();
      assert.equal((await posted).status(), 201);
      // The check is due, and its answer (the refusal, read before the accept arrives) is slow
      // to come back; the visitor accepts meanwhile.
      await o.page.evaluate(() => localStorage.setItem('assent-checked', '0'));
      await o.page.route('**/cookie', async (r) => {
        const answer = await r.fetch();
        await new Promise((x) => setTimeout(x, 800));
        await r.fulfill({ response: answer });
      });
      await o.page.reload({ waitUntil: 'domcontentloaded' });
      await o.page.waitForFunction(() => (window as unknown as W).Assent);
      const accepted = o.page.waitForResponse((r) => r.url().endsWith('/v1/receipts'));
      await o.page.evaluate(() => (window as unknown as { Assent: { accept(): void } }).Assent.accept());
      assert.equal((await accepted).status(), 201);
      await o.page.waitForResponse((r) => r.url().includes('/cookie'));
      await o.page.waitForTimeout(300);
      assert.equal(await method(o), 'accept-all', 'the later choice stands');
      assert.match((await o.cookies()).assent?.value ?? '', /\|a$/);
      await o.page.waitForFunction(() => (window as unknown as W).demoAnalyticsRuns === 1);
      await o.context.close();
    } finally {
      await close();
    }
  });

  it('a refusal whose receipt was lost stands against the older record; a grant whose receipt was lost gives way to it', async () => {
    const { siteOrigin, close } = await twoOrigins();
    type A = { Assent: { accept(): void; reject(): void } };
    /** Makes a choice through the API and waits for its receipt's answer (or its failure). */
    const choose = async (o: Opened, which: 'accept' | 'reject', lost: boolean) => {
      if (lost) await o.page.route('**/v1/receipts', (r) => r.abort());
      else await o.page.unroute('**/v1/receipts');
      const sent = o.page
        .waitForEvent('requestfinished', (r) => r.url().endsWith('/v1/receipts'))
        .catch(() => null);
      const failed = o.page.waitForEvent('requestfailed', (r) => r.url().endsWith('/v1/receipts'));
      await o.page.evaluate((w) => (window as unknown as A).Assent[w](), which);
      await Promise.race([sent, failed]);
    };
    /** The next page view is due for a check with the server. */
    const checkNow = async (o: Opened) => {
      await o.page.evaluate(() => localStorage.setItem('assent-checked', String(Date.now() - 301_000)));
      const checked = o.page.waitForResponse((r) => r.url().includes('/cookie'));
      await o.page.reload();
      assert.equal((await checked).status(), 200);
      await o.page.waitForTimeout(300);
    };
    try {
      // Accepted (recorded), then refused: that receipt is lost on the way.
      let o = await open(browser, `${siteOrigin}/${ARTICLE}`);
      await o.page.locator('#assent-banner').waitFor();
      await choose(o, 'accept', false);
      await o.page.waitForFunction(() => (window as unknown as W).demoAnalyticsRuns === 1);
      await choose(o, 'reject', true);
      await checkNow(o);
      assert.equal(await method(o), 'reject-all', 'the older record did not undo the refusal');
      assert.deepEqual(await runs(o), { analytics: 0, ads: 0 });
      await o.context.close();

      // Refused (recorded), then accepted: that receipt is lost, so the grant has no proof.
      o = await open(browser, `${siteOrigin}/${ARTICLE}`);
      await o.page.locator('#assent-banner').waitFor();
      await choose(o, 'reject', false);
      await choose(o, 'accept', true);
      await o.page.waitForFunction(() => (window as unknown as W).demoAnalyticsRuns === 1);
      await checkNow(o);
      assert.equal(await method(o), 'reject-all', 'the recorded refusal applies');
      assert.deepEqual(await runs(o), { analytics: 0, ads: 0 });
      await o.context.close();
    } finally {
      await close();
    }
  });
});
