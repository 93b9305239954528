import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ScanResult, scan } from '../src/index.js';
import { type FixtureSite, startFixtures } from './fixtures/server.js';
import { ensureBanner, fixtureConfig, summarise } from './helpers.js';

// The bound on late requests (SETTLE_MS in src/phase.ts): a tag on a 2-second timer after the
// load event is recorded in every phase, on the first load and on the reload after the choice.
describe('a tracker that fires 2 s after load', () => {
  let site: FixtureSite;
  let result: ScanResult;
  before(async () => {
    ensureBanner();
    site = await startFixtures();
    result = await scan([`${site.site}/late.html`], fixtureConfig(site.hostResolverRules));
  });
  after(() => site?.close());

  it('is a request before consent and after reject', () => {
    assert.deepEqual(result.report.errors, []);
    const p = result.report.pages[0]!;
    assert.deepEqual(summarise(p.findings), [
      'request-after-reject reject http://static.hotjar.com:PORT/pixel.gif?late=2s',
      'request-before-consent before http://static.hotjar.com:PORT/pixel.gif?late=2s',
    ]);
  });

  it('is recorded in every phase, after the reload where there is one', () => {
    const p = result.report.pages[0]!;
    const late = (name: 'before' | 'reject' | 'accept' | 'gpc') =>
      p.phases[name].thirdPartyRequests.filter((q) => q.url.endsWith('/pixel.gif?late=2s'));
    assert.equal(late('before').length, 1);
    assert.equal(late('gpc').length, 1);
    // After the choice and its reload: the timer ran again on the reloaded page.
    assert.ok(late('reject').some((q) => q.afterChoice));
    assert.ok(late('accept').some((q) => q.afterChoice));
  });
});
