import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Declaration } from '@assent/scanner';
import { readDeclaration } from '../src/cookie-declaration.js';
import { comparable, scanDeclaration } from '../src/declaration.js';

// The privacy page shows demo/declaration.json. One scan of the running demo (every page)
// must find exactly what that file declares: a new cookie, a changed lifetime or category
// fails here until the file is regenerated (npm run -w demo declaration) and committed.
describe('the cookie declaration on the demo’s privacy page', () => {
  let demo: Awaited<ReturnType<typeof import('../src/server.js').startDemo>>;
  let scanned: Declaration;
  before(async () => {
    process.env.ASSENT_DEMO_DATA = mkdtempSync(join(tmpdir(), 'assent-demo-'));
    const { startDemo } = await import('../src/server.js');
    demo = await startDemo({ port: 0, host: '127.0.0.1', quiet: true });
    scanned = await scanDeclaration(demo.url);
  });
  after(() => demo?.server.close());

  it('is what a scan of the site finds (regenerate with npm run -w demo declaration)', () => {
    assert.deepEqual(
      comparable(scanned),
      comparable(readDeclaration()),
      'demo/declaration.json differs from what the scanner sees: run `npm run -w demo declaration` and commit it',
    );
  });

  it('declares the consent cookie, the analytics and the ad stand-ins, with who sets them', () => {
    assert.deepEqual(
      scanned.rows.map((r) => [r.name, r.category, r.duration, r.party, r.setBy]),
      [
        ['_demo_stats', 'analytics', '395 days', 'first', 'script /demo/analytics.js'],
        ['_demo_ads', 'marketing', '90 days', 'first', 'script /demo/ads.js'],
        ['assent', 'necessary', '20 days', 'first', 'response /v1/receipts'],
      ],
    );
  });

  it('the privacy page renders the committed declaration as its cookie table', async () => {
    const html = await (await fetch(`${demo.url}privacy`)).text();
    const table = /<table class="cookie-declaration">[\s\S]*?<\/table>/.exec(html)?.[0] ?? '';
    const names = [...table.matchAll(/<th scope="row"><code>([^<]+)<\/code><\/th>/g)].map((m) => m[1]);
    assert.deepEqual(
      names,
      readDeclaration().rows.map((r) => r.name),
    );
    assert.match(table, /<caption>Cookies on this site/);
  });
});
