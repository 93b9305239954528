import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { consentModeSignals, modeForRegion, parseShortcode, SIGNALS, validateConfig } from '../src/index.js';

describe('Google Consent Mode mapping', () => {
  it('maps categories to the seven signals; necessary always grants security_storage', () => {
    assert.deepEqual(consentModeSignals({}), {
      ad_storage: 'denied',
      ad_user_data: 'denied',
      ad_personalization: 'denied',
      analytics_storage: 'denied',
      functionality_storage: 'denied',
      personalization_storage: 'denied',
      security_storage: 'granted',
    });
    const s = consentModeSignals({ analytics: true, marketing: true, functional: false });
    assert.equal(s.analytics_storage, 'granted');
    assert.equal(s.ad_storage, 'granted');
    assert.equal(s.ad_user_data, 'granted');
    assert.equal(s.ad_personalization, 'granted');
    assert.equal(s.functionality_storage, 'denied');
  });

  it('always sends all seven signals, whatever the consent (property)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom('analytics', 'marketing', 'functional', 'x'), fc.boolean()),
        (g) => {
          assert.deepEqual(Object.keys(consentModeSignals(g)), [...SIGNALS]);
        },
      ),
    );
  });

  it('honours a custom mapping', () => {
    const s = consentModeSignals({ stats: true }, { stats: ['analytics_storage', 'ad_user_data'] });
    assert.equal(s.analytics_storage, 'granted');
    assert.equal(s.ad_user_data, 'granted');
    assert.equal(s.security_storage, 'denied', 'a custom map replaces the default one');
  });

  it('is configured by gcm=(yes) or a JSON object, with errors naming the field', () => {
    assert.deepEqual(parseShortcode('gcm=(yes)').config.googleConsentMode, {});
    assert.equal(parseShortcode('gcm=(no)').config.googleConsentMode, undefined);
    const ok = validateConfig({
      googleConsentMode: {
        waitForUpdate: 500,
        urlPassthrough: true,
        map: { analytics: ['analytics_storage'] },
      },
    });
    assert.deepEqual(ok.errors, []);
    for (const bad of [
      { waitForUpdate: -1 },
      { map: { analytics: ['analytics'] } },
      { surprise: true },
      'yes',
    ])
      assert.deepEqual(
        validateConfig({ googleConsentMode: bad }).errors.map((e) => e.field),
        ['googleConsentMode'],
        JSON.stringify(bad),
      );
  });
});

describe('region-aware modes', () => {
  const regions = { EU: 'opt-in', 'US-CA': 'opt-out', US: 'notice', '*': 'notice' } as const;
  for (const [region, mode] of [
    ['DE', 'opt-in'],
    ['GB', 'opt-in'],
    ['CH', 'opt-in'],
    ['US-CA', 'opt-out'],
    ['us-ca', 'opt-out'],
    ['US-TX', 'notice'],
    ['US', 'notice'],
    ['JP', 'notice'],
    [null, 'opt-in'],
    ['', 'opt-in'],
  ] as const) {
    it(`${region ?? 'unknown'} → ${mode}`, () => {
      assert.equal(modeForRegion(regions, region), mode);
    });
  }

  it('the US opt-out states group, and no catch-all means opt-in', () => {
    const r = { 'US-OPT-OUT': 'opt-out' } as const;
    assert.equal(modeForRegion(r, 'US-CO'), 'opt-out');
    assert.equal(modeForRegion(r, 'US-FL'), 'opt-in');
    assert.equal(modeForRegion(r, 'FR'), 'opt-in');
  });

  it('validates the mapping', () => {
    assert.deepEqual(validateConfig({ regions }).errors, []);
    assert.deepEqual(
      validateConfig({ regions: { EU: 'opt_in' } }).errors.map((e) => e.field),
      ['regions'],
    );
    assert.deepEqual(
      validateConfig({ regions: { Europe: 'opt-in' } }).errors.map((e) => e.field),
      ['regions'],
    );
  });
});
