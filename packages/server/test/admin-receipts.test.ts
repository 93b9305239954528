/**
 * The console's receipts (issue 17, part 3): search by consent ID, filters, keyset pages, a
 * receipt's detail with the wording shown and whether it verifies; consent IDs never logged.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EN } from '@assent/core';
import { sql } from 'kysely';
import { type AssentServer, createServer } from '../src/index.js';
import type { KyselyStore } from '../src/store/kysely-store.js';
import { consentId, ORIGIN, OTHER, receiptBody, SITES, tempDir } from './helpers.js';

const TOKEN = 'receipts-test-admin-token';
const auth = { authorization: `Bearer ${TOKEN}` };

describe('admin receipts table and detail', () => {
  let s: AssentServer;
  const logs: string[] = [];
  const visitor = consentId();
  const ids: string[] = [];
  before(async () => {
    s = await createServer({
      // A file, as a server runs: the console's reads then go through the reader thread.
      db: `sqlite:${join(tempDir(), 'receipts.db')}`,
      sites: SITES,
      adminToken: TOKEN,
      logger: { level: 'info', stream: { write: (l: string) => void logs.push(l) } },
      rateLimit: false,
      retention: false,
    });
    const post = async (over: Record<string, unknown>, origin = ORIGIN) => {
      const body = receiptBody({ ...over, page: { origin, path: '/x' } });
      const r = await s.app.inject({
        method: 'POST',
        url: '/v1/receipts',
        headers: { origin },
        payload: body,
      });
      assert.equal(r.statusCode, 201, r.body);
      ids.push(r.json().id);
    };
    await post({ consentId: visitor, method: 'custom' });
    await post({
      method: 'accept-all',
      choices: { analytics: true, 'analytics:matomo': true, marketing: true, ad_tech: true },
    });
    await post(
      { method: 'reject-all', choices: { analytics: false, marketing: false, ad_tech: false } },
      OTHER,
    );
    await post({ method: 'reject-all', choices: { analytics: false, marketing: false, ad_tech: false } });
    await post({
      consentId: visitor,
      method: 'reject-all',
      choices: { analytics: false, marketing: false, ad_tech: false },
    });
  });
  after(() => s.close());

  const page = (q: string) => s.app.inject({ url: `/v1/admin/receipts/page?${q}`, headers: auth });

  it('lists newest first in keyset pages that cover every receipt once', async () => {
    const seen: string[] = [];
    let q = 'limit=2';
    for (;;) {
      const r = await page(q);
      assert.equal(r.statusCode, 200, r.body);
      seen.push(...r.json().receipts.map((x: { id: string }) => x.id));
      if (!r.json().next) break;
      q = `limit=2&after=${r.json().next}`;
    }
    assert.deepEqual(seen, [...ids].reverse());
  });

  it('searches by consent ID, site and method; a mistyped site or consent ID is named, not an empty table', async () => {
    const mine = (await page(`consent=${visitor}`)).json().receipts;
    assert.deepEqual(
      mine.map((x: { id: string; method: string }) => [x.id, x.method]),
      [
        [ids[4], 'reject-all'],
        [ids[0], 'custom'],
      ],
    );
    assert.deepEqual(mine[1].granted, ['analytics', 'analytics:matomo']);
    assert.equal((await page(`site=${encodeURIComponent(OTHER)}`)).json().receipts.length, 1);
    assert.equal((await page('method=reject-all')).json().receipts.length, 3);
    assert.equal(
      (await page(`method=reject-all&site=${encodeURIComponent(ORIGIN)}`)).json().receipts.length,
      2,
    );
    assert.equal((await page('from=2999-01-01')).json().receipts.length, 0);
    const typo = await page(`site=${encodeURIComponent('http://127.0.0.1:300')}`);
    assert.equal(typo.statusCode, 400);
    assert.deepEqual([typo.json().error, typo.json().field], ['ASSENT_UNKNOWN_SITE', 'site']);
    const stats = await s.app.inject({ url: '/v1/admin/stats?site=https://shop.exampel', headers: auth });
    assert.deepEqual([stats.statusCode, stats.json().field], [400, 'site']);
    // The export says it as stats do, in every format, and audits nothing (it exported nothing).
    const audited = async () =>
      (await s.app.inject({ url: '/v1/admin/audit?limit=200', headers: auth })).json().entries.length;
    const before = await audited();
    for (const format of ['ndjson', 'csv']) {
      const exp = await s.app.inject({
        url: `/v1/admin/receipts?format=${format}&site=https://shop.exampel`,
        headers: auth,
      });
      assert.equal(exp.statusCode, 400, exp.body);
      assert.deepEqual([exp.json().error, exp.json().field], ['ASSENT_UNKNOWN_SITE', 'site']);
    }
    const known = await s.app.inject({
      url: `/v1/admin/receipts?site=${encodeURIComponent(`${OTHER}/`)}`,
      headers: auth,
    });
    assert.equal(known.statusCode, 200);
    assert.equal(await audited(), before + 1, 'only the export that ran is audited');
    // Spelt with a space and capitals, as the erasure route takes it: the same site.
    const spaced = await s.app.inject({
      url: `/v1/admin/receipts?site=${encodeURIComponent(` ${OTHER.toUpperCase()}/`)}`,
      headers: auth,
    });
    assert.equal(spaced.statusCode, 200, spaced.body);
    assert.equal((await page('consent=not-an-id')).json().field, 'consent');
    assert.equal((await page('after=garbage')).statusCode, 400);
    // A cursor the server never made (a NUL, which PostgreSQL refuses with a 500) is a 400.
    const forged = Buffer.from(`2026-01-01T00:00:00.000Z|${ids[0]}\u0000x`).toString('base64url');
    assert.equal((await page(`after=${forged}`)).statusCode, 400);
    assert.equal((await page('method=maybe')).statusCode, 400);
    // The consent ID searched for is nowhere in the server's log.
    assert.ok(logs.length > 0);
    assert.ok(!logs.join('\n').includes(visitor), 'a consent ID was logged');
  });

  it("shows a receipt's choices, the wording shown, its place in the chain, and whether it verifies", async () => {
    const r = await s.app.inject({ url: `/v1/admin/receipts/${ids[3]}`, headers: auth });
    assert.equal(r.statusCode, 200, r.body);
    const d = r.json();
    assert.equal(d.receipt.method, 'reject-all');
    assert.deepEqual(d.verification, { hash: true, signature: true, kid: s.signer.kid, key: 'this server' });
    assert.deepEqual(
      [d.chain.site, d.chain.seq, d.chain.head, d.chain.prevId, d.chain.nextId],
      [ORIGIN, 3, 4, ids[1], ids[4]],
    );
    const analytics = d.policy.categories.find((c: { id: string }) => c.id === 'analytics');
    assert.equal(analytics.title, 'Audience measurement');
    assert.equal(analytics.granted, false);
    assert.equal(analytics.services[0].title, 'Matomo');
    assert.equal(typeof d.policy.texts.title, 'string');
    assert.equal(d.policy.version, 'v3');

    // A receipt ID is 16 characters: the error says so, not "consent ID".
    const notAnId = await s.app.inject({ url: '/v1/admin/receipts/notanid', headers: auth });
    assert.equal(notAnId.statusCode, 400);
    assert.deepEqual(
      [notAnId.json().field, notAnId.json().message],
      ['id', 'must be a receipt ID: 16 base64url characters'],
    );

    // Altered in the database: the detail says it no longer verifies.
    await sql`update receipts set body = replace(body, '"reject-all"', '"accept-all"') where id = ${ids[3]}`.execute(
      // The request thread's connection (SqliteThreadStore's `reads`): an outside edit.
      (s.store as unknown as { reads: KyselyStore }).reads.db,
    );
    const altered = (await s.app.inject({ url: `/v1/admin/receipts/${ids[3]}`, headers: auth })).json();
    assert.equal(altered.verification.hash, false);
    assert.equal(
      (await s.app.inject({ url: '/v1/admin/receipts/AAAAAAAAAAAAAAAA', headers: auth })).statusCode,
      404,
    );
  });

  it("gives the first layer the visitor was shown under the receipt's mode, and decides choices as core does", async () => {
    const detail = async (over: Record<string, unknown>) => {
      const r = await s.app.inject({
        method: 'POST',
        url: '/v1/receipts',
        headers: { origin: OTHER },
        payload: receiptBody({ ...over, page: { origin: OTHER, path: '/x' } }),
      });
      assert.equal(r.statusCode, 201, r.body);
      return (await s.app.inject({ url: `/v1/admin/receipts/${r.json().id}`, headers: auth })).json().policy;
    };
    // Only `analytics` in the receipt: its service comes with it; the others were not granted.
    const p = await detail({ choices: { analytics: true } });
    assert.deepEqual(p.shown, {
      mode: 'opt-in',
      message: EN.message,
      learnMore: EN.learnMore,
      // "/privacy" as the visitor's browser resolved it: on the site, not this server.
      learnMoreHref: `${OTHER}/privacy`,
      buttons: [EN.accept, EN.reject, EN.preferences],
      necessary: { title: EN.cats.necessary![0], description: EN.cats.necessary![1], note: EN.alwaysOn },
    });
    const granted = Object.fromEntries(
      p.categories.flatMap(
        (c: { id: string; granted: boolean; services: { id: string; granted: boolean }[] }) => [
          [c.id, c.granted],
          ...c.services.map((x) => [`${c.id}:${x.id}`, x.granted]),
        ],
      ),
    );
    assert.deepEqual(granted, {
      analytics: true,
      'analytics:matomo': true,
      marketing: false,
      ad_tech: false,
    });
    // The buttons of the receipt's own mode: OTHER published anew, opt-out and notice by region.
    const pub = await s.app.inject({
      method: 'POST',
      url: '/v1/admin/policies',
      headers: auth,
      payload: {
        site: OTHER,
        config: { ...SITES[OTHER], policy: 'v4', regions: { 'US-CA': 'opt-out', JP: 'notice' } },
      },
    });
    assert.equal(pub.statusCode, 201, pub.body);
    const v4 = { version: 'v4', sha256: pub.json().sha256 };
    assert.deepEqual((await detail({ policy: v4, mode: 'opt-out', choices: {} })).shown.buttons, [
      EN.accept,
      EN.preferences,
      EN.doNotSell,
    ]);
    assert.deepEqual(
      (
        await detail({
          policy: v4,
          mode: 'notice',
          method: 'notice-ack',
          choices: { analytics: true, marketing: true, ad_tech: true },
        })
      ).shown.buttons,
      [EN.accept],
    );
  });
});
