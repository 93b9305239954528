import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { PRESETS } from '../src/i18n/index.js';
import {
  canonicalPolicy,
  configOf,
  createPolicy,
  EN,
  parseShortcode,
  policyDoc,
  policyFingerprint,
  validateConfig,
} from '../src/index.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const config = (json: object) => validateConfig(json).config;
const base = {
  policy: '2026-11',
  texts: { de: { accept: 'Ja, gern' } },
  categories: [{ id: 'analytics', services: [{ id: 'stats', cookies: ['_s'] }] }, { id: 'marketing' }],
};

describe('published policy', () => {
  it('resolves every offered language exactly as the banner renders it', () => {
    const doc = policyDoc(config(base), PRESETS);
    assert.deepEqual(Object.keys(doc.config.texts), ['en', 'de']);
    const de = doc.config.texts.de!;
    assert.equal(de.accept, 'Ja, gern');
    assert.equal(de.reject, PRESETS.de!.reject);
    assert.deepEqual(de.cats.analytics, PRESETS.de!.cats.analytics);
    // What createPolicy renders from the published config is the document's text, word for word.
    const rendered = createPolicy(configOf(doc), ['de-AT']);
    assert.equal(rendered.lang, 'de');
    assert.deepEqual({ ...rendered.texts }, { ...de });
    assert.equal(rendered.categories[0]!.title, PRESETS.de!.cats.analytics![0]);
    assert.equal(createPolicy(configOf(doc), ['en']).texts.message, EN.message);
  });

  it('leaves out where receipts go: the endpoint is not policy', () => {
    const a = policyDoc(config({ ...base, endpoint: 'https://a.example/v1/receipts' }), PRESETS);
    const b = policyDoc(config({ ...base, endpoint: '/v1/receipts' }), PRESETS);
    assert.equal(canonicalPolicy(a), canonicalPolicy(b));
    assert.equal('endpoint' in a.config, false);
  });

  it('is the same document whoever writes it, whatever the key order', () => {
    const shuffled = Object.fromEntries(Object.entries(base).reverse());
    assert.equal(
      canonicalPolicy(policyDoc(config(shuffled), PRESETS)),
      canonicalPolicy(policyDoc(config(base), PRESETS)),
    );
    // Publishing what a published policy renders gives the same policy again.
    const doc = policyDoc(config(base), PRESETS);
    assert.equal(canonicalPolicy(policyDoc(configOf(doc), {})), canonicalPolicy(doc));
    assert.equal(canonicalPolicy(policyDoc(validateConfig(doc.config).config)), canonicalPolicy(doc));
  });

  it('changes its SHA-256 with anything shown or deciding: texts, days, categories, cookies, mode, regions', () => {
    const id = (json: object) => sha256(canonicalPolicy(policyDoc(config(json), PRESETS)));
    const seen = new Set([id(base)]);
    for (const changed of [
      { ...base, days: 20 },
      { ...base, mode: 'notice' },
      { ...base, learnMoreHref: '/cookies' },
      { ...base, texts: { de: { accept: 'Ja' } } },
      { ...base, texts: { ...base.texts, fr: {} } },
      { ...base, categories: [...base.categories, { id: 'functional' }] },
      {
        ...base,
        categories: [{ id: 'analytics', services: [{ id: 'stats', cookies: ['_t'] }] }, { id: 'marketing' }],
      },
      { ...base, regions: { EU: 'opt-in', '*': 'notice' } },
      { ...base, googleConsentMode: { map: { analytics: ['analytics_storage'] } } },
    ]) {
      const h = id(changed);
      assert.ok(!seen.has(h), `${JSON.stringify(changed)} kept the same SHA-256`);
      seen.add(h);
    }
  });

  it("the seed's shortcode publishes its words and its 20 days", () => {
    const doc = policyDoc(parseShortcode('buttons=(Accept !) days=(20)').config);
    assert.equal(doc.config.days, 20);
    assert.equal(doc.config.texts.en!.accept, 'Accept !');
    assert.equal(doc.config.texts.en!.message, 'Our website uses cookies to enhance your experience.');
  });

  it("the cookie's fingerprint follows the mode but not the language", () => {
    const doc = policyDoc(config(base), PRESETS);
    const c = canonicalPolicy(doc);
    const en = createPolicy(configOf(doc), ['en'], {}, 'opt-in', c);
    const de = createPolicy(configOf(doc), ['de'], {}, 'opt-in', c);
    assert.equal(en.hash, de.hash);
    assert.equal(en.hash, policyFingerprint(c, 'opt-in'));
    assert.notEqual(createPolicy(configOf(doc), ['en'], {}, 'notice', c).hash, en.hash);
  });

  it('never throws, and always validates as a config again', () => {
    fc.assert(
      fc.property(fc.anything(), (v) => {
        const doc = policyDoc(validateConfig(v).config, PRESETS);
        assert.deepEqual(validateConfig(doc.config).errors, []);
      }),
    );
  });
});
