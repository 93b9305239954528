import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { bannerTag, launch, open, serve } from '../../../test-support/browser.js';

const SEED = 'buttons=(Accept !) days=(20)';
const DAY = 86_400_000;

describe("the seed's notice in Chromium", () => {
  let browser: Browser;
  let site: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    browser = await launch();
    site = await serve({
      '/notice': {
        head: bannerTag(`${SEED} mode=(notice)`),
        body: '<p>Article</p><a href="/notice-2">Next</a>',
      },
      '/notice-2': { head: bannerTag(`${SEED} mode=(notice)`), body: '<p>Another article</p>' },
      '/seed': { head: bannerTag(SEED), body: '<p>Article</p>' },
      '/drop-in': {
        head: `<script src="/assent.min.js" data-assent="${SEED} mode=(notice)" defer></script>`,
      },
      '/strict': {
        head: bannerTag(`${SEED} mode=(notice)`),
        csp: "default-src 'self'; script-src 'self'; style-src 'self'",
      },
      '/bad': {
        head: bannerTag('buttons=(Accept !) days=(abc) colour=(red)'),
        body: '<script type="text/plain" data-assent-category="analytics" src="/hit/analytics"></script>',
      },
    });
  });
  after(async () => {
    await browser.close();
    await site.close();
  });

  it('shows exactly the configured notice: message, Learn More link, "Accept !"', async () => {
    const { page, context } = await open(browser, `${site.origin}/notice`);
    const region = page.getByRole('region', { name: 'Cookie notice' });
    await region.waitFor();
    assert.equal(
      (await region.locator('p').textContent())?.trim(),
      'Our website uses cookies to enhance your experience. Learn More',
    );
    const link = region.getByRole('link', { name: 'Learn More' });
    assert.equal(await link.getAttribute('href'), '/privacy');
    assert.deepEqual(await region.getByRole('button').allInnerTexts(), ['Accept !']);
    await context.close();
  });

  it('in the default opt-in mode adds an equally prominent Reject and a Preferences button', async () => {
    const { page, context } = await open(browser, `${site.origin}/seed`);
    const region = page.getByRole('region', { name: 'Cookie notice' });
    assert.deepEqual(await region.getByRole('button').allInnerTexts(), ['Accept !', 'Reject', 'Preferences']);
    const [a, r] = await Promise.all(
      ['Accept !', 'Reject'].map((name) => region.getByRole('button', { name, exact: true }).boundingBox()),
    );
    assert.ok(a && r);
    assert.equal(Math.round(a.height), Math.round(r.height), 'same height');
    const style = (name: string) =>
      region.getByRole('button', { name, exact: true }).evaluate((b) => {
        const s = getComputedStyle(b);
        return [s.backgroundColor, s.color, s.fontWeight, s.fontSize, s.borderWidth].join();
      });
    assert.equal(await style('Accept !'), await style('Reject'), 'same style weight');
    await context.close();
  });

  it('remembers Accept for 20 days: cookie attributes, next page, reload', async () => {
    const o = await open(browser, `${site.origin}/notice`);
    const { page } = o;
    const before = Date.now();
    await page.getByRole('button', { name: 'Accept !' }).click();
    await page.getByRole('region', { name: 'Cookie notice' }).waitFor({ state: 'detached' });
    const c = (await o.cookies()).assent;
    assert.ok(c, 'consent cookie written');
    assert.ok(Math.abs(c.expires * 1000 - (before + 20 * DAY)) < 60_000, `expires in 20 days: ${c.expires}`);
    assert.equal(c.sameSite, 'Lax');
    assert.equal(c.path, '/');
    assert.equal(c.domain, '127.0.0.1', 'host-only by default');
    await page.getByRole('link', { name: 'Next' }).click();
    await page.waitForURL('**/notice-2');
    await page.waitForFunction(() => (window as { Assent?: unknown }).Assent);
    assert.equal(await page.locator('#assent-banner').count(), 0, 'not back on the next page');
    await page.reload();
    await page.waitForFunction(() => (window as { Assent?: unknown }).Assent);
    assert.equal(await page.locator('#assent-banner').count(), 0, 'not back after a reload');
    await o.context.close();
  });

  it('comes back once the clock passes 20 days', async () => {
    const o = await open(browser, `${site.origin}/notice`);
    await o.page.getByRole('button', { name: 'Accept !' }).click();
    await o.page.locator('#assent-banner').waitFor({ state: 'detached' });
    const page2 = await o.context.newPage();
    await page2.clock.install({ time: Date.now() + 20 * DAY - 5 * 60_000 });
    await page2.goto(`${site.origin}/notice`);
    await page2.waitForFunction(() => (window as { Assent?: unknown }).Assent);
    assert.equal(await page2.locator('#assent-banner').count(), 0, 'still remembered just before 20 days');
    const page3 = await o.context.newPage();
    await page3.clock.install({ time: Date.now() + 20 * DAY + 60_000 });
    await page3.goto(`${site.origin}/notice`);
    await page3.getByRole('button', { name: 'Accept !' }).waitFor();
    await o.context.close();
  });

  it('works as a single drop-in script tag: it loads its own stylesheet', async () => {
    const o = await open(browser, `${site.origin}/drop-in`);
    const banner = o.page.locator('#assent-banner');
    await banner.waitFor();
    assert.equal(await banner.evaluate((b) => getComputedStyle(b).position), 'fixed');
    assert.equal(await o.cls(), 0);
    await o.context.close();
  });

  it('works under a strict CSP with zero violations and no layout shift', async () => {
    const o = await open(browser, `${site.origin}/strict`);
    const banner = o.page.locator('#assent-banner');
    await banner.waitFor();
    assert.equal(await banner.evaluate((b) => getComputedStyle(b).position), 'fixed', 'styled');
    assert.equal(await o.page.locator('style, [style]').count(), 0, 'no inline <style> or style=""');
    await o.page.getByRole('button', { name: 'Accept !' }).click();
    await banner.waitFor({ state: 'detached' });
    assert.deepEqual(await o.csp(), []);
    assert.equal(await o.cls(), 0);
    assert.deepEqual(o.errors, []);
    await o.context.close();
  });

  it('logs a malformed shortcode naming the key, and keeps everything non-essential off', async () => {
    const o = await open(browser, `${site.origin}/bad`);
    await o.page.locator('#assent-banner').waitFor();
    assert.ok(
      o.errors.some((e) => /assent: days: .*whole number/.test(e)),
      o.errors.join('\n'),
    );
    assert.ok(o.errors.some((e) => /assent: colour: is not a known key/.test(e)));
    assert.equal(await o.page.getByRole('button', { name: 'Accept !' }).count(), 1, 'good keys still apply');
    assert.equal(site.hits.get('analytics') ?? 0, 0, 'held script did not run');
    assert.deepEqual(await o.cookies(), {});
    await o.context.close();
  });
});
