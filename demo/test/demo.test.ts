import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launch, open } from '../../test-support/browser.js';
import { freePort } from '../../test-support/ports.js';

describe('the demo news site, end to end in Chromium', () => {
  let browser: Browser;
  let demo: Awaited<ReturnType<typeof import('../src/server.js').startDemo>>;
  let url: string;
  before(async () => {
    process.env.ASSENT_DEMO_DATA = mkdtempSync(join(tmpdir(), 'assent-demo-'));
    const { startDemo } = await import('../src/server.js');
    demo = await startDemo({ port: await freePort(), host: '127.0.0.1', quiet: true });
    url = demo.url;
    browser = await launch();
  });
  after(async () => {
    await browser.close();
    await demo.server.close();
  });

  it("renders the seed article with the seed's banner, under a strict CSP, holding everything", async () => {
    const o = await open(browser, `${url}articles/trump-maduro-call`);
    await o.page.getByRole('heading', { level: 1, name: /Trump and Maduro talked/ }).waitFor();
    const region = o.page.getByRole('region', { name: 'Cookie notice' });
    assert.match(
      await region.innerText(),
      /Our website uses cookies to enhance your experience\. Learn More/,
    );
    assert.deepEqual(await region.getByRole('button').allInnerTexts(), ['Accept !', 'Reject', 'Preferences']);
    await region.getByRole('link', { name: 'Learn More' }).click();
    await o.page.waitForURL('**/privacy');
    assert.equal(await o.page.getByRole('heading', { level: 1 }).innerText(), 'Privacy policy');
    assert.deepEqual(Object.keys(await o.cookies()), []);
    assert.equal(
      await o.page.evaluate(() => (window as { demoAnalyticsRuns?: number }).demoAnalyticsRuns),
      undefined,
    );
    assert.deepEqual(await o.csp(), []);
    assert.equal(await o.cls(), 0);
    await o.context.close();
  });

  it('a choice becomes a signed receipt the visitor can look up at /consent/<id>', async () => {
    const o = await open(browser, `${url}articles/city-library-late-opening`);
    const posted = o.page.waitForResponse((r) => r.url().endsWith('/v1/receipts'));
    await o.page.getByRole('button', { name: 'Accept !' }).click();
    const res = await posted;
    assert.equal(res.status(), 201);
    const { consentId } = (await res.json()) as { consentId: string };
    await o.page.waitForFunction(() => (window as { demoAnalyticsRuns?: number }).demoAnalyticsRuns === 1);
    await o.page.waitForFunction(() => document.documentElement.dataset.inlineAnalytics === 'ran');
    assert.ok((await o.cookies())._demo_stats, 'analytics stand-in ran after consent');
    // The vendors' stand-ins list what they received: the denied defaults first, then the grant.
    await o.page.waitForFunction(() =>
      [...document.querySelectorAll('#vendor-log li')].some((li) => li.textContent === 'TikTok grantConsent'),
    );
    const vendors = await o.page.locator('#vendor-log li').allInnerTexts();
    assert.deepEqual(vendors.slice(0, 5), [
      'UET consent default: ad_storage=denied',
      'Clarity consentv2: ad_Storage=denied, analytics_Storage=denied',
      'Meta consent revoke',
      'Meta init demo',
      'TikTok holdConsent',
    ]);
    for (const t of ['UET consent update: ad_storage=granted', 'Meta consent grant', 'TikTok grantConsent'])
      assert.ok(vendors.includes(t), vendors.join('\n'));
    // The preferences dialog shows the consent ID and links to the receipts page.
    await o.page.getByRole('button', { name: 'Cookie settings' }).click();
    const link = o.page.getByRole('dialog').getByRole('link', { name: consentId });
    await link.click();
    await o.page.waitForURL(`**/consent/${consentId}`);
    assert.match(await o.page.locator('main').innerText(), /accept/i);
    assert.deepEqual(await o.csp(), []);
    await o.context.close();
  });

  it('?region= shows each mode, and the Google tag stand-in lists Consent Mode as it arrives', async () => {
    const ca = await open(browser, `${url}articles/rail-timetable-winter?region=US-CA`);
    await ca.page.getByRole('button', { name: /Do not sell/ }).waitFor();
    const log = ca.page.locator('#gtag-log li');
    assert.match(await log.first().innerText(), /^consent default: ad_storage=granted/);
    await ca.context.close();

    const jp = await open(browser, `${url}articles/rail-timetable-winter?region=JP`);
    const region = jp.page.getByRole('region', { name: 'Cookie notice' });
    assert.deepEqual(await region.getByRole('button').allInnerTexts(), ['Accept !']);
    assert.match(
      await jp.page.locator('#gtag-log li').first().innerText(),
      /^consent default: ad_storage=denied/,
    );
    await region.getByRole('button', { name: 'Accept !' }).click();
    await jp.page.waitForFunction(() => document.querySelectorAll('#gtag-log li').length >= 5);
    const texts = await jp.page.locator('#gtag-log li').allInnerTexts();
    assert.ok(
      texts.some((t) => /^consent update: ad_storage=granted/.test(t)),
      texts.join('\n'),
    );
    assert.ok(texts.some((t) => /^event assent_consent .*"method":"notice-ack"/.test(t)));
    await jp.context.close();

    // Without ?region the banner asks the receipt server, which reads the CDN header.
    const ctx = await browser.newContext({ extraHTTPHeaders: { 'cf-ipcountry': 'JP' } });
    const viaServer = await open(browser, `${url}`, { context: ctx });
    await viaServer.page.locator('#assent-banner').waitFor();
    const mode = await viaServer.page.evaluate(
      () => (window as unknown as { Assent: { get(): { mode: string } } }).Assent.get().mode,
    );
    assert.equal(mode, 'notice', 'JP maps to notice; the fallback would have been opt-in');
    await ctx.close();
  });

  it('the admin console signs the owner in and shows consent rates from the receipts, under a strict CSP', async () => {
    // One more choice, so the tables have rows whatever ran before.
    const v = await open(browser, `${url}privacy`);
    const posted = v.page.waitForResponse((r) => r.url().endsWith('/v1/receipts'));
    await v.page.getByRole('button', { name: 'Reject' }).click();
    assert.equal((await posted).status(), 201);
    await v.context.close();

    const o = await open(browser, `${url}admin`);
    await o.page.waitForURL(/\/admin\/sign-in/);
    await o.page.getByLabel('Email').fill(demo.owner.email);
    await o.page.getByLabel('Password').fill('wrong-password-here');
    await o.page.getByRole('button', { name: 'Sign in' }).click();
    await o.page.getByText('That email and password do not match a user of this server.').waitFor();
    assert.equal(await o.page.locator('table').count(), 0);
    await o.page.getByLabel('Password').fill(demo.owner.password);
    await o.page.getByRole('button', { name: 'Sign in' }).click();
    // Counted per consent (each visitor's latest choice), with the receipts beside.
    const outcomes = o.page.getByRole('table', { name: 'Outcomes per consent (latest choice)' });
    await outcomes.waitFor();
    const reject = outcomes.getByRole('row', { name: /^Reject all/ });
    assert.match(await reject.innerText(), /^Reject all\s+[1-9]\d*\s+\d+%\s+[1-9]\d*$/);
    await o.page.getByRole('table', { name: 'Consents granting each category' }).waitFor();
    const download = o.page.waitForEvent('download');
    await o.page.getByRole('button', { name: 'NDJSON' }).click();
    const file = await (await download).path();
    const { readFileSync } = await import('node:fs');
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    // The policies the receipts name come first, then the signed receipts.
    const receipts = lines.map((l) => JSON.parse(l)).filter((x) => x.type !== 'policy');
    assert.ok(receipts.length >= 1 && receipts.every((r) => r.sig), 'signed receipts');
    assert.ok(
      receipts.every((r) => lines.some((l) => l.includes(`"sha256":"${r.policy.sha256}","doc"`))),
      'the export carries the policy of each receipt',
    );
    assert.deepEqual(await o.csp(), []);
    // Only the refused password's 401, which the browser logs for any failed request.
    assert.deepEqual(
      o.errors.filter((e) => !/status of 401/.test(e)),
      [],
    );
    await o.context.close();
  });
});
