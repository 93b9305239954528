/**
 * What the banner must not cost a page's Web Vitals, in Chromium: nothing on the page moves
 * when the banner or the floating button appears (a sticky footer included) and the last line
 * still scrolls clear of them; a held iframe the page's CSS shows as a block leaves no empty
 * box under its placeholder; at 400 % zoom the banner's message starts where its scrolling
 * does (WCAG 1.4.10); an embed loads on Accept without waiting for a slow held script.
 *
 * The banner's file is held back until the page has painted (as behind a slower CDN), so what
 * it moves is a layout shift the PerformanceObserver sees, not a first paint.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { BANNER_DIST, bannerTag, type Handler, launch, open, serve } from '../../../test-support/browser.js';

const TEXT =
  'The council met on Tuesday to discuss the new cycle lanes along the river. Residents asked for safer crossings near the school, and the plans will be shown at the library next month. ';
/** 380 characters: at 400 % zoom the banner is far taller than its 60vh. */
const LONG_MESSAGE =
  'We and our 12 partners use cookies and similar technologies to store and access information on your device, to measure the audience of our articles, to show you personalised advertising and to improve our services. You can accept all, reject all or choose by purpose; you can change your mind at any time with the Cookie settings link at the bottom of every page.';
/** The held script's server answers after this long. */
const SLOW_MS = 3000;

/** A whole page of the site's own (its body is the site's, not the helper's `<main>`). */
const html = (style: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Vitals</title><style>${style}</style><script src="/late/assent.min.js" data-assent="categories=(analytics,marketing)" defer></script></head><body>${body}</body></html>`;

const PAGES: Record<string, string> = {
  // The common sticky footer: the body a flex column at least as tall as the viewport, the
  // footer pushed to its end.
  '/sticky': html(
    'html,body{height:100%}body{margin:0;display:flex;flex-direction:column;min-height:100vh;font:17px/1.6 Georgia,serif}main{padding:1rem}footer{margin-top:auto;padding:1rem;background:#eee}',
    `<main><h1>Cycle lanes</h1><p>${TEXT}</p></main><footer id="last">Footer · <a href="/privacy">Privacy</a></footer>`,
  ),
  '/article': html(
    'body{margin:0 auto;max-width:44rem;padding:1rem;font:17px/1.6 Georgia,serif}',
    `<main><h1>Cycle lanes for the river path</h1>${`<p>${TEXT.repeat(3)}</p>`.repeat(8)}<p id="last">The last line.</p></main>`,
  ),
  // A site's CSS for its videos: `display: block` on the iframe beats the UA's `[hidden]`.
  '/video': html(
    'body{margin:0 auto;max-width:44rem;padding:1rem;font:17px/1.6 Georgia,serif}.video iframe{display:block;width:100%;max-width:560px;aspect-ratio:16/9;height:auto;border:0}',
    `<main><h1>Cycle lanes for the river path</h1><p>${TEXT}</p><figure class="video"><iframe data-assent-src="/clip" data-assent-category="marketing" data-assent-provider="YouTube" title="Video" width="560" height="315"></iframe><figcaption id="caption">The caption under the video.</figcaption></figure>${`<p>${TEXT.repeat(2)}</p>`.repeat(4)}</main>`,
  ),
};

interface Shift {
  value: number;
  input: boolean;
  sources: string[];
}

/**
 * Every layout shift from the page's first moment, with what moved (and from where to where).
 * (No named functions inside: tsx would wrap them in a helper the page does not have.)
 */
const RECORD = () => {
  const w = window as unknown as { __shifts: Shift[]; __observing: boolean };
  w.__shifts = [];
  new PerformanceObserver((l) => {
    for (const e of l.getEntries() as (PerformanceEntry & {
      value: number;
      hadRecentInput: boolean;
      sources: { node: Node | null; previousRect: DOMRectReadOnly; currentRect: DOMRectReadOnly }[];
    })[])
      w.__shifts.push({
        value: e.value,
        input: e.hadRecentInput,
        sources: e.sources.map(
          (s) =>
            `${s.node instanceof Element ? s.node.nodeName.toLowerCase() + (s.node.id ? `#${s.node.id}` : '') : s.node?.nodeName} y ${Math.round(s.previousRect.y)}→${Math.round(s.currentRect.y)} h ${Math.round(s.previousRect.height)}→${Math.round(s.currentRect.height)}`,
        ),
      });
  }).observe({ type: 'layout-shift', buffered: true });
  w.__observing = true;
};

/** Two frames, then a moment: what changed is laid out, painted and reported. */
const settle = (page: Page) =>
  page.evaluate(
    () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 100)))),
  );

/** The shifts not caused by the visitor's input (what CLS counts), for an assertion. */
const cls = async (page: Page) => {
  assert.ok(
    await page.evaluate(() => (window as unknown as { __observing?: boolean }).__observing),
    'the layout-shift observer is running',
  );
  const shifts = (await page.evaluate(() => (window as unknown as { __shifts: Shift[] }).__shifts)).filter(
    (s) => !s.input,
  );
  return { value: shifts.reduce((a, s) => a + s.value, 0), shifts: JSON.stringify(shifts) };
};

/** An element's box in page (not viewport) coordinates, rounded. */
const box = (page: Page, selector: string) =>
  page.evaluate((sel) => {
    const r = document.querySelector(sel)!.getBoundingClientRect();
    return {
      top: Math.round(r.top + scrollY),
      bottom: Math.round(r.bottom + scrollY),
      height: Math.round(r.height),
      width: Math.round(r.width),
    };
  }, selector);

/** Scrolled to the end: the bottom of the last line (#last) and the top of `fixed`, in the viewport. */
const atEnd = (page: Page, fixed: string) =>
  page.evaluate(async (sel) => {
    window.scrollTo(0, document.documentElement.scrollHeight);
    await new Promise((r) => requestAnimationFrame(r));
    return {
      last: Math.round(document.getElementById('last')!.getBoundingClientRect().bottom),
      fixed: Math.round(document.querySelector(sel)!.getBoundingClientRect().top),
    };
  }, fixed);

describe('Web Vitals in Chromium', () => {
  let browser: Browser;
  let site: Awaited<ReturnType<typeof serve>>;
  /** `/late/assent.min.js` is answered when the test calls this (after the first paint). */
  let release = () => {};
  let gate = Promise.resolve();
  const extra: Handler = (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (type: string, body: string | Buffer) => {
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    const page = PAGES[url.pathname];
    if (page) send('text/html; charset=utf-8', page);
    else if (url.pathname === '/late/assent.min.js')
      gate.then(() => send('text/javascript', readFileSync(join(BANNER_DIST, 'assent.min.js'))));
    else if (url.pathname === '/slow.js')
      setTimeout(() => send('text/javascript', 'window.__slowAt = performance.now();'), SLOW_MS);
    else if (url.pathname === '/clip')
      send('text/html', '<body style="margin:0;background:#111">video</body>');
    else return false;
    return true;
  };

  /** Opens `path` with the banner held back until the page has painted, then lets it in. */
  const paintedThenBanner = async (
    path: string,
    viewport: { width: number; height: number },
    beforeBanner: (page: Page) => Promise<void> = async () => {},
  ): Promise<{ page: Page; context: BrowserContext }> => {
    gate = new Promise<void>((r) => {
      release = r;
    });
    const context = await browser.newContext({ viewport });
    await context.addInitScript(RECORD);
    const page = await context.newPage();
    await page.goto(`${site.origin}${path}`, { waitUntil: 'commit' });
    await page.waitForFunction(() => performance.getEntriesByName('first-contentful-paint').length > 0);
    await settle(page);
    await beforeBanner(page);
    release();
    await page.locator('#assent-banner').waitFor();
    await settle(page);
    return { page, context };
  };

  before(async () => {
    browser = await launch();
    site = await serve(
      {
        '/zoom': { head: bannerTag('') },
        '/zoom-long': { head: bannerTag(`message=(${LONG_MESSAGE})`) },
        '/held': {
          head: `${bannerTag('categories=(analytics,marketing)')}
                 <script type="text/plain" data-assent-category="analytics" src="/slow.js"></script>`,
          body: '<iframe data-assent-src="/clip" data-assent-category="marketing" data-assent-provider="YouTube" title="Video" width="560" height="315"></iframe>',
        },
      },
      extra,
    );
  });
  after(async () => {
    release();
    await browser.close();
    await site.close();
  });

  it('nothing moves when the banner or the floating button appears, a sticky footer included, and the last line scrolls clear of both', async () => {
    for (const viewport of [
      { width: 360, height: 640 },
      { width: 1280, height: 800 },
    ])
      for (const path of ['/sticky', '/article']) {
        const at = `${path.slice(1)} at ${viewport.width}×${viewport.height}`;
        let last = { top: 0, bottom: 0, height: 0, width: 0 };
        const { page, context } = await paintedThenBanner(path, viewport, async (p) => {
          last = await box(p, '#last');
        });
        if (path === '/sticky')
          assert.equal(last.bottom, viewport.height, `${at}: the footer ends the viewport before the banner`);
        assert.deepEqual(
          await box(page, '#last'),
          last,
          `${at}: the last line moved when the banner appeared`,
        );
        const shifts = await cls(page);
        assert.equal(shifts.value, 0, `${at}: layout shifts when the banner appeared: ${shifts.shifts}`);
        let end = await atEnd(page, '#assent-banner');
        assert.ok(
          end.last <= end.fixed,
          `${at}: the last line ends at ${end.last}, under the banner (${end.fixed})`,
        );

        await page.locator('#assent-banner [data-assent-action=accept]').click();
        await page.locator('.assent-fab').waitFor();
        await page.evaluate(() => window.scrollTo(0, 0));
        await settle(page);
        assert.deepEqual(
          await box(page, '#last'),
          last,
          `${at}: the last line moved when the floating button appeared`,
        );
        end = await atEnd(page, '.assent-fab');
        assert.ok(
          end.last <= end.fixed,
          `${at}: the last line ends at ${end.last}, under the floating button (${end.fixed})`,
        );
        await context.close();
      }
  });

  it('a held iframe that the page styles `display: block` leaves no box under its placeholder, and nothing moves when it loads', async () => {
    for (const viewport of [
      { width: 360, height: 640 },
      { width: 1280, height: 800 },
    ]) {
      const at = `${viewport.width}×${viewport.height}`;
      let caption = { top: 0, bottom: 0, height: 0, width: 0 };
      const { page, context } = await paintedThenBanner('/video', viewport, async (p) => {
        caption = await box(p, '#caption');
      });
      await page.locator('.assent-embed').waitFor();
      await settle(page);
      const iframe = await page.evaluate(() => {
        const f = document.querySelector('iframe')!;
        return {
          hidden: f.hidden,
          display: getComputedStyle(f).display,
          height: Math.round(f.getBoundingClientRect().height),
        };
      });
      assert.deepEqual(
        iframe,
        { hidden: true, display: 'none', height: 0 },
        `${at}: the held iframe still has a box under its placeholder`,
      );
      // The placeholder takes the iframe's place, give or take less than half a line (27 px): an
      // inline block where the page made the iframe a block adds the line's descender gap under
      // it (8 px here, CLS 0.001–0.002). The iframe's empty box under it moved the caption by
      // that box's height (140 px, 315 px; CLS 0.08–0.09).
      const moved = (await box(page, '#caption')).top - caption.top;
      assert.ok(Math.abs(moved) <= 13, `${at}: the caption moved ${moved} px when the placeholder came`);
      const shifts = await cls(page);
      assert.ok(
        shifts.value < 0.01,
        `${at}: CLS ${shifts.value} when the placeholder came: ${shifts.shifts}`,
      );
      const placeholder = await box(page, '.assent-embed');

      await page.locator('#assent-banner [data-assent-action=accept]').click();
      await page.waitForFunction(() => !document.querySelector('.assent-embed'));
      await settle(page);
      const loaded = await box(page, 'iframe');
      assert.deepEqual(
        [loaded.width, loaded.height],
        [placeholder.width, placeholder.height],
        `${at}: the loaded embed is not the placeholder's size`,
      );
      assert.deepEqual(
        await box(page, '#caption'),
        caption,
        `${at}: with the embed loaded, the caption is not where it was before the banner`,
      );
      await context.close();
    }
  });

  for (const [name, path] of [
    ['the default message', '/zoom'],
    ['a 380-character message', '/zoom-long'],
  ])
    it(`at 400 % zoom (320×256 CSS px), the banner's first line is where its scrolling starts (${name})`, async () => {
      const o = await open(browser, `${site.origin}${path}`, { viewport: { width: 320, height: 256 } });
      await o.page.locator('#assent-banner').waitFor();
      const r = await o.page.evaluate(() => {
        const banner = document.getElementById('assent-banner')!;
        const b = banner.getBoundingClientRect();
        const top = b.top + banner.clientTop;
        // At scrollTop 0: where the content starts, against the top of the scrollable area.
        const scrollTop = banner.scrollTop;
        const above = Math.max(0, ...[...banner.children].map((e) => top - e.getBoundingClientRect().top));
        const message = banner.querySelector('p')!.getBoundingClientRect().top - top;
        // Scrolled to its end, the last control is reachable too.
        banner.scrollTop = banner.scrollHeight;
        const bottom = top + banner.clientHeight;
        const below =
          Math.max(...[...banner.querySelectorAll('button')].map((e) => e.getBoundingClientRect().bottom)) -
          bottom;
        return {
          scrolls: banner.scrollHeight > banner.clientHeight,
          scrollTop,
          above: Math.round(above),
          message: Math.round(message),
          below: Math.round(below),
        };
      });
      assert.ok(r.scrolls, 'at this size the banner scrolls (else this checks nothing)');
      assert.equal(r.scrollTop, 0);
      assert.equal(
        r.above,
        0,
        `the banner's content starts ${r.above} px above its scrollable area (the message at ${r.message} px)`,
      );
      assert.ok(r.message >= 0, `the message starts ${-r.message} px above the banner's top edge`);
      assert.ok(r.below <= 0, `scrolled to the end, a button is still ${r.below} px below the banner`);
      await o.context.close();
    });

  it('on Accept a held embed loads at once, not after a slow held script', async () => {
    const o = await open(browser, `${site.origin}/held`, {
      init: `(() => {
        addEventListener('click', () => { window.__clickAt ??= performance.now(); }, true);
        new MutationObserver((records) => {
          for (const m of records)
            if (m.target.nodeName === 'IFRAME' && m.target.getAttribute('src')) window.__srcAt ??= performance.now();
        }).observe(document, { subtree: true, attributes: true, attributeFilter: ['src'] });
      })();`,
    });
    await o.page.locator('.assent-embed').waitFor();
    await o.page.locator('#assent-banner [data-assent-action=accept]').click();
    // The held script runs too, once its server answers (by then the embed has long been loading).
    await o.page.waitForFunction(() => (window as unknown as { __slowAt?: number }).__slowAt, null, {
      timeout: 15_000,
    });
    await o.page.waitForFunction(() => (window as unknown as { __srcAt?: number }).__srcAt, null, {
      timeout: 15_000,
    });
    const t = await o.page.evaluate(() => {
      const w = window as unknown as { __clickAt: number; __srcAt: number; __slowAt: number };
      return {
        src: Math.round(w.__srcAt - w.__clickAt),
        slow: Math.round(w.__slowAt - w.__clickAt),
      };
    });
    assert.ok(
      t.src < t.slow && t.src < 1500,
      `the embed's src was set ${t.src} ms after Accept, the held script ran at ${t.slow} ms (its server answers after ${SLOW_MS} ms)`,
    );
    assert.equal(await o.page.locator('iframe').getAttribute('src'), '/clip');
    assert.deepEqual(o.errors, []);
    await o.context.close();
  });
});
