import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HEADLESS_SHELL, launch, scanExecutable } from '../src/browser.js';
import {
  REGISTRY,
  RULES,
  type RuleId,
  type ScanResult,
  scan,
  toHtml,
  toJson,
  toJUnit,
  toMarkdown,
} from '../src/index.js';
import { type FixtureSite, startFixtures } from './fixtures/server.js';
import { ensureBanner, fixtureConfig, page, summarise } from './helpers.js';

// One scan of every fixture page (one browser, four contexts per page), then one test per
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
  '/no-reject-home-made.html',
  '/persist/page.html',
  '/accept-broken.html',
  '/notice.html',
  '/quiet.html',
  '/embed.html',
  '/beacon.html',
  '/fingerprint.html',
  '/gpc-honoured.html',
  '/gpc-honoured-es.html',
  '/gpc-honoured-own.html',
  '/hide-from-bots.html',
  '/gpc-ignored.html',
  '/gpc-silent.html',
  '/fingerprinting.html',
  '/keylogger.html',
  '/articles/health-condition.html',
  '/unequal-buttons.html',
  '/two-banners.html',
  '/pre-ticked.html',
  '/meta-events.html',
  '/gpc-recorded.html',
  '/gpc-not-recorded.html',
];

/**
 * Every rule of the registry, and the fixture built to trigger it. The registry test below
 * fails when a rule is added without one.
 */
const TRIGGERS: Record<RuleId, string> = {
  'banner-missing': '/no-banner.html',
  'reject-missing': '/no-reject-home-made.html',
  'reject-ineffective': '/persist/page.html',
  'accept-ineffective': '/accept-broken.html',
  'reject-less-prominent': '/unequal-buttons.html',
  'multiple-consent-interfaces': '/two-banners.html',
  'pre-ticked-choices': '/pre-ticked.html',
  'cookie-before-consent': '/leaky.html',
  'cookie-after-reject': '/leaky.html',
  'storage-before-consent': '/leaky.html',
  'storage-after-reject': '/leaky.html',
  'request-before-consent': '/leaky.html',
  'request-after-reject': '/leaky.html',
  'consent-cookie-too-long': '/long-consent.html',
  'gpc-ignored': '/gpc-ignored.html',
  'gpc-not-shown': '/gpc-silent.html',
  'gpc-not-recorded': '/gpc-not-recorded.html',
  fingerprinting: '/fingerprinting.html',
  keylogging: '/keylogger.html',
  'personal-data-in-url': '/articles/health-condition.html',
};
/** Pages built to be clean: no rule may fire on them. */
const CLEAN = [
  '/clean.html',
  '/quiet.html',
  '/notice.html',
  '/gpc-honoured.html',
  '/gpc-honoured-es.html',
  '/gpc-honoured-own.html',
  '/hide-from-bots.html',
  '/other-cmp.html',
  '/no-reject.html',
  '/meta-events.html',
  '/gpc-recorded.html',
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

  it('runs Chromium’s headless shell, and says so in the report', () => {
    assert.equal(scanExecutable(), HEADLESS_SHELL);
    assert.match(result.report.tool.browser, /^Chromium headless shell \d+\.\d+\.\d+\.\d+$/);
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
    // The stack of the write: the tracker's own line and column.
    assert.match(hj.setBy?.stack?.[0] ?? '', new RegExp(`^${site.tracker}/tracker\\.js:7:\\d+$`));
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

  it('Assent in opt-out mode is judged by opt-out rules: no first-layer reject is by design', () => {
    const p = page(result.report.pages, '/no-reject.html');
    assert.deepEqual(p.banner, {
      kind: 'assent',
      cmp: 'Assent',
      rejectOnFirstLayer: false,
      acceptOnFirstLayer: true,
    });
    assert.equal(p.mode, 'opt-out');
    assert.deepEqual(summarise(p.findings), []);
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
    for (const x of [p.phases.before, p.phases.reject, p.phases.accept, p.phases.gpc]) {
      assert.match(x.screenshot?.file ?? '', /^screenshots\/\d+-(before|reject|accept|gpc)\.jpg$/);
      assert.match(x.screenshot?.sha256 ?? '', /^[0-9a-f]{64}$/);
      assert.ok(result.images.get(x.screenshot!.file!)!.length > 1000);
    }
  });

  it('renders the four report formats from the same result', () => {
    const json = JSON.parse(toJson(result.report));
    assert.equal(json.schemaVersion, 1);
    assert.equal(json.pages.length, PATHS.length);
    const md = toMarkdown(result.report);
    assert.match(md, /^# Assent scan: FAIL, \d+ violation\(s\)/);
    // No emoji: reports must read the same without an emoji font.
    assert.doesNotMatch(md, /[\u{1F300}-\u{1FAFF}\u2705\u274C\u26A0]/u);
    assert.match(md, /`reject-ineffective`/);
    const html = toHtml(result.report, result.images);
    assert.match(html, /<h3>2\. After clicking “Reject”<\/h3>/);
    assert.match(html, /data:image\/jpeg;base64,/);
    assert.match(html, /Hotjar/);
    assert.doesNotMatch(html, /<script/);
    assert.doesNotMatch(html, /[\u{1F300}-\u{1FAFF}\u2705\u274C\u26A0]/u);
    const junit = toJUnit(result.report);
    // One test case per rule of the registry per page.
    assert.match(
      junit,
      new RegExp(
        `<testsuites name="assent-scan" tests="${PATHS.length * REGISTRY.length}" failures="\\d+" errors="0"`,
      ),
    );
    assert.match(junit, /name="reject-ineffective" file="Reject does not work"><failure/);
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

describe('the rule registry, against the fixtures', () => {
  it('names a triggering fixture for every rule, and nothing else', () => {
    assert.deepEqual(Object.keys(TRIGGERS).sort(), [...RULES].sort());
  });

  for (const [rule, path] of Object.entries(TRIGGERS)) {
    it(`${rule} is triggered by ${path}`, () => {
      const p = page(result.report.pages, path);
      assert.ok(
        p.findings.some((f) => f.rule === rule),
        `${path}: ${summarise(p.findings).join('; ') || 'no findings'}`,
      );
    });
  }

  for (const path of CLEAN) {
    it(`${path} is clean: no rule fires`, () => {
      assert.deepEqual(summarise(page(result.report.pages, path).findings), []);
    });
  }
});

describe('what the new detectors and phases see', () => {
  it('an embed’s third-party cookies are in the inventory, as a default browser profile keeps them', () => {
    const p = page(result.report.pages, '/embed.html');
    assert.deepEqual(summarise(p.findings), [
      'cookie-after-reject reject VISITOR_INFO1_LIVE',
      'cookie-after-reject reject YSC',
      'cookie-before-consent before VISITOR_INFO1_LIVE',
      'cookie-before-consent before YSC',
      'request-after-reject reject https://www.youtube.com:PORT/embed/abc',
      'request-before-consent before https://www.youtube.com:PORT/embed/abc',
    ]);
    const ysc = p.phases.before.cookies.find((c) => c.name === 'YSC')!;
    assert.deepEqual(
      [ysc.domain, ysc.classification.party, ysc.classification.tracker?.key],
      ['www.youtube.com', 'third', 'youtube'],
    );
    assert.equal(ysc.setBy?.via, 'response');
  });

  it('a script’s image beacon is credited to the script, and its http → https hop counts once', () => {
    const p = page(result.report.pages, '/beacon.html');
    const beacons = p.phases.before.thirdPartyRequests.filter((q) => q.url.includes('/beacon.gif'));
    assert.equal(beacons.length, 1);
    assert.deepEqual(beacons[0]!.initiator, { type: 'script', url: `${site.third}/pixel-tag.js` });
    assert.match(beacons[0]!.redirectedTo ?? '', /^https:\/\/127\.0\.0\.2:\d+\/beacon\.gif\?/);
    assert.deepEqual(summarise(p.findings.filter((f) => f.phase === 'before')), [
      `request-before-consent before ${beacons[0]!.url.replace(/:\d+\//, ':PORT/')}`,
      'request-before-consent before http://127.0.0.2:PORT/pixel-tag.js',
    ]);
    assert.match(
      p.findings.find((f) => f.subject.name.includes('beacon'))!.message,
      /sent by http:\/\/127\.0\.0\.2:\d+\/pixel-tag\.js/,
    );
  });

  it('a fingerprinting vendor is flagged although the tracker database files it under utilities', () => {
    const p = page(result.report.pages, '/fingerprint.html');
    const f = p.findings.find((x) => x.rule === 'request-before-consent')!;
    assert.equal(f.tracker?.category, 'utilities');
    assert.equal(f.kind, 'tracker');
    assert.match(f.message, /fingerprinting vendor/);
  });

  it('after accept, a script held with another CMP’s markup stays held: accept-ineffective', () => {
    const p = page(result.report.pages, '/accept-broken.html');
    assert.deepEqual(summarise(p.findings), [
      'accept-ineffective accept script analytics http://static.hotjar.com:PORT/tracker.js',
    ]);
  });

  it('a refusal kept on a reload but forgotten on the next page is reject-ineffective', () => {
    const p = page(result.report.pages, '/persist/page.html');
    assert.deepEqual(summarise(p.findings), ['reject-ineffective reject configured selectors']);
    assert.deepEqual(p.phases.reject.secondPage, {
      url: `${site.site}/quiet-banner.html`,
      bannerShown: true,
    });
    assert.match(p.phases.reject.choice?.note ?? '', /came back on the next page/);
    // The refusals that hold pass the same check.
    assert.equal(page(result.report.pages, '/clean.html').phases.reject.secondPage?.bannerShown, false);
  });

  it('a banner that hides from automation (hideFromBots) is audited as visitors see it, not passed unseen', () => {
    const p = page(result.report.pages, '/hide-from-bots.html');
    assert.equal(p.phases.reject.choice?.clicked, true, 'the banner was there to refuse');
    assert.equal(p.phases.accept.choice?.clicked, true, 'and to accept');
  });

  it('notice mode: no reject is expected and the acknowledged notice is not consent', () => {
    const p = page(result.report.pages, '/notice.html');
    assert.equal(p.mode, 'notice');
    assert.equal(p.phases.reject.choice?.clicked, false);
    assert.equal(p.phases.accept.choice?.clicked, true);
  });

  it('the GPC visit sends the header and the property; opt-out pages are judged on it', () => {
    for (const path of ['/gpc-honoured.html', '/gpc-ignored.html', '/gpc-silent.html']) {
      const p = page(result.report.pages, path);
      assert.equal(p.mode, 'opt-out', path);
      assert.equal(p.phases.gpc.gpc?.headerSent, true, path);
      assert.equal(p.phases.gpc.gpc?.navigatorFlag, true, path);
    }
    assert.equal(
      page(result.report.pages, '/gpc-honoured.html').phases.gpc.gpc?.displayed,
      'Opt-out request honored',
    );
    // In the banner's other languages too (core's presets): no false gpc-not-shown.
    assert.equal(
      page(result.report.pages, '/gpc-honoured-es.html').phases.gpc.gpc?.displayed,
      'Solicitud de exclusión respetada',
    );
    // And in the site's own words (its texts.gpcHonored): Assent's status element says it.
    assert.equal(
      page(result.report.pages, '/gpc-honoured-own.html').phases.gpc.gpc?.displayed,
      'We stopped selling your data',
    );
    assert.deepEqual(summarise(page(result.report.pages, '/gpc-ignored.html').findings), [
      'gpc-ignored gpc http://www.facebook.com:PORT/tr?id=1&ev=PageView',
    ]);
    assert.deepEqual(summarise(page(result.report.pages, '/gpc-silent.html').findings), [
      'gpc-not-shown gpc Sec-GPC',
    ]);
    // Opt-in mode: the signal must be kept in the consent record. Assent's receipt of a reject
    // made on the GPC visit says so, unless a script hid the signal from the banner.
    const kept = page(result.report.pages, '/gpc-recorded.html');
    assert.equal(kept.mode, 'opt-in');
    assert.deepEqual(kept.phases.gpc.gpc?.recorded, { receipt: `${site.third}/v1/receipts`, gpc: true });
    const hidden = page(result.report.pages, '/gpc-not-recorded.html');
    assert.deepEqual(summarise(hidden.findings), ['gpc-not-recorded gpc Sec-GPC']);
    assert.equal(hidden.phases.gpc.gpc?.headerSent, true);
    assert.equal(hidden.phases.gpc.gpc?.navigatorFlag, false);
    assert.deepEqual(hidden.phases.gpc.gpc?.recorded, { receipt: `${site.third}/v1/receipts`, gpc: false });
    // Not checked where there is no consent record to read (the lite build keeps none).
    assert.equal(page(result.report.pages, '/clean.html').phases.gpc.gpc?.recorded, undefined);
    // The GPC visit's ad request on the honouring page never happened.
    assert.ok(!page(result.report.pages, '/gpc-honoured.html').phases.gpc.thirdPartyRequests.length);
  });
});

describe('the detectors, each naming the script behind what it found', () => {
  it('fingerprinting by the site’s own script: canvas, audio and font probing, before consent and after reject', () => {
    const p = page(result.report.pages, '/fingerprinting.html');
    const probe = `${site.site}/fp-probe.js`;
    assert.deepEqual(summarise(p.findings), [
      'fingerprinting before audio read-back http://127.0.0.1:PORT/fp-probe.js',
      'fingerprinting before canvas read-back http://127.0.0.1:PORT/fp-probe.js',
      'fingerprinting before font probing http://127.0.0.1:PORT/fp-probe.js',
      'fingerprinting reject audio read-back http://127.0.0.1:PORT/fp-probe.js',
      'fingerprinting reject canvas read-back http://127.0.0.1:PORT/fp-probe.js',
      'fingerprinting reject font probing http://127.0.0.1:PORT/fp-probe.js',
    ]);
    assert.ok(p.phases.accept.detections?.some((d) => d.detector === 'fingerprinting' && d.script === probe));
  });

  it('keylogging: fields typed into and never submitted reach a server', () => {
    const p = page(result.report.pages, '/keylogger.html');
    assert.deepEqual([...new Set(p.findings.map((f) => `${f.rule} ${f.phase}`))].sort(), [
      'keylogging accept',
      'keylogging before',
    ]);
    assert.equal(p.findings.filter((f) => f.phase === 'before').length, 2);
    assert.match(p.findings[0]!.message, /text typed into a field \(never submitted\) left the page/);
    // Both fields took their sentinel, in both visits that type: the check was made.
    assert.deepEqual(p.phases.before.sentinels, { fields: 2, typed: 2 });
    assert.deepEqual(p.phases.accept.sentinels, { fields: 2, typed: 2 });
    assert.deepEqual(p.unchecked, []);
  });

  it('pixels with their events and Google’s consent state; the article’s path and title sent to them', () => {
    const p = page(result.report.pages, '/articles/health-condition.html');
    assert.deepEqual(summarise(p.findings), [
      `personal-data-in-url accept http://www.facebook.com:PORT/tr?id=1&ev=PageView&dl=${encodeURIComponent(`${site.site}/articles/health-condition.html`)}&dt=Living%20with%20a%20chronic%20health%20condition`,
      `personal-data-in-url accept http://www.google-analytics.com:PORT/g/collect?v=2&en=page_view&gcs=G111&gcd=13t3t3t3t5l1&dl=${encodeURIComponent(`${site.site}/articles/health-condition.html`)}`,
    ]);
    const pixels = (p.phases.accept.detections ?? []).filter((d) => d.detector === 'pixel');
    // Each pixel fired twice (after the click, then after the reload): the same detection.
    assert.deepEqual(
      [...new Set(pixels.map((d) => `${d.name}|${d.detail.split(';')[0]}`))].sort().map((x) => x.split('|')),
      [
        ['Google Analytics 4', 'event page_view'],
        ['Meta Pixel', 'event PageView'],
      ],
    );
    const ga = pixels.find((d) => d.name === 'Google Analytics 4')!;
    assert.equal(ga.google?.gcs?.ad_storage, 'granted');
    assert.equal(ga.google?.gcd?.ad_personalization, 'granted');
    // A warning: reported, but not failing the scan by default.
    assert.ok(!result.report.failOn.includes('personal-data-in-url'));
  });

  it('Meta Pixel events sent from the page’s code (fbq), each credited to the calling script and line', () => {
    const p = page(result.report.pages, '/meta-events.html');
    assert.deepEqual(summarise(p.findings), []);
    const meta = (p.phases.accept.detections ?? []).filter((d) => d.name === 'Meta Pixel');
    const calls = meta.filter((d) => d.url === null);
    const sent = (ev: string) => calls.find((d) => d.detail.startsWith(`event ${ev}`))!;
    // The shop's own file, called from a function: two frames of shop.js, innermost first.
    assert.equal(sent('AddToCart').script, `${site.site}/shop.js`);
    assert.deepEqual(
      sent('AddToCart').stack?.map((f) => f.replace(site.site, '')),
      ['/shop.js:3:10', '/shop.js:5:1'],
    );
    assert.match(
      sent('AddToCart').detail,
      /fbq\('track', 'AddToCart'\) at http:\/\/127\.0\.0\.1:\d+\/shop\.js:3:10$/,
    );
    // The base code's page view: a held inline snippet runs when the banner inserts it, and
    // inline code inserted by a script has no URL of its own, so its first script frame is
    // the banner's.
    assert.equal(sent('PageView').script, `${site.site}/assent.min.js`);
    // The requests to facebook.com/tr carry the same events, sent by Meta's library.
    assert.deepEqual(
      [
        ...new Set(meta.filter((d) => d.url).map((d) => `${d.detail} ${d.script?.replace(/:\d+/, '')}`)),
      ].sort(),
      ['event AddToCart http://127.0.0.2/fbevents.js', 'event PageView http://127.0.0.2/fbevents.js'],
    );
    // Nothing before consent: the snippet and the shop's call were held.
    assert.deepEqual(p.phases.before.detections, []);
  });

  it('session replay is named when the recorder loads (Hotjar, after accept on the clean page)', () => {
    const p = page(result.report.pages, '/clean.html');
    assert.deepEqual(
      (p.phases.accept.detections ?? []).filter((d) => d.detector === 'session-replay').map((d) => d.name),
      ['Hotjar'],
    );
    assert.deepEqual(p.phases.before.detections, []);
  });
});

describe('the banner as a regulator looks at it', () => {
  it('reject as a faint small link beside a big accept button', () => {
    const p = page(result.report.pages, '/unequal-buttons.html');
    assert.deepEqual(summarise(p.findings), ['reject-less-prominent before configured selectors']);
    assert.match(p.findings[0]!.message, /smaller .*lighter text .*fainter text/);
    // Another CMP's second layer is not opened: that rule says it was not checked.
    assert.deepEqual(
      p.unchecked.map((u) => u.rule),
      ['pre-ticked-choices'],
    );
    assert.match(p.unchecked[0]!.reason, /only Assent's second layer is inspected/);
  });

  it('Assent’s own first layer: reject and accept equal, one interface, nothing pre-ticked', () => {
    const d = page(result.report.pages, '/clean.html').phases.before.bannerDesign;
    assert.ok(d?.buttons, 'both buttons measured');
    assert.deepEqual(d.interfaces, ['#assent-banner']);
    assert.deepEqual(d.preTicked, []);
    assert.equal(d.secondLayerNotInspected, null);
    assert.deepEqual(page(result.report.pages, '/clean.html').unchecked, []);
  });

  it('a leftover second CMP and boxes ticked in advance', () => {
    assert.deepEqual(summarise(page(result.report.pages, '/two-banners.html').findings), [
      'multiple-consent-interfaces before #assent-banner + .cc-window',
    ]);
    assert.deepEqual(summarise(page(result.report.pages, '/pre-ticked.html').findings), [
      'pre-ticked-choices before analytics, marketing',
    ]);
  });
});

// Scans run the headless shell (browser.ts): the same engine as Chromium without its UI. On
// the fixtures a browser could most change (third-party cookies of an embed, storage, a
// refusal kept on the next page, the GPC signal, a script run after accept), Chromium itself
// must find exactly what the shell found.
describe('Chromium finds what the headless shell finds', () => {
  const SAME = [
    '/embed.html',
    '/leaky.html',
    '/persist/page.html',
    '/gpc-ignored.html',
    '/accept-broken.html',
    '/clean.html',
  ];
  let full: ScanResult;
  before(async () => {
    const config = fixtureConfig(site.hostResolverRules);
    const browser = await launch(config.hostResolverRules, config.chromiumArgs);
    try {
      full = await scan(
        SAME.map((p) => site.site + p),
        { ...config, browser },
      );
    } finally {
      await browser.close();
    }
  });

  it('names Chromium in its report', () => {
    assert.match(full.report.tool.browser, /^Chromium \d+\.\d+\.\d+\.\d+$/);
  });

  for (const path of SAME) {
    it(`${path}: the same findings`, () => {
      assert.deepEqual(
        summarise(page(full.report.pages, path).findings),
        summarise(page(result.report.pages, path).findings),
      );
    });
  }
});
