import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { bannerTag, launch, open, serve } from '../../../test-support/browser.js';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const CATS = 'categories=(analytics,marketing)';

/** axe-core in the page, WCAG 2.2 A/AA and best practices, on the given element. */
const axe = async (page: Page, selector: string) => {
  await page.addScriptTag({ path: AXE });
  const r = await page.evaluate(
    (sel) =>
      (
        window as unknown as {
          axe: {
            run: (c: unknown, o: unknown) => Promise<{ violations: { id: string; nodes: unknown[] }[] }>;
          };
        }
      ).axe.run(
        { include: [sel] },
        {
          runOnly: {
            type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'],
          },
        },
      ),
    selector,
  );
  return r.violations.map((v) => `${v.id} (${v.nodes.length})`);
};

const CONFIG =
  '{"categories":[{"id":"analytics","services":[{"id":"matomo","description":"Self-hosted statistics"}]},{"id":"marketing"}]}';

describe('accessibility in Chromium', () => {
  let browser: Browser;
  let site: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    browser = await launch();
    site = await serve({
      '/optin': {
        head: `<script type="application/json" id="assent-config">${CONFIG}</script>${bannerTag('buttons=(Accept !) days=(20)')}`,
        body: '<p><button id="before">A page button</button></p><p style="height:2000px">Long page</p><p><a href="#top" id="last">Last link</a></p>',
      },
      // The full build with receipts: the preferences show the consent ID, linked to its page.
      '/optin-full': {
        head: `<script type="application/json" id="assent-config">${JSON.stringify({ ...JSON.parse(CONFIG), endpoint: '/v1/receipts' })}</script>${bannerTag('buttons=(Accept !) days=(20)', '', 'assent.full.min.js')}`,
      },
      '/full': {
        head: `<script type="application/json" id="assent-config">${CONFIG}</script>${bannerTag('buttons=(Accept !) days=(20)', '', 'assent.full.min.js')}`,
        body: '<p><button id="before">A page button</button></p>',
      },
      // A long message: on a small screen the banner is taller than any fixed allowance.
      '/tall': {
        head: bannerTag(
          `message=(${'Our website uses cookies to enhance your experience, to measure the audience and to show you offers. '.repeat(3)})`,
        ),
        body: Array.from({ length: 40 }, (_, i) => `<p><a href="#l${i}" id="l${i}">Link ${i}</a></p>`).join(
          '',
        ),
      },
      '/notice': { head: bannerTag('buttons=(Accept !) days=(20) mode=(notice)') },
      '/optout': { head: bannerTag(`mode=(opt-out) ${CATS}`, '', 'assent.full.min.js') },
    });
  });
  after(async () => {
    await browser.close();
    await site.close();
  });

  for (const scheme of ['light', 'dark'] as const) {
    for (const path of ['/optin', '/notice', '/optout']) {
      it(`axe finds no violations on the ${path.slice(1)} banner (${scheme})`, async () => {
        const o = await open(browser, `${site.origin}${path}`, { colorScheme: scheme });
        await o.page.locator('#assent-banner').waitFor();
        assert.deepEqual(await axe(o.page, '#assent-banner'), []);
        await o.context.close();
      });
    }
    for (const path of ['/optin', '/optin-full'])
      it(`axe finds no violations on the preferences dialog and the floating button (${path.slice(1)}, ${scheme})`, async () => {
        const o = await open(browser, `${site.origin}${path}`, { colorScheme: scheme });
        await o.page.getByRole('button', { name: 'Preferences' }).click();
        await o.page.getByRole('dialog').waitFor();
        assert.deepEqual(await axe(o.page, '#assent-prefs'), []);
        await o.page.getByRole('button', { name: 'Accept all' }).click();
        await o.page.getByRole('button', { name: 'Cookie settings' }).click();
        const id = await o.page.evaluate(() => window.Assent!.get().consentId);
        // Receipts (and the consent ID's page) are the full build's.
        assert.equal(
          await o.page.locator(`#assent-prefs a:text-is("${id}")`).count(),
          path === '/optin-full' ? 1 : 0,
        );
        assert.deepEqual(await axe(o.page, '#assent-prefs'), [], 'after a choice');
        await o.page.keyboard.press('Escape');
        assert.deepEqual(await axe(o.page, '.assent-fab'), []);
        await o.context.close();
      });
  }

  it('the first layer is a labelled, non-modal region reached first by keyboard', async () => {
    const o = await open(browser, `${site.origin}/optin`);
    const region = o.page.getByRole('region', { name: 'Cookie notice' });
    await region.waitFor();
    assert.equal(await region.getAttribute('aria-modal'), null);
    await o.page.keyboard.press('Tab');
    assert.equal(await o.page.evaluate(() => document.activeElement?.textContent), 'Learn More');
    await o.page.keyboard.press('Tab');
    assert.equal(await o.page.evaluate(() => document.activeElement?.textContent), 'Accept !');
    // Visible focus: an outline of at least 2px.
    assert.ok(
      (await o.page.evaluate(() =>
        Number.parseFloat(getComputedStyle(document.activeElement!).outlineWidth),
      )) >= 2,
    );
    await o.page.keyboard.press('Tab');
    await o.page.keyboard.press('Enter'); // Reject, by keyboard alone
    await region.waitFor({ state: 'detached' });
    assert.equal(await o.page.evaluate(() => window.Assent!.get().method), 'reject-all');
    await o.context.close();
  });

  it('the preferences dialog: modal, labelled, focus moves in and stays, Escape closes, focus returns', async () => {
    const o = await open(browser, `${site.origin}/optin`);
    const opener = o.page.getByRole('button', { name: 'Preferences' });
    await opener.focus();
    await o.page.keyboard.press('Enter');
    const dialog = o.page.getByRole('dialog', { name: 'Cookie preferences' });
    await dialog.waitFor();
    assert.equal(await dialog.getAttribute('aria-modal'), 'true');
    const inside = () => o.page.evaluate(() => !!document.activeElement?.closest('#assent-prefs'));
    assert.ok(await inside(), 'focus moved in');
    const seen = new Set<string>();
    for (let i = 0; i < 25; i++) {
      await o.page.keyboard.press(i % 5 === 4 ? 'Shift+Tab' : 'Tab');
      assert.ok(await inside(), `focus escaped after ${i + 1} presses`);
      seen.add(await o.page.evaluate(() => document.activeElement!.outerHTML.slice(0, 60)));
    }
    assert.ok(seen.size >= 6, 'every control is reachable');
    await o.page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(
      await o.page.evaluate(() => document.activeElement?.textContent),
      'Preferences',
      'focus returned',
    );
    await o.context.close();
  });

  it('the whole choice can be made with the keyboard: toggle a category with Space, save with Enter', async () => {
    const o = await open(browser, `${site.origin}/optin`);
    await o.page.getByRole('button', { name: 'Preferences' }).click();
    await o.page.getByRole('dialog').waitFor();
    // Focus starts on the intro's link; the next Tab is the first switch (Analytics).
    await o.page.keyboard.press('Tab');
    // Space toggles the category and its services.
    assert.equal(
      await o.page.evaluate(() => (document.activeElement as HTMLInputElement).value),
      'analytics',
    );
    await o.page.keyboard.press('Space');
    assert.equal(await o.page.getByRole('checkbox', { name: 'Matomo' }).isChecked(), true);
    // A service's switch is in a group named by its category (a screen reader tells apart
    // one service listed under two categories).
    assert.equal(
      await o.page
        .getByRole('group', { name: 'Analytics' })
        .getByRole('checkbox', { name: 'Matomo' })
        .count(),
      1,
    );
    await o.page.getByRole('button', { name: 'Save choices' }).focus();
    await o.page.keyboard.press('Enter');
    const s = await o.page.evaluate(() => window.Assent!.get());
    assert.deepEqual(
      [s.granted.analytics, s.granted['analytics:matomo'], s.granted.marketing],
      [true, true, false],
    );
    await o.context.close();
  });

  // The banner has no motion at all (a hover fade did not pay for its bytes), so visitors who ask
  // for reduced motion get none, and so does everyone else: nothing to honour or to forget.
  for (const reducedMotion of ['reduce', 'no-preference'] as const)
    it(`moves nothing with prefers-reduced-motion: ${reducedMotion}: no transition or animation anywhere`, async () => {
      const ctx = await browser.newContext({ reducedMotion });
      const o = await open(browser, `${site.origin}/optin`, { context: ctx });
      await o.page.getByRole('button', { name: 'Preferences' }).click();
      await o.page.locator('#assent-prefs').waitFor();
      const moving = await o.page.evaluate(() =>
        [...document.querySelectorAll('.assent, .assent *')]
          .map((e) => [e, getComputedStyle(e)] as const)
          .filter(
            ([, cs]) =>
              cs.transitionDuration.split(',').some((d) => Number.parseFloat(d) > 0) ||
              cs.animationName !== 'none',
          )
          .map(([e]) => e.outerHTML.slice(0, 80)),
      );
      assert.deepEqual(moving, []);
      await ctx.close();
    });

  it('fits 320 px at 200% zoom without losing a control', async () => {
    const ctx = await browser.newContext({ viewport: { width: 320, height: 640 }, deviceScaleFactor: 2 });
    const o = await open(browser, `${site.origin}/optin`, { context: ctx });
    await o.page.evaluate(() => {
      document.documentElement.style.fontSize = '200%';
    });
    const region = o.page.getByRole('region', { name: 'Cookie notice' });
    for (const name of ['Accept !', 'Reject', 'Preferences']) {
      const b = region.getByRole('button', { name, exact: true });
      await b.scrollIntoViewIfNeeded();
      const box = await b.boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 320, `${name} fits horizontally`);
    }
    assert.ok(
      await o.page.evaluate(() => document.documentElement.scrollWidth <= 320),
      'no horizontal scroll',
    );
    await ctx.close();
  });

  it('a focused page element is never hidden behind the banner', async () => {
    const o = await open(browser, `${site.origin}/optin`, { viewport: { width: 800, height: 500 } });
    await o.page.locator('#assent-banner').waitFor();
    // Keyboard navigation, as a visitor would: Shift+Tab from the top wraps to the last link.
    await o.page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await o.page.keyboard.press('Shift+Tab');
    assert.equal(await o.page.evaluate(() => document.activeElement?.id), 'last');
    const [link, banner] = await Promise.all([
      o.page.locator('#last').boundingBox(),
      o.page.locator('#assent-banner').boundingBox(),
    ]);
    assert.ok(link && banner && link.y + link.height <= banner.y, `link ${link?.y} banner ${banner?.y}`);
    await o.context.close();
  });

  it('no focused link is hidden behind a banner taller than 16rem (a long message on a 320 px screen)', async () => {
    const o = await open(browser, `${site.origin}/tall`, { viewport: { width: 320, height: 700 } });
    const banner = await o.page.locator('#assent-banner').boundingBox();
    assert.ok(banner && banner.height > 256, `the banner is ${banner?.height}px tall`);
    const hidden: string[] = [];
    await o.page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    for (let i = 0; i < 40; i++) {
      await o.page.keyboard.press('Tab');
      const r = await o.page.evaluate(() => {
        const a = document.activeElement!;
        if (!a.id.startsWith('l')) return null;
        const b = a.getBoundingClientRect();
        return {
          id: a.id,
          bottom: b.bottom,
          top: document.getElementById('assent-banner')!.getBoundingClientRect().top,
        };
      });
      if (r && r.bottom > r.top) hidden.push(`${r.id} ${r.bottom}>${r.top}`);
    }
    assert.deepEqual(hidden, []);
    await o.context.close();
  });

  for (const [build, path] of [
    ['lite build', '/optin'],
    ['full build', '/full'],
  ])
    it(`${build}: focus goes on to the floating button when the control that had it goes with a choice`, async () => {
      const o = await open(browser, `${site.origin}${path}`);
      const focused = () =>
        o.page.evaluate(() =>
          document.activeElement?.closest('.assent-fab') ? 'fab' : document.activeElement?.tagName,
        );
      // Enter on the banner's Accept: the banner goes, focus is on "Cookie settings".
      await o.page.getByRole('button', { name: 'Accept !' }).focus();
      await o.page.keyboard.press('Enter');
      assert.equal(await focused(), 'fab');
      // The dialog opened from the floating button, saved (the full build's choice rebuilds the button).
      await o.page.keyboard.press('Enter');
      await o.page.getByRole('dialog').waitFor();
      await o.page.getByRole('button', { name: 'Reject all' }).focus();
      await o.page.keyboard.press('Enter');
      await o.page.waitForFunction(() => !!document.activeElement?.closest('.assent-fab'), null, {
        timeout: 2000,
      });
      await o.context.close();
    });

  it('full build: from the banner’s Preferences, a choice in the dialog leaves focus on the floating button', async () => {
    const o = await open(browser, `${site.origin}/full`);
    await o.page.getByRole('button', { name: 'Preferences' }).focus();
    await o.page.keyboard.press('Enter');
    await o.page.getByRole('dialog').waitFor();
    await o.page.getByRole('button', { name: 'Save choices' }).focus();
    await o.page.keyboard.press('Enter');
    // (The dialog's close event, which moves focus, comes a task after it is hidden.)
    await o.page.waitForFunction(() => !!document.activeElement?.closest('.assent-fab'), null, {
      timeout: 2000,
    });
    await o.context.close();
  });
});
