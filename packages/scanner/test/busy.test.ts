import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { scan } from '../src/index.js';
import { type FixtureSite, startFixtures } from './fixtures/server.js';
import { ensureBanner, fixtureConfig } from './helpers.js';

// A page whose script never yields answers no call into it: the scan must end anyway.
describe('a page that stops responding', () => {
  let site: FixtureSite;
  before(async () => {
    ensureBanner();
    site = await startFixtures();
  });
  after(() => site?.close());

  it('is reported as a timeout naming the page, exit 2, once the visit deadline passes', {
    timeout: 120_000,
  }, async () => {
    const t0 = Date.now();
    const { report } = await scan([`${site.site}/busy.html`], {
      ...fixtureConfig(site.hostResolverRules),
      visitTimeout: 20_000,
    });
    assert.ok(Date.now() - t0 < 60_000, `took ${Date.now() - t0} ms`);
    assert.equal(report.summary.exitCode, 2);
    assert.equal(report.errors.length, 1);
    assert.equal(report.errors[0]!.code, 'timeout');
    assert.match(
      report.errors[0]!.message,
      /\/busy\.html stopped responding: its \w+ visit did not finish within 20 s/,
    );
  });
});
