import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createClassifier, judgedByWriter, siteOf } from '../src/classify.js';
import { DEFAULT_CONFIG, parseScanConfig, RULES } from '../src/config.js';
import { requestedDays } from '../src/recorder.js';
import { toHtml, toJUnit, toMarkdown } from '../src/reports/index.js';
import { consentCookies, DEFAULT_FAIL_ON, findingsFor, REGISTRY, uncheckedFor } from '../src/rules/index.js';
import { loadTrackerDb } from '../src/trackerdb.js';
import type {
  BannerInfo,
  Classification,
  CookieRecord,
  PageResult,
  PhaseRecord,
  RequestRecord,
  ScanReport,
  SiteMode,
} from '../src/types.js';

const PAGE = 'https://news.example.co.uk/article';

describe('first or third party', () => {
  it('compares registrable domains from the Public Suffix List', () => {
    assert.equal(siteOf('a.example.co.uk'), 'example.co.uk');
    assert.equal(siteOf('b.example.co.uk'), 'example.co.uk');
    assert.equal(siteOf('127.0.0.1'), '127.0.0.1');
    assert.equal(siteOf('localhost'), 'localhost');
    const c = createClassifier(null);
    assert.equal(c.url('https://cdn.example.co.uk/x.js', PAGE).party, 'first');
    assert.equal(c.url('https://other.co.uk/x.js', PAGE).party, 'third');
    assert.equal(c.url('http://127.0.0.2:8080/p.gif', 'http://127.0.0.1:8080/').party, 'third');
    assert.equal(c.url('http://localhost:8080/p.gif', 'http://127.0.0.1:8080/').party, 'third');
  });

  it('without the tracker database every third party is an unknown third party', () => {
    const c = createClassifier(null).url('https://www.google-analytics.com/g/collect', PAGE);
    assert.deepEqual(c, {
      party: 'third',
      site: 'google-analytics.com',
      kind: 'unknown-third-party',
      tracker: null,
    });
  });

  it('with it, trackers are named and functional third parties are not flagged', async () => {
    const c = createClassifier(await loadTrackerDb(), ['*.myshop-cdn.net']);
    const ga = c.url('https://www.google-analytics.com/g/collect', PAGE, 'ping');
    assert.equal(ga.kind, 'tracker');
    assert.deepEqual(ga.tracker, {
      key: 'google_analytics',
      name: 'Google Analytics',
      category: 'site_analytics',
      organization: 'Google',
    });
    assert.equal(c.url('https://cdn.jsdelivr.net/npm/x.js', PAGE).kind, 'functional');
    assert.equal(c.url('https://img.myshop-cdn.net/a.png', PAGE, 'image').kind, 'allowed');
    assert.equal(c.url('https://unheard-of.example/a.js', PAGE).kind, 'unknown-third-party');
  });

  it('the same tag is the same tracker on any port: the database is asked without it', async () => {
    const c = createClassifier(await loadTrackerDb());
    const page = 'http://127.0.0.1:47813/shop.html';
    for (const url of [
      'https://www.googletagmanager.com/gtm.js?id=GTM-X',
      'https://www.googletagmanager.com/gtag/js?id=G-1',
      'https://static.hotjar.com/c/hotjar.js',
    ]) {
      const on = (port: string) => {
        const u = new URL(url);
        u.port = port;
        return c.url(u.href, page);
      };
      assert.deepEqual(on('8080'), on(''), url);
    }
    assert.equal(
      c.url('http://www.googletagmanager.com:8080/gtm.js?id=GTM-X', page).tracker?.key,
      'google_tag_manager',
    );
  });

  it('a write by a tag manager (a "utilities" script) is an unknown third party, not functional', async () => {
    const c = createClassifier(await loadTrackerDb());
    const page = 'https://shop.example/';
    const jar = c.domainParty('shop.example', page);
    const gtm = c.url('https://www.googletagmanager.com/gtm.js?id=GTM-X', page);
    assert.equal(gtm.kind, 'functional');
    const gcl = judgedByWriter(jar, gtm);
    assert.deepEqual(
      [gcl.party, gcl.site, gcl.kind, gcl.tracker?.name],
      ['first', 'shop.example', 'unknown-third-party', 'Google Tag Manager'],
    );
    // A tracker's write stays the tracker's; the site's own, the site's.
    assert.equal(judgedByWriter(jar, c.url('https://static.hotjar.com/c/hotjar.js', page)).kind, 'tracker');
    assert.equal(judgedByWriter(jar, c.url('https://shop.example/app.js', page)).kind, 'first-party');
  });

  it('a fingerprinting vendor needs consent although the database files it under utilities', async () => {
    const c = createClassifier(await loadTrackerDb());
    const fp = c.url('https://fpnpmcdn.net/v3/abc/loader.js', PAGE);
    assert.equal(fp.tracker?.category, 'utilities');
    assert.equal(fp.kind, 'tracker');
    assert.equal(fp.fingerprinter, true);
    // A vendor the database does not know is named from the data file.
    const c2 = createClassifier(null).url('https://fpjs.io/x.js', PAGE);
    assert.deepEqual(
      [c2.kind, c2.tracker?.name, c2.fingerprinter],
      ['tracker', 'Fingerprint (Fingerprint Pro)', true],
    );
  });
});

describe('cookie lifetimes', () => {
  it('reads Max-Age before Expires, in days', () => {
    assert.equal(requestedDays('path=/; max-age=34560000'), 400);
    assert.equal(requestedDays(' Expires=Thu, 01 Jan 2037 00:00:00 GMT', Date.UTC(2036, 0, 1)), 366);
    assert.equal(requestedDays('path=/'), null);
  });
});

const cls = (kind: Classification['kind'], party: Classification['party'] = 'first'): Classification => ({
  party,
  site: party === 'first' ? 'example.co.uk' : 'tracker.example',
  kind,
  tracker: null,
});
const cookie = (
  name: string,
  kind: Classification['kind'],
  lifetimeDays: number | null = 30,
): CookieRecord => ({
  name,
  domain: 'news.example.co.uk',
  path: '/',
  expires: null,
  lifetimeDays,
  requestedLifetimeDays: null,
  httpOnly: false,
  secure: true,
  sameSite: 'Lax',
  setBy: null,
  classification: cls(kind),
});
const request = (url: string, afterChoice: boolean): RequestRecord => ({
  url,
  method: 'GET',
  type: 'script',
  initiator: null,
  afterChoice,
  classification: cls('unknown-third-party', 'third'),
});
const phase = (name: PhaseRecord['name'], o: Partial<PhaseRecord> = {}): PhaseRecord => ({
  name,
  url: PAGE,
  durationMs: 1,
  choice:
    name === 'before' || name === 'gpc'
      ? null
      : { method: 'assent', clicked: true, effective: true, clicks: 1, note: null },
  cookies: [],
  storage: [],
  thirdPartyRequests: [],
  firstPartyRequestCount: 1,
  screenshot: null,
  ...o,
});
const ASSENT: BannerInfo = {
  kind: 'assent',
  cmp: 'Assent',
  rejectOnFirstLayer: true,
  acceptOnFirstLayer: true,
};

/** The four phases, empty unless given. */
const phasesOf = (o: Partial<PageResult['phases']> = {}): PageResult['phases'] => ({
  before: phase('before'),
  reject: phase('reject'),
  accept: phase('accept'),
  gpc: phase('gpc'),
  ...o,
});
const run = (
  phases: PageResult['phases'],
  banner: BannerInfo = ASSENT,
  mode: SiteMode = 'opt-in',
  config = DEFAULT_CONFIG,
  cc = consentCookies(phases, 'assent', config),
) => findingsFor(PAGE, { banner, mode, phases, cc }, config);

/** A one-page report of `phases` as the scan writes it, for the report renderers. */
const reportOf = (
  phases: PageResult['phases'],
  findings: PageResult['findings'],
  unchecked: PageResult['unchecked'],
  failOn: ScanReport['failOn'],
  { violations, exitCode }: Pick<ScanReport['summary'], 'violations' | 'exitCode'>,
): ScanReport => ({
  schemaVersion: 1,
  tool: { name: 'assent-scan', version: '0', browser: '', trackerDb: { enabled: false, licence: null } },
  startedAt: '',
  finishedAt: '',
  durationMs: 0,
  failOn,
  summary: { pages: 1, violations, allowed: 0, errors: 0, exitCode },
  pages: [
    {
      url: PAGE,
      finalUrl: PAGE,
      title: '',
      durationMs: 0,
      banner: ASSENT,
      mode: 'opt-in',
      phases,
      findings,
      unchecked,
    },
  ],
  errors: [],
});

describe('rules', () => {
  it('after reject, only requests sent after the click count; those sent before it are before consent', () => {
    const phases = phasesOf({
      reject: phase('reject', {
        thirdPartyRequests: [
          request('https://t.example/a.js', false),
          request('https://t.example/b.js', true),
        ],
      }),
      accept: phase('accept', { thirdPartyRequests: [request('https://t.example/c.js', true)] }),
    });
    const f = run(phases);
    // a.js left after the before record was taken (a tag fired by the banner's inspection),
    // yet before the click: no choice had been made.
    assert.deepEqual(
      f.map((x) => `${x.rule} ${x.phase} ${x.subject.name}`),
      [
        'request-before-consent before https://t.example/a.js',
        'request-after-reject reject https://t.example/b.js',
      ],
    );
  });

  it('after reject, a cookie, key or fingerprint from before the click is not the reject’s', () => {
    const fp = {
      detector: 'fingerprinting' as const,
      name: 'canvas read-back',
      script: 'https://t.example/fp.js',
      url: null,
      detail: 'canvas read-back by https://t.example/fp.js',
    };
    const early = { ...cookie('_t', 'tracker'), afterChoice: false };
    const phases = phasesOf({
      before: phase('before', { cookies: [early], detections: [{ ...fp, afterChoice: false }] }),
      reject: phase('reject', {
        cookies: [early, { ...cookie('_late', 'tracker'), afterChoice: true }],
        detections: [{ ...fp, afterChoice: false }],
      }),
    });
    // Opt-out: what ran before the opt-out was allowed; only what came after the click counts.
    assert.deepEqual(
      run(phases, ASSENT, 'opt-out').map((x) => `${x.rule} ${x.phase} ${x.subject.name}`),
      ['cookie-after-reject reject _late'],
    );
  });

  it("another CMP's reject made through its API (0 clicks) leaves reject-missing not checked; one click is on the first layer, more are not", () => {
    const other = (rejectOnFirstLayer: boolean | null): BannerInfo => ({
      kind: 'autoconsent',
      cmp: 'Cybotcookiebot',
      rejectOnFirstLayer,
      acceptOnFirstLayer: null,
    });
    const made = (clicks: number | null) =>
      phasesOf({
        reject: phase('reject', {
          choice: { method: 'autoconsent', clicked: true, effective: true, clicks, note: null },
        }),
      });
    const ctx = (clicks: number | null, first: boolean | null) => {
      const phases = made(clicks);
      return {
        banner: other(first),
        mode: 'opt-in' as const,
        phases,
        cc: consentCookies(phases, null, DEFAULT_CONFIG),
      };
    };
    const missing = (c: ReturnType<typeof ctx>) =>
      uncheckedFor(c).find((u) => u.rule === 'reject-missing')?.reason;
    assert.equal(missing(ctx(0, null)), "reject made through the CMP's API, not a control");
    assert.match(missing(ctx(null, null)) ?? '', /did not count the clicks/);
    assert.equal(missing(ctx(1, true)), undefined);
    assert.deepEqual(
      run(made(2), other(false)).map((x) => x.rule),
      ['reject-missing'],
    );
    assert.deepEqual(run(made(0), other(null)), []);
  });

  it('no banner found: the after-reject rules and accept-ineffective are not checked', () => {
    const none = {
      method: 'none' as const,
      clicked: false,
      effective: null,
      clicks: null,
      note: 'the banner did not show this time',
    };
    const phases = phasesOf({
      reject: phase('reject', { choice: none }),
      accept: phase('accept', { choice: none }),
    });
    const NONE: BannerInfo = { kind: 'none', cmp: null, rejectOnFirstLayer: null, acceptOnFirstLayer: null };
    const ctx = {
      banner: NONE,
      mode: 'opt-in' as const,
      phases,
      cc: consentCookies(phases, null, DEFAULT_CONFIG),
    };
    assert.deepEqual(
      uncheckedFor(ctx).map((u) => `${u.rule}: ${u.reason}`),
      [
        'reject-ineffective',
        'accept-ineffective',
        'cookie-after-reject',
        'storage-after-reject',
        'request-after-reject',
      ].map((r) => `${r}: no banner found`),
    );
    // A notice asks nothing: nothing to refuse or accept.
    assert.deepEqual(uncheckedFor({ ...ctx, mode: 'notice' }), []);
  });

  it('an accept that did not take leaves accept-ineffective and keylogging after accept not checked, and finds nothing', () => {
    const forgotten = {
      method: 'selectors' as const,
      clicked: true,
      effective: false,
      clicks: 1,
      note: 'the banner came back after a reload, after a second try too: the accept did not stick',
    };
    const phases = phasesOf({
      accept: phase('accept', {
        choice: forgotten,
        heldAfterChoice: ['script analytics https://t.example/stats.js'],
        sentinels: { fields: 1, typed: 1 },
      }),
    });
    const ctx = {
      banner: ASSENT,
      mode: 'opt-in' as const,
      phases,
      cc: consentCookies(phases, 'assent', DEFAULT_CONFIG),
    };
    assert.deepEqual(run(phases), []);
    assert.deepEqual(
      uncheckedFor(ctx).map((u) => `${u.rule}: ${u.reason}`),
      [
        `accept-ineffective: accept did not take: ${forgotten.note}`,
        `keylogging: after accept: accept did not take: ${forgotten.note}`,
      ],
    );
  });

  it('a reject that was never made leaves the after-reject rules not checked, never passed', () => {
    const blocked = {
      method: 'assent' as const,
      clicked: false,
      effective: false,
      clicks: null,
      note: 'the reject control is visible but could not be clicked within 5 s (another element covers it)',
    };
    const phases = phasesOf({ reject: phase('reject', { choice: blocked }) });
    const ctx = {
      banner: ASSENT,
      mode: 'opt-in' as const,
      phases,
      cc: consentCookies(phases, 'assent', DEFAULT_CONFIG),
    };
    assert.deepEqual(
      run(phases).map((x) => `${x.rule} ${x.phase}`),
      ['reject-ineffective reject'],
    );
    assert.deepEqual(
      uncheckedFor(ctx).map((u) => `${u.rule}: ${u.reason}`),
      ['cookie-after-reject', 'storage-after-reject', 'request-after-reject'].map(
        (r) => `${r}: reject was not made: ${blocked.note}`,
      ),
    );
    // Not even shown (the dialog could not be left): no finding, and still not checked.
    const none = { ...blocked, effective: null, note: 'no reject control, not even in the preferences' };
    const unmade = phasesOf({ reject: phase('reject', { choice: none }) });
    assert.deepEqual(
      uncheckedFor({ ...ctx, phases: unmade }).map((u) => u.rule),
      ['reject-ineffective', 'cookie-after-reject', 'storage-after-reject', 'request-after-reject'],
    );
  });

  it("Assent's cookie is its record: a new cookie after its reject, or one the config declares, is not another CMP's", () => {
    const phases = phasesOf({
      reject: phase('reject', {
        cookies: [{ ...cookie('_pk_id.1.1fff', 'first-party', 390), writtenAtChoice: true }],
      }),
    });
    assert.deepEqual([...consentCookies(phases, 'assent', DEFAULT_CONFIG).names], ['assent']);
    assert.deepEqual(
      [...consentCookies(phases, null, DEFAULT_CONFIG, { '_pk_id*': 'analytics:matomo' }).names],
      [],
    );
    assert.deepEqual([...consentCookies(phases, null, DEFAULT_CONFIG).names], ['_pk_id.1.1fff']);
  });

  it('a first-party cookie a script wrote between the reject click and the reload is the consent record; 13 months is the limit', () => {
    const phases = phasesOf({
      reject: phase('reject', {
        cookies: [{ ...cookie('cc_choice', 'first-party', 396), writtenAtChoice: true }],
      }),
      accept: phase('accept', { cookies: [cookie('cc_choice', 'first-party', 395)] }),
    });
    const cc = consentCookies(phases, null, DEFAULT_CONFIG);
    assert.deepEqual([...cc.names], ['cc_choice']);
    const f = run(phases, ASSENT, 'opt-in', DEFAULT_CONFIG, cc);
    assert.deepEqual(
      f.map((x) => `${x.rule} ${x.phase}`),
      ['consent-cookie-too-long reject'],
    );
  });

  it('a new cookie after reject that no script wrote at the click (the server set it on the reload) is not the consent record', () => {
    const abBucket: CookieRecord = {
      ...cookie('ab_bucket', 'first-party', 730),
      setBy: { via: 'response', url: `${PAGE}?reloaded` },
      afterChoice: true,
    };
    const phases = phasesOf({
      reject: phase('reject', {
        cookies: [abBucket, { ...cookie('cc_choice', 'first-party', 180), writtenAtChoice: true }],
      }),
    });
    const cc = consentCookies(phases, null, DEFAULT_CONFIG);
    assert.deepEqual([...cc.names], ['cc_choice']);
    assert.deepEqual(run(phases, ASSENT, 'opt-in', DEFAULT_CONFIG, cc), []);
    // The cookie the CMP's autoconsent rule tests for is its record however it was written.
    const cmp: CookieRecord = { ...cookie('cmp_status', 'first-party', 365), setBy: abBucket.setBy };
    const withRule = phasesOf({
      reject: phase('reject', { cookies: [...phases.reject.cookies, cmp] }),
    });
    const named = consentCookies(withRule, null, DEFAULT_CONFIG, {}, [], ['cmp_status', 'not_in_jar']);
    assert.deepEqual([...named.names].sort(), ['cc_choice', 'cmp_status']);
  });

  it('a banner without reject on the first layer is a finding in opt-in mode only', () => {
    const phases = phasesOf();
    const noReject = { ...ASSENT, rejectOnFirstLayer: false };
    assert.deepEqual(
      run(phases, noReject).map((x) => x.rule),
      ['reject-missing'],
    );
    assert.deepEqual(run(phases, noReject, 'notice'), []);
    assert.deepEqual(run(phases, noReject, 'opt-out'), []);
  });

  it('a missing banner is a finding only when the page does something that needs consent', () => {
    const none: BannerInfo = { kind: 'none', cmp: null, rejectOnFirstLayer: null, acceptOnFirstLayer: null };
    const quiet = phasesOf({ before: phase('before', { cookies: [cookie('session', 'first-party')] }) });
    assert.deepEqual(run(quiet, none), []);
    const busy = phasesOf({
      before: phase('before', { thirdPartyRequests: [request('https://t.example/p.gif', false)] }),
    });
    assert.deepEqual(
      run(busy, none).map((x) => x.rule),
      ['banner-missing', 'request-before-consent'],
    );
  });

  it('after accept, an element still held is accept-ineffective', () => {
    const phases = phasesOf({
      accept: phase('accept', { heldAfterChoice: ['script stats https://t.example/stats.js'] }),
    });
    assert.deepEqual(
      run(phases).map((x) => `${x.rule} ${x.phase} ${x.subject.type} ${x.subject.name}`),
      ['accept-ineffective accept element script stats https://t.example/stats.js'],
    );
    assert.deepEqual(run(phases, ASSENT, 'notice'), []);
  });

  it('notice mode: what runs after the notice is acknowledged is granted, as core decides', () => {
    const phases = phasesOf({
      reject: phase('reject', {
        choice: { method: 'assent', clicked: false, effective: null, clicks: null, note: 'notice mode' },
      }),
      accept: phase('accept', {
        cookies: [cookie('_t', 'tracker')],
        thirdPartyRequests: [
          request('https://t.example/early.js', false),
          request('https://t.example/late.js', true),
        ],
      }),
    });
    // Core's decide() grants every category on a notice's acknowledgement (notice-ack).
    assert.deepEqual(
      run(phases, ASSENT, 'notice').map((x) => `${x.rule} ${x.phase} ${x.subject.name}`),
      [],
    );
    // What ran before the acknowledgement is still before consent.
    const early = phasesOf({ ...phases, before: phase('before', { cookies: [cookie('_t', 'tracker')] }) });
    assert.deepEqual(
      run(early, ASSENT, 'notice').map((x) => `${x.rule} ${x.phase} ${x.subject.name}`),
      ['cookie-before-consent before _t'],
    );
  });

  it('opt-out mode: trackers before a choice are allowed; GPC must stop advertising and be shown', () => {
    const ads: Classification = {
      party: 'third',
      site: 'ads.example',
      kind: 'tracker',
      tracker: { key: 'ads', name: 'Ads', category: 'advertising', organization: null },
    };
    const stats: Classification = { ...ads, tracker: { ...ads.tracker!, category: 'site_analytics' } };
    const phases = phasesOf({
      before: phase('before', {
        thirdPartyRequests: [{ ...request('https://ads.example/px', false), classification: ads }],
      }),
      gpc: phase('gpc', {
        thirdPartyRequests: [
          { ...request('https://ads.example/px', false), classification: ads },
          { ...request('https://stats.example/hit', false), classification: stats },
        ],
        gpc: { headerSent: true, navigatorFlag: true, displayed: null },
      }),
    });
    assert.deepEqual(
      run(phases, ASSENT, 'opt-out').map((x) => `${x.rule} ${x.phase} ${x.subject.name}`),
      ['gpc-ignored gpc https://ads.example/px', 'gpc-not-shown gpc Sec-GPC'],
    );
    // The same page under opt-in rules: the first visit's ad request is the finding, GPC rules do not apply.
    assert.deepEqual(
      run(phases, ASSENT, 'opt-in').map((x) => x.rule),
      ['request-before-consent'],
    );
  });

  it("GPC: a first-party cookie the site's config puts in a category GPC refuses is a finding, by core's rule", () => {
    const phases = phasesOf({
      gpc: phase('gpc', {
        cookies: [cookie('_rm', 'first-party'), cookie('_st', 'first-party')],
        gpc: { headerSent: true, navigatorFlag: true, displayed: 'Opt-out request honored' },
      }),
    });
    const declared = { _rm: 'remarketing', _st: 'analytics:stats' };
    // `remarketing` is sale/sharing for the banner because its Consent Mode map sends ad
    // signals (what the page's config gives assentConfig, through core's isSale).
    const cc = consentCookies(phases, 'assent', DEFAULT_CONFIG, declared, ['remarketing']);
    assert.deepEqual(
      run(phases, ASSENT, 'opt-out', DEFAULT_CONFIG, cc).map((x) => `${x.rule} ${x.subject.name}`),
      ['gpc-ignored _rm'],
    );
    // Without that mapping the banner keeps `remarketing` on under GPC, and so does the scan.
    const none = consentCookies(phases, 'assent', DEFAULT_CONFIG, declared, []);
    assert.deepEqual(run(phases, ASSENT, 'opt-out', DEFAULT_CONFIG, none), []);
  });

  it('the allow-list keeps a finding in the report, with its reason, without failing', () => {
    const { config, errors } = parseScanConfig({
      allow: [
        {
          rule: 'cookie-before-consent',
          match: 'ab_*',
          page: 'https://news.example.co.uk/*',
          reason: 'A/B test bucket, no identifier',
        },
      ],
    });
    assert.deepEqual(errors, []);
    const phases = phasesOf({
      before: phase('before', {
        cookies: [{ ...cookie('ab_bucket', 'unknown-third-party') }, cookie('x_id', 'tracker')],
      }),
    });
    const f = run(phases, ASSENT, 'opt-in', config, consentCookies(phases, null, config));
    assert.deepEqual(
      f.map((x) => [x.subject.name, x.allowed]),
      [
        ['ab_bucket', { reason: 'A/B test bucket, no identifier' }],
        ['x_id', null],
      ],
    );
  });

  it('a config error names the field', () => {
    const { errors } = parseScanConfig({
      allow: [{ rule: 'nope', reason: 'x' }],
      bannerTimeout: -1,
      selectors: { accept: '#a' },
      chromiumArgs: ['--ignore-certificate-errors', 'ignore', '--user-data-dir=/tmp/x'],
      mode: 'gdpr',
    });
    assert.deepEqual(errors, [
      `allow[0].rule: unknown rule "nope" (known: ${RULES.join(', ')})`,
      'bannerTimeout: must be milliseconds from 0 to 300000',
      'selectors: must be {"banner": "css", "accept"?: "css", "reject"?: "css"}',
      'chromiumArgs: "ignore" is not a Chromium flag (--name or --name=value); --user-data-dir is set by the scanner itself',
      'mode: must be one of opt-in, opt-out, notice',
    ]);
    assert.deepEqual(parseScanConfig({ chromiumArgs: ['--ignore-certificate-errors'] }).config.chromiumArgs, [
      '--ignore-certificate-errors',
    ]);
  });
});

describe('the rule registry', () => {
  it('defines each rule once, with a title, a legal reference, a reason and a severity', () => {
    assert.equal(new Set(RULES).size, REGISTRY.length);
    for (const r of REGISTRY) {
      assert.match(r.id, /^[a-z]+(-[a-z]+)*$/, r.id);
      assert.ok(r.title && r.law && r.why.length > 20, r.id);
      assert.ok(['error', 'warning'].includes(r.severity), r.id);
    }
  });

  it('derives --fail-on’s default and the JUnit cases from the registry', () => {
    assert.deepEqual(
      DEFAULT_FAIL_ON,
      REGISTRY.filter((r) => r.severity === 'error').map((r) => r.id),
    );
    const phases = phasesOf({ accept: phase('accept', { heldAfterChoice: ['script x /x.js'] }) });
    const findings = run(phases);
    const junit = toJUnit(
      reportOf(phases, findings, [], ['accept-ineffective'], { violations: 1, exitCode: 1 }),
    );
    assert.deepEqual(
      [...junit.matchAll(/<testcase [^>]*name="([a-z-]+)"/g)].map((m) => m[1]),
      [...RULES],
    );
    assert.match(junit, /name="accept-ineffective" file="Accept does not release what was held"><failure/);
  });

  it('a rule the visits could not test is reported as not checked, never passed', () => {
    const look = { width: 120, height: 40, fontSize: 16, fontWeight: 600, textContrast: 7, faceContrast: 3 };
    const buttons = { accept: look, reject: look };
    const design = (o: object) =>
      phasesOf({
        before: phase('before', { bannerDesign: { buttons, interfaces: [], preTicked: null, ...o } }),
      });
    const reason = 'the scanner could not see its preferences dialog open (10 s): Timeout 10000ms exceeded.';
    const phases = design({ secondLayerNotInspected: reason });
    const ctx = {
      banner: ASSENT,
      mode: 'opt-in' as const,
      phases,
      cc: consentCookies(phases, 'assent', DEFAULT_CONFIG),
    };
    const unchecked = uncheckedFor(ctx);
    assert.deepEqual(unchecked, [{ rule: 'pre-ticked-choices', reason }]);
    // Inspected (nothing ticked), or a mode where the rule does not apply: checked.
    const inspected = design({ preTicked: [], secondLayerNotInspected: null });
    assert.deepEqual(uncheckedFor({ ...ctx, phases: inspected }), []);
    assert.deepEqual(uncheckedFor({ ...ctx, mode: 'notice' }), []);
    // Buttons that could not both be measured: the comparison was not made.
    const unmeasured = design({ buttons: null, preTicked: [] });
    assert.deepEqual(
      uncheckedFor({ ...ctx, phases: unmeasured }).map((u) => `${u.rule}: ${u.reason}`),
      [
        'reject-less-prominent: accept and reject were not both visible on the first layer, so they could not be compared',
      ],
    );
    const other: BannerInfo = {
      kind: 'autoconsent',
      cmp: 'Cookiebot',
      rejectOnFirstLayer: true,
      acceptOnFirstLayer: true,
    };
    assert.match(
      uncheckedFor({ ...ctx, banner: other, phases: unmeasured })[0]!.reason,
      /buttons of Cookiebot are not measured \(name them with "selectors"/,
    );
    // Text fields that took no sentinel: keylogging was not checked there.
    const untyped = phasesOf({
      before: phase('before', { sentinels: { fields: 2, typed: 0 } }),
      accept: phase('accept', { sentinels: { fields: 2, typed: 0 } }),
    });
    assert.deepEqual(uncheckedFor({ ...ctx, phases: untyped }), [
      {
        rule: 'keylogging',
        reason:
          "no sentinel could be typed into the page's 2 visible text field(s) before consent or after accept",
      },
    ]);
    const typedOnce = phasesOf({ before: phase('before', { sentinels: { fields: 2, typed: 1 } }) });
    assert.deepEqual(uncheckedFor({ ...ctx, phases: typedOnce }), []);
    const report = reportOf(phases, [], unchecked, [...DEFAULT_FAIL_ON], { violations: 0, exitCode: 0 });
    const junit = toJUnit(report);
    assert.match(
      junit,
      /name="pre-ticked-choices" [^>]*><skipped message="not checked: the scanner could not see its preferences dialog open/,
    );
    assert.match(junit, /<testsuite [^>]*failures="0" errors="0" skipped="1"/);
    assert.equal(junit.match(/<skipped/g)?.length, 1);
    assert.match(toMarkdown(report), /Not checked .*\n\n- `pre-ticked-choices` — the scanner could not see/);
    assert.match(
      toHtml(report),
      /<h3>Not checked<\/h3>.*Non-essential purposes ticked in advance.*could not see its preferences dialog/s,
    );
  });
});
