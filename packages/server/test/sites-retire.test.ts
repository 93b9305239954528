/**
 * Offboarding a site: the config file is the one truth of which sites are served. A site it
 * added and no longer names is said at start (it was served on from the database); one it
 * retires (`"origin": false`) is no longer served (banner, policy, CORS, receipts, publishing)
 * while what it collected stays readable, provable, withdrawable and erasable. A site the admin
 * token added stays served.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type AssentServer, createServer, generateKeys } from '../src/index.js';
import { consentId, ORIGIN, OTHER, receiptBody, SITE_CONFIG, tempDir } from './helpers.js';

const TOKEN = 'sites-retire-test-token';
const OWNER = { authorization: `Bearer ${TOKEN}` };
const ADDED = 'https://added.example';
const { privateKeyPem } = generateKeys();

const start = (db: string, sites: Record<string, unknown>) =>
  createServer({
    db,
    sites,
    adminToken: TOKEN,
    signingKey: privateKeyPem,
    ipSecret: 'sites-retire-ip-secret-of-32-bytes!',
    logger: false,
    rateLimit: false,
    retention: false,
    log: false,
    webhooks: false,
  });

const receipt = (s: AssentServer, origin: string, over: Record<string, unknown> = {}) =>
  s.app.inject({
    method: 'POST',
    url: '/v1/receipts',
    headers: { origin },
    payload: receiptBody({ page: { origin, path: '/x' }, ...over }),
  });

describe('retiring a site in the config file', () => {
  it('a site the config added and dropped is said at start; retired, it is served no more and its history stays', async () => {
    const db = `sqlite:${join(tempDir(), 'retire.db')}`;
    let s = await start(db, { [ORIGIN]: SITE_CONFIG, [OTHER]: SITE_CONFIG });
    const visitor = consentId();
    const kept = await receipt(s, OTHER, { consentId: visitor });
    assert.equal(kept.statusCode, 201, kept.body);
    // Added by the admin token (a provisioning script), never in the config file.
    const added = await s.app.inject({
      method: 'POST',
      url: '/v1/admin/policies',
      headers: OWNER,
      payload: { site: ADDED, config: SITE_CONFIG },
    });
    assert.equal(added.statusCode, 201, added.body);
    await s.close();

    // Dropped from the config: said, naming the site and the way to retire it; nothing served.
    await assert.rejects(start(db, { [ORIGIN]: SITE_CONFIG }), (e: Error) => {
      assert.match(
        e.message,
        /^sites: "https:\/\/shop\.example" was added by this config file \(its first policy has no publisher in the audit log\) and is no longer in it/,
      );
      assert.match(e.message, /"https:\/\/shop\.example": false/);
      return true;
    });

    s = await start(db, { [ORIGIN]: SITE_CONFIG, [OTHER]: false });
    try {
      // The banner, its policy and CORS: not served.
      const r = await receipt(s, OTHER);
      assert.equal(r.statusCode, 400, r.body);
      assert.equal(r.json().error, 'ASSENT_UNKNOWN_SITE');
      assert.equal(r.json().field, 'page.origin');
      assert.match(r.json().message, /no longer served.*retired/);
      for (const url of [`/v1/policy?site=${OTHER}`, `/v1/assent.js?site=${OTHER}`]) {
        const g = await s.app.inject({ url });
        assert.equal(g.statusCode, 404, url);
        assert.match(g.json().message, /retired/, url);
      }
      const pre = await s.app.inject({
        method: 'OPTIONS',
        url: '/v1/receipts',
        headers: { origin: OTHER, 'access-control-request-method': 'POST' },
      });
      assert.equal(pre.headers['access-control-allow-origin'], undefined, 'no CORS for a retired site');
      const publish = await s.app.inject({
        method: 'POST',
        url: '/v1/admin/policies',
        headers: OWNER,
        payload: { site: OTHER, config: { ...SITE_CONFIG, policy: 'v4' } },
      });
      assert.equal(publish.statusCode, 400, publish.body);
      assert.equal(publish.json().field, 'site');
      // The policy editor's draft check says so too, not "can be published".
      const check = await s.app.inject({
        method: 'POST',
        url: '/v1/admin/policies/check',
        headers: OWNER,
        payload: { site: OTHER, config: { ...SITE_CONFIG, policy: 'v4' } },
      });
      assert.equal(check.statusCode, 404, check.body);
      assert.match(check.json().message, /retired/);
      // The other sites go on, the token's one included (it was never the config file's).
      assert.equal((await receipt(s, ORIGIN)).statusCode, 201);
      assert.equal((await receipt(s, ADDED)).statusCode, 201);
      // What it collected stays: listed as retired, exported, withdrawable, erasable.
      const sites = (await s.app.inject({ url: '/v1/admin/sites?counts=no', headers: OWNER })).json()
        .sites as {
        site: string;
        retired: boolean;
      }[];
      assert.deepEqual(
        sites.map((x) => [x.site, x.retired]),
        [
          [ORIGIN, false],
          [ADDED, false],
          [OTHER, true],
        ],
      );
      const exp = await s.app.inject({
        url: `/v1/admin/receipts?site=${encodeURIComponent(OTHER)}`,
        headers: OWNER,
      });
      assert.equal(exp.statusCode, 200);
      assert.ok(exp.body.includes(kept.json().id), 'its receipts are still exported');
      const w = await s.app.inject({ method: 'POST', url: `/v1/consents/${visitor}/withdraw` });
      assert.ok(
        w.statusCode < 300,
        `a visitor of a retired site can still withdraw: ${w.statusCode} ${w.body}`,
      );
      const erase = await s.app.inject({
        method: 'POST',
        url: '/v1/admin/erasures',
        headers: OWNER,
        payload: { site: OTHER, consentId: visitor },
      });
      assert.equal(erase.statusCode, 200, erase.body);
    } finally {
      await s.close();
    }
  });
});
