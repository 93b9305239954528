import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ScanResult, scan } from '../src/index.js';
import { type FixtureSite, startFixtures } from './fixtures/server.js';
import { ensureBanner, fixtureConfig, summarise } from './helpers.js';

// Beacons sent as the page goes away (pagehide): navigator.sendBeacon and fetch with
// keepalive reach the server, and must reach the report too (src/browser.ts, UNLOAD_SEEN).
describe('beacons sent on pagehide', () => {
  let site: FixtureSite;
  let result: ScanResult;
  before(async () => {
    ensureBanner();
    site = await startFixtures();
    result = await scan([`${site.site}/unload-beacon.html`], fixtureConfig(site.hostResolverRules));
  });
  after(() => site?.close());

  it('are requests after reject: the reload after the click unloads the page', () => {
    assert.deepEqual(result.report.errors, []);
    const p = result.report.pages[0]!;
    assert.equal(p.phases.reject.choice?.clicked, true);
    // The server got them: the scan must say so.
    assert.ok(site.thirdPartyLog.includes(`POST ${new URL(site.third).host} /unload-beacon`));
    assert.deepEqual(summarise(p.findings), [
      'request-after-reject reject http://127.0.0.2:PORT/unload-beacon?ev=pagehide',
      'request-after-reject reject http://127.0.0.2:PORT/unload-fetch?ev=pagehide',
    ]);
  });

  it('are recorded with their type, method and the script that sent them', () => {
    const p = result.report.pages[0]!;
    const sent = p.phases.accept.thirdPartyRequests.filter((q) => q.url.includes('/unload-'));
    assert.deepEqual(
      sent.map((q) => [new URL(q.url).pathname, q.type, q.method, q.afterChoice]),
      [
        ['/unload-beacon', 'ping', 'POST', true],
        ['/unload-fetch', 'fetch', 'POST', true],
      ],
    );
    for (const q of sent) assert.match(q.initiator?.url ?? '', /\/unload-beacon\.html$/);
  });
});
