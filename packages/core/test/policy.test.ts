import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPolicy, format, pickLanguage, validateConfig } from '../src/index.js';

describe('policy', () => {
  it('picks the config language, then <html lang>, then navigator.languages, then English', () => {
    const avail = ['en', 'de', 'pt-br', 'fr'];
    assert.equal(pickLanguage(avail, [undefined, 'de-AT', 'fr']), 'de');
    assert.equal(pickLanguage(avail, ['pt-BR']), 'pt-br');
    assert.equal(pickLanguage(avail, ['ja', 'fr-CA']), 'fr');
    assert.equal(pickLanguage(avail, ['ja']), 'en');
  });

  it('merges texts: built-in English < language preset < config', () => {
    const { config } = validateConfig({
      texts: { de: { accept: 'Ja, gern' } },
      categories: [{ id: 'analytics' }],
    });
    const p = createPolicy(config, ['de'], {
      de: { reject: 'Ablehnen', cats: { analytics: ['Statistik', 'Zählen'] } },
    });
    assert.equal(p.lang, 'de');
    assert.equal(p.texts.accept, 'Ja, gern');
    assert.equal(p.texts.reject, 'Ablehnen');
    assert.equal(p.texts.learnMore, 'Learn More');
    assert.equal(p.categories[0]?.title, 'Statistik');
  });

  it('titles a category by its own title, then the known one, then its id as written', () => {
    const { config } = validateConfig({
      categories: [{ id: 'social-media' }, { id: 'analytics' }, { id: 'marketing', title: 'Ads' }],
    });
    assert.deepEqual(
      createPolicy(config).categories.map((c) => c.title),
      ['social-media', 'Analytics', 'Ads'],
    );
  });

  it('fills placeholders', () => {
    assert.equal(
      format('Hosted by {0}. Accept {1}', 'YouTube', 'marketing'),
      'Hosted by YouTube. Accept marketing',
    );
  });
});
