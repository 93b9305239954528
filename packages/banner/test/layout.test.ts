/**
 * Layout that respects the page (issue 13, item 5), in Chromium: the embed placeholder takes
 * the iframe's own box, its buttons have a normal height, nothing moves when the embed
 * loads; the floating button is a 44 px target that never covers the footer's links at 320
 * and 390 px, and a site can move it.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { bannerTag, launch, open, serve } from '../../../test-support/browser.js';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const FOOTER = `<p>${'An article paragraph. '.repeat(200)}</p>
  <footer><a href="/a">Imprint</a> · <a href="/b">Privacy</a> · <a href="/c">Contact</a></footer>`;

/** axe's target-size rule (WCAG 2.2 2.5.8) on the whole page. */
const targetSize = async (page: Page) => {
  await page.addScriptTag({ path: AXE });
  return page.evaluate(async () => {
    const axe = (
      window as unknown as { axe: { run(c: unknown, o: unknown): Promise<{ violations: unknown[] }> } }
    ).axe;
    return (await axe.run(document, { runOnly: { type: 'rule', values: ['target-size'] } })).violations;
  });
};

describe('layout in Chromium', () => {
  let browser: Browser;
  let site: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    browser = await launch();
    site = await serve({
      '/embeds': {
        head: `${bannerTag('categories=(marketing)')}<style>.wide iframe{width:100%;height:auto;aspect-ratio:4/3;border:0}main{max-width:700px}</style>`,
        body: `<iframe id="fixed" data-assent-src="/hit/v1" data-assent-category="marketing" data-assent-provider="YouTube" title="Fixed" width="560" height="315" style="border:0"></iframe>
               <p id="after">After the first video.</p>
               <div class="wide"><iframe id="css" data-assent-src="/hit/v2" data-assent-category="marketing" data-assent-provider="Vimeo" title="Styled"></iframe></div>
               <p id="end">The end.</p>
               <iframe data-assent-src="/hit/v3" data-assent-category="marketing" data-assent-provider="Small" title="Small"></iframe>`,
      },
      '/footer': { head: bannerTag(''), body: FOOTER },
      '/right': {
        head: `${bannerTag('')}<style>:root{--assent-fab-inset:auto 1rem 1rem auto}</style>`,
        body: FOOTER,
      },
    });
  });
  after(async () => {
    await browser.close();
    await site.close();
  });

  it("the placeholder has the iframe's own size and ratio, buttons of normal height, and nothing moves when the embed loads", async () => {
    const o = await open(browser, `${site.origin}/embeds`);
    const fixed = o.page.getByRole('group', { name: 'Fixed' });
    const styled = o.page.getByRole('group', { name: 'Styled' });
    await fixed.waitFor();
    const box = async (sel: string) => (await o.page.locator(sel).boundingBox())!;
    const ph1 = (await fixed.boundingBox())!;
    const ph2 = (await styled.boundingBox())!;
    assert.deepEqual([Math.round(ph1.width), Math.round(ph1.height)], [560, 315]);
    // 100% of a 700 px column at 4:3 (the page's CSS for it).
    assert.equal(Math.round(ph2.width), Math.round((await box('main')).width));
    assert.ok(Math.abs(ph2.width / ph2.height - 4 / 3) < 0.01, `${ph2.width}×${ph2.height}`);
    for (const b of await o.page.locator('.assent-embed .assent-btn').all()) {
      const h = (await b.boundingBox())!.height;
      assert.ok(h >= 44 && h <= 60, `a placeholder button is ${h} px high`);
    }
    // An iframe with no size of its own (300×150 and a 2 px inset border by default) gets a
    // placeholder as wide that grows to show its text and buttons rather than clip them.
    const small = o.page.getByRole('group', { name: 'Small' });
    const sb = (await small.boundingBox())!;
    assert.equal(Math.round(sb.width), 304);
    for (const b of await small.getByRole('button').all()) {
      const r = (await b.boundingBox())!;
      assert.ok(r.y >= sb.y && r.y + r.height <= sb.y + sb.height, 'a button is clipped');
    }
    const afterY = (await box('#after')).y;
    const endY = (await box('#end')).y;
    await o.page.getByRole('button', { name: 'Accept' }).first().click();
    await o.page.waitForFunction(() => document.querySelectorAll('.assent-embed').length === 0);
    const f1 = await box('#fixed');
    const f2 = await box('#css');
    assert.deepEqual([Math.round(f1.width), Math.round(f1.height)], [560, 315]);
    assert.deepEqual(
      [Math.round(f2.width), Math.round(f2.height)],
      [Math.round(ph2.width), Math.round(ph2.height)],
    );
    assert.equal((await box('#after')).y, afterY, 'the text after the first embed did not move');
    assert.equal((await box('#end')).y, endY, 'the text after the second embed did not move');
    await o.context.close();
  });

  for (const width of [320, 390])
    for (const path of ['/footer', '/right'])
      it(`at ${width} px (${path.slice(1)}), the floating button is a 44 px target clear of the footer's links`, async () => {
        const o = await open(browser, `${site.origin}${path}`, { viewport: { width, height: 700 } });
        await o.page.getByRole('button', { name: 'Accept' }).click();
        const fab = o.page.locator('.assent-fab .assent-btn');
        await fab.waitFor();
        await o.page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
        await o.page.waitForTimeout(50);
        const f = (await fab.boundingBox())!;
        assert.ok(f.height >= 44 && f.width >= 44, `${f.width}×${f.height}`);
        const onRight = path === '/right';
        assert.equal(f.x + f.width > width / 2, onRight, 'the side the site chose');
        for (const a of await o.page.locator('footer a').all()) {
          const l = (await a.boundingBox())!;
          const overlap =
            l.x < f.x + f.width && f.x < l.x + l.width && l.y < f.y + f.height && f.y < l.y + l.height;
          assert.ok(!overlap, `the button covers ${await a.innerText()}`);
        }
        assert.deepEqual(await targetSize(o.page), []);
        await o.context.close();
      });
});
