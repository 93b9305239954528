import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { Autoconsent, ruleCookieNames } from '../src/autoconsent.js';
import { detectBanner } from '../src/banner.js';
import { launch, scanExecutable } from '../src/browser.js';
import { type FixtureSite, startFixtures } from './fixtures/server.js';
import { ensureBanner, fixtureConfig } from './helpers.js';

// The accept and GPC visits hold autoconsent back until the page shows no Assent banner: its
// rules are set up only where another CMP may be, and a late start still finds that CMP.
describe('autoconsent held back until the page shows no Assent banner', () => {
  let site: FixtureSite;
  let browser: Browser;
  before(async () => {
    ensureBanner();
    site = await startFixtures();
    const config = fixtureConfig(site.hostResolverRules);
    browser = await launch(config.hostResolverRules, config.chromiumArgs, scanExecutable());
  });
  after(async () => {
    await browser?.close();
    await site?.close();
  });

  const visit = async (path: string) => {
    const context = await browser.newContext();
    const ac = new Autoconsent(true);
    await ac.attach(context);
    const page = await context.newPage();
    await page.goto(`${site.site}${path}`, { waitUntil: 'load' });
    const banner = await detectBanner(page, ac, null, 4000);
    // Time for frames that were answered to report back.
    await new Promise((r) => setTimeout(r, 500));
    await context.close();
    return { banner, answered: ac.answered };
  };

  it('never sends its rules to a page that shows Assent’s banner', async () => {
    const { banner, answered } = await visit('/clean.html');
    assert.equal(banner.kind, 'assent');
    assert.equal(answered, 0);
  });

  it('starts late and still finds another CMP', async () => {
    const { banner, answered } = await visit('/other-cmp.html');
    assert.equal(banner.kind, 'autoconsent');
    assert.equal(banner.cmp, 'Complianz banner');
    assert.ok(answered >= 1, `${answered} frame(s) answered`);
  });
});

describe("the consent cookie a CMP's autoconsent rule names", () => {
  it('is the cookie its test steps look for once the choice is made, never one that must be absent', () => {
    assert.deepEqual(ruleCookieNames('Complianz banner'), ['cmplz_banner-status']);
    // AdRoll's rule checks that its tracking cookie is gone (negated): not a consent record.
    assert.deepEqual(ruleCookieNames('Adroll'), []);
    // A value's substring ("advertisement:no" in CookieYes's cookie) names no cookie.
    assert.deepEqual(ruleCookieNames('cookieyes'), []);
    // Rules written in code (Cookiebot) and unknown names: none, the cookie is inferred.
    assert.deepEqual(ruleCookieNames('Cybotcookiebot'), []);
    assert.deepEqual(ruleCookieNames('no such CMP'), []);
  });
});
