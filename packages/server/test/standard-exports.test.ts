import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { resolveConfig } from '../src/cli-config.js';
import { type AssentServer, createServer } from '../src/index.js';
import { freshPgDatabase, ORIGIN, OTHER, receiptBody, SITES, tempDir } from './helpers.js';

/**
 * The ISO/IEC TS 27560 and Kantara v1.1 exports: one record per stored receipt of the site,
 * each the view of exactly that signed receipt (same id, hash and signature as the NDJSON
 * export), the controller from the config, and clear refusals when the export cannot be made.
 */
const TOKEN = 'a-long-admin-token';
const CONTROLLER = {
  name: 'Example News Ltd',
  contact: 'Data Protection Officer',
  email: 'dpo@news.example',
  address: '1 Example Street, Dublin',
  phone: '+353 1 000 0000',
};

for (const kind of ['sqlite', 'postgres'] as const)
  describe(`standard exports (${kind})`, () => {
    let s: AssentServer;
    let drop: (() => Promise<void>) | undefined;
    const auth = { authorization: `Bearer ${TOKEN}` };
    const get = (url: string) => s.app.inject({ url, headers: auth });
    const post = (body: ReturnType<typeof receiptBody>) =>
      s.app.inject({
        method: 'POST',
        url: '/v1/receipts',
        headers: { 'content-type': 'application/json', origin: body.page.origin },
        payload: body,
      });
    const site = encodeURIComponent(ORIGIN);
    let accepted: ReturnType<typeof receiptBody>;

    before(async () => {
      const pgDb = kind === 'postgres' ? await freshPgDatabase() : null;
      drop = pgDb?.drop;
      s = await createServer({
        db: pgDb ? pgDb.url : `sqlite:${join(tempDir(), 'receipts.db')}`,
        sites: SITES,
        controllers: { [ORIGIN]: CONTROLLER },
        adminToken: TOKEN,
        logger: false,
        retention: false,
        rateLimit: false,
        regionHeader: 'cf-ipcountry',
      });
      accepted = receiptBody({
        method: 'accept-all',
        choices: { analytics: true, marketing: true, ad_tech: true },
      });
      for (const b of [
        accepted,
        receiptBody({
          method: 'reject-all',
          choices: { analytics: false, marketing: false, ad_tech: false },
        }),
        receiptBody(), // custom: analytics (and Matomo) only
        receiptBody({ page: { origin: OTHER, path: '/cart' } }),
      ])
        assert.equal((await post(b)).statusCode, 201);
      const w = await s.app.inject({ method: 'POST', url: `/v1/consents/${accepted.consentId}/withdraw` });
      assert.equal(w.statusCode, 201, w.body);
    });
    after(async () => {
      await s.close();
      await drop?.();
    });

    const lines = (body: string) =>
      body
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));

    it('iso27560: one record per receipt of the site, each the same signed receipt as the NDJSON export', async () => {
      const res = await get(`/v1/admin/receipts?format=iso27560&site=${site}`);
      assert.equal(res.statusCode, 200, res.body);
      assert.match(res.headers['content-disposition'] as string, /\.iso27560\.ndjson"/);
      const records = lines(res.body);
      const signed = lines((await get(`/v1/admin/receipts?site=${site}`)).body).filter(
        (l) => l.type !== 'policy',
      );
      assert.equal(records.length, 4);
      assert.deepEqual(
        records.map((r) => [r.record_id, r.integrity.hash, r.integrity.sig, r.integrity.seq]),
        signed.map((r) => [r.id, r.hash, r.sig, r.seq]),
      );
      assert.deepEqual(
        records.map((r) => [r.consent_status, r.event[0].event_type]),
        [
          ['given', 'consent_given'],
          ['refused', 'consent_refused'],
          ['given', 'consent_given'],
          ['withdrawn', 'consent_withdrawn'],
        ],
      );
      const custom = records[2];
      assert.equal(custom.schema_version, 'ISO/IEC TS 27560:2023');
      assert.equal(custom.pii_principal_id, signed[2].consentId);
      assert.deepEqual(custom.pii_controllers, [{ ...CONTROLLER, url: ORIGIN }]);
      assert.equal(custom.privacy_notices[0].notice_id, signed[2].policy.sha256);
      assert.equal(custom.privacy_notices[0].url, `${ORIGIN}/privacy`);
      // Titles from the published policy, choices from the receipt.
      const purposes = Object.fromEntries(
        custom.purposes.map((p: { purpose_id: string }) => [p.purpose_id, p]),
      );
      assert.equal(purposes.analytics.purpose, 'Audience measurement');
      assert.equal(purposes.analytics.consent_given, true);
      assert.deepEqual(purposes.analytics.services[0], {
        service: 'Matomo',
        service_id: 'matomo',
        consent_given: true,
        cookies: [],
      });
      assert.equal(purposes.marketing.consent_given, false);
      assert.equal(purposes.necessary.consent_given, true);
      assert.equal(custom.event[0].event_time, signed[2].at);
      assert.equal(custom.validity.expires_at, signed[2].expiresAt);
    });

    it('kantara: KI-CR-v1.1.0 receipts listing only what was consented to', async () => {
      const res = await get(`/v1/admin/receipts?format=kantara&site=${site}`);
      assert.equal(res.statusCode, 200, res.body);
      const [all, reject, custom, withdrawn] = lines(res.body);
      assert.equal(all.version, 'KI-CR-v1.1.0');
      assert.equal(all.piiPrincipalId, accepted.consentId);
      const signed = lines((await get(`/v1/admin/receipts?site=${site}`)).body).filter(
        (l) => l.type !== 'policy',
      );
      // Seconds since the epoch, as the specification asks.
      assert.equal(all.consentTimestamp, Math.floor(Date.parse(signed[0].at) / 1000));
      assert.equal(all.consentReceiptID, signed[0].id);
      assert.equal(all['x-assent'].hash, signed[0].hash);
      assert.equal(all.piiControllers[0].piiController, CONTROLLER.name);
      assert.equal(all.piiControllers[0].email, CONTROLLER.email);
      assert.equal(all.policyUrl, `${ORIGIN}/privacy`);
      assert.deepEqual(
        all.services.map((x: { service: string }) => x.service),
        ['Matomo', 'Marketing', 'ad_tech'],
      );
      assert.equal(all.services[0].purposes[0].consentType, 'EXPLICIT');
      assert.deepEqual(reject.services, []);
      assert.deepEqual(
        custom.services.map((x: { service: string }) => x.service),
        ['Matomo'],
      );
      assert.deepEqual(withdrawn.services, []);
      assert.equal(withdrawn['x-assent'].method, 'withdraw');
      assert.match(withdrawn.collectionMethod, /withdraw/);
    });

    it('refuses, naming the field, an export it cannot make', async () => {
      const noSite = await get('/v1/admin/receipts?format=kantara');
      assert.equal(noSite.statusCode, 400);
      assert.equal(noSite.json().field, 'site');
      const noController = await get(`/v1/admin/receipts?format=iso27560&site=${encodeURIComponent(OTHER)}`);
      assert.equal(noController.statusCode, 409);
      assert.equal(noController.json().field, 'controllers');
      const unknown = await get(
        `/v1/admin/receipts?format=iso27560&site=${encodeURIComponent('https://nope.example')}`,
      );
      assert.equal(unknown.statusCode, 400);
      assert.equal(unknown.json().field, 'site');
    });
  });

describe('standard exports: configuration', () => {
  it('createServer refuses a controller missing a field, naming it', async () => {
    await assert.rejects(
      createServer({
        db: `sqlite:${join(tempDir(), 'receipts.db')}`,
        sites: SITES,
        controllers: { [ORIGIN]: { ...CONTROLLER, phone: '' } },
        logger: false,
      }),
      /controllers\["http:\/\/127\.0\.0\.1:3000"\]\.phone: must be text/,
    );
  });

  it('the CLI exports the same records and exits 2 naming the option it lacks', async () => {
    const run = promisify(execFile);
    const cli = fileURLToPath(new URL('../bin/assent-server.js', import.meta.url));
    const dir = tempDir();
    const db = `sqlite:${join(dir, 'receipts.db')}`;
    const s = await createServer({ db, sites: SITES, logger: false, retention: false, rateLimit: false });
    const body = receiptBody();
    await s.app.inject({
      method: 'POST',
      url: '/v1/receipts',
      headers: { 'content-type': 'application/json', origin: ORIGIN },
      payload: body,
    });
    await s.close();
    const cfg = join(dir, 'config.json');
    writeFileSync(cfg, JSON.stringify({ db, sites: SITES, controllers: { [ORIGIN]: CONTROLLER } }));
    const { stdout } = await run(process.execPath, [
      cli,
      'export',
      '--config',
      cfg,
      '--format',
      'kantara',
      '--site',
      ORIGIN,
    ]);
    const [k] = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(k.piiPrincipalId, body.consentId);
    assert.equal(k.piiControllers[0].phone, CONTROLLER.phone);
    const noSite = await run(process.execPath, [
      cli,
      'export',
      '--config',
      cfg,
      '--format',
      'iso27560',
    ]).catch((e: { code: number; stderr: string }) => e);
    assert.equal((noSite as { code: number }).code, 2);
    assert.match((noSite as { stderr: string }).stderr, /--site/);
    // A controller missing a field stops any command before it opens anything (exit 2, the key named).
    const { errors } = resolveConfig({ db, controllers: { [ORIGIN]: { name: 'x' } } }, {}, {});
    assert.match(errors.join('\n'), /controllers: \["http:\/\/127\.0\.0\.1:3000"\]\.contact: must be text/);
  });
});
