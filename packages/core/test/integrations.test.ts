import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  consentModeSignals,
  formatError,
  type Mode,
  modeForRegion,
  modesOf,
  parseShortcode,
  SIGNALS,
  validateConfig,
} from '../src/index.js';

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
    assert.equal(s.ad_storage, 'denied', 'a custom map replaces the default one');
  });

  it('a custom map without necessary still grants security_storage; its own necessary replaces it', () => {
    const map = { remarketing: ['ad_storage'] };
    assert.equal(consentModeSignals({}, map).security_storage, 'granted');
    assert.equal(consentModeSignals({ remarketing: false }, map).ad_storage, 'denied');
    const own = consentModeSignals({}, { ...map, necessary: ['functionality_storage'] });
    assert.deepEqual([own.functionality_storage, own.security_storage], ['granted', 'denied']);
    // Necessary is on before any choice: a map giving it a signal that needs consent is a
    // config error, and the signal is never granted through it.
    const greedy = { necessary: ['security_storage', 'ad_storage', 'analytics_storage'] };
    const before = consentModeSignals({ necessary: true }, greedy);
    assert.deepEqual(
      [before.security_storage, before.ad_storage, before.analytics_storage],
      ['granted', 'denied', 'denied'],
    );
    assert.deepEqual(
      validateConfig({ googleConsentMode: { map: greedy } }).errors.map((e) => `${e.field}: ${e.message}`),
      ['googleConsentMode.map.necessary: may grant only security_storage, functionality_storage'],
    );
  });

  it('is configured by gcm=(yes) or a JSON object, with errors naming the field', () => {
    assert.deepEqual(parseShortcode('gcm=(yes)').config.googleConsentMode, {});
    assert.equal(parseShortcode('gcm=(no)').config.googleConsentMode, undefined);
    // On top of the JSON config's: the shortcode names the mode, the map and the rest stay.
    const json = {
      categories: [{ id: 'ads' }],
      googleConsentMode: { map: { ads: ['ad_storage'] }, waitForUpdate: 800, urlPassthrough: true },
    };
    assert.deepEqual(parseShortcode('gcm=(advanced)', json).config.googleConsentMode, {
      ...json.googleConsentMode,
      mode: 'advanced',
    });
    assert.deepEqual(parseShortcode('gcm=(yes)', json).config.googleConsentMode, json.googleConsentMode);
    const off = parseShortcode('gcm=(no)', json);
    assert.deepEqual(
      [off.config.googleConsentMode, off.errors],
      [undefined, []],
      'off, the JSON config’s too',
    );
    const maybe = parseShortcode('gcm=(maybe)');
    assert.equal(maybe.config.googleConsentMode, undefined);
    assert.deepEqual(
      maybe.errors.map((e) => `${e.field}: ${e.message}`),
      ['gcm: must be yes, no, advanced or basic, got "maybe"'],
    );
    const ok = validateConfig({
      categories: [{ id: 'analytics' }],
      googleConsentMode: {
        mode: 'advanced',
        waitForUpdate: 500,
        urlPassthrough: true,
        adsDataRedaction: false,
        map: { necessary: ['security_storage'], analytics: ['analytics_storage'] },
      },
    });
    assert.deepEqual(ok.errors, []);
    for (const [bad, field] of [
      [{ mode: 'full' }, 'googleConsentMode.mode'],
      [{ waitForUpdate: -1 }, 'googleConsentMode.waitForUpdate'],
      [{ urlPassthrough: 'yes' }, 'googleConsentMode.urlPassthrough'],
      [{ map: { analytics: ['analytics'] } }, 'googleConsentMode.map'],
      [{ surprise: true }, 'googleConsentMode.surprise'],
      ['yes', 'googleConsentMode'],
    ] as const)
      assert.deepEqual(
        validateConfig({ categories: [{ id: 'analytics' }], googleConsentMode: bad }).errors.map(
          (e) => e.field,
        ),
        [field],
        JSON.stringify(bad),
      );
  });

  it('one bad field keeps the others: the page still gets its Consent Mode default', () => {
    const { config, errors } = validateConfig({
      googleConsentMode: { mode: 'basic', waitForUpdate: '500', urlPassthrough: true, region: ['ES'] },
    });
    assert.deepEqual(
      errors.map((e) => `${e.field}: ${e.message}`),
      [
        'googleConsentMode.waitForUpdate: must be whole milliseconds, 0 or more, got "500"',
        'googleConsentMode.region: is not a known field',
      ],
    );
    assert.deepEqual(config.googleConsentMode, { mode: 'basic', urlPassthrough: true });
  });

  it("names a map key that is not a category of the config, the shortcode's categories included", () => {
    const gcm = { map: { analytic: ['analytics_storage'], necessary: ['security_storage'] } };
    const v = validateConfig({ categories: [{ id: 'analytics' }], googleConsentMode: gcm });
    assert.deepEqual(
      v.errors.map((e) => formatError(e)),
      ['assent: googleConsentMode.map.analytic: is not in categories'],
    );
    const json = { googleConsentMode: { map: { remarketing: ['ad_storage'] } } };
    assert.deepEqual(parseShortcode('categories=(remarketing)', json).errors, []);
    assert.deepEqual(
      parseShortcode('categories=(analytics)', { ...json, categories: [{ id: 'remarketing' }] }).errors.map(
        (e) => e.field,
      ),
      ['googleConsentMode.map.remarketing'],
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

  it("the EU group has the EU's outermost regions and Åland, not the overseas territories outside it", () => {
    const r = { EU: 'opt-in', '*': 'notice' } as const;
    for (const c of ['RE', 'GP', 'MQ', 'GF', 'YT', 'MF', 'AX'])
      assert.equal(modeForRegion(r, c), 'opt-in', c);
    for (const c of ['NC', 'PF', 'GL', 'FO']) assert.equal(modeForRegion(r, c), 'notice', c);
  });

  it('modesOf lists every mode modeForRegion can give, for any region, and the config’s own', () => {
    const configs: { mode: Mode; regions?: Record<string, Mode> }[] = [
      { mode: 'notice', regions: { 'US-CA': 'opt-out' } },
      { mode: 'opt-out', regions: { EU: 'opt-in', '*': 'notice' } },
      { mode: 'notice' },
    ];
    for (const config of configs) {
      const modes = modesOf(config);
      for (const region of [null, 'XX', 'T1', 'JP', 'DE', 'US', 'US-CA', 'US-TX', 'RE'])
        if (config.regions)
          assert.ok(
            modes.includes(modeForRegion(config.regions, region)),
            `${JSON.stringify(config)} ${region}`,
          );
      assert.ok(modes.includes(config.mode));
    }
    assert.deepEqual(modesOf({ mode: 'notice' }), ['notice']);
  });

  it("Cloudflare's XX (unknown) and T1 (Tor) are an unknown region: opt-in, not *", () => {
    for (const region of ['XX', 'T1', 't1'])
      assert.equal(modeForRegion({ '*': 'notice', US: 'opt-out' }, region), 'opt-in', region);
  });

  it('a country alone (cf-ipcountry) is in no group of states: US if listed, else *', () => {
    const states = { 'US-OPT-OUT': 'opt-out', 'US-GPC': 'opt-out', '*': 'notice' } as const;
    assert.equal(modeForRegion(states, 'US'), 'notice');
    assert.equal(modeForRegion({ ...states, US: 'opt-in' }, 'US'), 'opt-in');
  });

  it('the most specific entry wins, in either key order: region, group of states, country, EU, *', () => {
    const entries: [string, 'opt-in' | 'opt-out' | 'notice'][] = [
      ['*', 'notice'],
      ['EU', 'opt-in'],
      ['FR', 'notice'],
      ['US', 'opt-in'],
      ['US-OPT-OUT', 'notice'],
      ['US-GPC', 'opt-out'],
      ['US-VA', 'opt-in'],
    ];
    for (const order of [entries, [...entries].reverse()]) {
      const r = Object.fromEntries(order);
      const o = JSON.stringify(Object.keys(r));
      assert.equal(modeForRegion(r, 'US-VA'), 'opt-in', `region: ${o}`);
      assert.equal(modeForRegion(r, 'US-CA'), 'opt-out', `smaller group of states: ${o}`);
      assert.equal(modeForRegion(r, 'US-IA'), 'notice', `group of states over country: ${o}`);
      assert.equal(modeForRegion(r, 'US-FL'), 'opt-in', `country: ${o}`);
      assert.equal(modeForRegion(r, 'FR-75'), 'notice', `country over EU: ${o}`);
      assert.equal(modeForRegion(r, 'DE'), 'opt-in', `EU: ${o}`);
      assert.equal(modeForRegion(r, 'JP'), 'notice', `*: ${o}`);
    }
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
