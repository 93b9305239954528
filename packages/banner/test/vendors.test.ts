/**
 * The vendors' consent APIs (issue 16, item 2), in Chromium, against local stand-ins that
 * record what each vendor's library reads (no network): Microsoft UET, Microsoft Clarity,
 * Meta Pixel, TikTok Pixel. The snippets are the vendors' own (their loaders pointed at the
 * stand-ins); each works whether the add-on comes before the snippets or after them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launch, open, serve } from '../../../test-support/browser.js';

const SNIPPETS = `<script>
(function(w,d,t,r,u){var f,n,i;w[u]=w[u]||[],f=function(){var o={ti:"T1"};o.q=w[u],w[u]=new UET(o),w[u].push("pageLoad")},n=d.createElement(t),n.src=r,n.async=1,n.onload=function(){f()},i=d.getElementsByTagName(t)[0],i.parentNode.insertBefore(n,i)})(window,document,"script","/vendor/bat.js","uetq");
(function(c,l,a,r,i,t,y){c[a]=c[a]||function(){(c[a].q=c[a].q||[]).push(arguments)};t=l.createElement(r);t.async=1;t.src="/vendor/clarity.js";y=l.getElementsByTagName(r)[0];y.parentNode.insertBefore(t,y);})(window,document,"clarity","script","C1");
!function(f,b,e,v,n,t,s){if(f.fbq)return;n=f.fbq=function(){n.callMethod?n.callMethod.apply(n,arguments):n.queue.push(arguments)};if(!f._fbq)f._fbq=n;n.push=n;n.loaded=!0;n.version='2.0';n.queue=[];t=b.createElement(e);t.async=!0;t.src=v;s=b.getElementsByTagName(e)[0];s.parentNode.insertBefore(t,s)}(window,document,'script','/vendor/fbevents.js');fbq('init','123');fbq('track','PageView');
!function(w,d,t){w.TiktokAnalyticsObject=t;var ttq=w[t]=w[t]||[];ttq.methods=["page","track","identify","holdConsent","revokeConsent","grantConsent"],ttq.setAndDefer=function(t,e){t[e]=function(){t.push([e].concat(Array.prototype.slice.call(arguments,0)))}};for(var i=0;i<ttq.methods.length;i++)ttq.setAndDefer(ttq,ttq.methods[i]);ttq.load=function(e){var n=d.createElement("script");n.async=!0,n.src="/vendor/ttq.js";var s=d.getElementsByTagName("script")[0];s.parentNode.insertBefore(n,s)};ttq.load('TT1');ttq.page();}(window,document,'ttq');
</script>`;

/** The vendors' libraries, standing in: each reads its queue, then records every call. */
const LIBS: Record<string, string> = {
  '/vendor/bat.js': `window.UET = function (o) { const log = (window.vendorLog ||= []); const rec = (x) => log.push('uet ' + (typeof x === 'string' ? x : JSON.stringify(x))); o.q.forEach(rec); this.push = (...a) => a.forEach(rec); };`,
  '/vendor/clarity.js': `(() => { const log = (window.vendorLog ||= []); const rec = (a) => log.push('clarity ' + a[0] + ' ' + JSON.stringify(a[1])); (window.clarity.q || []).forEach(rec); window.clarity = (...a) => rec(a); })();`,
  '/vendor/fbevents.js': `(() => { const f = window.fbq; const log = (window.vendorLog ||= []); const rec = (a) => log.push('meta ' + Array.from(a).join(' ')); f.callMethod = (...a) => rec(a); f.queue.forEach(rec); })();`,
  '/vendor/ttq.js': `(() => { const q = window.ttq; const log = (window.vendorLog ||= []); const rec = (a) => log.push('tiktok ' + a[0]); q.splice(0).forEach(rec); q.push = (a) => { rec(a); return 0; }; })();`,
};
const ADDON = '<script src="/assent.vendors.min.js"></script>';
const BANNER = '<script src="/assent.full.min.js" data-assent="categories=(analytics,marketing)"></script>';

const DENIED_UET = ['uet consent', 'uet default', 'uet {"ad_storage":"denied"}'];
const DENIED_CLARITY = 'clarity consentv2 {"ad_Storage":"denied","analytics_Storage":"denied"}';

describe("the vendors' consent APIs in Chromium", () => {
  let browser: Browser;
  let site: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    browser = await launch();
    site = await serve(
      {
        '/first': { head: `${ADDON}${SNIPPETS}${BANNER}` },
        '/after': { head: `${SNIPPETS}${ADDON}${BANNER}` },
        '/some': {
          head: `<script src="/assent.vendors.min.js" data-assent-vendors='{"clarity":{"analytics_Storage":"analytics"}}'></script>${SNIPPETS}${BANNER}`,
        },
        '/optout': {
          head: `${ADDON}${SNIPPETS}<script src="/assent.full.min.js" data-assent="mode=(opt-out) categories=(analytics,marketing)"></script>`,
        },
        // Mistakes in a valid mapping: a string for UET, a signal in the wrong case for
        // Clarity, a category the site does not have for Meta.
        '/misshaped': {
          head: `<script src="/assent.vendors.min.js" data-assent-vendors='{"uet":"marketing","clarity":{"ad_storage":"marketing"},"meta":"marketng","tiktok":"marketing"}'></script>${SNIPPETS}${BANNER}`,
        },
        '/broken': {
          head: `<script src="/assent.vendors.min.js" data-assent-vendors="{meta"></script>${SNIPPETS}${BANNER}`,
        },
      },
      (req, res) => {
        const lib = LIBS[req.url ?? ''];
        if (!lib) return undefined;
        // Vendors' libraries come from a CDN, later than the page's own scripts.
        setTimeout(() => res.writeHead(200, { 'content-type': 'text/javascript' }).end(lib), 300);
        return true;
      },
    );
  });
  after(async () => {
    await browser.close();
    await site.close();
  });

  const vendorLog = async (page: Page, has: string[]) => {
    await page.waitForFunction(
      (need) =>
        need.every((n) => ((window as unknown as { vendorLog?: string[] }).vendorLog ?? []).includes(n)),
      has,
    );
    return page.evaluate(() => (window as unknown as { vendorLog: string[] }).vendorLog);
  };
  const of = (log: string[], vendor: string) => log.filter((l) => l.startsWith(`${vendor} `));

  for (const path of ['/first', '/after'])
    it(`${path === '/first' ? 'before' : 'after'} the snippets: each vendor reads its denied default first, then the choice`, async () => {
      const o = await open(browser, `${site.origin}${path}`);
      await o.page.locator('#assent-banner').waitFor();
      const first = await vendorLog(o.page, [
        'uet pageLoad',
        'meta track PageView',
        'tiktok page',
        DENIED_CLARITY,
      ]);
      const uet = of(first, 'uet');
      assert.deepEqual(uet.slice(0, 3), DENIED_UET);
      assert.ok(uet.indexOf('uet pageLoad') > 2, uet.join(' | '));
      assert.equal(of(first, 'clarity')[0], DENIED_CLARITY);
      assert.deepEqual(of(first, 'meta').slice(0, 3), [
        'meta consent revoke',
        'meta init 123',
        'meta track PageView',
      ]);
      assert.deepEqual(of(first, 'tiktok').slice(0, 2), ['tiktok holdConsent', 'tiktok page']);
      assert.ok(!first.some((l) => /grant/.test(l)), 'nothing granted before a choice');
      await o.page.getByRole('button', { name: 'Accept', exact: true }).click();
      const all = await vendorLog(o.page, ['meta consent grant', 'tiktok grantConsent']);
      assert.deepEqual(of(all, 'uet').slice(-3), [
        'uet consent',
        'uet update',
        'uet {"ad_storage":"granted"}',
      ]);
      assert.equal(
        of(all, 'clarity').at(-1),
        'clarity consentv2 {"ad_Storage":"granted","analytics_Storage":"granted"}',
      );
      // A returning visitor: the default first again, then the stored choice.
      await o.page.reload();
      const next = await vendorLog(o.page, ['meta consent grant', 'tiktok grantConsent', 'uet pageLoad']);
      assert.equal(of(next, 'meta')[0], 'meta consent revoke');
      assert.equal(of(next, 'tiktok')[0], 'tiktok holdConsent');
      assert.deepEqual(of(next, 'uet').slice(0, 3), DENIED_UET);
      assert.deepEqual(
        o.errors.filter((e) => e.startsWith('assent')),
        [],
      );
      await o.context.close();
    });

  it('Reject revokes each vendor; the mapping on the tag chooses the vendors and their categories', async () => {
    const o = await open(browser, `${site.origin}/first`);
    await o.page.locator('#assent-banner').waitFor();
    await o.page.getByRole('button', { name: 'Reject', exact: true }).click();
    const log = await vendorLog(o.page, ['meta consent revoke', 'tiktok revokeConsent', 'uet pageLoad']);
    assert.ok(!log.some((l) => /grant/.test(l)));
    await o.context.close();
    const s = await open(browser, `${site.origin}/some`);
    await s.page.locator('#assent-banner').waitFor();
    await s.page.getByRole('button', { name: 'Accept', exact: true }).click();
    const some = await vendorLog(s.page, [
      'clarity consentv2 {"analytics_Storage":"granted"}',
      'meta init 123',
    ]);
    assert.deepEqual(
      of(some, 'meta').slice(0, 1),
      ['meta init 123'],
      'Meta is not told anything: not in the mapping',
    );
    await s.context.close();
  });

  it('a broken mapping is named on the console and every vendor stays denied, even after Accept', async () => {
    const o = await open(browser, `${site.origin}/broken`);
    await o.page.getByRole('button', { name: 'Accept', exact: true }).click();
    const log = await vendorLog(o.page, ['meta track PageView', 'tiktok page', DENIED_CLARITY]);
    await o.page.waitForTimeout(200);
    assert.ok(!log.some((l) => /grant/.test(l)), log.join('\n'));
    assert.ok(o.errors.some((e) => e.startsWith('assent: data-assent-vendors is not valid JSON')));
    await o.context.close();
  });

  it('a mapping of the wrong shape or naming no category of the site is named; that vendor stays denied', async () => {
    const o = await open(browser, `${site.origin}/misshaped`);
    await o.page.getByRole('button', { name: 'Accept', exact: true }).click();
    const log = await vendorLog(o.page, ['tiktok grantConsent', ...DENIED_UET, DENIED_CLARITY]);
    await o.page.waitForTimeout(300);
    assert.deepEqual(
      log.filter((l) => /grant/.test(l)),
      ['tiktok grantConsent'],
      'only the well-mapped vendor is granted',
    );
    assert.deepEqual(o.errors, [
      'assent: data-assent-vendors: uet is not uet, clarity, meta or tiktok mapped as documented; it stays denied',
      'assent: data-assent-vendors: clarity is not uet, clarity, meta or tiktok mapped as documented; it stays denied',
      'assent: data-assent-vendors: meta names marketng, not a category here; it stays denied',
    ]);
    await o.context.close();
  });

  it('opt-out mode: granted without GPC; a GPC signal refuses sale/sharing to every vendor without asking', async () => {
    const o = await open(browser, `${site.origin}/optout`);
    const on = await vendorLog(o.page, ['meta consent grant', 'tiktok grantConsent']);
    assert.ok(of(on, 'uet').includes('uet {"ad_storage":"granted"}'), of(on, 'uet').join(' | '));
    await o.context.close();
    const gpc = await open(browser, `${site.origin}/optout`, {
      init: `Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true });`,
    });
    const log = await vendorLog(gpc.page, ['tiktok revokeConsent', 'uet pageLoad', 'meta track PageView']);
    assert.equal(await gpc.page.locator('#assent-banner').count(), 0, 'not asked');
    // Analytics stays granted (opt-out), everything of sale/sharing is refused.
    assert.ok(
      !log.some((l) => /consent grant|grantConsent|"ad_storage":"granted"|"ad_Storage":"granted"/.test(l)),
      log.join('\n'),
    );
    assert.ok(
      log.includes('clarity consentv2 {"ad_Storage":"denied","analytics_Storage":"granted"}'),
      log.join('\n'),
    );
    await gpc.context.close();
  });
});
