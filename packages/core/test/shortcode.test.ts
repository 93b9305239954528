import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseShortcode } from '../src/index.js';

describe('shortcode', () => {
  it("parses the seed's shortcode: the accept label keeps its space and punctuation", () => {
    const { config, errors } = parseShortcode('buttons=(Accept !) days=(20)');
    assert.deepEqual(errors, []);
    assert.equal(config.days, 20);
    assert.equal(config.texts.en?.accept, 'Accept !');
  });

  it('understands every key of the family', () => {
    const { config, errors } = parseShortcode(
      'buttons=(OK) days=(30) mode=(notice) reject=(No thanks) preferences=(Choose) message=(We use cookies.) ' +
        'learn=(Read more) href=(/privacy-policy) categories=(analytics, marketing) policy=(v3) lang=(de) ' +
        'domain=(.example.com) endpoint=(/v1/receipts) cookie=(consent)',
    );
    assert.deepEqual(errors, []);
    assert.equal(config.mode, 'notice');
    assert.equal(config.learnMoreHref, '/privacy-policy');
    assert.deepEqual(
      config.categories.map((c) => c.id),
      ['analytics', 'marketing'],
    );
    assert.equal(config.policy, 'v3');
    assert.equal(config.lang, 'de');
    assert.deepEqual(config.texts.de, {
      accept: 'OK',
      reject: 'No thanks',
      preferences: 'Choose',
      message: 'We use cookies.',
      learnMore: 'Read more',
    });
    assert.equal(config.domain, '.example.com');
    assert.equal(config.endpoint, '/v1/receipts');
    assert.equal(config.cookieName, 'consent');
  });

  it('leaves the on/off fields to the JSON config, and says so by listing the keys it knows', () => {
    const { config, errors } = parseShortcode('bots=(hide) floating=(no)', { floatingButton: false });
    assert.deepEqual(
      errors.map((e) => e.field),
      ['bots', 'floating'],
    );
    assert.match(errors[0]!.message, /not a known key \(known: buttons,.*categories/);
    assert.equal(config.hideFromBots, false);
    assert.equal(config.floatingButton, false, 'the JSON field holds');
  });

  it('keeps balanced parentheses inside a value', () => {
    const { config, errors } = parseShortcode('buttons=(Accept (all) !)');
    assert.deepEqual(errors, []);
    assert.equal(config.texts.en?.accept, 'Accept (all) !');
  });

  for (const [src, field, words] of [
    ['days=(-3)', 'days', /whole number/],
    ['days=(abc)', 'days', /whole number.*"abc"/],
    ['days=(0)', 'days', /from 1/],
    ['days=(400)', 'days', /395/],
    ['buttons=(Accept !', 'buttons', /not closed/],
    ['colour=(red)', 'colour', /not a known key/],
    ['buttons=(A) buttons=(B)', 'buttons', /twice/],
    ['buttons Accept', 'buttons', /expected key=\(value\)/],
    ['buttons=(OK) ???', 'shortcode', /expected key=\(value\), got "\?\?\?"/],
    ['mode=(maybe)', 'mode', /opt-in \| opt-out \| notice/],
    ['href=(javascript:alert(1))', 'href', /path or an http/],
    ['categories=(Analytics)', 'categories', /lowercase/],
    ['buttons=()', 'buttons', /empty/],
    ['mode=(perhaps)', 'mode', /got "perhaps"/],
  ] as const) {
    it(`rejects ${src} with an error naming "${field}"`, () => {
      const { errors } = parseShortcode(src);
      const e = errors.find((x) => x.field === field);
      assert.ok(e, `no error for ${field} in ${JSON.stringify(errors)}`);
      assert.match(e.message, words);
    });
  }

  it('keeps the safe default for a bad value and the good values beside it', () => {
    const { config, errors } = parseShortcode('buttons=(Accept !) days=(abc) mode=(yes)');
    assert.equal(errors.length, 2);
    assert.equal(config.days, 182);
    assert.equal(config.mode, 'opt-in');
    assert.equal(config.texts.en?.accept, 'Accept !');
  });

  it('never throws, whatever the input (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        const r = parseShortcode(s);
        assert.ok(Array.isArray(r.errors));
        assert.ok(r.config.days >= 1);
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips any label with spaces and punctuation (property)', () => {
    const label = fc
      .string({ minLength: 1, maxLength: 40 })
      .filter((s) => !/[()]/.test(s) && s.trim() === s && s.length > 0);
    fc.assert(
      fc.property(label, fc.integer({ min: 1, max: 395 }), (text, days) => {
        const { config, errors } = parseShortcode(`buttons=(${text}) days=(${days})`);
        assert.deepEqual(errors, []);
        assert.equal(config.texts.en?.accept, text);
        assert.equal(config.days, days);
      }),
    );
  });

  it('names the key for any out-of-range days (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 396 })), (d) => {
        const { errors } = parseShortcode(`days=(${d})`);
        assert.deepEqual(
          errors.map((e) => e.field),
          ['days'],
        );
      }),
    );
  });
});

describe('shortcode on top of a JSON config', () => {
  it('keeps the JSON fields and lets the shortcode win', () => {
    const { config, errors } = parseShortcode('buttons=(Accept !) days=(20)', {
      days: 90,
      categories: [{ id: 'analytics', cookies: ['_ga'] }],
      texts: { en: { reject: 'No thanks' } },
    });
    assert.deepEqual(errors, []);
    assert.equal(config.days, 20);
    assert.deepEqual(config.texts.en, { reject: 'No thanks', accept: 'Accept !' });
    assert.deepEqual(config.categories[0]?.cookies, ['_ga']);
  });

  it('reports errors of the JSON part too', () => {
    const { errors } = parseShortcode('buttons=(OK)', { mode: 'sometimes' });
    assert.deepEqual(
      errors.map((e) => e.field),
      ['mode'],
    );
  });
});
