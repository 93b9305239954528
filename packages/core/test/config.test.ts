import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULTS, isSafeHref, validateConfig } from '../src/index.js';

describe('JSON config', () => {
  it('accepts a full config', () => {
    const { config, errors } = validateConfig({
      mode: 'opt-out',
      days: 30,
      policy: 'v3',
      learnMoreHref: 'https://example.com/privacy',
      texts: {
        en: { accept: 'OK', cats: { analytics: ['Stats', 'Counting visits'] } },
        de: { accept: 'Ja' },
      },
      categories: [
        {
          id: 'analytics',
          cookies: ['_ga', '_ga_*'],
          services: [{ id: 'matomo', title: 'Matomo', description: 'Self-hosted analytics' }],
        },
        { id: 'marketing', title: 'Ads' },
      ],
      endpoint: '/v1/receipts',
    });
    assert.deepEqual(errors, []);
    assert.equal(config.mode, 'opt-out');
    assert.equal(config.categories[0]?.services?.[0]?.title, 'Matomo');
    assert.deepEqual(config.categories[0]?.cookies, ['_ga', '_ga_*']);
  });

  it('is privacy-safe by default: opt-in, no categories', () => {
    assert.equal(DEFAULTS.mode, 'opt-in');
    assert.deepEqual(validateConfig({}).config, DEFAULTS);
  });

  for (const [input, field] of [
    [null, 'config'],
    [[1], 'config'],
    [{ days: '20' }, 'days'],
    [{ mode: 'opt_in' }, 'mode'],
    [{ categories: 'analytics' }, 'categories'],
    [{ categories: [{ id: 'a b' }] }, 'categories[0].id'],
    [{ categories: [{ id: 'x' }, { id: 'x' }] }, 'categories[1].id'],
    [{ categories: [{ id: 'x', services: [{ id: 7 }] }] }, 'categories[0].services[0].id'],
    [{ categories: [{ id: 'x', cookies: [1] }] }, 'categories[0].cookies'],
    [{ texts: { en: { acept: 'x' } } }, 'texts.en.acept'],
    [{ texts: { en: { accept: '' } } }, 'texts.en.accept'],
    [{ texts: 'x' }, 'texts'],
    [{ floatingButton: 'yes' }, 'floatingButton'],
    [{ domain: 'exa mple.com' }, 'domain'],
    [{ surprise: 1 }, 'surprise'],
  ] as const) {
    it(`names "${field}" for ${JSON.stringify(input)}`, () => {
      const { errors, config } = validateConfig(input);
      assert.ok(
        errors.some((e) => e.field === field),
        JSON.stringify(errors),
      );
      assert.equal(config.mode, 'opt-in');
    });
  }

  it('drops "necessary" from the list: it is implicit and always on', () => {
    const { config, errors } = validateConfig({ categories: [{ id: 'necessary' }, { id: 'analytics' }] });
    assert.deepEqual(errors, []);
    assert.deepEqual(
      config.categories.map((c) => c.id),
      ['analytics'],
    );
  });
});

describe('links', () => {
  it('accept http(s) URLs and paths of the site, and refuse what browsers read as another host or code', () => {
    for (const ok of [
      'https://example.com/privacy',
      'http://x.example',
      '/privacy',
      './p',
      '../p',
      '#cookies',
      '?a=1',
    ])
      assert.equal(isSafeHref(ok), true, ok);
    for (const bad of [
      'javascript:alert(1)',
      '//evil.example',
      '/\\evil.example',
      'data:text/html,x',
      ' /privacy',
      'JAVASCRIPT:x',
    ])
      assert.equal(isSafeHref(bad), false, bad);
    assert.deepEqual(
      validateConfig({ learnMoreHref: '//evil.example' }).errors.map((e) => e.field),
      ['learnMoreHref'],
    );
  });
});
