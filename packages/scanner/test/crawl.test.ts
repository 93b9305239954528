import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Frontier, normalise, sitemapUrls } from '../src/crawl.js';
import { scan } from '../src/index.js';
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
