import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createClassifier, siteOf } from '../src/classify.js';
import { DEFAULT_CONFIG, parseScanConfig } from '../src/config.js';
import { requestedDays } from '../src/recorder.js';
import { consentCookies, findingsFor } from '../src/rules.js';
import { loadTrackerDb } from '../src/trackerdb.js';
import type { BannerInfo, Classification, CookieRecord, PhaseRecord, RequestRecord } from '../src/types.js';

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
    name === 'before' ? null : { method: 'assent', clicked: true, effective: true, clicks: 1, note: null },
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

describe('rules', () => {
  it('after reject, only requests sent after the click count', () => {
    const phases = {
      before: phase('before'),
      reject: phase('reject', {
        thirdPartyRequests: [
          request('https://t.example/a.js', false),
          request('https://t.example/b.js', true),
        ],
      }),
      accept: phase('accept', { thirdPartyRequests: [request('https://t.example/c.js', true)] }),
    };
    const f = findingsFor(
      PAGE,
      ASSENT,
      phases,
      consentCookies(phases, 'assent', DEFAULT_CONFIG),
      DEFAULT_CONFIG,
    );
    assert.deepEqual(
      f.map((x) => `${x.rule} ${x.subject.name}`),
      ['request-after-reject https://t.example/b.js'],
    );
  });

  it('a new first-party cookie after reject is the consent record; 13 months is the limit', () => {
    const phases = {
      before: phase('before'),
      reject: phase('reject', { cookies: [cookie('cc_choice', 'first-party', 396)] }),
      accept: phase('accept', { cookies: [cookie('cc_choice', 'first-party', 395)] }),
    };
    const cc = consentCookies(phases, null, DEFAULT_CONFIG);
    assert.deepEqual([...cc.names], ['cc_choice']);
    const f = findingsFor(PAGE, ASSENT, phases, cc, DEFAULT_CONFIG);
    assert.deepEqual(
      f.map((x) => `${x.rule} ${x.phase}`),
      ['consent-cookie-too-long reject'],
    );
  });

  it('a banner without reject on the first layer, and a missing banner', () => {
    const phases = { before: phase('before'), reject: phase('reject'), accept: phase('accept') };
    const cc = consentCookies(phases, null, DEFAULT_CONFIG);
    const noReject = findingsFor(PAGE, { ...ASSENT, rejectOnFirstLayer: false }, phases, cc, DEFAULT_CONFIG);
    assert.deepEqual(
      noReject.map((x) => x.rule),
      ['reject-missing'],
    );
    const none = findingsFor(
      PAGE,
      { kind: 'none', cmp: null, rejectOnFirstLayer: null, acceptOnFirstLayer: null },
      phases,
      cc,
      DEFAULT_CONFIG,
    );
    assert.deepEqual(
      none.map((x) => x.rule),
      ['banner-missing'],
    );
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
    const phases = {
      before: phase('before', {
        cookies: [{ ...cookie('ab_bucket', 'unknown-third-party') }, cookie('x_id', 'tracker')],
      }),
      reject: phase('reject'),
      accept: phase('accept'),
    };
    const f = findingsFor(PAGE, ASSENT, phases, consentCookies(phases, null, config), config);
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
    });
    assert.deepEqual(errors, [
      'allow[0].rule: unknown rule "nope" (known: banner-missing, reject-missing, reject-ineffective, cookie-before-consent, cookie-after-reject, storage-before-consent, storage-after-reject, request-before-consent, request-after-reject, consent-cookie-too-long)',
      'bannerTimeout: must be milliseconds from 0 to 300000',
      'selectors: must be {"banner": "css", "accept"?: "css", "reject"?: "css"}',
    ]);
  });
});
