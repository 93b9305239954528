/**
 * Single-page sites (issue 13, item 3), in Chromium: a small history-API app whose router
 * either swaps the whole `<body>` (as Turbo Drive and Astro's view transitions do) or renders
 * views into a container. Route changes neither lose nor duplicate the banner or the floating
 * button, and consent applies to each new view's held elements.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { bannerTag, launch, open, serve } from '../../../test-support/browser.js';

/**
 * The app: `go(view)` pushes a URL and renders; popstate renders the URL's view. `swap=body`
 * replaces `<body>` with a new one; otherwise the view goes into `<main>`.
 */
const APP = (swap: 'body' | 'main') => `<script>
  const VIEWS = {
    home: '<h2>Home</h2><p>Front page.</p>',
    stats: '<h2>Stats</h2><script type="text/plain" data-assent-category="analytics" src="/hit/stats"><\\/script>',
    video: '<h2>Video</h2><iframe data-assent-src="/hit/video" data-assent-category="marketing" data-assent-provider="Tube" title="Clip" width="320" height="180"></iframe>',
  };
  const render = (v) => {
    const html = '<nav><a href="/app/home">Home</a> <a href="/app/stats">Stats</a> <a href="/app/video">Video</a></nav><main>' + VIEWS[v] + '</main>';
    if (${JSON.stringify(swap)} === 'body') {
      const b = document.createElement('body');
      b.innerHTML = html;
      document.body.replaceWith(b);
    } else document.querySelector('main').innerHTML = VIEWS[v];
  };
  window.go = (v) => { history.pushState({ v }, '', '/app/' + v); render(v); };
  addEventListener('popstate', (e) => render(e.state ? e.state.v : 'home'));
</script>`;

describe('single-page sites in Chromium', () => {
  let browser: Browser;
  let site: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    browser = await launch();
    const cats = 'categories=(analytics,marketing)';
    site = await serve({
      '/body': { head: `${APP('body')}${bannerTag(cats)}` },
      '/main': { head: `${APP('main')}${bannerTag(cats)}` },
      '/undeclared': { head: `${APP('body')}${bannerTag('')}` },
    });
  });
  after(async () => {
    await browser.close();
    await site.close();
  });
  const hits = (n: string) => site.hits.get(n) ?? 0;
  const count = (page: Page, sel: string) => page.locator(sel).count();
  const go = async (page: Page, view: string) => {
    await page.evaluate((v) => (window as unknown as { go(v: string): void }).go(v), view);
    await page.waitForTimeout(150);
  };

  for (const swap of ['body', 'main'])
    it(`router swapping <${swap}>: one banner across views, held elements wait, then run in each new view`, async () => {
      site.hits.clear();
      const o = await open(browser, `${site.origin}/${swap}`);
      await o.page.locator('#assent-banner').waitFor();
      await go(o.page, 'stats');
      await go(o.page, 'video');
      assert.equal(await count(o.page, '#assent-banner'), 1, 'the banner, once, after the route changes');
      assert.ok(await o.page.locator('#assent-banner').isVisible());
      assert.equal(await count(o.page, '.assent-embed'), 1, "the new view's embed has its placeholder");
      assert.equal(hits('stats') + hits('video'), 0, 'nothing before consent');
      await o.page.getByRole('button', { name: 'Accept', exact: true }).click();
      await o.page.waitForFunction(() => document.querySelector('iframe')?.src.endsWith('/hit/video'));
      await go(o.page, 'stats');
      await o.page.waitForFunction(() => window.Assent!.allowed('analytics'));
      assert.equal(hits('stats'), 1, "the next view's held script ran once");
      await go(o.page, 'home');
      await o.page.goBack();
      await o.page.waitForTimeout(150);
      assert.equal(hits('stats'), 2, 'back to the view: its (new) held script ran again, once');
      assert.equal(await count(o.page, '.assent-fab'), 1, 'one floating button');
      assert.equal(await count(o.page, '#assent-banner'), 0, 'no banner after the choice');
      await o.page.getByRole('button', { name: 'Cookie settings' }).click();
      await o.page.getByRole('dialog', { name: 'Cookie preferences' }).waitFor();
      assert.deepEqual(
        o.errors.filter((e) => e.startsWith('assent')),
        [],
      );
      await o.context.close();
    });

  it('a view naming an undeclared category asks again after a choice, once', async () => {
    site.hits.clear();
    const o = await open(browser, `${site.origin}/undeclared`);
    await o.page.getByRole('button', { name: 'Accept', exact: true }).click();
    await o.page.locator('.assent-fab').waitFor();
    await go(o.page, 'stats');
    await o.page.locator('#assent-banner').waitFor();
    assert.equal(hits('stats'), 0, 'a purpose not yet asked about waits');
    await go(o.page, 'home');
    assert.equal(await count(o.page, '#assent-banner'), 1);
    assert.equal(await count(o.page, '.assent-fab'), 0);
    await o.page.getByRole('button', { name: 'Accept', exact: true }).click();
    await go(o.page, 'stats');
    await o.page.waitForTimeout(100);
    assert.equal(hits('stats'), 1);
    await o.context.close();
  });
});
