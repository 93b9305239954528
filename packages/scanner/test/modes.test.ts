import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { scan, toHtml } from '../src/index.js';
import { type FixtureSite, startFixtures } from './fixtures/server.js';
import { ensureBanner, summarise } from './helpers.js';

describe('without the tracker database, and when a page is missing', () => {
  let site: FixtureSite;
  before(async () => {
    ensureBanner();
    site = await startFixtures();
  });
  after(() => site?.close());

  it('still flags the leaks, as unknown third parties, when the database is off', async () => {
    const { report } = await scan([`${site.site}/leaky.html`], {
      hostResolverRules: site.hostResolverRules,
      trackerDb: false,
    });
    assert.deepEqual(report.tool.trackerDb, { enabled: false, licence: null });
    const before = report.pages[0]!.findings.filter((f) => f.phase === 'before');
    assert.deepEqual(summarise(before), [
      'cookie-before-consent before _hjid',
      'request-before-consent before http://127.0.0.2:PORT/pixel.gif',
      'request-before-consent before http://static.hotjar.com:PORT/collect?e=pageview',
      'request-before-consent before http://static.hotjar.com:PORT/tracker.js',
      'storage-before-consent before _hjLastSession',
    ]);
    assert.ok(before.every((f) => f.kind === 'unknown-third-party' && f.tracker === null));
    assert.match(toHtml(report), /no tracker database \(not installed\)/);
  });

  it('a page that answers 404 is a scanner error (exit 2), not a clean page', async () => {
    const { report } = await scan([`${site.site}/gone.html`]);
    assert.deepEqual(report.pages, []);
    assert.deepEqual(report.errors, [
      {
        url: `${site.site}/gone.html`,
        code: 'http-error',
        message: `${site.site}/gone.html answered HTTP 404`,
      },
    ]);
    assert.equal(report.summary.exitCode, 2);
  });
});

describe('the HTML report', () => {
  it('escapes what the site controls (titles, URLs, cookie names)', () => {
    const html = toHtml({
      schemaVersion: 1,
      tool: {
        name: 'assent-scan',
        version: '0',
        browser: 'Chromium',
        trackerDb: { enabled: false, licence: null },
      },
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:00:01.000Z',
      durationMs: 1000,
      failOn: [],
      summary: { pages: 0, violations: 0, allowed: 0, errors: 1, exitCode: 2 },
      pages: [],
      errors: [{ url: 'x', code: 'unreachable', message: '<img src=x onerror=alert(1)>' }],
    });
    assert.doesNotMatch(html, /<img src=x/);
    assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
  });
});
