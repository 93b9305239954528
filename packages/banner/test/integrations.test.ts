import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launch, open, serve } from '../../../test-support/browser.js';

/** A stand-in for gtag.js: reads the queue like the real one, then records every command. */
const GTAG_STANDIN = `(() => {
  const dl = (window.dataLayer = window.dataLayer || []);
  const log = (window.gtagLog = []);
  const handle = (a) => {
    if (a && typeof a === 'object' && 'event' in a && !('length' in a)) log.push(['event', a.event]);
    else if (a && typeof a.length === 'number' && !Array.isArray(a)) log.push([a[0], a[1], a[2]]);
    else log.push(['ignored', JSON.stringify(a)]);
  };
  for (const a of dl) handle(a);
  dl.push = (a) => { handle(a); return Array.prototype.push.call(dl, a); };
})();`;
const SNIPPET =
  "window.dataLayer = window.dataLayer || []; function gtag(){dataLayer.push(arguments);} gtag('js', new Date()); gtag('config', 'G-TEST'); gtag('event', 'page_view');";

const BANNER = (sc: string) => `<script src="/assent.full.min.js" data-assent="${sc}"></script>`;
const GCM = 'gcm=(yes) categories=(analytics,marketing,functional)';

type Entry = [string, string, Record<string, unknown> | string | undefined];
const log = (page: Page) => page.evaluate(() => (window as unknown as { gtagLog: Entry[] }).gtagLog);

/** The Google tag's view: commands in the order it processed them. */
const assertDefaultFirst = (entries: Entry[]) => {
  const firstDefault = entries.findIndex((e) => e[0] === 'consent' && e[1] === 'default');
  const firstTag = entries.findIndex(
    (e) => e[0] === 'config' || (e[0] === 'event' && e[1] !== 'assent_consent'),
  );
  assert.ok(firstDefault >= 0, 'a default was set');
  assert.ok(
    firstTag < 0 || firstDefault < firstTag,
    `default before the first config/event: ${JSON.stringify(entries)}`,
  );
  assert.equal(
    entries.filter((e) => e[0] === 'consent' && e[1] === 'default').length,
    1,
    'exactly one default',
  );
  return firstDefault;
};

const ALL_DENIED = {
  ad_storage: 'denied',
  ad_user_data: 'denied',
  ad_personalization: 'denied',
  analytics_storage: 'denied',
  functionality_storage: 'denied',
  personalization_storage: 'denied',
  security_storage: 'granted',
  wait_for_update: 500,
};

describe('Google Consent Mode v2, tag-manager events and regions in Chromium', () => {
  let browser: Browser;
  let site: Awaited<ReturnType<typeof serve>>;
  let region: string | null = null;
  let receipts = 0;
  before(async () => {
    browser = await launch();
    site = await serve(
      {
        // The Google tag after the banner.
        '/after': { head: `${BANNER(GCM)}<script>${SNIPPET}</script><script src="/gtag.js"></script>` },
        // The Google tag's snippet before the banner, gtag.js after it.
        '/before': { head: `<script>${SNIPPET}</script>${BANNER(GCM)}<script src="/gtag.js"></script>` },
        // gtag.js has run (it took over dataLayer.push) before a deferred banner starts.
        '/late': {
          head: `<script>${SNIPPET}</script><script src="/gtag.js"></script><script src="/assent.full.min.js" data-assent="${GCM}" defer></script>`,
        },
        '/options': {
          head: `<script type="application/json" id="assent-config">{"googleConsentMode":{"adsDataRedaction":true,"urlPassthrough":true,"waitForUpdate":800}}</script>${BANNER('categories=(analytics)')}<script src="/gtag.js"></script>`,
        },
        // The lite build (assent.min.js) with an integration configured: a named error, no Google commands.
        '/lite': {
          head: `<script>window.dataLayer = [];</script><script type="application/json" id="assent-config">{"regions":{"*":"notice"}}</script><script src="/assent.min.js" data-assent="${GCM}"></script>`,
        },
        // The lite build with the full build's US features and receipts configured.
        '/lite-us': {
          head: `<script src="/assent.min.js" data-assent="mode=(opt-out) endpoint=(/v1/receipts) categories=(analytics,marketing)"></script>`,
        },
        '/dl-only': { head: `<script>window.dataLayer = [];</script>${BANNER('categories=(analytics)')}` },
        '/region-attr': {
          head: `<script type="application/json" id="assent-config">{"regions":{"EU":"opt-in","US-CA":"opt-out","*":"notice"},"categories":[{"id":"analytics"}]}</script>`,
        },
        '/region-server': {
          head: `<script type="application/json" id="assent-config">{"endpoint":"/v1/receipts","regions":{"EU":"opt-in","US-CA":"opt-out","*":"notice"},"googleConsentMode":{}}</script>${BANNER('categories=(marketing)')}<script src="/gtag.js"></script>`,
        },
      },
      (req, res) => {
        if (req.url === '/gtag.js') {
          res.writeHead(200, { 'content-type': 'text/javascript' }).end(GTAG_STANDIN);
          return true;
        }
        if (req.url === '/v1/config') {
          if (region === 'hang') return true; // never answers
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ region }));
          return true;
        }
        if (req.url?.startsWith('/v1/receipts')) {
          receipts++;
          res.writeHead(201, { 'content-type': 'application/json' }).end('{}');
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

  it('the lite build names the full build for Consent Mode and regions, and stays opt-in with no Google commands', async () => {
    const o = await open(browser, `${site.origin}/lite`);
    await o.page.getByRole('button', { name: 'Reject', exact: true }).waitFor();
    assert.ok(
      o.errors.some((e) => /^assent: gcm: needs the full build, assent\.full\.min\.js/.test(e)),
      o.errors.join('\n'),
    );
    assert.ok(
      o.errors.some((e) => /^assent: regions: needs the full build/.test(e)),
      o.errors.join('\n'),
    );
    await o.page.getByRole('button', { name: 'Accept', exact: true }).click();
    assert.deepEqual(
      await o.page.evaluate(() => (window as unknown as { dataLayer: unknown[] }).dataLayer),
      [],
    );
    await o.context.close();
  });

  it('the lite build names the full build for opt-out, GPC and receipts, and stays a plain opt-in banner', async () => {
    const init = `Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true });`;
    const o = await open(browser, `${site.origin}/lite-us`, { init });
    const region = o.page.getByRole('region', { name: 'Cookie notice' });
    await region.getByRole('button', { name: 'Reject', exact: true }).waitFor();
    for (const re of [
      /^assent: mode: must be opt-in \| notice \(opt-out needs the full build\)/,
      /^assent: endpoint: needs the full build/,
    ])
      assert.ok(
        o.errors.some((e) => re.test(e)),
        o.errors.join('\n'),
      );
    assert.doesNotMatch(await region.innerText(), /Global Privacy Control|Do not sell/);
    receipts = 0;
    await region.getByRole('button', { name: 'Accept', exact: true }).click();
    const s = await o.page.evaluate(() => window.Assent!.get());
    // Opt-in: nothing before Accept; then all of it, the GPC signal not read (the full build's).
    assert.deepEqual([s.mode, s.granted.marketing, s.gpc], ['opt-in', true, false]);
    await o.page.waitForTimeout(300);
    assert.equal(receipts, 0, 'no receipt is sent');
    await o.context.close();
  });

  for (const where of ['after', 'before']) {
    it(`with the Google tag ${where} the banner: denied default first, update on Accept, stored update next page`, async () => {
      const o = await open(browser, `${site.origin}/${where}`);
      const pageView = () =>
        o.page.waitForFunction(() =>
          (window as unknown as { gtagLog?: Entry[] }).gtagLog?.some((e) => e[1] === 'assent_consent'),
        );
      // The tag-manager event of the page view: no choice yet, nothing granted.
      await pageView();
      const first = await log(o.page);
      assert.deepEqual(
        await o.page.evaluate(() => (window.dataLayer as { event?: string }[]).filter((e) => e.event)),
        [{ _clear: true, event: 'assent_consent', assent: { categories: [], services: [], method: null } }],
      );
      const i = assertDefaultFirst(first);
      assert.deepEqual(first[i]![2], ALL_DENIED);
      await o.page.getByRole('button', { name: 'Accept', exact: true }).click();
      const afterAccept = await log(o.page);
      const tail = afterAccept.slice(first.length);
      assert.deepEqual(tail[0]?.slice(0, 2), ['consent', 'update']);
      assert.deepEqual(tail[0]?.[2], {
        ad_storage: 'granted',
        ad_user_data: 'granted',
        ad_personalization: 'granted',
        analytics_storage: 'granted',
        functionality_storage: 'granted',
        personalization_storage: 'denied',
        security_storage: 'granted',
      });
      assert.deepEqual(tail[1], ['event', 'assent_consent']);
      const events = () =>
        o.page.evaluate(() =>
          (window.dataLayer as { event?: string; assent?: unknown }[])
            .filter((e) => e.event === 'assent_consent')
            .map((e) => e.assent),
        );
      const accepted = {
        categories: ['analytics', 'marketing', 'functional'],
        services: [],
        method: 'accept-all',
      };
      assert.deepEqual((await events()).at(-1), accepted);
      // Next page: one default, then the stored choice as an update, both before the tag's
      // events; and the tag-manager event again, for triggers that fire on every page view.
      await o.page.reload();
      await pageView();
      assert.deepEqual(await events(), [accepted]);
      const next = await log(o.page);
      const j = assertDefaultFirst(next);
      assert.deepEqual(next[j + 1]?.slice(0, 2), ['consent', 'update'], JSON.stringify(next));
      assert.equal((next[j + 1]![2] as Record<string, string>).analytics_storage, 'granted');
      const firstTag = next.findIndex((e) => e[0] === 'config');
      assert.ok(j + 1 < firstTag, 'the update precedes the first config');
      await o.context.close();
    });
  }

  it('a Google tag that ran before the banner: the late default is a console error naming the fix', async () => {
    const o = await open(browser, `${site.origin}/late`);
    await o.page.locator('#assent-banner').waitFor();
    const entries = await log(o.page);
    const def = entries.findIndex((e) => e[0] === 'consent' && e[1] === 'default');
    assert.ok(def > entries.findIndex((e) => e[0] === 'config'), JSON.stringify(entries));
    assert.ok(
      o.errors.includes(
        'assent: Consent Mode: a Google tag ran before the banner, so its default came late: load the banner first, without defer',
      ),
      o.errors.join('\n'),
    );
    await o.context.close();
  });

  it('Reject and a custom choice send the matching update', async () => {
    const o = await open(browser, `${site.origin}/after`);
    await o.page.waitForFunction(() => (window as unknown as { gtagLog?: unknown[] }).gtagLog);
    await o.page.getByRole('button', { name: 'Reject' }).click();
    let l = await log(o.page);
    const rej = l.filter((e) => e[1] === 'update').at(-1)![2] as Record<string, string>;
    assert.equal(rej.analytics_storage, 'denied');
    assert.equal(rej.ad_storage, 'denied');
    await o.page.evaluate(() => window.Assent!.accept(['analytics']));
    l = await log(o.page);
    const custom = l.filter((e) => e[1] === 'update').at(-1)![2] as Record<string, string>;
    assert.deepEqual(
      [custom.analytics_storage, custom.ad_storage, custom.functionality_storage],
      ['granted', 'denied', 'denied'],
    );
    await o.context.close();
  });

  it('sets ads_data_redaction, url_passthrough and wait_for_update when configured', async () => {
    const o = await open(browser, `${site.origin}/options`);
    await o.page.waitForFunction(() => (window as unknown as { gtagLog?: unknown[] }).gtagLog);
    const l = await log(o.page);
    assert.equal((l[0]![2] as Record<string, unknown>).wait_for_update, 800);
    assert.deepEqual(l.slice(1, 3), [
      ['set', 'ads_data_redaction', true],
      ['set', 'url_passthrough', true],
    ]);
    await o.context.close();
  });

  it('pushes the tag-manager event to an existing dataLayer without Consent Mode', async () => {
    const o = await open(browser, `${site.origin}/dl-only`);
    const none = {
      _clear: true,
      event: 'assent_consent',
      assent: { categories: [], services: [], method: null },
    };
    await o.page.waitForFunction(() => window.dataLayer!.length > 0);
    assert.deepEqual(await o.page.evaluate(() => window.dataLayer), [none], 'the page view: no choice yet');
    await o.page.getByRole('button', { name: 'Reject' }).click();
    assert.deepEqual(await o.page.evaluate(() => window.dataLayer), [
      none,
      {
        _clear: true,
        event: 'assent_consent',
        assent: { categories: [], services: [], method: 'reject-all' },
      },
    ]);
    await o.context.close();
  });

  for (const [r, buttons] of [
    ['DE', ['Accept', 'Reject', 'Preferences']],
    ['US-CA', ['Accept', 'Preferences', 'Do not sell or share my personal information']],
    ['JP', ['Accept']],
  ] as const) {
    it(`data-assent-region="${r}" picks the mapped mode`, async () => {
      site.hits.clear();
      const o = await open(browser, `${site.origin}/region-attr`);
      await o.page.setContent(
        `<html><head>${await o.page.evaluate(() => document.head.innerHTML)}<script src="/assent.full.min.js" data-assent-region="${r}"></script></head><body><main>Hi</main></body></html>`,
      );
      const region = o.page.getByRole('region', { name: 'Cookie notice' });
      await region.waitFor();
      assert.deepEqual(await region.getByRole('button').allInnerTexts(), buttons);
      await o.context.close();
    });
  }

  it('regions with neither data-assent-region nor an endpoint to ask: opt-in for everyone, and the console says so', async () => {
    const o = await open(browser, `${site.origin}/region-attr`);
    await o.page.setContent(
      `<html><head>${await o.page.evaluate(() => document.head.innerHTML)}<script src="/assent.full.min.js"></script></head><body><main>Hi</main></body></html>`,
    );
    const region = o.page.getByRole('region', { name: 'Cookie notice' });
    await region.waitFor();
    assert.deepEqual(await region.getByRole('button').allInnerTexts(), ['Accept', 'Reject', 'Preferences']);
    assert.deepEqual(o.errors, [
      'assent: regions: no data-assent-region, and no endpoint to ask: every visitor gets opt-in',
    ]);
    await o.context.close();
  });

  it('asks the receipt server for the region; a US-CA visitor gets opt-out and a granted update', async () => {
    region = 'US-CA';
    const o = await open(browser, `${site.origin}/region-server`);
    await o.page.getByRole('button', { name: /Do not sell/ }).waitFor();
    const l = await log(o.page);
    assertDefaultFirst(l);
    assert.equal(
      (l[0]![2] as Record<string, string>).ad_storage,
      'denied',
      'denied while the region is unknown',
    );
    const upd = l.find((e) => e[1] === 'update');
    assert.equal(
      (upd![2] as Record<string, string>).ad_storage,
      'granted',
      'opt-out: on until the visitor opts out',
    );
    await o.context.close();
  });

  it('falls back to opt-in when the region server does not answer in time', async () => {
    region = 'hang';
    const o = await open(browser, `${site.origin}/region-server`);
    await o.page.getByRole('button', { name: 'Reject' }).waitFor({ timeout: 5000 });
    assert.equal(await o.page.evaluate(() => window.Assent!.get().mode), 'opt-in');
    await o.context.close();
  });
});
