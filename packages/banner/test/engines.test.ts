/**
 * The banner's core behaviour in all three engines: Chromium, Firefox (Gecko) and WebKit
 * (Safari's engine), through test-support/engines.ts. A named subset of the Chromium-only
 * suites (notice, optin, features, a11y), with the same page markup: seed notice, accept,
 * reject, preferences, embeds, re-consent, withdrawal, keyboard and axe.
 * `ASSENT_ENGINES=firefox,webkit` runs fewer engines.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { bannerTag, serve, until } from '../../../test-support/browser.js';
import { type Engine, type EnginePage, engines, openEngine } from '../../../test-support/engines.js';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const SEED = 'buttons=(Accept !) days=(20)';
const DAY = 86_400;
/** First in every page's head: collects console errors for engines without console events. */
const ERRORS = '<script src="/__errors.js"></script>';
/** A held analytics script that reports to `/hit/<name>` when it runs. */
const held = (name: string) =>
  `<script type="text/plain" data-assent-category="analytics" src="/hit/${name}"></script>`;
/** The page button before and the link after, as in a11y.test.ts: the banner must come first. */
const BODY =
  '<p><button id="before">A page button</button></p><p style="height:2000px">Long page</p><p><a href="#top" id="last">Last link</a></p>';
const WITHDRAW_CONFIG = '{"categories":[{"id":"analytics","cookies":["_ga"]}]}';

const PAGES = {
  // The seed's drop-in exactly as a site writes it; its held script's category is not declared.
  '/seed': { head: `${ERRORS}${bannerTag(SEED)}${held('seed')}`, body: '<p>Article</p>' },
  // A malformed shortcode logs errors: proves each engine's console-error channel works.
  '/bad': { head: `${ERRORS}${bannerTag('buttons=(Accept !) days=(abc) colour=(red)')}` },
  '/optin': { head: `${ERRORS}${bannerTag(`${SEED} categories=(analytics)`)}${held('a')}`, body: BODY },
  // A page to leave and come back to from the next one (back/forward cache), in each build.
  '/lite': { head: `${ERRORS}${bannerTag(`${SEED} categories=(analytics)`)}${held('lite')}` },
  '/lite-next': { head: `${ERRORS}${bannerTag(`${SEED} categories=(analytics)`)}`, body: '<p>Next</p>' },
  '/full': {
    head: `${ERRORS}${bannerTag(`${SEED} categories=(analytics)`, '', 'assent.full.min.js')}${held('full')}`,
  },
  '/full-next': {
    head: `${ERRORS}${bannerTag(`${SEED} categories=(analytics)`, '', 'assent.full.min.js')}`,
    body: '<p>Next</p>',
  },
  '/embed': {
    head: `${ERRORS}${bannerTag('categories=(marketing)')}`,
    body: '<iframe data-assent-src="/hit/frame" data-assent-category="marketing" title="Video"></iframe>',
  },
  '/v1': { head: `${ERRORS}${bannerTag(`${SEED} categories=(analytics) policy=(v1)`)}${held('v1')}` },
  '/v2': { head: `${ERRORS}${bannerTag(`${SEED} categories=(analytics) policy=(v2)`)}${held('v2')}` },
  // A new policy asks again: the trackers' cookies set under the old one go at once.
  ...Object.fromEntries(
    (['lite', 'full'] as const).flatMap((build) =>
      ['v1', 'v2'].map((v) => [
        `/stale-${build}-${v}`,
        {
          head: `${ERRORS}<script type="application/json" id="assent-config">{"policy":"${v}","categories":[{"id":"analytics","cookies":["_ga"]}]}</script>${bannerTag(
            SEED,
            '',
            build === 'lite' ? 'assent.min.js' : 'assent.full.min.js',
          )}`,
        },
      ]),
    ),
  ),
  '/withdraw': {
    head: `${ERRORS}<script type="application/json" id="assent-config">${WITHDRAW_CONFIG}</script>${bannerTag(SEED)}
<script type="text/plain" data-assent-category="analytics">document.cookie = '_ga=GA1.1; path=/';</script>`,
  },
};

type Site = Awaited<ReturnType<typeof serve>>;
/** Each test's bound: a driver that stops answering fails one test, not the run (a call waits 15 s at most). */
const T = { timeout: 60_000 };

type W = { hits?: string[] };

/** The banner's visible texts: the message paragraph and the buttons, in order. */
const bannerTexts = () => {
  const b = document.querySelector('#assent-banner');
  return b
    ? {
        role: b.getAttribute('role'),
        label: b.getAttribute('aria-label'),
        message: b.querySelector('p')?.textContent?.trim(),
        links: [...b.querySelectorAll('a')].map((a) => [a.textContent, a.getAttribute('href')]),
        buttons: [...b.querySelectorAll('button')].map((x) => x.textContent),
      }
    : null;
};

/** axe-core in the page (WCAG 2.2 A/AA and best practices) on `selector`: the violations' ids. */
const axe = async (page: EnginePage, selector: string) => {
  if (!(await page.eval('!!window.axe'))) await page.eval(`(0, eval)(${JSON.stringify(AXE)}), true`);
  return page.eval<string[]>(`window.axe.run(document.querySelector(${JSON.stringify(selector)}), {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
  }).then((r) => r.violations.map((v) => v.id + ' (' + v.nodes.length + ')'))`);
};

for (const name of engines)
  describe(`the banner in ${name}`, () => {
    let engine: Engine;
    let site: Site;
    let page: EnginePage | undefined;
    before(async () => {
      [engine, site] = await Promise.all([openEngine(name), serve(PAGES)]);
    });
    after(async () => {
      await page?.close().catch(() => {});
      await Promise.allSettled([engine?.close(), site?.close()]);
    });
    const hits = (n: string) => site.hits.get(n) ?? 0;
    /** A fresh page (clean cookie jar) on `path`, once the banner's script has started. */
    const open = async (path: string) => {
      await page?.close();
      page = await engine.newPage();
      await page.goto(`${site.origin}${path}`);
      await page.waitFor('window.Assent');
      return page;
    };
    /** Closes the test's page after checking the page logged no error. */
    const done = async (p: EnginePage) => {
      assert.deepEqual(await p.consoleErrors(), [], 'console errors');
      await p.close();
      page = undefined;
    };

    it(
      'shows the seed notice: message, Learn More, "Accept !", Reject, Preferences; nothing before a choice',
      T,
      async () => {
        site.hits.clear();
        const p = await open('/seed');
        await p.waitFor(`document.querySelector('#assent-banner')`);
        assert.deepEqual(await p.eval(bannerTexts), {
          role: 'region',
          label: 'Cookie notice',
          message: 'Our website uses cookies to enhance your experience. Learn More',
          links: [['Learn More', '/privacy']],
          buttons: ['Accept !', 'Reject', 'Preferences'],
        });
        assert.equal(await p.eval(() => (window as W).hits ?? null), null, 'no held script ran');
        assert.equal(hits('seed'), 0);
        assert.deepEqual(await p.cookies(), {}, 'no cookie before a choice');
        assert.deepEqual(await p.eval(() => [localStorage.length, sessionStorage.length]), [0, 0]);
        // Its held script names a category the seed does not declare: discovered, so Accept
        // runs it (README "Blocking without declaring").
        await p.click('#assent-banner button', 'Accept !');
        await p.waitFor('window.hits && window.hits.includes("seed")');
        assert.equal(hits('seed'), 1);
        await done(p);
      },
    );

    it(
      'reports a malformed shortcode on the console, naming the key, and keeps the good keys',
      T,
      async () => {
        const p = await open('/bad');
        await p.waitFor(`document.querySelector('#assent-banner')`);
        const errors = await p.consoleErrors();
        assert.ok(
          errors.some((e) => /assent: days: .*whole number/.test(e)),
          errors.join('\n'),
        );
        assert.ok(
          errors.some((e) => /assent: colour: is not a known key/.test(e)),
          errors.join('\n'),
        );
        assert.deepEqual((await p.eval(bannerTexts))?.buttons, ['Accept !', 'Reject', 'Preferences']);
        await p.close();
        page = undefined;
      },
    );

    it('Accept runs the held script once and remembers the choice for 20 days', T, async () => {
      site.hits.clear();
      const p = await open('/optin');
      assert.equal(hits('a'), 0, 'held before the choice');
      const before = Date.now() / 1000;
      await p.click('#assent-banner button', 'Accept !');
      await p.waitFor(`(window.hits || []).includes('a')`);
      await p.waitFor(`!document.querySelector('#assent-banner')`);
      assert.equal(hits('a'), 1);
      const s = await p.eval(() => window.Assent!.get());
      assert.equal(s.method, 'accept-all');
      assert.equal(s.granted.analytics, true);
      const c = (await p.cookies()).assent;
      assert.ok(c?.value, 'consent cookie written');
      assert.equal(c.path, '/');
      assert.ok(
        c.expires && Math.abs(c.expires - (before + 20 * DAY)) < 120,
        `expires in 20 days: ${c.expires}`,
      );
      // Remembered: the next visit asks nothing and runs the script again at once.
      await p.goto(`${site.origin}/optin`);
      await p.waitFor(`(window.hits || []).includes('a')`);
      assert.equal(await p.eval(`!!document.querySelector('#assent-banner')`), false, 'not asked again');
      assert.equal(hits('a'), 2);
      await done(p);
    });

    it(
      'Reject: nothing held runs, the choice is stored, the banner goes, "Cookie settings" appears',
      T,
      async () => {
        site.hits.clear();
        const p = await open('/optin');
        await p.click('#assent-banner button', 'Reject');
        await p.waitFor(`!document.querySelector('#assent-banner')`);
        await p.waitFor(
          `[...document.querySelectorAll('.assent-fab button')].some((b) => b.textContent === 'Cookie settings')`,
        );
        assert.equal(await p.eval(() => window.Assent!.get().method), 'reject-all');
        assert.deepEqual(Object.keys(await p.cookies()), ['assent']);
        await p.goto(`${site.origin}/optin`);
        await p.waitFor('window.Assent');
        await p.waitFor(`document.querySelector('.assent-fab')`);
        assert.equal(
          await p.eval(`!!document.querySelector('#assent-banner')`),
          false,
          'a reject is remembered',
        );
        assert.equal(hits('a'), 0);
        await done(p);
      },
    );

    it(
      'Preferences: the dialog opens, analytics switched on and saved runs the held script; Escape closes',
      T,
      async () => {
        site.hits.clear();
        const p = await open('/optin');
        await p.click('#assent-banner button', 'Preferences');
        await p.waitFor(`document.querySelector('dialog#assent-prefs[open]')`);
        // Escape closes the dialog and gives focus back to its opener; nothing is chosen.
        await p.press('Escape');
        await p.waitFor(`!document.querySelector('dialog[open]')`);
        assert.equal(await p.eval('document.activeElement.textContent'), 'Preferences', 'focus returned');
        assert.equal(await p.eval(() => window.Assent!.get().method), null);
        await p.click('#assent-banner button', 'Preferences');
        await p.waitFor(`document.querySelector('dialog#assent-prefs[open]')`);
        assert.deepEqual(
          await p.eval(() =>
            [...document.querySelectorAll<HTMLInputElement>('#assent-prefs input')].map((b) => [
              b.value,
              b.checked,
            ]),
          ),
          [
            ['on', true], // necessary: always on
            ['analytics', false],
          ],
        );
        await p.click('#assent-prefs input[value="analytics"]');
        await p.waitFor(`document.querySelector('#assent-prefs input[value="analytics"]').checked`);
        await p.click('#assent-prefs button', 'Save choices');
        await p.waitFor(`(window.hits || []).includes('a')`);
        await p.waitFor(`!document.querySelector('dialog[open]')`);
        const s = await p.eval(() => window.Assent!.get());
        assert.deepEqual([s.method, s.granted.analytics], ['custom', true]);
        assert.equal(hits('a'), 1);
        await done(p);
      },
    );

    it('holds an embed behind a placeholder; "Load content" loads it', T, async () => {
      site.hits.clear();
      const p = await open('/embed');
      await p.waitFor(`document.querySelector('.assent-embed')`);
      assert.deepEqual(
        await p.eval(() => {
          const ph = document.querySelector('.assent-embed')!;
          const f = document.querySelector('iframe')!;
          return [
            ph.getAttribute('role'),
            ph.getAttribute('aria-label'),
            [...ph.querySelectorAll('button')].map((b) => b.textContent),
            f.hidden,
            f.getAttribute('src'),
          ];
        }),
        ['group', 'Video', ['Load content', 'Accept Marketing'], true, null],
      );
      assert.equal(hits('frame'), 0, 'held');
      await p.click('.assent-embed button', 'Load content');
      await p.waitFor(`document.querySelector('iframe').src.endsWith('/hit/frame')`);
      assert.deepEqual(
        await p.eval(() => [
          !!document.querySelector('.assent-embed'),
          document.querySelector('iframe')!.hidden,
        ]),
        [false, false],
      );
      assert.equal(
        await p.eval(() => window.Assent!.allowed('marketing')),
        false,
        'a one-off load stores nothing',
      );
      assert.ok(await until(() => hits('frame') === 1), 'the frame was requested');
      await done(p);
    });

    it('asks again when the policy version changes (v1 → v2)', T, async () => {
      site.hits.clear();
      const p = await open('/v1');
      await p.click('#assent-banner button', 'Accept !');
      await p.waitFor(`(window.hits || []).includes('v1')`);
      await p.goto(`${site.origin}/v1`);
      await p.waitFor(`(window.hits || []).includes('v1')`);
      assert.equal(await p.eval(`!!document.querySelector('#assent-banner')`), false, 'v1 is remembered');
      await p.goto(`${site.origin}/v2`);
      await p.waitFor('window.Assent');
      await p.waitFor(`document.querySelector('#assent-banner')`);
      assert.equal(
        await p.eval(() => window.Assent!.allowed('analytics')),
        false,
        'stale consent grants nothing',
      );
      assert.equal(await p.eval(() => window.Assent!.get().method), null);
      assert.equal(hits('v2'), 0);
      await done(p);
    });

    it('withdrawal (API or "Reject all") deletes the declared cookie', T, async () => {
      const p = await open('/withdraw');
      await p.click('#assent-banner button', 'Accept !');
      await p.waitFor(`document.cookie.includes('_ga=')`);
      assert.deepEqual(Object.keys(await p.cookies()).sort(), ['_ga', 'assent']);
      const id = await p.eval(() => window.Assent!.get().consentId);
      await p.eval(() => window.Assent!.withdraw());
      await p.waitFor(`!document.cookie.includes('_ga=')`);
      assert.deepEqual(Object.keys(await p.cookies()), ['assent'], 'the driver sees it gone too');
      const s = await p.eval(() => window.Assent!.get());
      assert.deepEqual([s.method, s.granted.analytics, s.consentId], ['withdraw', false, id]);
      // The same through the preferences' "Reject all", reached from the floating button, on
      // the next page: the held script stays held until analytics is granted again.
      await p.goto(`${site.origin}/withdraw`);
      await p.waitFor('window.Assent');
      assert.equal(await p.eval(`document.cookie.includes('_ga=')`), false, 'still held after withdrawal');
      await p.eval(() => window.Assent!.accept(['analytics']));
      await p.waitFor(`document.cookie.includes('_ga=')`);
      await p.click('.assent-fab button', 'Cookie settings');
      await p.waitFor(`document.querySelector('dialog#assent-prefs[open]')`);
      await p.click('#assent-prefs button', 'Reject all');
      await p.waitFor(`!document.cookie.includes('_ga=')`);
      assert.deepEqual(Object.keys(await p.cookies()), ['assent']);
      assert.equal(await p.eval(() => window.Assent!.get().method), 'reject-all');
      await done(p);
    });

    for (const build of ['lite', 'full'] as const)
      it(
        `${build} build: asked again under a new policy, the declared cookies of the old grant go`,
        T,
        async () => {
          const p = await open(`/stale-${build}-v1`);
          await p.click('#assent-banner button', 'Accept !');
          await p.waitFor(`window.Assent && window.Assent.allowed('analytics')`);
          await p.eval(`document.cookie = '_ga=GA1.1.42; path=/'`);
          await p.goto(`${site.origin}/stale-${build}-v2`);
          await p.waitFor(`document.querySelector('#assent-banner')`);
          // The tracker's identifier no longer outlives the consent it was set under.
          await p.waitFor(`!document.cookie.includes('_ga=')`);
          assert.deepEqual(Object.keys(await p.cookies()), ['assent']);
          await done(p);
        },
      );

    for (const build of ['lite', 'full'] as const)
      it(
        `${build} build, back/forward: a page restored after the choice changed on another page applies the new choice`,
        T,
        async () => {
          const p = await open(`/${build}`);
          await p.eval(`addEventListener('pageshow', (e) => { window.restored = e.persisted; })`);
          await p.click('#assent-banner button', 'Accept !');
          await p.waitFor(`(window.hits || []).includes('${build}')`);
          // By a link, as a visitor goes (a driver's navigation may bypass the cache).
          await p.eval(
            `document.body.append(Object.assign(document.createElement('a'), { id: 'next', href: '/${build}-next', textContent: 'Next' }))`,
          );
          await p.click('#next');
          await p.waitFor(`location.pathname === '/${build}-next' && window.Assent`);
          await p.eval(() => window.Assent!.withdraw());
          await p.eval('history.back()');
          // Restored from the cache (Firefox, WebKit; Chromium under test has no such cache), the
          // page reloads; either way it now says "withdrawn", and nothing is granted.
          await p.waitFor(
            `location.pathname === '/${build}' && window.Assent && window.Assent.get().method === 'withdraw'`,
          );
          assert.equal(await p.eval(() => window.Assent!.allowed('analytics')), false);
          assert.equal(await p.eval(`window.restored === true`), false, 'not left as it was restored');
          await done(p);
        },
      );

    it('keyboard: Tab from the top reaches the banner first; Enter on "Accept !" accepts', T, async () => {
      site.hits.clear();
      const p = await open('/optin');
      await p.waitFor(`document.querySelector('#assent-banner')`);
      assert.equal(await p.eval('document.body.firstElementChild.id'), 'assent-banner', 'first in the body');
      const focused = () =>
        p.eval<string | null>('document.activeElement && document.activeElement.textContent');
      await p.press('Tab');
      assert.equal(await focused(), 'Learn More');
      await p.press('Tab');
      assert.equal(await focused(), 'Accept !');
      await p.press('Enter');
      await p.waitFor(`!document.querySelector('#assent-banner')`);
      await p.waitFor(`(window.hits || []).includes('a')`);
      assert.equal(await p.eval(() => window.Assent!.get().method), 'accept-all');
      await done(p);
    });

    it('axe finds no violations on the banner or the open preferences dialog', T, async () => {
      const p = await open('/optin');
      await p.waitFor(`document.querySelector('#assent-banner')`);
      assert.deepEqual(await axe(p, '#assent-banner'), [], 'banner');
      await p.click('#assent-banner button', 'Preferences');
      await p.waitFor(`document.querySelector('dialog#assent-prefs[open]')`);
      assert.deepEqual(await axe(p, '#assent-prefs'), [], 'preferences dialog');
      await done(p);
    });
  });
