import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Frontier, normalise, sitemapUrls } from '../src/crawl.js';
import { scan, toMarkdown } from '../src/index.js';
import { type FixtureSite, startFixtures } from './fixtures/server.js';

describe('crawling', () => {
  let site: FixtureSite;
  before(async () => {
    site = await startFixtures();
  });
  after(() => site?.close());

  it('--pages N takes the start page, then the sitemap, then same-origin links breadth-first', async () => {
    const { report } = await scan([`${site.site}/crawl/index.html`], {
      pages: 3,
      bannerTimeout: 200,
      hostResolverRules: site.hostResolverRules,
    });
    assert.deepEqual(report.errors, []);
    assert.deepEqual(
      report.pages.map((p) => new URL(p.url).pathname),
      ['/crawl/index.html', '/crawl/c.html', '/crawl/a.html'],
    );
    // The third-party link and the PDF were never visited.
    assert.ok(!site.thirdPartyLog.some((l) => l.includes('elsewhere')));
  });

  it('a start URL that redirects to another origin: the crawl and the sitemap go on from where it ended, and the redirect is not a third party', async () => {
    // http://127.0.0.1 → http://www.assent-redirect.test (the same server, another site):
    // as apex → www, or http → https, every link of the site is on the final origin.
    const start = `${site.site}/redirect?to=${encodeURIComponent(`${site.alias}/crawl/index.html`)}`;
    const { report } = await scan([start], {
      pages: 3,
      bannerTimeout: 200,
      hostResolverRules: site.hostResolverRules,
    });
    assert.deepEqual(report.errors, []);
    assert.deepEqual(
      report.pages.map((p) => p.finalUrl.replace(/:\d+\//, ':PORT/')),
      [
        'http://www.assent-redirect.test:PORT/crawl/index.html',
        // The final origin's sitemap, then its links.
        'http://www.assent-redirect.test:PORT/crawl/c.html',
        'http://www.assent-redirect.test:PORT/crawl/a.html',
      ],
    );
    assert.deepEqual(report.redirects, [{ url: start, origin: site.alias }]);
    // The start URL's own hop (127.0.0.1, another site than the final page) is the page
    // itself, not a request to a third party before consent.
    assert.deepEqual(
      report.pages[0]!.findings.map((f) => f.rule),
      [],
    );
    assert.ok(
      !report.pages[0]!.phases.before.thirdPartyRequests.some((q) => q.url.startsWith(site.site)),
      'the redirected document is not listed as a third-party request',
    );
    assert.match(
      toMarkdown(report),
      /redirected to http:\/\/www\.assent-redirect\.test:\d+: the crawl went on from there/,
    );
  });

  it("the sitemap is fetched through the scan's browser: its host resolver rules apply", async () => {
    // www.assent-redirect.test resolves only through hostResolverRules (Chromium's), never
    // through the system's resolver: its sitemap must still be read.
    const { report } = await scan([`${site.alias}/crawl/index.html`], {
      pages: 2,
      bannerTimeout: 200,
      hostResolverRules: site.hostResolverRules,
    });
    assert.deepEqual(report.errors, []);
    assert.deepEqual(
      report.pages.map((p) => new URL(p.url).pathname),
      ['/crawl/index.html', '/crawl/c.html'],
    );
  });

  it('query-string variants of a page are one page: parameters sorted, campaign tags dropped', () => {
    const f = new Frontier('https://a.example', 3);
    f.add('https://a.example/list?sort=asc&page=1', true);
    f.add('https://a.example/list?page=1&sort=asc');
    f.add('https://a.example/list?sort=asc&page=1&utm_source=nl&utm_medium=email');
    f.add('https://a.example/list?gclid=x&page=1&fbclid=y&sort=asc&msclkid=z');
    f.add('https://a.example/leaky');
    assert.deepEqual(
      [f.next(), f.next(), f.next()],
      ['https://a.example/list?sort=asc&page=1', 'https://a.example/leaky', undefined],
    );
    assert.equal(
      normalise('https://a.example/list?utm_campaign=c&b=2&a=1&a=0#top'),
      'https://a.example/list?a=1&a=0&b=2',
    );
    // A page's own parameters still tell pages apart.
    assert.notEqual(normalise('https://a.example/list?page=2'), normalise('https://a.example/list?page=1'));
  });

  it('reads <loc> entries from a sitemap', () => {
    const xml =
      '<urlset><url><loc> https://a.example/x?a=1&amp;b=2 </loc></url><url><loc>https://a.example/y</loc></url></urlset>';
    assert.deepEqual(sitemapUrls(xml), ['https://a.example/x?a=1&b=2', 'https://a.example/y']);
  });

  it('visits each page once, same origin only, within the budget', () => {
    const f = new Frontier('https://a.example', 2);
    f.add('https://a.example/', true);
    f.add('https://a.example/#top');
    f.add('https://b.example/');
    f.add('https://a.example/doc.pdf');
    f.add('https://a.example/news/');
    f.add('https://a.example/news');
    f.add('https://a.example/more');
    assert.deepEqual(
      [f.next(), f.next(), f.next()],
      ['https://a.example/', 'https://a.example/news', undefined],
    );
    assert.equal(normalise('https://a.example/x/#y'), 'https://a.example/x');
  });
});
