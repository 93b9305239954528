/**
 * Consent Mode advanced and basic, said explicitly (issue 16, item 1), in Chromium: the exact
 * sequence the Google tag reads from `dataLayer`, for a first visit and a returning one, in
 * both modes; and the console hint when the mode is left unset.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launch, open, serve } from '../../../test-support/browser.js';

/** A stand-in for gtag.js: reads the queue like the real one, then records every command. */
const GTAG_STANDIN = `(() => {
  const dl = (window.dataLayer = window.dataLayer || []);
  const log = (window.gtagLog = []);
  const handle = (a) => {
    if (a && typeof a === 'object' && 'event' in a && !('length' in a)) log.push('event ' + a.event);
    else if (a && typeof a.length === 'number' && !Array.isArray(a))
      log.push(a[0] === 'consent' ? a[0] + ' ' + a[1] + ' ' + a[2].analytics_storage : a[0] + (typeof a[1] === 'string' ? ' ' + a[1] : ''));
  };
  for (const a of dl) handle(a);
  dl.push = (a) => { handle(a); return Array.prototype.push.call(dl, a); };
})();`;
/** Served at a path the banner recognises as the Google tag (its URL names googletagmanager.com/gtag/js). */
const TAG = '/googletagmanager.com/gtag/js?id=G-TEST';
const CONFIG =
  "window.dataLayer = window.dataLayer || []; function gtag(){dataLayer.push(arguments);} gtag('js', new Date()); gtag('config', 'G-TEST');";
const banner = (gcm: string) =>
  `<script src="/assent.full.min.js" data-assent="${gcm} categories=(analytics,marketing)"></script>`;
/** The Google tag as most sites hold it: the loader and its config, both marked analytics. */
const HELD = `<script type="text/plain" data-assent-category="analytics" src="${TAG}"></script><script type="text/plain" data-assent-category="analytics">${CONFIG}</script>`;
const LIVE = `<script src="${TAG}"></script><script>${CONFIG}</script>`;

describe('Consent Mode advanced and basic in Chromium', () => {
  let browser: Browser;
  let site: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    browser = await launch();
    site = await serve(
      {
        '/advanced': { head: `${banner('gcm=(advanced)')}${HELD}` },
        '/basic': { head: `${banner('gcm=(basic)')}${HELD}` },
        '/unset-held': { head: `${banner('gcm=(yes)')}${HELD}` },
        '/unset-live': { head: `${banner('gcm=(yes)')}${LIVE}` },
        '/basic-live': { head: `${banner('gcm=(basic)')}${LIVE}` },
        // Advanced: a held tracker that is not Google's, whose markup merely mentions gtag().
        '/advanced-other': {
          head: `${banner('gcm=(advanced)')}${HELD}<script type="text/plain" data-assent-category="marketing" src="/hit/other" data-note="fires with our gtag() setup"></script>`,
        },
      },
      (req, res) => {
        if (req.url === '/hit/other') {
          res.writeHead(200, { 'content-type': 'text/javascript' }).end('window.otherRan = true;');
          return true;
        }
        if (req.url === TAG) {
          res.writeHead(200, { 'content-type': 'text/javascript' }).end(GTAG_STANDIN);
          return true;
        }
        return undefined;
      },
    );
  });
  after(async () => {
    await browser.close();
    await site.close();
  });
  const tagLog = (page: Page) =>
    page.evaluate(() => (window as unknown as { gtagLog?: string[] }).gtagLog ?? null);
  const waitLog = (page: Page, n: number) =>
    page.waitForFunction((k) => ((window as unknown as { gtagLog?: string[] }).gtagLog?.length ?? 0) >= k, n);

  it('advanced: the Google tag runs at once under the denied default (held or not), then gets the update', async () => {
    const o = await open(browser, `${site.origin}/advanced`);
    await o.page.locator('#assent-banner').waitFor();
    await waitLog(o.page, 4);
    // The tag-manager event on every page view, once the state is known (here: no choice).
    assert.deepEqual(await tagLog(o.page), [
      'consent default denied',
      'event assent_consent',
      'js',
      'config G-TEST',
    ]);
    await o.page.getByRole('button', { name: 'Accept', exact: true }).click();
    await waitLog(o.page, 6);
    assert.deepEqual(await tagLog(o.page), [
      'consent default denied',
      'event assent_consent',
      'js',
      'config G-TEST',
      'consent update granted',
      'event assent_consent',
    ]);
    // Returning: the default, the stored choice as an update, the event (a tag manager's
    // trigger on it fires on this page view too), then the tag's own commands.
    await o.page.reload();
    await waitLog(o.page, 5);
    assert.deepEqual(await tagLog(o.page), [
      'consent default denied',
      'consent update granted',
      'event assent_consent',
      'js',
      'config G-TEST',
    ]);
    assert.deepEqual(o.warnings, [], 'the mode was said: no hint');
    await o.context.close();
  });

  it('advanced releases the Google tag by its URL or code, not a tracker whose attribute mentions gtag()', async () => {
    const o = await open(browser, `${site.origin}/advanced-other`);
    await o.page.locator('#assent-banner').waitFor();
    await waitLog(o.page, 4);
    await o.page.waitForTimeout(300);
    const ran = () => o.page.evaluate(() => (window as unknown as { otherRan?: boolean }).otherRan ?? false);
    assert.equal(await ran(), false, 'the marketing tracker stays held before any choice');
    await o.page.getByRole('button', { name: 'Accept', exact: true }).click();
    await o.page.waitForFunction(() => (window as unknown as { otherRan?: boolean }).otherRan === true);
    // Each tag-manager event replaces the last one's lists (GTM merges arrays index by index).
    const events = await o.page.evaluate(() =>
      (window as unknown as { dataLayer: { event?: string; _clear?: boolean }[] }).dataLayer
        .filter((e) => e.event === 'assent_consent')
        .map((e) => e._clear),
    );
    assert.deepEqual(events, [true, true]);
    await o.context.close();
  });

  it('basic: nothing from the Google tag before consent; after Accept it reads default, update, then its own commands', async () => {
    const o = await open(browser, `${site.origin}/basic`);
    await o.page.locator('#assent-banner').waitFor();
    await o.page.waitForTimeout(200);
    assert.equal(await tagLog(o.page), null, 'the tag did not load');
    assert.equal(o.requests.filter((r) => r.url().includes('gtag/js')).length, 0);
    await o.page.getByRole('button', { name: 'Accept', exact: true }).click();
    await waitLog(o.page, 6);
    assert.deepEqual(await tagLog(o.page), [
      'consent default denied',
      'event assent_consent',
      'consent update granted',
      'event assent_consent',
      'js',
      'config G-TEST',
    ]);
    await o.page.reload();
    await waitLog(o.page, 5);
    assert.deepEqual(await tagLog(o.page), [
      'consent default denied',
      'consent update granted',
      'event assent_consent',
      'js',
      'config G-TEST',
    ]);
    await o.context.close();
  });

  it('basic after Reject: the tag stays held, on this page and the next', async () => {
    const o = await open(browser, `${site.origin}/basic`);
    await o.page.getByRole('button', { name: 'Reject', exact: true }).click();
    await o.page.waitForTimeout(200);
    await o.page.reload();
    await o.page.locator('.assent-fab').waitFor();
    await o.page.waitForTimeout(200);
    assert.equal(await tagLog(o.page), null);
    await o.context.close();
  });

  for (const [path, said] of [
    [
      '/unset-held',
      'assent: Consent Mode basic (the Google tag is held): say so with gcm=(basic) or gcm=(advanced)',
    ],
    [
      '/unset-live',
      'assent: Consent Mode advanced (Google tags send cookieless pings before consent): say so with gcm=(basic) or gcm=(advanced)',
    ],
  ] as const)
    it(`unset (${path.slice(7)} Google tag): the console says which mode the markup makes it`, async () => {
      const o = await open(browser, `${site.origin}${path}`);
      await o.page.locator('#assent-banner').waitFor();
      assert.deepEqual(
        o.warnings.filter((w) => w.startsWith('assent:')),
        [said],
      );
      await o.context.close();
    });

  it('basic with a Google tag that is not held is an error on the console', async () => {
    const o = await open(browser, `${site.origin}/basic-live`);
    await o.page.locator('#assent-banner').waitFor();
    assert.ok(
      o.errors.includes('assent: Consent Mode basic, but a Google tag is not held'),
      o.errors.join('\n'),
    );
    await o.context.close();
  });
});
