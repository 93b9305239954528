/**
 * Hostile or broken pages cannot bypass consent, and one bad element never stops the others
 * (issue 13, items 2 and 4, the parts that fit the lite build's budget), in Chromium.
 */
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { bannerTag, launch, open, serve, until } from '../../../test-support/browser.js';

describe('hostile and broken pages', () => {
  let browser: Browser;
  let site: Awaited<ReturnType<typeof serve>>;
  const hung: ServerResponse[] = [];
  before(async () => {
    browser = await launch();
    site = await serve(
      {
        // A page (or an ad script on it) that polluted Object.prototype before the banner ran.
        '/polluted': {
          head: `<script>Object.prototype.analytics = true; Object.prototype['marketing:ads'] = true;</script>
               ${bannerTag('categories=(marketing)')}
               <script type="text/plain" data-assent-category="analytics" src="/hit/undeclared"></script>
               <script type="text/plain" data-assent-category="marketing" data-assent-service="ads" src="/hit/service"></script>`,
        },
        // A javascript: URL, a protocol-relative one, then a malformed one, then a good embed,
        // then one that names no category.
        '/embeds': {
          head: bannerTag('categories=(marketing)'),
          body: `<iframe id="js" data-assent-src="javascript:parent.document.body.dataset.pwned='yes'" data-assent-category="marketing" data-assent-provider="X" title="js"></iframe>
               <iframe id="pr" data-assent-src="//evil.example/embed" data-assent-category="marketing" data-assent-provider="Y" title="pr"></iframe>
               <iframe id="bad" data-assent-src="http://[" data-assent-category="marketing" title="bad"></iframe>
               <iframe id="good" data-assent-src="/hit/good" data-assent-category="marketing" data-assent-provider="Z" title="good"></iframe>
               <iframe id="nocat" data-assent-src="/hit/nocat" data-assent-provider="W" title="nocat"></iframe>`,
        },
        '/fab': { head: bannerTag('') },
        // Prototype.js's Array.prototype.toJSON: JSON.stringify of an array writes a string.
        ...Object.fromEntries(
          (['assent.min.js', 'assent.full.min.js'] as const).map((file) => [
            `/tojson/${file}`,
            {
              head: `<script>Array.prototype.toJSON = function () { return '[' + this.join(', ') + ']'; };</script>
                   ${bannerTag('', '', file)}
                   <script type="text/plain" data-assent-category="analytics" src="/hit/tojson"></script>`,
            },
          ]),
        ),
        // A cookie domain this page is not under: the browser refuses the consent cookie.
        '/domain': {
          head: bannerTag('categories=(analytics) domain=(.example.com)', '', 'assent.full.min.js'),
        },
        // A full localStorage (or one a page wrapped): every setItem throws.
        '/quota': {
          head: `<script>Storage.prototype.setItem = function () { throw new DOMException('full', 'QuotaExceededError'); };</script>
               <script type="application/json" id="assent-config">{"endpoint":"/v1/quota/receipts","categories":[{"id":"analytics"}]}</script>
               ${bannerTag('', '', 'assent.full.min.js')}
               <script type="text/plain" data-assent-category="analytics" src="/hit/quota"></script>`,
        },
        // 10,000 held inline scripts: they run without waiting for anything.
        '/many': {
          head: bannerTag('categories=(analytics)'),
          body: Array.from(
            { length: 10_000 },
            (_, i) =>
              `<script type="text/plain" data-assent-category="analytics">window.ran=(window.ran||0)+1;window.last=${i};</script>`,
          ).join(''),
        },
        // Browser APIs the banner needs, missing or throwing (a sandboxed frame, an old engine).
        '/no-cookie': {
          head: `<script>Object.defineProperty(Document.prototype, 'cookie', { get() { throw new DOMException('denied', 'SecurityError'); }, set() { throw new DOMException('denied', 'SecurityError'); } });</script>
               ${bannerTag('categories=(analytics)')}
               <script type="text/plain" data-assent-category="analytics" src="/hit/no-cookie"></script>`,
        },
        // Held scripts the browser will not run (nomodule, a type that is not JavaScript): they
        // fire neither load nor error, and must not hold the scripts after them.
        ...Object.fromEntries(
          (['assent.min.js', 'assent.full.min.js'] as const).map((file) => [
            `/stall/${file}`,
            {
              head: bannerTag('categories=(analytics)', '', file),
              body: `<script type="text/plain" data-assent-category="analytics" nomodule src="/hit/nomodule"></script>
                   <script type="text/plain" data-assent-category="analytics" data-assent-type="text/babel" src="/hit/babel"></script>
                   <script type="text/plain" data-assent-category="analytics" src="/hit/after"></script>
                   <script type="text/plain" data-assent-category="analytics">window.afterInline = 1;</script>`,
            },
          ]),
        ),
        // A held embed whose placeholder a router clones back (Turbo's restoration visits copy
        // the DOM: handlers set on elements are lost).
        ...Object.fromEntries(
          (['assent.min.js', 'assent.full.min.js'] as const).map((file) => [
            `/cloned/${file}`,
            {
              head: bannerTag('categories=(marketing)', '', file),
              body: `<div id="view"><iframe id="v" data-assent-src="/hit/video" data-assent-category="marketing" data-assent-provider="V" title="video"></iframe></div>`,
            },
          ]),
        ),
        // A held script whose server never answers (/hang/…), then one after it.
        ...Object.fromEntries(
          (['assent.min.js', 'assent.full.min.js'] as const).map((file) => [
            `/hung/${file}`,
            {
              head: bannerTag('categories=(analytics)', '', file),
              body: `<script type="text/plain" data-assent-category="analytics" src="/hang/script"></script>
                   <script type="text/plain" data-assent-category="analytics">window.afterHang = Date.now();</script>`,
            },
          ]),
        ),
        // A mistyped category key, on a button and through the API.
        ...Object.fromEntries(
          (['assent.min.js', 'assent.full.min.js'] as const).map((file) => [
            `/typo/${file}`,
            {
              head: bannerTag('categories=(analytics,marketing)', '', file),
              body: `<button id="typo" data-assent-accept="analytcs">Accept analytics</button>`,
            },
          ]),
        ),
        // The full build says what a site owner got wrong, naming it.
        '/mistakes': {
          lang: 'fr',
          head: bannerTag('categories=(analytics,marketing)', '', 'assent.full.min.js'),
          body: `<img data-assent-category="analytics" src="/hit/pixel" alt="">
               <button id="typo" data-assent-accept="analytcs">Accept analytics</button>
               <iframe data-assent-src="/hit/embed" data-assent-category="marketing" title="e"></iframe>`,
        },
        '/no-observer': {
          head: `<script>delete window.MutationObserver;</script>
               ${bannerTag('categories=(analytics)')}
               <script type="text/plain" data-assent-category="analytics" src="/hit/no-observer"></script>`,
        },
      },
      (req, res) => {
        if (req.url === '/v1/quota/receipts') {
          res.writeHead(201, { 'content-type': 'application/json' }).end('{}');
          return true;
        }
        // Never answered (until the tests end).
        if (!req.url?.startsWith('/hang/')) return false;
        hung.push(res);
        return true;
      },
    );
  });
  after(async () => {
    for (const res of hung) res.destroy();
    await browser.close();
    await site.close();
  });

  it('a polluted Object.prototype grants nothing: held scripts stay held before consent and after Reject', async () => {
    site.hits.clear();
    const o = await open(browser, `${site.origin}/polluted`);
    await o.page.locator('#assent-banner').waitFor();
    const allowed = await o.page.evaluate(() => {
      const a = (window as unknown as { Assent: { allowed(c: string, s?: string): boolean } }).Assent;
      return [a.allowed('analytics'), a.allowed('marketing', 'ads')];
    });
    assert.deepEqual(allowed, [false, false]);
    await o.page.getByRole('button', { name: 'Reject' }).click();
    await o.page.waitForTimeout(200);
    assert.equal(site.hits.get('undeclared') ?? 0, 0);
    assert.equal(site.hits.get('service') ?? 0, 0);
    await o.context.close();
  });

  it('an unsafe or malformed data-assent-src is refused, named on the console, and the other embeds still load', async () => {
    site.hits.clear();
    const o = await open(browser, `${site.origin}/embeds`);
    await o.page.locator('#assent-banner').waitFor();
    // The malformed one could not get a placeholder; the others did, and the console says which.
    assert.equal(await o.page.locator('.assent-embed').count(), 3);
    assert.ok(
      o.errors.some((e) => e.startsWith('assent:') && /Invalid URL/.test(e)),
      o.errors.join('\n'),
    );
    // "Load content" on the javascript: embed runs nothing.
    await o.page.getByRole('group', { name: 'js' }).getByRole('button', { name: 'Load content' }).click();
    await o.page.waitForTimeout(100);
    assert.equal(await o.page.evaluate(() => document.body.dataset.pwned), undefined);
    assert.equal(await o.page.locator('#js').getAttribute('src'), null);
    assert.ok(
      o.errors.some((e) => /unsafe javascript:/.test(e)),
      o.errors.join('\n'),
    );
    // Accept: the bad ones are refused one by one, the good one loads all the same.
    await o.page.getByRole('button', { name: 'Accept' }).first().click();
    await o.page.waitForFunction(() => document.querySelector('#good')?.getAttribute('src') === '/hit/good');
    assert.equal(await o.page.locator('#pr').getAttribute('src'), null, 'no //host');
    assert.ok(
      o.errors.some((e) => /unsafe \/\/evil\.example/.test(e)),
      o.errors.join('\n'),
    );
    // An embed that names no category is never loaded (it is not "necessary"), even after
    // Accept, and the console names it.
    assert.equal(await o.page.locator('#nocat').getAttribute('src'), null);
    assert.equal(site.hits.get('nocat') ?? 0, 0);
    assert.ok(
      o.errors.some((e) => e.startsWith('assent:') && /no category/.test(e)),
      o.errors.join('\n'),
    );
    await o.context.close();
  });

  it('the floating "Cookie settings" button is a full 44 px target', async () => {
    const o = await open(browser, `${site.origin}/fab`);
    await o.page.getByRole('button', { name: 'Reject' }).click();
    const box = await o.page.getByRole('button', { name: 'Cookie settings' }).boundingBox();
    assert.ok(box && box.height >= 44, `height ${box?.height}`);
    await o.context.close();
  });

  for (const [path, why] of [
    ['/no-cookie', /SecurityError|denied/],
    ['/no-observer', /MutationObserver/],
  ] as const)
    it(`a missing or throwing browser API (${path.slice(4)}): nothing non-essential runs, and the console says why`, async () => {
      site.hits.clear();
      const o = await open(browser, `${site.origin}${path}`);
      await o.page.waitForLoadState('load');
      await o.page.waitForTimeout(200);
      const said = o.errors.filter((e) =>
        e.startsWith('assent: cannot start, so nothing non-essential runs:'),
      );
      assert.equal(said.length, 1, o.errors.join('\n'));
      assert.match(said[0]!, why);
      // No uncaught error besides: the page's own scripts go on.
      assert.equal(o.errors.length, 1, o.errors.join('\n'));
      assert.equal(site.hits.get(path.slice(1)) ?? 0, 0);
      await o.context.close();
    });

  it('a long activation gives the page turns (a timer set at Accept runs before the last held script), in document order', async () => {
    const o = await open(browser, `${site.origin}/many`);
    await o.page.locator('#assent-banner').waitFor();
    type W = { ran?: number; last?: number; turn?: number };
    await o.page.evaluate(() => {
      const w = window as unknown as W;
      document.querySelector<HTMLElement>('[data-assent-action="accept"]')!.click();
      setTimeout(() => {
        w.turn = w.ran ?? 0;
      });
    });
    await o.page.waitForFunction(() => (window as unknown as W).ran === 10_000, undefined, {
      timeout: 60_000,
    });
    const { turn, last } = await o.page.evaluate(() => {
      const w = window as unknown as W;
      return { turn: w.turn, last: w.last };
    });
    assert.equal(last, 9_999, 'in document order');
    assert.ok(turn! < 10_000, `the page's timer ran only after all ${turn} scripts`);
    await o.context.close();
  });

  for (const file of ['assent.min.js', 'assent.full.min.js'])
    it(`${file}: a page whose Array.prototype.toJSON breaks JSON.stringify keeps a working banner after the first choice`, async () => {
      site.hits.clear();
      const o = await open(browser, `${site.origin}/tojson/${file}`);
      await o.page.getByRole('button', { name: 'Accept' }).click();
      await o.page.waitForFunction(() => document.querySelector('.assent-fab'));
      assert.equal(site.hits.get('tojson'), 1);
      await o.page.reload();
      await o.page.locator('.assent-fab').waitFor();
      assert.equal(site.hits.get('tojson'), 2, 'the stored choice applies on the next page');
      assert.equal(await o.page.locator('#assent-banner').count(), 0, 'not asked again');
      assert.deepEqual(o.errors, []);
      await o.context.close();
    });

  it('full build: a consent cookie the browser refuses (a domain this page is not under) is named on the console', async () => {
    const o = await open(browser, `${site.origin}/domain`);
    await o.page.getByRole('button', { name: 'Accept' }).click();
    await o.page.locator('.assent-fab').waitFor();
    assert.deepEqual(o.errors, [
      'assent: the consent cookie was not stored (domain: .example.com; or cookies are blocked here)',
    ]);
    await o.context.close();
  });

  it('full build: a localStorage whose setItem throws (full quota) does not stop a choice half-way', async () => {
    site.hits.clear();
    const o = await open(browser, `${site.origin}/quota`);
    const posted = o.page.waitForRequest((r) => r.url().endsWith('/v1/quota/receipts'));
    await o.page.getByRole('button', { name: 'Accept' }).click();
    await posted;
    await o.page.waitForFunction(() => document.querySelector('.assent-fab'));
    await o.page.waitForTimeout(200);
    assert.equal(site.hits.get('quota'), 1, 'the held script ran');
    assert.deepEqual(o.errors, []);
    await o.context.close();
  });

  for (const file of ['assent.min.js', 'assent.full.min.js'])
    it(`${file}: a held script the browser will not run (nomodule, text/babel) does not hold the ones after it`, async () => {
      site.hits.clear();
      const o = await open(browser, `${site.origin}/stall/${file}`);
      await o.page.getByRole('button', { name: 'Accept' }).click();
      await o.page.waitForFunction(
        () => (window as unknown as { afterInline?: number }).afterInline === 1,
        null,
        {
          timeout: 5000,
        },
      );
      assert.equal(site.hits.get('after'), 1);
      assert.equal(site.hits.get('nomodule') ?? 0, 0, 'a nomodule script is not fetched by a modern engine');
      await o.context.close();
    });

  for (const file of ['assent.min.js', 'assent.full.min.js'])
    it(`${file}: "Load content" works on a placeholder a router cloned back, and focus goes to the embed`, async () => {
      site.hits.clear();
      const o = await open(browser, `${site.origin}/cloned/${file}`);
      await o.page.locator('.assent-embed').waitFor();
      await o.page.evaluate(() => {
        const v = document.getElementById('view')!;
        v.replaceWith(v.cloneNode(true));
      });
      await o.page.getByRole('button', { name: 'Load content' }).click();
      assert.ok(await until(() => site.hits.get('video') === 1), 'the cloned embed loaded');
      assert.equal(await o.page.evaluate(() => document.activeElement?.id), 'v');
      assert.deepEqual(o.errors, []);
      await o.context.close();
    });

  for (const file of ['assent.min.js', 'assent.full.min.js'])
    it(`${file}: a held script whose server never answers holds the ones after it for 10 s, not for ever`, async () => {
      const o = await open(browser, `${site.origin}/hung/${file}`);
      await o.page.getByRole('button', { name: 'Accept' }).click();
      const clicked = Date.now();
      await o.page.waitForFunction(() => (window as unknown as { afterHang?: number }).afterHang, null, {
        timeout: 20_000,
      });
      // In order: not before the 10 s (less a little for the clocks).
      assert.ok(Date.now() - clicked > 9000, `ran after ${Date.now() - clicked} ms`);
      await o.context.close();
    });

  for (const file of ['assent.min.js', 'assent.full.min.js'])
    it(`${file}: a mistyped data-assent-accept or accept() key records nothing and says so`, async () => {
      const o = await open(browser, `${site.origin}/typo/${file}`);
      await o.page.locator('#assent-banner').waitFor();
      await o.page.locator('#typo').click();
      await o.page.evaluate(() =>
        (window as unknown as { Assent: { accept(k: string[]): void } }).Assent.accept(['analytics', 'nope']),
      );
      assert.equal((await o.cookies()).assent, undefined, 'no choice was recorded');
      assert.equal(
        o.errors.filter((e) => e.includes('unknown category or service')).length,
        2,
        o.errors.join('\n'),
      );
      assert.ok(await o.page.locator('#assent-banner').isVisible(), 'the visitor is still asked');
      // A known key still records.
      await o.page.evaluate(() =>
        (window as unknown as { Assent: { accept(k: string[]): void } }).Assent.accept(['analytics']),
      );
      assert.ok((await o.cookies()).assent, 'a choice was recorded');
      await o.context.close();
    });

  it('full build: a mistyped data-assent-accept or accept() key records nothing and says so; an <img> marked for a category is named', async () => {
    const o = await open(browser, `${site.origin}/mistakes`);
    await o.page.locator('#assent-banner').waitFor();
    assert.ok(
      o.errors.some((e) => e.includes('cannot hold') && e.includes('JSHandle@node')) ||
        o.errors.some((e) => e.includes('cannot hold')),
      o.errors.join('\n'),
    );
    await o.page.locator('#typo').click();
    await o.page.evaluate(() =>
      (window as unknown as { Assent: { accept(k: string[]): void } }).Assent.accept(['analytics', 'nope']),
    );
    assert.equal((await o.cookies()).assent, undefined, 'no choice was recorded');
    assert.equal(
      o.errors.filter((e) => e.includes('unknown category or service')).length,
      2,
      o.errors.join('\n'),
    );
    assert.ok(await o.page.locator('#assent-banner').isVisible(), 'the visitor is still asked');
    // Placeholder and floating button say their language (the banner's, not the page's "fr").
    assert.equal(await o.page.locator('.assent-embed').getAttribute('lang'), 'en');
    assert.equal(await o.page.locator('#assent-banner').getAttribute('dir'), 'auto');
    await o.page.getByRole('button', { name: 'Reject' }).click();
    assert.equal(await o.page.locator('.assent-fab').getAttribute('lang'), 'en');
    await o.context.close();
  });
});
