/**
 * A defined state from the first moment (issue 13, item 3, the full build's part): while the
 * region is asked of the receipt server, `window.Assent` answers with nothing granted; and
 * `init()` twice is one banner with one set of listeners (one click, one receipt).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launch, open, serve } from '../../../test-support/browser.js';

describe('the banner has a state before it knows the region', () => {
  let browser: Browser;
  let site: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    browser = await launch();
    const config = (extra: object) =>
      `<script type="application/json" id="assent-config">${JSON.stringify({
        endpoint: '/v1/receipts',
        categories: [{ id: 'analytics' }],
        ...extra,
      })}</script>`;
    site = await serve(
      {
        '/regions': {
          head: `${config({ regions: { EU: 'opt-in', '*': 'notice' } })}<script src="/assent.full.min.js"></script>
                 <script>window.early = { has: !!window.Assent, state: window.Assent && window.Assent.get(), analytics: window.Assent && window.Assent.allowed('analytics') };</script>`,
        },
        // A site's own script calls the API while the page is still being parsed (banner without defer).
        '/early-accept': {
          head: `<script src="/assent.min.js" data-assent="categories=(analytics)"></script><script>window.Assent.accept();</script>`,
        },
        // The lite drop-in twice (a plugin and the theme both add it).
        '/lite-twice': {
          head: `<script src="/assent.min.js" data-assent="categories=(analytics)"></script><script src="/assent.min.js" data-assent="categories=(analytics)"></script>`,
        },
        // A page with its own global named Assent, and an element whose id makes one.
        '/named': {
          head: `<script>window.Assent = { version: 'the site’s own' };</script><script src="/assent.full.min.js" data-assent="categories=(analytics)"></script>`,
        },
        '/named-element': {
          head: `<script src="/assent.full.min.js" data-assent="categories=(analytics)" defer></script>`,
          body: '<div id="Assent">Assent, our newsletter</div>',
        },
        // A site that kept the drop-in tag and also calls init() from its bundle.
        '/both': {
          head: `<script src="/assent.full.min.js" data-assent="categories=(analytics)"></script><script type="module">import { init } from "/assent.esm.js"; window.second = init({ categories: [{ id: "analytics" }] }); window.second.on('ready', () => { window.lateReady = true; });</script>`,
        },
        // Receipts answer 409 (another policy is published) after 600 ms.
        '/refused-late': {
          head: `<script type="application/json" id="assent-config">${JSON.stringify({
            endpoint: '/v1/late/receipts',
            categories: [{ id: 'analytics' }, { id: 'marketing' }],
            googleConsentMode: { mode: 'advanced' },
          })}</script><script src="/assent.full.min.js"></script>`,
        },
        // Opt-out with receipts, checked on every page view; the check fails (500).
        '/gpc-check': {
          head: `<script type="application/json" id="assent-config">${JSON.stringify({
            mode: 'opt-out',
            endpoint: '/v1/gpc/receipts',
            revalidate: 0,
            categories: [{ id: 'analytics' }, { id: 'marketing' }],
          })}</script><script src="/assent.full.min.js"></script>`,
        },
        // The same, with Consent Mode: a returning visitor's check is under way for 300 ms.
        '/gcm-check': {
          head: `<script type="application/json" id="assent-config">${JSON.stringify({
            mode: 'opt-out',
            endpoint: '/v1/gpc/receipts',
            revalidate: 0,
            categories: [{ id: 'analytics' }, { id: 'marketing' }],
            googleConsentMode: { mode: 'advanced' },
          })}</script><script src="/assent.full.min.js"></script>`,
        },
        '/opt-out': {
          head: `${config({ mode: 'opt-out', revalidate: 0 })}<script src="/assent.full.min.js"></script>`,
        },
        '/twice': {
          head: `<script type="module">import { init } from "/assent.esm.js"; const c = { categories: [{ id: "analytics" }] }; window.a = init(c); window.b = init(c);</script>`,
        },
      },
      (req, res) => {
        if (req.url === '/v1/gpc/receipts') {
          res.writeHead(201, { 'content-type': 'application/json' }).end('{}');
          return true;
        }
        if (req.url?.startsWith('/v1/gpc/consents/')) {
          setTimeout(() => res.writeHead(500).end(), 300);
          return true;
        }
        if (req.url === '/v1/late/receipts') {
          setTimeout(
            () =>
              res
                .writeHead(409, { 'content-type': 'application/json' })
                .end('{"error":"ASSENT_POLICY_MISMATCH","field":"policy.sha256","message":"another policy"}'),
            600,
          );
          return true;
        }
        if (req.url === '/v1/config') {
          // A slow receipt server: the banner waits (1.5 s at most) for the region.
          setTimeout(
            () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"region":"DE"}'),
            800,
          );
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

  it('starts in a browser without AbortSignal.timeout (Chromium 99–102): the region wait has its own limit', async () => {
    const o = await open(browser, `${site.origin}/regions`, { init: 'delete AbortSignal.timeout;' });
    await o.page.locator('#assent-banner').waitFor({ timeout: 5000 });
    assert.deepEqual(
      o.errors.filter((e) => e.startsWith('assent:')),
      [],
    );
    await o.context.close();
  });

  it('window.Assent answers at once, with nothing granted, while the region is asked', async () => {
    const o = await open(browser, `${site.origin}/regions`);
    const early = await o.page.evaluate(
      () =>
        (
          window as unknown as {
            early: { has: boolean; state: { granted: object; mode: string }; analytics: boolean };
          }
        ).early,
    );
    assert.equal(early.has, true);
    assert.equal(early.analytics, false);
    assert.deepEqual(early.state.granted, { necessary: true, analytics: false });
    await o.page.locator('#assent-banner').waitFor();
    assert.equal(
      await o.page.evaluate(
        () => (window as unknown as { Assent: { get(): { mode: string } } }).Assent.get().mode,
      ),
      'opt-in',
    );
    await o.context.close();
  });

  it('two quick choices whose receipts are both refused: no listener or tag ever hears a grant', async () => {
    const o = await open(browser, `${site.origin}/refused-late`, {
      init: `window.heard = []; document.addEventListener('assent:change', (e) => window.heard.push(JSON.stringify(e.detail.granted)));`,
    });
    await o.page.locator('#assent-banner').waitFor();
    await o.page.evaluate(() => window.Assent!.accept());
    await o.page.waitForTimeout(100);
    // Narrower than the first, but still a grant no receipt has backed yet.
    await o.page.evaluate(() => window.Assent!.accept(['analytics']));
    await o.page.waitForTimeout(1500);
    const heard = await o.page.evaluate(() => (window as unknown as { heard: string[] }).heard);
    for (const h of heard) assert.doesNotMatch(h, /"(analytics|marketing)":true/, heard.join('\n'));
    const updates = await o.page.evaluate(() =>
      (window.dataLayer as IArguments[]).filter((a) => a[0] === 'consent').map((a) => JSON.stringify(a[2])),
    );
    for (const u of updates) assert.doesNotMatch(u, /analytics_storage":"granted/, updates.join('\n'));
    assert.ok(
      o.errors.some((e) => e.includes('receipt refused (409')),
      o.errors.join('\n'),
    );
    await o.context.close();
  });

  it('the GPC status says what applies once the server check is over, not what applied during it', async () => {
    const o = await open(browser, `${site.origin}/gpc-check`, {
      init: `Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true });`,
    });
    const status = o.page.locator('.assent-fab .assent-gpc');
    await status.waitFor();
    // Under the signal, the visitor ticks marketing themselves: that stands against it.
    await o.page.evaluate(() => window.Assent!.accept(['analytics', 'marketing']));
    await o.page.waitForTimeout(200);
    assert.equal(await status.count(), 0, 'marketing granted: not "honored"');
    await o.page.reload();
    await o.page.locator('.assent-fab').waitFor();
    await o.page.waitForTimeout(500);
    assert.equal(await o.page.evaluate(() => window.Assent!.allowed('marketing')), true);
    assert.equal(await status.count(), 0, 'still not "honored" after the check');
    await o.context.close();
  });

  it('opt-out, a returning visitor who refused: while the server check is under way Consent Mode’s default grants nothing', async () => {
    const o = await open(browser, `${site.origin}/gcm-check`);
    await o.page.locator('#assent-banner').waitFor();
    await o.page.evaluate(() => window.Assent!.reject());
    await o.page.reload();
    await o.page.locator('.assent-fab').waitFor();
    const consent = await o.page.evaluate(() =>
      (window as unknown as { dataLayer: ArrayLike<unknown>[] }).dataLayer
        .filter((a) => a[0] === 'consent')
        .map((a) => `${a[1]} ${(a[2] as Record<string, string>).analytics_storage}`),
    );
    // Opt-out's default for a new visitor grants everything: it reached a Google tag as this
    // visitor's default until the check answered.
    assert.equal(consent[0], 'default denied', consent.join(', '));
    assert.ok(!consent.includes('update granted'), consent.join(', '));
    await o.context.close();
  });

  it('Assent.accept() while the page is parsed records a real accept, not an undefined method', async () => {
    const o = await open(browser, `${site.origin}/early-accept`);
    await o.page.locator('.assent-fab').waitFor();
    const s = await o.page.evaluate(() => window.Assent!.get());
    assert.deepEqual([s.method, s.granted.analytics], ['accept-all', true]);
    assert.match((await o.cookies()).assent?.value ?? '', /\|a$/, 'the cookie says accept-all');
    assert.equal(await o.page.locator('#assent-banner').count(), 0, 'not asked again');
    assert.deepEqual(o.errors, [], 'nothing thrown at the calling script (no body yet)');
    await o.context.close();
  });

  for (const gpc of [false, true])
    it(`an opt-out visitor who chose nothing${gpc ? ', with GPC,' : ''} is neither checked with the server nor stored`, async () => {
      const o = await open(browser, `${site.origin}/opt-out`, {
        init: gpc
          ? `Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true });`
          : '',
      });
      // With GPC the opt-out is honoured with no banner; without, the notice asks.
      const shown = gpc ? '.assent-fab' : '#assent-banner';
      await o.page.locator(shown).waitFor();
      await o.page.reload();
      await o.page.locator(shown).waitFor();
      await o.page.waitForTimeout(300);
      assert.deepEqual(
        o.requests.map((r) => new URL(r.url()).pathname).filter((p) => p.startsWith('/v1/')),
        [],
        'nothing sent: no choice, nothing to check',
      );
      assert.equal(await o.page.evaluate(() => localStorage.length), 0);
      assert.deepEqual(Object.keys(await o.cookies()), []);
      await o.context.close();
    });

  for (const path of ['/named', '/named-element'])
    it(`a page global named Assent that is no banner (${path.slice(1)}) does not stop the banner`, async () => {
      const o = await open(browser, `${site.origin}${path}`);
      await o.page.locator('#assent-banner').waitFor();
      assert.equal(await o.page.evaluate(() => typeof window.Assent!.allowed), 'function');
      assert.deepEqual(o.errors, []);
      await o.context.close();
    });

  it('the lite drop-in loaded twice: one banner, one consent ID, and the second copy says why it does not start', async () => {
    const o = await open(browser, `${site.origin}/lite-twice`);
    await o.page.locator('#assent-banner').waitFor();
    await o.page.waitForTimeout(200);
    assert.equal(await o.page.locator('#assent-banner').count(), 1);
    assert.deepEqual(o.errors, ['assent: cannot start, so nothing non-essential runs: loaded twice']);
    await o.page.getByRole('button', { name: 'Reject' }).click();
    await o.page.locator('.assent-fab').waitFor();
    assert.equal(await o.page.locator('#assent-banner').count(), 0, 'no second banner left asking');
    assert.equal(await o.page.locator('.assent-fab').count(), 1);
    await o.context.close();
  });

  it('a drop-in tag and init() on one page: one banner, the second says why it does not start', async () => {
    const o = await open(browser, `${site.origin}/both`);
    await o.page.locator('#assent-banner').waitFor();
    await o.page.waitForFunction(() => (window as unknown as { second?: unknown }).second);
    await o.page.waitForTimeout(200);
    assert.equal(await o.page.locator('#assent-banner').count(), 1);
    assert.ok(
      o.errors.includes('assent: another Assent runs on this page: this one does not start'),
      o.errors.join('\n'),
    );
    // init() hands back the running banner's API, already ready: on('ready') is called at once.
    assert.equal(
      await o.page.evaluate(() => (window as unknown as { second: unknown }).second === window.Assent),
      true,
    );
    assert.equal(await o.page.evaluate(() => (window as unknown as { lateReady?: boolean }).lateReady), true);
    await o.context.close();
  });

  it('init() twice is one banner and one set of listeners', async () => {
    const o = await open(browser, `${site.origin}/twice`);
    await o.page.locator('#assent-banner').waitFor();
    assert.equal(await o.page.locator('#assent-banner').count(), 1);
    assert.equal(
      await o.page.evaluate(
        () =>
          (window as unknown as { a: object; b: object }).a ===
          (window as unknown as { a: object; b: object }).b,
      ),
      true,
    );
    // A page's own "Cookie settings" link: one listener, one dialog.
    await o.page.evaluate(() => {
      const a = document.createElement('a');
      a.href = '#';
      a.dataset.assentOpen = '';
      a.textContent = 'Settings';
      document.body.append(a);
    });
    const changes: number[] = [];
    await o.page.exposeFunction('changed', () => changes.push(1));
    await o.page.evaluate(() =>
      document.addEventListener('assent:change', () => (window as unknown as { changed(): void }).changed()),
    );
    await o.page.getByRole('button', { name: 'Accept' }).click();
    await o.page.waitForTimeout(200);
    assert.equal(changes.length, 1, 'one click, one choice');
    await o.context.close();
  });
});

describe('a receipt the server refuses', () => {
  let browser: Browser;
  let site: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    browser = await launch();
    site = await serve(
      {
        '/refused': {
          head: `<script type="application/json" id="assent-config">{"endpoint":"/v1/receipts","categories":[{"id":"analytics"}]}</script><script src="/assent.full.min.js"></script>`,
        },
      },
      (req, res) => {
        if (req.url === '/v1/receipts') {
          res
            .writeHead(400, { 'content-type': 'application/json' })
            .end(
              '{"error":"ASSENT_BAD_FIELD","field":"choices.analytics","message":"is not a category or service of this site"}',
            );
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

  it('is named on the console with the field the server names (the build renames core’s own `field`s, not this one)', async () => {
    const o = await open(browser, `${site.origin}/refused`);
    await o.page.locator('#assent-banner').waitFor();
    await o.page.evaluate(() => (window as unknown as { Assent: { accept(): void } }).Assent.accept());
    for (let i = 0; i < 100 && !o.errors.some((e) => e.includes('receipt refused')); i++)
      await o.page.waitForTimeout(20);
    const said = o.errors.find((e) => e.includes('receipt refused'));
    assert.equal(
      said,
      'assent: receipt refused (400 ASSENT_BAD_FIELD choices.analytics): is not a category or service of this site',
    );
    await o.context.close();
  });
});
