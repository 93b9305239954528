import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfig } from '@assent/core';
import { buildDeclaration } from '../src/declaration/build.js';
import type { Classification, CookieRecord, PageResult, PhaseRecord, ScanReport } from '../src/types.js';

const tracker = (name: string, category: string): Classification => ({
  party: 'third',
  site: `${name.toLowerCase().replace(/\W/g, '')}.example`,
  kind: 'tracker',
  tracker: { key: name, name, category, organization: name },
});
const first: Classification = { party: 'first', site: 'news.example', kind: 'first-party', tracker: null };

const cookie = (name: string, classification: Classification): CookieRecord => ({
  name,
  domain: classification.party === 'first' ? 'news.example' : `.${classification.site}`,
  path: '/',
  expires: null,
  lifetimeDays: null,
  requestedLifetimeDays: null,
  httpOnly: false,
  secure: true,
  sameSite: 'Lax',
  setBy: null,
  classification,
});

/** A scan of one page whose accept visit set `cookies`, with the site's declarations. */
const report = (
  cookies: CookieRecord[],
  declaredCookies?: Record<string, string>,
  declaredServices?: Record<string, string>,
): ScanReport => {
  const phase = (c: CookieRecord[]) => ({ cookies: c }) as unknown as PhaseRecord;
  const page = {
    url: 'https://news.example/article',
    phases: { before: phase([]), reject: phase([]), accept: phase(cookies), gpc: phase([]) },
    ...(declaredCookies ? { declaredCookies } : {}),
    ...(declaredServices ? { declaredServices } : {}),
  } as unknown as PageResult;
  return { finishedAt: '2026-11-30T00:00:00.000Z', pages: [page] } as unknown as ScanReport;
};

describe('the suggested config', () => {
  it('is a config core accepts, whatever the providers are called', () => {
    const d = buildDeclaration(
      report([
        cookie('_a', tracker('123 Media', 'advertising')),
        cookie('_b', tracker('Google', 'advertising')),
        cookie('_c', tracker('Google (Alphabet)', 'advertising')),
        cookie('_d', tracker('A Vendor With A Name Far Longer Than Thirty-Two Letters', 'site_analytics')),
        cookie('_e', tracker('Ünïcode Äds', 'advertising')),
      ]),
    );
    const { errors } = validateConfig(d.suggestedConfig);
    assert.deepEqual(errors, []);
    const ids = d.suggestedConfig.categories.flatMap((c) => (c.services ?? []).map((s) => `${c.id}:${s.id}`));
    assert.deepEqual(ids.sort(), [
      'analytics:a-vendor-with-a-name-far-lon',
      'marketing:google',
      'marketing:google-2',
      'marketing:media',
      'marketing:unicode-ads',
    ]);
    // The title keeps the provider's name as the scan saw it.
    const marketing = d.suggestedConfig.categories.find((c) => c.id === 'marketing')!;
    assert.deepEqual(
      marketing.services!.map((s) => [s.id, s.title, s.cookies]),
      [
        ['media', '123 Media', ['_a']],
        ['google', 'Google', ['_b']],
        ['google-2', 'Google (Alphabet)', ['_c']],
        ['unicode-ads', 'Ünïcode Äds', ['_e']],
      ],
    );
  });

  it('keeps the service ids the site declares, which its receipts and choices name', () => {
    const d = buildDeclaration(
      report(
        [
          cookie('_ledger', first),
          cookie('_ledger_id', first),
          cookie('_ga', tracker('Google Analytics', 'site_analytics')),
          cookie('_other', tracker('Stats', 'site_analytics')),
        ],
        { '_ledger*': 'analytics:stats', _ga: 'analytics:ga4' },
        { 'analytics:stats': 'Ledger Stats' },
      ),
    );
    assert.deepEqual(validateConfig(d.suggestedConfig).errors, []);
    assert.deepEqual(d.suggestedConfig.categories, [
      {
        id: 'analytics',
        services: [
          // Declared: its id, whatever the provider is called; a tracker declared under a
          // service keeps that service. An undeclared provider whose name slugs to a declared
          // id gets another.
          { id: 'ga4', title: 'Google Analytics', cookies: ['_ga'] },
          { id: 'stats', title: 'Ledger Stats', cookies: ['_ledger', '_ledger_id'] },
          { id: 'stats-2', title: 'Stats', cookies: ['_other'] },
        ],
      },
    ]);
  });
});
