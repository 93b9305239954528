import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { validateReceiptInput } from '@assent/core';
import { type AssentServer, createServer } from '../src/index.js';
import { ORIGIN, PUBLISHED, receiptBody, SITES } from './helpers.js';

/**
 * A receipt the server signs must not contradict itself or the visitor's region: its method
 * against its choices, its language against the policy's texts, its mode against the mode
 * the region the server reads requires. Each contradiction is a 400 naming the field, and
 * nothing is stored: no receipt, no cookie, nothing in the exports. And the CSV export says
 * what was granted and refused as the consent page and the standard exports do.
 */
const TOKEN = 'a-long-admin-token';
const REGIONS = 'https://regions.example';
const COUNTRY = 'https://country.example';
const REGIONS_CONFIG = {
  policy: 'r1',
  mode: 'notice',
  regions: { EU: 'opt-in', 'US-CA': 'opt-out', '*': 'notice' },
  categories: [{ id: 'analytics' }, { id: 'marketing' }],
  texts: { de: {} },
};
// No `*`: a visitor whose region is unknown to the config gets opt-in; the US's states apart.
const COUNTRY_CONFIG = { ...REGIONS_CONFIG, regions: { EU: 'opt-in', 'US-CA': 'opt-out' } };

let s: AssentServer;
const sha: Record<string, string> = {};

const post = (body: Record<string, unknown>, headers: Record<string, string> = {}) => {
  const origin = (body.page as { origin: string }).origin;
  return s.app.inject({
    method: 'POST',
    url: '/v1/receipts',
    headers: { 'content-type': 'application/json', origin, ...headers },
    payload: body,
  });
};
/** A receipt for one of the region sites (`analytics`, `marketing`; English and German). */
const on = (site: string, over: Record<string, unknown> = {}) =>
  receiptBody({
    policy: { version: 'r1', sha256: sha[site] },
    page: { origin: site, path: '/' },
    choices: { analytics: true, marketing: false },
    ...over,
  });
const admin = (url: string) => s.app.inject({ url, headers: { authorization: `Bearer ${TOKEN}` } });

/** Refused: 400 naming `field`, and nothing of the consent stored. */
const refused = async (
  res: Awaited<ReturnType<typeof post>>,
  field: string,
  id: string,
  message?: RegExp,
): Promise<void> => {
  assert.equal(res.statusCode, 400, res.body);
  const e = res.json();
  assert.equal(e.error, 'ASSENT_BAD_FIELD', res.body);
  assert.equal(e.field, field, res.body);
  if (message) assert.match(e.message, message);
  assert.equal(res.headers['set-cookie'], undefined);
  assert.equal((await s.app.inject(`/v1/consents/${id}`)).statusCode, 404);
  assert.deepEqual((await s.app.inject(`/v1/consents/${id}/cookie`)).json(), { cookie: null });
};

before(async () => {
  s = await createServer({
    db: 'sqlite::memory:',
    sites: { ...SITES, [REGIONS]: REGIONS_CONFIG, [COUNTRY]: COUNTRY_CONFIG },
    adminToken: TOKEN,
    logger: false,
    log: false,
    regionHeader: 'cf-ipcountry',
    rateLimit: false,
    retention: false,
  });
  for (const site of [REGIONS, COUNTRY])
    sha[site] = (await s.app.inject(`/v1/policy?site=${encodeURIComponent(site)}`)).json().sha256;
});
after(() => s.close());

describe('a receipt whose method contradicts its choices', () => {
  it('is refused: a reject-all granting everything, a withdrawal granting marketing, an accept-all granting nothing', async () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [
        {
          method: 'reject-all',
          choices: { analytics: true, 'analytics:matomo': true, marketing: true, ad_tech: true },
        },
        'choices.analytics',
        /"reject-all" grants nothing/,
      ],
      [
        { method: 'withdraw', choices: { marketing: true } },
        'choices.marketing',
        /"withdraw" grants nothing/,
      ],
      [
        { method: 'accept-all', choices: {} },
        'choices.analytics',
        /"accept-all" grants every category and service/,
      ],
      [
        { method: 'notice-ack', mode: 'notice', choices: { analytics: true, marketing: true } },
        'choices.ad_tech',
        /"notice-ack" grants every/,
      ],
      [
        // Under GPC, neither what a banner that saw it grants nor what one that did not (the
        // signal as the header alone, see below).
        {
          method: 'accept-all',
          signals: { gpc: true },
          choices: { analytics: false, marketing: true, ad_tech: true },
        },
        'choices.analytics',
        /Global Privacy Control/,
      ],
    ];
    for (const [over, field, message] of cases) {
      const body = receiptBody(over);
      await refused(await post(body), field, body.consentId, message);
    }
  });

  it('is stored when it agrees, as the banner builds it (GPC withholds marketing from an accept-all)', async () => {
    const everything = { analytics: true, 'analytics:matomo': true, marketing: true, ad_tech: true };
    const bodies = [
      receiptBody({ method: 'accept-all', choices: everything }),
      receiptBody({
        method: 'accept-all',
        choices: { ...everything, marketing: false },
        signals: { gpc: true },
      }),
      receiptBody({ method: 'reject-all', choices: { analytics: false, marketing: false } }),
      receiptBody({ method: 'withdraw', choices: {} }),
      receiptBody({ method: 'custom', choices: { marketing: true }, signals: { gpc: true } }),
    ];
    for (const b of bodies) assert.equal((await post(b)).statusCode, 201, JSON.stringify(b));
  });

  it('is stored, and agrees with the rule as stored, when GPC came only as the Sec-GPC header', async () => {
    // The page did not see the signal (an extension that sends the header alone) and granted
    // everything; the server records the header in signals.gpc. The signed receipt must pass
    // the rule it was admitted under (it contradicted it).
    const everything = { analytics: true, 'analytics:matomo': true, marketing: true, ad_tech: true };
    const res = await post(receiptBody({ method: 'accept-all', choices: everything }), { 'sec-gpc': '1' });
    assert.equal(res.statusCode, 201, res.body);
    const stored = (await admin(`/v1/admin/receipts/${res.json().id}`)).json().receipt;
    assert.equal(stored.signals.gpc, true);
    const { consentId, policy, mode, choices, method, source, signals, page, lang } = stored;
    const input = { consentId, policy, mode, choices, method, source, signals, page, lang };
    assert.equal(validateReceiptInput(input, PUBLISHED.policy).ok, true, JSON.stringify(stored));
  });
});

describe('a receipt in a language the policy does not publish', () => {
  it('is refused, naming lang: the policy publishes English only', async () => {
    const body = receiptBody({ lang: 'ar' });
    await refused(await post(body), 'lang', body.consentId, /"ar".*\(en\)/);
  });

  it('is stored in a published language or a regional form of one (the banner shows de to de-AT)', async () => {
    for (const lang of ['en', 'en-GB', 'de', 'de-AT'])
      assert.equal((await post(on(REGIONS, { lang }))).statusCode, 201, lang);
    const body = on(REGIONS, { lang: 'fr' });
    await refused(await post(body), 'lang', body.consentId, /en, de/);
  });
});

describe('a receipt in a mode less strict than the visitor’s region requires', () => {
  it('is refused when the server reads the region: an EU visitor shown the notice or the opt-out banner', async () => {
    for (const [mode, method, choices] of [
      ['notice', 'notice-ack', { analytics: true, marketing: true }],
      ['opt-out', 'custom', { analytics: true }],
    ] as const) {
      const body = on(REGIONS, { mode, method, choices });
      await refused(
        await post(body, { 'cf-ipcountry': 'DE' }),
        'mode',
        body.consentId,
        /region DE requires "opt-in"/,
      );
    }
    const body = on(REGIONS, {
      mode: 'notice',
      method: 'notice-ack',
      choices: { analytics: true, marketing: true },
    });
    await refused(await post(body, { 'cf-ipcountry': 'us-ca' }), 'mode', body.consentId, /"opt-out"/);
  });

  it('is stored in the mode the region requires or a stricter one', async () => {
    const cases: [string, string][] = [
      ['DE', 'opt-in'],
      ['US-CA', 'opt-out'],
      ['US-CA', 'opt-in'],
      ['JP', 'notice'],
      ['JP', 'opt-out'],
      ['JP', 'opt-in'],
    ];
    for (const [region, mode] of cases)
      assert.equal(
        (await post(on(REGIONS, { mode }), { 'cf-ipcountry': region })).statusCode,
        201,
        `${region} ${mode}`,
      );
  });

  it('is stored when the server does not know the region: no header, XX, T1', async () => {
    for (const headers of [{}, { 'cf-ipcountry': 'XX' }, { 'cf-ipcountry': 'T1' }] as Record<
      string,
      string
    >[])
      assert.equal(
        (await post(on(REGIONS, { mode: 'notice' }), headers)).statusCode,
        201,
        JSON.stringify(headers),
      );
  });

  it('a country alone (cf-ipcountry: US) allows the mode of any of its states the page may name (US-CA)', async () => {
    // The page says data-assent-region="US-CA" (opt-out); the header says only US, whose own
    // mode is opt-in here (no `*`). The visitor may be Californian: opt-out is not refused.
    assert.equal((await post(on(COUNTRY, { mode: 'opt-out' }), { 'cf-ipcountry': 'US' })).statusCode, 201);
    // Less strict than every mode the US may get here: refused.
    const body = on(COUNTRY, { mode: 'notice' });
    await refused(await post(body, { 'cf-ipcountry': 'US' }), 'mode', body.consentId, /"opt-out"/);
  });

  it('is not checked without regions: the policy has one mode', async () => {
    const body = receiptBody({ mode: 'opt-in' });
    assert.equal((await post(body, { 'cf-ipcountry': 'JP' })).statusCode, 201);
  });
});

describe('the CSV export', () => {
  it("lists granted and refused as core's `allowed` decides them over the policy's keys", async () => {
    const only = receiptBody({ choices: { analytics: true } });
    const service = receiptBody({ choices: { 'analytics:matomo': true } });
    for (const b of [only, service]) assert.equal((await post(b)).statusCode, 201);
    const csv = (await admin(`/v1/admin/receipts?format=csv&site=${encodeURIComponent(ORIGIN)}`)).body
      .trim()
      .split('\n')
      .map((l) => l.split(','));
    const [head, ...rows] = csv;
    const col = (row: string[], name: string) => row[head!.indexOf(name)];
    const row = (id: string) => rows.find((r) => col(r, 'consentId') === id)!;
    assert.equal(col(row(only.consentId), 'granted'), 'analytics analytics:matomo');
    assert.equal(col(row(only.consentId), 'refused'), 'marketing ad_tech');
    assert.equal(col(row(service.consentId), 'granted'), 'analytics:matomo');
    assert.equal(col(row(service.consentId), 'refused'), 'analytics marketing ad_tech');
  });
});
