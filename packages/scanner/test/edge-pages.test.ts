import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ScanResult, scan } from '../src/index.js';
import { type FixtureSite, startFixtures } from './fixtures/server.js';
import { ensureBanner, fixtureConfig, page, summarise } from './helpers.js';

// Pages built to find the scanner's blind spots (a review's evidence): one scan of them all,
// then one test per page asserting what the scanner must see there.
let site: FixtureSite;
let result: ScanResult;
const PATHS = [
  '/reject-blocked.html',
  '/noescape.html',
  '/interact.html',
  '/hosted.html',
  '/declared-after-reject.html',
  '/ws.html',
  '/optout-3p.html',
  '/fp-optout.html',
];

before(async () => {
  ensureBanner();
  site = await startFixtures();
  result = await scan(
    PATHS.map((p) => site.site + p),
    fixtureConfig(site.hostResolverRules),
  );
});
after(() => site?.close());

describe('what the scanner must not pass in silence', () => {
  it('scans every page without errors', () => {
    assert.deepEqual(result.report.errors, []);
  });

  it('a reject that is shown but cannot be clicked is reject-ineffective, and the after-reject rules are not checked', () => {
    const p = page(result.report.pages, '/reject-blocked.html');
    assert.deepEqual(summarise(p.findings), ['reject-ineffective reject Assent']);
    assert.match(p.findings[0]!.message, /shown but cannot be clicked/);
    assert.deepEqual(
      p.unchecked.map((u) => u.rule),
      ['cookie-after-reject', 'storage-after-reject', 'request-after-reject'],
    );
    for (const u of p.unchecked)
      assert.match(u.reason, /^reject was not made: the reject control is visible/);
  });

  it('a preferences dialog that ignores Escape is left through its Reject all, and what runs after is judged', () => {
    const p = page(result.report.pages, '/noescape.html');
    assert.equal(p.phases.reject.choice?.clicked, true);
    assert.deepEqual(summarise(p.findings), [
      'request-after-reject reject http://127.0.0.2:PORT/after-choice.gif',
    ]);
  });

  it('a tag that waits for the first interaction and fires while the banner is inspected is before consent', () => {
    const p = page(result.report.pages, '/interact.html');
    assert.equal(p.findings.length, 1, summarise(p.findings).join('; '));
    assert.equal(p.findings[0]!.rule, 'request-before-consent');
    assert.match(p.findings[0]!.subject.name, /\/interact\.gif\?uid=/);
  });

  it('Assent served by its receipt server on another origin is clean: its script, API calls and keys are the consent record', () => {
    const p = page(result.report.pages, '/hosted.html');
    assert.equal(p.banner.kind, 'assent');
    assert.equal(p.phases.reject.choice?.effective, true);
    assert.deepEqual(summarise(p.findings), []);
    const consent = p.phases.reject.thirdPartyRequests.filter((q) => q.url.includes('/v1/'));
    assert.ok(consent.length > 0);
    for (const q of consent) assert.equal(q.classification.kind, 'consent', q.url);
    const key = p.phases.reject.storage.find((s) => s.key === 'assent-checked');
    assert.equal(key?.classification.kind, 'consent');
  });

  it("a cookie the site's Assent config declares, set after reject, is a finding, not a consent record", () => {
    const p = page(result.report.pages, '/declared-after-reject.html');
    assert.deepEqual(summarise(p.findings), ['cookie-after-reject reject _pk_id.1.1fff']);
  });

  it('a WebSocket to a third party is a request, before consent and after reject', () => {
    const p = page(result.report.pages, '/ws.html');
    assert.deepEqual(summarise(p.findings), [
      'request-after-reject reject ws://127.0.0.2:PORT/collect?uid=abc123',
      'request-before-consent before ws://127.0.0.2:PORT/collect?uid=abc123',
    ]);
    assert.equal(p.phases.before.thirdPartyRequests.find((q) => q.url.startsWith('ws:'))?.type, 'websocket');
  });

  it('opt-out: a cookie set before the opt-out and left in the jar is not one set after it', () => {
    const p = page(result.report.pages, '/optout-3p.html');
    assert.equal(p.mode, 'opt-out');
    const tpid = p.phases.reject.cookies.find((c) => c.name === 'tpid');
    assert.ok(tpid, 'the pixel set its cookie before the opt-out');
    assert.equal(tpid.afterChoice, false);
    assert.deepEqual(summarise(p.findings), []);
  });

  it('opt-out: fingerprinting before the opt-out is not fingerprinting after it', () => {
    const p = page(result.report.pages, '/fp-optout.html');
    assert.ok(
      p.phases.reject.detections?.some((d) => d.detector === 'fingerprinting' && d.afterChoice === false),
    );
    assert.deepEqual(summarise(p.findings), []);
  });
});
