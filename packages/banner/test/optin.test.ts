import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { bannerTag, launch, open, serve } from '../../../test-support/browser.js';

/** A site with one held analytics script, one held marketing script and declared cookies. */
const CONFIG = (policy = 'v1') =>
  JSON.stringify({
    policy,
    categories: [
      { id: 'analytics', cookies: ['_ga', '_ga_*'], services: [{ id: 'matomo', cookies: ['_pk_id'] }] },
      { id: 'marketing', cookies: ['_ads'] },
    ],
  });

const held = (port: number) => `
<script type="text/plain" data-assent-category="analytics" src="/hit/analytics"></script>
<script type="text/plain" data-assent-category="analytics" data-assent-service="matomo" src="/hit/matomo"></script>
<script type="text/plain" data-assent-category="marketing" src="http://localhost:${port}/hit/thirdparty-ads"></script>
<script type="text/plain" data-assent-category="analytics">document.cookie = '_ga=GA1.1; path=/'; document.cookie = '_ga_X=1; path=/'; localStorage.setItem('tracked', '1');</script>
<script type="text/plain" data-assent-category="marketing">document.cookie = '_ads=1; path=/';</script>`;

const page = (port: number, policy = 'v1', extra = '') => ({
  head: `<script type="application/json" id="assent-config">${CONFIG(policy)}</script>${bannerTag('buttons=(Accept !) days=(20)')}${held(port)}${extra}`,
  body: '<a href="/next">Next</a>',
});

describe('opt-in consent in Chromium', () => {
  let browser: Browser;
  let site: Awaited<ReturnType<typeof serve>>;
  const pages: Record<string, ReturnType<typeof page>> = {};
  before(async () => {
    browser = await launch();
    site = await serve(pages);
    const p = site.port;
    Object.assign(pages, {
      '/': page(p),
      '/next': page(p),
      '/v2': page(p, 'v2'),
      '/late': page(p, 'v1', '<script src="/hit/loader"></script>'),
    });
  });
  after(async () => {
    await browser.close();
    await site.close();
  });
  const hits = (name: string) => site.hits.get(name) ?? 0;
  const reset = () => site.hits.clear();
  const storage = (o: Awaited<ReturnType<typeof open>>) =>
    o.page.evaluate(() => [localStorage.length, sessionStorage.length]);

  it('before any choice: no cookie, no storage, no held script, no third-party request', async () => {
    reset();
    const o = await open(browser, `${site.origin}/`);
    await o.page.getByRole('button', { name: 'Accept !' }).waitFor();
    await o.page.waitForTimeout(200);
    assert.deepEqual(await o.cookies(), {});
    assert.deepEqual(await storage(o), [0, 0]);
    assert.equal(hits('analytics') + hits('matomo') + hits('thirdparty-ads'), 0);
    assert.deepEqual(o.requestsTo(site.origin), []);
    await o.context.close();
  });

  it('after Reject: still nothing but the consent cookie, on this page and the next', async () => {
    reset();
    const o = await open(browser, `${site.origin}/`);
    await o.page.getByRole('button', { name: 'Reject' }).click();
    await o.page.locator('#assent-banner').waitFor({ state: 'detached' });
    await o.page.getByRole('link', { name: 'Next' }).click();
    await o.page.waitForURL('**/next');
    await o.page.waitForFunction(() => window.Assent);
    await o.page.waitForTimeout(200);
    assert.deepEqual(Object.keys(await o.cookies()), ['assent']);
    assert.deepEqual(await storage(o), [0, 0]);
    assert.equal(hits('analytics') + hits('matomo') + hits('thirdparty-ads'), 0);
    assert.deepEqual(o.requestsTo(site.origin), []);
    assert.equal(await o.page.locator('#assent-banner').count(), 0, 'a reject is remembered too');
    await o.context.close();
  });

  it('after Accept: each held script runs once, in document order, and the choice is announced', async () => {
    reset();
    const o = await open(browser, `${site.origin}/`);
    const change = o.page.evaluate(
      () =>
        new Promise<string>((r) =>
          document.addEventListener('assent:change', (e) => r((e as CustomEvent).detail.method), {
            once: true,
          }),
        ),
    );
    await o.page.getByRole('button', { name: 'Accept !' }).click();
    assert.equal(await change, 'accept-all');
    await o.page.waitForFunction(() => (window as { hits?: string[] }).hits?.length === 3);
    assert.deepEqual(await o.page.evaluate(() => (window as { hits?: string[] }).hits), [
      'analytics',
      'matomo',
      'thirdparty-ads',
    ]);
    assert.equal(hits('analytics'), 1);
    const c = await o.cookies();
    assert.ok(c._ga && c._ads, 'inline held scripts ran');
    await o.context.close();
  });

  it('preferences with one category on: only that category runs', async () => {
    reset();
    const o = await open(browser, `${site.origin}/`);
    assert.equal(
      await o.page.locator('#assent-prefs').count(),
      0,
      'the dialog is built on first open, not at start',
    );
    await o.page.getByRole('button', { name: 'Preferences' }).click();
    const dialog = o.page.getByRole('dialog', { name: 'Cookie preferences' });
    await dialog.waitFor();
    const boxes = dialog.getByRole('checkbox');
    assert.deepEqual(await boxes.evaluateAll((b) => b.map((x) => (x as HTMLInputElement).checked)), [
      true, // necessary, disabled
      false,
      false,
      false,
    ]);
    await dialog.getByRole('checkbox', { name: 'Marketing' }).check();
    await dialog.getByRole('button', { name: 'Save choices' }).click();
    await o.page.waitForFunction(() => (window as { hits?: string[] }).hits?.length === 1);
    await o.page.waitForTimeout(100);
    assert.equal(hits('thirdparty-ads'), 1);
    assert.equal(hits('analytics') + hits('matomo'), 0);
    const s = await o.page.evaluate(() => window.Assent!.get());
    assert.equal(s.method, 'custom');
    assert.deepEqual(s.granted, {
      necessary: true,
      analytics: false,
      'analytics:matomo': false,
      marketing: true,
    });
    await o.context.close();
  });

  it('a single service can be granted alone', async () => {
    reset();
    const o = await open(browser, `${site.origin}/`);
    await o.page.getByRole('button', { name: 'Preferences' }).click();
    await o.page.getByRole('checkbox', { name: 'Matomo' }).check();
    await o.page.getByRole('button', { name: 'Save choices' }).click();
    await o.page.waitForFunction(() => (window as { hits?: string[] }).hits?.length === 1);
    assert.equal(hits('matomo'), 1);
    assert.equal(hits('analytics'), 0);
    await o.context.close();
  });

  it('a new policy version brings the banner back', async () => {
    const o = await open(browser, `${site.origin}/`);
    await o.page.getByRole('button', { name: 'Accept !' }).click();
    await o.page.goto(`${site.origin}/next`);
    await o.page.waitForFunction(() => window.Assent);
    assert.equal(await o.page.locator('#assent-banner').count(), 0);
    await o.page.goto(`${site.origin}/v2`);
    await o.page.getByRole('button', { name: 'Accept !' }).waitFor();
    assert.equal(
      await o.page.evaluate(() => window.Assent!.allowed('analytics')),
      false,
      'stale consent grants nothing',
    );
    await o.context.close();
  });

  it('withdrawal deletes the declared cookies, keeps scripts held, and is one click away', async () => {
    reset();
    const o = await open(browser, `${site.origin}/`);
    await o.page.getByRole('button', { name: 'Accept !' }).click();
    await o.page.waitForFunction(() => document.cookie.includes('_ga_X'));
    const first = await o.page.evaluate(() => window.Assent!.get().consentId);
    // The floating button reopens the preferences on every page.
    await o.page.goto(`${site.origin}/next`);
    await o.page.getByRole('button', { name: 'Cookie settings' }).click();
    await o.page.getByRole('button', { name: 'Reject all' }).click();
    await o.page.waitForFunction(() => !document.cookie.includes('_ga'));
    const names = Object.keys(await o.cookies());
    assert.deepEqual(names, ['assent'], `left: ${names}`);
    const s = await o.page.evaluate(() => window.Assent!.get());
    assert.equal(s.consentId, first, 'same consent ID across choices');
    assert.equal(s.granted.analytics, false);
    reset();
    await o.page.reload();
    await o.page.waitForTimeout(200);
    assert.equal(hits('analytics'), 0, 'no future loads');
    // The API withdraws too.
    await o.page.evaluate(() => window.Assent!.accept(['analytics']));
    await o.page.waitForFunction(() => document.cookie.includes('_ga'));
    await o.page.evaluate(() => window.Assent!.withdraw());
    await o.page.waitForFunction(() => !document.cookie.includes('_ga'));
    assert.equal(await o.page.evaluate(() => window.Assent!.get().method), 'withdraw');
    await o.context.close();
  });

  it('holds scripts that other scripts add later, and runs them on consent', async () => {
    reset();
    const o = await open(browser, `${site.origin}/late`, {
      // The "loader" adds a held tag after start-up, as a tag manager would.
      init: `addEventListener('load', () => setTimeout(() => { const s = document.createElement('script'); s.type = 'text/plain'; s.dataset.assentCategory = 'analytics'; s.src = '/hit/late'; document.body.append(s); }, 50));`,
    });
    await o.page.waitForFunction(() => document.querySelector('script[src="/hit/late"]'));
    await o.page.waitForTimeout(100);
    assert.equal(hits('late'), 0, 'held before consent');
    await o.page.getByRole('button', { name: 'Accept !' }).click();
    await o.page.waitForFunction(() => (window as { hits?: string[] }).hits?.includes('late'));
    // …and once consent exists, a late held tag runs as soon as it is added.
    await o.page.evaluate(() => {
      const s = document.createElement('script');
      s.type = 'text/plain';
      s.dataset.assentCategory = 'analytics';
      s.src = '/hit/later';
      document.body.append(s);
    });
    await o.page.waitForFunction(() => (window as { hits?: string[] }).hits?.includes('later'));
    assert.equal(hits('late'), 1);
    await o.context.close();
  });
});
