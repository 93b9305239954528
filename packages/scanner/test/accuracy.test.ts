import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildDeclaration } from '../src/declaration/build.js';
import { type ScanResult, scan, toHtml, toJUnit, toMarkdown } from '../src/index.js';
import { type FixtureSite, startFixtures } from './fixtures/server.js';
import { ensureBanner, fixtureConfig, page, summarise } from './helpers.js';

// Pages built from a review of the scanner's accuracy (false passes and false findings): one
// scan of them all, then one test per page asserting what the scanner must see there.
let site: FixtureSite;
let result: ScanResult;
const PATHS = [
  '/cookiebot-api.html',
  '/slow-cmp.html',
  '/accept-forgotten.html',
  '/accept-forgotten-late.html',
  '/no-banner.html',
  '/gtm-cookie.html',
  '/consent-ab.html',
  '/fingerprinting-offscreen.html',
];

before(async () => {
  ensureBanner();
  site = await startFixtures();
  result = await scan(
    PATHS.map((p) => site.site + p),
    fixtureConfig(site.hostResolverRules),
  );
});
after(() => site?.close());

const reasons = (p: { unchecked: readonly { rule: string; reason: string }[] }) =>
  Object.fromEntries(p.unchecked.map((u) => [u.rule, u.reason]));

describe('what the scanner must neither pass in silence nor find where there is nothing', () => {
  it('scans every page without errors (the banner selector matched on some pages)', () => {
    assert.deepEqual(result.report.errors, []);
    assert.deepEqual(
      result.report.pages.map((p) => new URL(p.url).pathname),
      PATHS,
    );
  });

  it("a reject made through the CMP's API (Cookiebot.withdraw(), no click) is not a reject on the first layer: reject-missing is not checked", () => {
    const p = page(result.report.pages, '/cookiebot-api.html');
    assert.equal(p.banner.kind, 'autoconsent');
    assert.equal(p.phases.reject.choice?.clicked, true);
    assert.equal(p.phases.reject.choice?.clicks, 0);
    assert.equal(p.banner.rejectOnFirstLayer, null);
    assert.equal(reasons(p)['reject-missing'], "reject made through the CMP's API, not a control");
    assert.ok(!p.findings.some((f) => f.rule === 'reject-missing'));
    assert.match(
      toJUnit(result.report),
      /name="reject-missing" file="[^"]*"><skipped message="not checked: reject made through the CMP&apos;s API, not a control"\/>/,
    );
  });

  it('an accept clicked before the CMP can keep it is made once the page has settled: the tag it holds runs', () => {
    const p = page(result.report.pages, '/slow-cmp.html');
    const a = p.phases.accept;
    assert.equal(a.choice?.clicked, true);
    assert.equal(a.choice?.effective, true, a.choice?.note ?? '');
    assert.ok(
      a.cookies.some((c) => c.name === 'slow_cmp'),
      'the CMP kept the accept',
    );
    assert.ok(
      a.thirdPartyRequests.some((q) => q.afterChoice && q.url.endsWith('/tracker.js')),
      'the tag held for consent ran after accept',
    );
    assert.deepEqual(summarise(p.findings), []);
    assert.equal(reasons(p)['accept-ineffective'], undefined);
  });

  it('an accept that does not take, tried twice, leaves accept-ineffective, keylogging after accept and the declaration not checked, and says so', () => {
    const p = page(result.report.pages, '/accept-forgotten.html');
    const a = p.phases.accept.choice;
    assert.equal(a?.clicked, true);
    assert.equal(a?.effective, false);
    assert.match(a?.note ?? '', /after a second try too: the accept did not stick/);
    const r = reasons(p);
    assert.match(r['accept-ineffective'] ?? '', /^accept did not take: the banner came back after a reload/);
    assert.match(r.keylogging ?? '', /^after accept: accept did not take/);
    assert.deepEqual(summarise(p.findings), []);
    const md = toMarkdown(result.report);
    assert.match(
      md,
      /\*\*No accept took effect\*\* \(accept did not take: [^)]*\): the after-accept phase is a visitor who never accepted, so `accept-ineffective`, keylogging after accept and the cookie declaration \(`--declaration`\) are not checked on this page\./,
    );
    const d = buildDeclaration(result.report);
    assert.ok(d.unchecked?.some((u) => u.page === '/accept-forgotten.html' && /did not take/.test(u.reason)));
  });

  it('an accept whose banner comes back only once the reloaded page has settled is tried again too, and recorded again', () => {
    const p = page(result.report.pages, '/accept-forgotten-late.html');
    const a = p.phases.accept;
    assert.equal(a.choice?.effective, false);
    assert.match(a.choice?.note ?? '', /after a second try too: the accept did not stick/);
    // The sentinels typed again on the page reloaded after the second try.
    assert.deepEqual(a.sentinels, { fields: 1, typed: 1 });
    assert.match(reasons(p)['accept-ineffective'] ?? '', /^accept did not take/);
  });

  it('no banner found: the after-reject rules and accept-ineffective are not checked, in every report (JUnit: skipped)', () => {
    const p = page(result.report.pages, '/no-banner.html');
    assert.equal(p.banner.kind, 'none');
    assert.deepEqual(summarise(p.findings), [
      'banner-missing before banner',
      'request-before-consent before http://127.0.0.2:PORT/pixel.gif',
    ]);
    assert.deepEqual(p.unchecked, [
      { rule: 'reject-ineffective', reason: 'no banner found' },
      { rule: 'accept-ineffective', reason: 'no banner found' },
      { rule: 'cookie-after-reject', reason: 'no banner found' },
      { rule: 'storage-after-reject', reason: 'no banner found' },
      { rule: 'request-after-reject', reason: 'no banner found' },
    ]);
    const md = toMarkdown(result.report);
    assert.match(md, /- `request-after-reject` — no banner found/);
    assert.match(
      toHtml(result.report, result.images),
      /<code>request-after-reject<\/code><\/small>: no banner found/,
    );
    const junit = toJUnit(result.report);
    const suite = junit.split('<testsuite ').find((s) => s.includes('no-banner.html'))!;
    for (const rule of ['accept-ineffective', 'cookie-after-reject', 'request-after-reject'])
      assert.match(
        suite,
        new RegExp(`name="${rule}" file="[^"]*"><skipped message="not checked: no banner found"/>`),
      );
  });

  it('a cookie a tag manager writes (Google Ads’ _gcl_au by gtm.js) is not trusted as functional, on any port', () => {
    const p = page(result.report.pages, '/gtm-cookie.html');
    assert.deepEqual(summarise(p.findings), [
      'cookie-after-reject reject _gcl_au',
      'cookie-before-consent before _gcl_au',
      'storage-after-reject reject _gcl_ls',
      'storage-before-consent before _gcl_ls',
    ]);
    const gcl = p.phases.before.cookies.find((c) => c.name === '_gcl_au')!;
    assert.equal(gcl.classification.kind, 'unknown-third-party');
    assert.equal(gcl.classification.tracker?.name, 'Google Tag Manager');
    // The container itself: Google Tag Manager, a utility, as on the default port.
    const gtm = p.phases.before.thirdPartyRequests.find((q) => q.url.includes('/gtm.js'))!;
    assert.equal(gtm.classification.kind, 'functional');
    assert.equal(gtm.classification.tracker?.key, 'google_tag_manager');
    const f = p.findings.find((x) => x.rule === 'cookie-before-consent')!;
    assert.match(f.message, /written through Google Tag Manager \(Google, utilities\)/);
  });

  it('a cookie the server sets on the reloaded page after reject (an A/B bucket) is not taken for the consent record', () => {
    const p = page(result.report.pages, '/consent-ab.html');
    const ab = p.phases.reject.cookies.find((c) => c.name === 'ab_bucket');
    assert.ok(ab, 'the server set ab_bucket after reject');
    assert.equal(ab.setBy?.via, 'response');
    assert.equal(ab.classification.kind, 'first-party');
    const choice = p.phases.reject.cookies.find((c) => c.name === 'site_consent')!;
    assert.equal(choice.classification.kind, 'consent');
    assert.equal(choice.writtenAtChoice, true);
    assert.deepEqual(summarise(p.findings), []);
  });

  it('fingerprinting on an OffscreenCanvas (text drawn, read back with convertToBlob) is detected', () => {
    const p = page(result.report.pages, '/fingerprinting-offscreen.html');
    assert.deepEqual(summarise(p.findings), [
      'fingerprinting before canvas read-back http://127.0.0.1:PORT/fp-offscreen.js',
      'fingerprinting reject canvas read-back http://127.0.0.1:PORT/fp-offscreen.js',
    ]);
  });
});

// selectors.banner configured and never matched: the scan could not do what it was told.
describe('a configured banner selector that never matches', () => {
  let alone: ScanResult;
  before(async () => {
    ensureBanner();
    alone = await scan([`${site.site}/no-banner.html`], fixtureConfig(site.hostResolverRules));
  });

  it('is a scanner error (exit 2) naming the selector', () => {
    const r = alone.report;
    assert.equal(r.summary.exitCode, 2);
    assert.deepEqual(
      r.errors.map((e) => [e.code, e.url.replace(/:\d+\//, ':PORT/')]),
      [['config', 'http://127.0.0.1:PORT/no-banner.html']],
    );
    assert.match(
      r.errors[0]!.message,
      /the configured banner selector "#consent-box" \(selectors\.banner\) never matched/,
    );
    // The page is still reported, its choice rules not checked.
    assert.equal(
      r.pages[0]?.unchecked.find((u) => u.rule === 'cookie-after-reject')?.reason,
      'no banner found',
    );
  });
});
