import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ScanResult, scan, toHtml, toJson, toJUnit, toMarkdown } from '../src/index.js';
import { type FixtureSite, startFixtures } from './fixtures/server.js';
import { ensureBanner, fixtureConfig, page, summarise } from './helpers.js';

// One scan of every fixture page (one browser, three contexts per page), then one test per
// page asserting exactly what the scanner found there.
let site: FixtureSite;
let result: ScanResult;
const PATHS = [
  '/clean.html',
  '/leaky.html',
  '/reject-broken.html',
  '/long-consent.html',
  '/other-cmp.html',
  '/no-banner.html',
  '/no-reject.html',
  '/self-hosted.html',
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

describe('scanning the fixture site', () => {
  it('scans every page without errors', () => {
    assert.deepEqual(result.report.errors, []);
    assert.deepEqual(
      result.report.pages.map((p) => new URL(p.url).pathname),
      PATHS,
    );
    assert.equal(result.report.tool.trackerDb.enabled, true);
    assert.equal(result.report.summary.exitCode, 1);
  });

  it('a clean Assent page has no findings, and the tracker runs only after accept', () => {
    const p = page(result.report.pages, '/clean.html');
    assert.deepEqual(summarise(p.findings), []);
    assert.deepEqual(p.banner, {
      kind: 'assent',
      cmp: 'Assent',
      rejectOnFirstLayer: true,
      acceptOnFirstLayer: true,
    });
    assert.deepEqual(p.phases.before.cookies, []);
    assert.deepEqual(p.phases.before.thirdPartyRequests, []);
    assert.deepEqual(p.phases.reject.thirdPartyRequests, []);
    assert.deepEqual(
      p.phases.reject.cookies.map((c) => [c.name, c.classification.kind, Math.round(c.lifetimeDays ?? 0)]),
      [['assent', 'consent', 20]],
    );
    const accepted = p.phases.accept;
    assert.deepEqual(accepted.cookies.map((c) => c.name).sort(), ['_hjid', 'assent']);
    const hj = accepted.cookies.find((c) => c.name === '_hjid')!;
    assert.equal(hj.classification.party, 'first');
    assert.equal(hj.classification.kind, 'tracker');
    assert.equal(hj.classification.tracker?.organization, 'Hotjar');
    assert.equal(hj.setBy?.via, 'script');
    assert.equal(hj.setBy?.url, `${site.tracker}/tracker.js`);
    assert.ok(
      accepted.thirdPartyRequests.some(
        (q) => q.url.startsWith(`${site.tracker}/collect`) && q.type === 'ping',
      ),
    );
  });

  it('a leaky page: the tracker’s cookie, storage and requests before consent and after reject', () => {
    const p = page(result.report.pages, '/leaky.html');
    assert.deepEqual(summarise(p.findings), [
      'cookie-after-reject reject _hjid',
      'cookie-before-consent before _hjid',
      'request-after-reject reject http://127.0.0.2:PORT/pixel.gif',
      'request-after-reject reject http://static.hotjar.com:PORT/collect?e=pageview',
      'request-after-reject reject http://static.hotjar.com:PORT/tracker.js',
      'request-before-consent before http://127.0.0.2:PORT/pixel.gif',
      'request-before-consent before http://static.hotjar.com:PORT/collect?e=pageview',
      'request-before-consent before http://static.hotjar.com:PORT/tracker.js',
      'storage-after-reject reject _hjLastSession',
      'storage-before-consent before _hjLastSession',
    ]);
    const script = p.findings.find(
      (f) => f.rule === 'request-before-consent' && f.subject.name.endsWith('/tracker.js'),
    )!;
    assert.deepEqual(script.tracker, {
      key: 'hotjar',
      name: 'Hotjar',
      category: 'site_analytics',
      organization: 'Hotjar',
    });
    const pixel = p.findings.find((f) => f.subject.name.endsWith('/pixel.gif'))!;
    assert.equal(pixel.kind, 'unknown-third-party');
    assert.equal(pixel.tracker, null);
    const beacon = p.phases.before.thirdPartyRequests.find((q) => q.type === 'ping')!;
    assert.deepEqual(beacon.initiator, { type: 'script', url: `${site.tracker}/tracker.js` });
    const storage = p.phases.before.storage.find((s) => s.key === '_hjLastSession')!;
    assert.equal(storage.area, 'localStorage');
    assert.equal(storage.setBy?.url, `${site.tracker}/tracker.js`);
  });

  it('a reject button that does nothing is reported as ineffective', () => {
    const p = page(result.report.pages, '/reject-broken.html');
    assert.deepEqual(summarise(p.findings), ['reject-ineffective reject Assent']);
    assert.equal(p.phases.reject.choice?.clicked, true);
    assert.equal(p.phases.reject.choice?.effective, false);
    assert.equal(p.phases.accept.choice?.effective, true);
  });

  it('a consent cookie kept 400 days is too long (home-made banner, configured selectors)', () => {
    const p = page(result.report.pages, '/long-consent.html');
    assert.equal(p.banner.kind, 'selectors');
    assert.deepEqual(summarise(p.findings), [
      'consent-cookie-too-long accept site_consent',
      'consent-cookie-too-long reject site_consent',
    ]);
    const c = p.phases.reject.cookies.find((x) => x.name === 'site_consent')!;
    assert.equal(c.classification.kind, 'consent');
    assert.equal(c.requestedLifetimeDays, 400);
  });

  it('another CMP (Complianz markup) is recognised and clicked through autoconsent', () => {
    const p = page(result.report.pages, '/other-cmp.html');
    assert.deepEqual(p.banner, {
      kind: 'autoconsent',
      cmp: 'Complianz banner',
      rejectOnFirstLayer: true,
      acceptOnFirstLayer: null,
    });
    assert.deepEqual(summarise(p.findings), []);
    assert.deepEqual(p.phases.reject.choice, {
      method: 'autoconsent',
      clicked: true,
      effective: true,
      clicks: 1,
      note: null,
    });
    assert.deepEqual(
      p.phases.reject.cookies.map((c) => [c.name, c.classification.kind]),
      [
        ['cmplz_banner-status', 'consent'],
        ['cmplz_marketing', 'consent'],
      ],
    );
    assert.deepEqual(p.phases.reject.thirdPartyRequests, []);
    assert.ok(p.phases.accept.thirdPartyRequests.some((q) => q.classification.tracker?.key === 'hotjar'));
  });

  it('a page without a banner is reported, with what it loads anyway', () => {
    const p = page(result.report.pages, '/no-banner.html');
    assert.equal(p.banner.kind, 'none');
    assert.deepEqual(summarise(p.findings), [
      'banner-missing before banner',
      'request-before-consent before http://127.0.0.2:PORT/pixel.gif',
    ]);
  });

  it('no reject on the first layer is reported; the scan rejects from the preferences instead', () => {
    const p = page(result.report.pages, '/no-reject.html');
    assert.deepEqual(p.banner, {
      kind: 'assent',
      cmp: 'Assent',
      rejectOnFirstLayer: false,
      acceptOnFirstLayer: true,
    });
    assert.deepEqual(summarise(p.findings), ['reject-missing before Assent']);
    assert.deepEqual(p.phases.reject.choice, {
      method: 'assent',
      clicked: true,
      effective: true,
      clicks: 2,
      note: 'rejected from the preferences layer: no reject on the first layer',
    });
    // The receipt posted to Assent's endpoint on another site records the refusal: not a tracker.
    const receipt = p.phases.reject.thirdPartyRequests.find((q) => q.url === `${site.third}/v1/receipts`);
    assert.equal(receipt?.classification.kind, 'consent');
    assert.equal(receipt?.method, 'POST');
  });

  it('takes a screenshot per phase and fingerprints it', () => {
    const p = page(result.report.pages, '/clean.html');
    for (const x of [p.phases.before, p.phases.reject, p.phases.accept]) {
      assert.match(x.screenshot?.file ?? '', /^screenshots\/\d+-(before|reject|accept)\.jpg$/);
      assert.match(x.screenshot?.sha256 ?? '', /^[0-9a-f]{64}$/);
      assert.ok(result.images.get(x.screenshot!.file!)!.length > 1000);
    }
  });

  it('renders the four report formats from the same result', () => {
    const json = JSON.parse(toJson(result.report));
    assert.equal(json.schemaVersion, 1);
    assert.equal(json.pages.length, PATHS.length);
    const md = toMarkdown(result.report);
    assert.match(md, /^# Assent scan: ❌ \d+ violation\(s\)/);
    assert.match(md, /`reject-ineffective`/);
    const html = toHtml(result.report, result.images);
    assert.match(html, /<h3>2\. After clicking “Reject”<\/h3>/);
    assert.match(html, /data:image\/jpeg;base64,/);
    assert.match(html, /Hotjar/);
    assert.doesNotMatch(html, /<script/);
    const junit = toJUnit(result.report);
    // One test case per rule (10) per page.
    assert.match(
      junit,
      new RegExp(`<testsuites name="assent-scan" tests="${PATHS.length * 10}" failures="\\d+" errors="0"`),
    );
    assert.match(junit, /name="reject-ineffective"><failure/);
  });
});

describe('cookies the site declares in its Assent config', () => {
  it('a first-party cookie declared as analytics is a violation before consent and after reject', () => {
    const p = page(result.report.pages, '/self-hosted.html');
    assert.deepEqual(summarise(p.findings), [
      'cookie-after-reject reject _pk_id.1.1fff',
      'cookie-before-consent before _pk_id.1.1fff',
    ]);
    assert.match(p.findings[0]!.message, /declared as "analytics:matomo" in the site's Assent config/);
  });
});
