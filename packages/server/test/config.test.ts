import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type AssentServer, createServer } from '../src/index.js';
import { ORIGIN, receiptBody, SITES, tempDir } from './helpers.js';

let s: AssentServer;
before(async () => {
  s = await createServer({
    db: `sqlite:${join(tempDir(), 'receipts.db')}`,
    sites: SITES,
    logger: false,
    regionHeader: 'CF-IPCountry',
  });
});
after(() => s.close());

describe('GET /v1/config: what the banner cannot know by itself', () => {
  it('answers the region from the trusted header, upper-cased, uncached', async () => {
    const res = await s.app.inject({
      url: '/v1/config',
      headers: { 'cf-ipcountry': 'us-ca', origin: ORIGIN },
    });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { region: 'US-CA', gpc: false });
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(res.headers['access-control-allow-origin'], ORIGIN);
  });

  it('answers null for a missing or malformed region (the banner then uses opt-in)', async () => {
    assert.deepEqual((await s.app.inject('/v1/config')).json(), { region: null, gpc: false });
    const odd = await s.app.inject({ url: '/v1/config', headers: { 'cf-ipcountry': 'XX<script>' } });
    assert.equal(odd.json().region, null);
  });

  it('refuses a query parameter it does not take, naming it, as the other routes do', async () => {
    const res = await s.app.inject('/v1/config?x=1');
    assert.equal(res.statusCode, 400);
    assert.deepEqual([res.json().error, res.json().field], ['ASSENT_BAD_FIELD', 'x']);
  });

  it('reports a Sec-GPC: 1 header', async () => {
    const res = await s.app.inject({ url: '/v1/config', headers: { 'sec-gpc': '1' } });
    assert.equal(res.json().gpc, true);
  });
});

describe('Global Privacy Control on receipts', () => {
  it('records GPC sent as the Sec-GPC header even when the page did not see it', async () => {
    const body = receiptBody({ signals: { gpc: false } });
    const res = await s.app.inject({
      method: 'POST',
      url: '/v1/receipts',
      headers: { 'content-type': 'application/json', 'sec-gpc': '1', origin: body.page.origin },
      payload: JSON.stringify(body),
    });
    assert.equal(res.statusCode, 201, res.body);
    const [r] = (await s.app.inject(`/v1/consents/${body.consentId}`)).json().receipts;
    assert.deepEqual(r.signals, { gpc: true });
  });

  it('keeps gpc false without the header or the signal', async () => {
    const body = receiptBody();
    await s.app.inject({
      method: 'POST',
      url: '/v1/receipts',
      headers: { 'content-type': 'application/json', origin: body.page.origin },
      payload: JSON.stringify(body),
    });
    const [r] = (await s.app.inject(`/v1/consents/${body.consentId}`)).json().receipts;
    assert.deepEqual(r.signals, { gpc: false });
  });
});
