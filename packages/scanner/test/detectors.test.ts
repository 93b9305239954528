import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detect, type SeenRequest } from '../src/detectors/detect.js';
import { decodeGcd, decodeGcs } from '../src/detectors/google-consent.js';
import type { Classification } from '../src/types.js';

const PAGE = 'https://news.example/articles/heart-disease-treatment';
const tracker = (category: string): Classification => ({
  party: 'third',
  site: 'tracker.example',
  kind: 'tracker',
  tracker: { key: 'x', name: 'X', category, organization: null },
});
const req = (url: string, o: Partial<SeenRequest> = {}): SeenRequest => ({
  url,
  postData: null,
  script: 'https://cdn.example/tag.js',
  classification: tracker('advertising'),
  at: 1000,
  ...o,
});
const none = { title: '', typedAt: null, sentinels: [], fingerprints: [] };

describe('Google consent parameters', () => {
  it('decodes gcs: ad_storage then analytics_storage', () => {
    assert.deepEqual(decodeGcs('G100'), { raw: 'G100', ad_storage: 'denied', analytics_storage: 'denied' });
    assert.deepEqual(decodeGcs('G101'), { raw: 'G101', ad_storage: 'denied', analytics_storage: 'granted' });
    assert.deepEqual(decodeGcs('G1--'), { raw: 'G1--', ad_storage: 'not set', analytics_storage: 'not set' });
    assert.equal(decodeGcs('G2xx'), null);
  });

  it('decodes gcd: four signals, default and update folded into the final state', () => {
    assert.deepEqual(decodeGcd('13r3p3m2v5l1'), {
      raw: '13r3p3m2v5l1',
      ad_storage: 'granted', // denied by default, granted by update
      analytics_storage: 'denied',
      ad_user_data: 'denied',
      ad_personalization: 'granted',
    });
    assert.equal(decodeGcd('garbage'), null);
  });
});

describe('detect()', () => {
  it('names a Meta pixel’s event and a GA4 hit’s consent state', () => {
    const d = detect({
      ...none,
      pageUrl: PAGE,
      requests: [
        req('https://www.facebook.com/tr?id=1&ev=Purchase'),
        req('https://region1.google-analytics.com/g/collect?v=2&gcs=G100', {
          postData: 'en=page_view',
          classification: tracker('site_analytics'),
        }),
      ],
    });
    assert.deepEqual(
      d.filter((x) => x.detector === 'pixel').map((x) => [x.name, x.detail]),
      [
        ['Meta Pixel', 'event Purchase'],
        [
          'Google Analytics 4',
          'event page_view; consent sent to Google: ad_storage denied, analytics_storage denied (gcs=G100)',
        ],
      ],
    );
  });

  it('finds the page’s path, its title and e-mail addresses in third-party requests only', () => {
    const d = detect({
      ...none,
      title: 'Heart disease: the new treatment',
      pageUrl: PAGE,
      requests: [
        req(`https://ads.example/p?u=${encodeURIComponent(PAGE)}&t=Heart+disease%3A+the+new+treatment`),
        req('https://ads.example/q?e=jane.doe%40mail.example'),
        req(`https://news.example/log?u=${encodeURIComponent(PAGE)}`, {
          classification: { party: 'first', site: 'news.example', kind: 'first-party', tracker: null },
        }),
      ],
    }).filter((x) => x.detector === 'personal-data-in-url');
    assert.deepEqual(
      d.map((x) => x.detail),
      [
        'carries the page’s path and the page’s title to a third party',
        'carries an e-mail address to a third party',
      ],
    );
  });

  it('keylogging: a sentinel after typing, not before', () => {
    const d = detect({
      ...none,
      pageUrl: PAGE,
      typedAt: 2000,
      sentinels: ['assentkeyabc'],
      requests: [
        req('https://t.example/k?v=assentkeyabc', { at: 1500 }),
        req('https://t.example/k', { at: 2500, postData: '{"v":"assentkeyabc"}' }),
      ],
    }).filter((x) => x.detector === 'keylogging');
    assert.deepEqual(
      d.map((x) => x.url),
      ['https://t.example/k'],
    );
  });

  it('session replay once per vendor, fingerprinting once per technique and script', () => {
    const d = detect({
      ...none,
      pageUrl: PAGE,
      requests: [req('https://www.clarity.ms/tag/abc'), req('https://x.clarity.ms/collect')],
      fingerprints: [
        { name: 'canvas read-back', script: 'https://fp.example/a.js' },
        { name: 'canvas read-back', script: 'https://fp.example/a.js' },
      ],
    });
    assert.deepEqual(
      d.map((x) => `${x.detector} ${x.name}`),
      ['session-replay Microsoft Clarity', 'fingerprinting canvas read-back'],
    );
  });

  it('an fbq event from the page’s code is a pixel detection credited to its caller, once per call site', () => {
    const call = {
      vendor: 'Meta Pixel',
      call: "fbq('track', 'Purchase')",
      event: 'Purchase',
      script: 'https://shop.example/checkout.js',
      stack: ['https://shop.example/checkout.js:12:5', 'https://shop.example/checkout.js:40:1'],
    };
    const d = detect({ ...none, pageUrl: PAGE, requests: [], calls: [call, call] });
    assert.deepEqual(d, [
      {
        detector: 'pixel',
        name: 'Meta Pixel',
        script: 'https://shop.example/checkout.js',
        url: null,
        detail:
          "event Purchase, sent from the page’s code: fbq('track', 'Purchase') at https://shop.example/checkout.js:12:5",
        stack: call.stack,
      },
    ]);
  });
});
