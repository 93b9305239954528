/**
 * Undeclared categories (issue 13, item 1) and the preferences file loaded on demand (the
 * budget's stretch), in Chromium.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { bannerTag, launch, open, serve, until } from '../../../test-support/browser.js';

/** The README's drop-in and its blocking markup, with no categories declared. */
const README = `${bannerTag('buttons=(Accept !) days=(20)')}
  <script type="text/plain" data-assent-category="analytics" src="/hit/ga"></script>`;
const EMBED = `<iframe data-assent-src="/hit/video" data-assent-category="marketing" data-assent-provider="YouTube" title="Video" width="560" height="315"></iframe>`;

describe('undeclared categories and the preferences file', () => {
  let browser: Browser;
  let site: Awaited<ReturnType<typeof serve>>;
  let missing = false;
  before(async () => {
    browser = await launch();
    site = await serve(
      {
        '/readme': { head: README, body: EMBED },
        '/only-analytics': { head: README },
        '/only-marketing': { head: bannerTag('buttons=(Accept !) days=(20)'), body: EMBED },
        // Without defer: the held script comes after the banner in the document.
        '/no-defer': {
          head: `<script src="/assent.min.js"></script><script type="text/plain" data-assent-category="analytics" src="/hit/late-parsed"></script>`,
        },
        '/declared': {
          head: `${bannerTag('categories=(analytics)')}<script type="text/plain" data-assent-category="analytics" src="/hit/declared"></script>`,
        },
        '/bad-id': {
          head: `${bannerTag('categories=(analytics)')}<script type="text/plain" data-assent-category="Analytics" src="/hit/bad"></script>`,
        },
        '/published': {
          head: `${bannerTag('endpoint=(/v1/receipts) categories=(analytics)', '', 'assent.full.min.js')}<script type="text/plain" data-assent-category="marketing" src="/hit/unpublished"></script>`,
        },
        '/csp': {
          csp: "default-src 'self'; script-src 'nonce-n0nce'; style-src 'self'",
          head: bannerTag('categories=(analytics)', 'nonce="n0nce"'),
        },
        '/globals': { head: bannerTag('categories=(analytics)') },
      },
      (req, res) => {
        if (missing && req.url === '/assent.prefs.min.js') {
          res.writeHead(404).end();
          return true;
        }
        return false;
      },
    );
  });
  after(async () => {
    await browser.close();
    await site.close();
  });
  const hits = (n: string) => site.hits.get(n) ?? 0;
  /** `n` reached the server exactly `count` times: its request may land after the page shows the result. */
  const hit = async (n: string, count: number) => {
    await until(() => hits(n) >= count);
    assert.equal(hits(n), count, n);
  };

  it("the README's snippet works as written: Accept runs the held script, and the console says how to declare", async () => {
    site.hits.clear();
    const o = await open(browser, `${site.origin}/readme`);
    await o.page.locator('#assent-banner').waitFor();
    assert.equal(hits('ga') + hits('video'), 0);
    assert.equal(await o.page.evaluate(() => localStorage.length), 0, 'nothing stored before a choice');
    const said = o.warnings.filter((w) => w.startsWith('assent:'));
    assert.deepEqual(said, [
      'assent: held elements name undeclared categories (analytics,marketing); declare them: categories=(analytics,marketing)',
    ]);
    await o.page.getByRole('button', { name: 'Accept !' }).click();
    await o.page.waitForFunction(() => document.querySelector('iframe')?.src.endsWith('/hit/video'));
    await hit('ga', 1);
    assert.deepEqual(await o.page.evaluate(() => window.Assent!.get().granted), {
      necessary: true,
      analytics: true,
      marketing: true,
    });
    // The next page: the same policy (nothing asked), the script runs at once.
    await o.page.reload();
    await o.page.locator('.assent-fab').waitFor();
    assert.equal(await o.page.locator('#assent-banner').count(), 0);
    await hit('ga', 2);
    assert.deepEqual(
      o.errors.filter((e) => e.startsWith('assent')),
      [],
    );
    await o.context.close();
  });

  it('they appear in the preferences with their known titles; Reject refuses them and is remembered', async () => {
    site.hits.clear();
    const o = await open(browser, `${site.origin}/readme`);
    await o.page.getByRole('button', { name: 'Preferences' }).click();
    const dialog = o.page.getByRole('dialog', { name: 'Cookie preferences' });
    await dialog.waitFor();
    assert.ok(await dialog.getByRole('checkbox', { name: 'Analytics' }).isVisible());
    assert.ok(await dialog.getByRole('checkbox', { name: 'Marketing' }).isVisible());
    await dialog.getByRole('button', { name: 'Reject all' }).click();
    await o.page.reload();
    await o.page.locator('.assent-fab').waitFor();
    assert.equal(await o.page.locator('#assent-banner').count(), 0, 'a rejection is remembered');
    assert.equal(hits('ga') + hits('video'), 0);
    await o.context.close();
  });

  it("an embed's Accept button grants its undeclared category, for this page and the next", async () => {
    site.hits.clear();
    const o = await open(browser, `${site.origin}/readme`);
    await o.page.getByRole('button', { name: 'Accept Marketing' }).click();
    await o.page.waitForFunction(() => document.querySelector('iframe')?.src.endsWith('/hit/video'));
    assert.equal(hits('ga'), 0, 'analytics was not granted');
    await o.page.reload();
    await o.page.waitForFunction(() => document.querySelector('iframe')?.src.endsWith('/hit/video'));
    assert.deepEqual(await o.page.evaluate(() => window.Assent!.get().granted), {
      necessary: true,
      analytics: false,
      marketing: true,
    });
    await o.context.close();
  });

  it('a category first seen on a later page asks again once; the pages then agree whichever comes first', async () => {
    site.hits.clear();
    const o = await open(browser, `${site.origin}/only-analytics`);
    await o.page.getByRole('button', { name: 'Accept !' }).click();
    await o.page.waitForFunction(() => window.Assent!.get().granted.analytics);
    // A new purpose: asked again.
    await o.page.goto(`${site.origin}/only-marketing`);
    await o.page.locator('#assent-banner').waitFor();
    assert.equal(hits('video'), 0);
    await o.page.getByRole('button', { name: 'Accept !' }).click();
    await o.page.waitForFunction(() => document.querySelector('iframe')?.src.endsWith('/hit/video'));
    // Back on the first page (which names only analytics): nothing asked, analytics runs.
    const before = hits('ga');
    await o.page.goto(`${site.origin}/only-analytics`);
    await o.page.locator('.assent-fab').waitFor();
    assert.equal(await o.page.locator('#assent-banner').count(), 0);
    await hit('ga', before + 1);
    assert.equal(
      await o.page.evaluate(() => localStorage.getItem('assent-categories')),
      '["analytics","marketing"]',
    );
    await o.context.close();
  });

  it('held elements added later with a new category ask again, and Accept then runs them', async () => {
    site.hits.clear();
    const o = await open(browser, `${site.origin}/declared`);
    await o.page.getByRole('button', { name: 'Accept' }).click();
    await o.page.locator('.assent-fab').waitFor();
    await hit('declared', 1);
    await o.page.evaluate(() => {
      // Listeners (React, the vendors' add-on) hear that the earlier grant no longer holds.
      const w = window as unknown as { changes: unknown[] };
      w.changes = [];
      document.addEventListener('assent:change', (e) => w.changes.push((e as CustomEvent).detail.granted));
      const s = document.createElement('script');
      s.type = 'text/plain';
      s.dataset.assentCategory = 'personalization';
      s.src = '/hit/added';
      document.body.append(s);
    });
    await o.page.locator('#assent-banner').waitFor();
    assert.equal(await o.page.evaluate(() => window.Assent!.allowed('personalization')), false);
    assert.deepEqual(await o.page.evaluate(() => (window as unknown as { changes: unknown[] }).changes), [
      { necessary: true, analytics: false, personalization: false },
    ]);
    assert.equal(hits('added'), 0);
    await o.page.getByRole('button', { name: 'Accept' }).click();
    await o.page.waitForFunction(() => window.Assent!.allowed('personalization'));
    await hit('added', 1);
    await o.context.close();
  });

  it('without defer, held elements parsed after the banner are discovered before it asks', async () => {
    site.hits.clear();
    const o = await open(browser, `${site.origin}/no-defer`);
    await o.page.getByRole('button', { name: 'Accept' }).click();
    await hit('late-parsed', 1);
    await o.context.close();
  });

  it('an invalid category id is named on the console and its element stays held', async () => {
    site.hits.clear();
    const o = await open(browser, `${site.origin}/bad-id`);
    await o.page.getByRole('button', { name: 'Accept' }).click();
    await o.page.waitForTimeout(200);
    assert.equal(hits('bad'), 0);
    assert.ok(o.errors.some((e) => e.startsWith('assent: data-assent-category is not a category id:')));
    await o.context.close();
  });

  it('a policy published to a receipt server is never extended by the page: the element stays held, and the console says so', async () => {
    site.hits.clear();
    const o = await open(browser, `${site.origin}/published`);
    await o.page.locator('#assent-banner').waitFor();
    assert.ok(
      o.warnings.includes(
        'assent: held elements name undeclared categories (marketing); they stay held until the published policy declares them',
      ),
      o.warnings.join('\n'),
    );
    assert.deepEqual(Object.keys(await o.page.evaluate(() => window.Assent!.get().granted)).sort(), [
      'analytics',
      'necessary',
    ]);
    await o.context.close();
  });

  it('the preferences are a second file, fetched on first open only, with the page nonce under a strict CSP', async () => {
    const o = await open(browser, `${site.origin}/csp`);
    await o.page.locator('#assent-banner').waitFor();
    const prefsFile = () => o.requests.filter((r) => r.url().endsWith('/assent.prefs.min.js')).length;
    assert.equal(prefsFile(), 0);
    await o.page.getByRole('button', { name: 'Preferences' }).click();
    await o.page.getByRole('dialog', { name: 'Cookie preferences' }).waitFor();
    await o.page.getByRole('button', { name: 'Close' }).click();
    await o.page.getByRole('button', { name: 'Preferences' }).click();
    await o.page.getByRole('dialog', { name: 'Cookie preferences' }).waitFor();
    assert.equal(prefsFile(), 1);
    assert.deepEqual(await o.csp(), []);
    assert.deepEqual(
      o.errors.filter((e) => e.startsWith('assent')),
      [],
    );
    await o.context.close();
  });

  it('a preferences file that cannot load is named on the console; Accept still works, and the next click tries again', async () => {
    missing = true;
    try {
      const o = await open(browser, `${site.origin}/globals`);
      await o.page.getByRole('button', { name: 'Preferences' }).click();
      await o.page.waitForFunction(() => true);
      await o.page.waitForTimeout(300);
      assert.ok(
        o.errors.some((e) => e === `assent: cannot load ${site.origin}/assent.prefs.min.js`),
        o.errors.join('\n'),
      );
      missing = false;
      await o.page.getByRole('button', { name: 'Preferences' }).click();
      await o.page.getByRole('dialog', { name: 'Cookie preferences' }).waitFor();
      await o.page.getByRole('button', { name: 'Accept all' }).click();
      assert.equal(await o.page.evaluate(() => window.Assent!.allowed('analytics')), true);
      await o.context.close();
    } finally {
      missing = false;
    }
  });

  it("the banner's code defines no globals but window.Assent (and the preferences' hand-over once opened)", async () => {
    const o = await open(browser, `${site.origin}/globals`, {
      init: 'window.__before = Object.keys(window);',
    });
    await o.page.locator('#assent-banner').waitFor();
    const added = () =>
      o.page.evaluate(() =>
        Object.keys(window).filter(
          (k) => !(window as unknown as { __before: string[] }).__before.includes(k) && k !== '__before',
        ),
      );
    assert.deepEqual(await added(), ['Assent']);
    await o.page.getByRole('button', { name: 'Preferences' }).click();
    await o.page.getByRole('dialog', { name: 'Cookie preferences' }).waitFor();
    assert.deepEqual((await added()).sort(), ['Assent', '__assent', '__assentPrefs']);
    await o.context.close();
  });
});
