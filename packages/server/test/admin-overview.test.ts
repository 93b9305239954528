/**
 * The overview (issue 17, part 4): outcomes counted per consent (each visitor's latest
 * choice), with receipts beside, over time, per region and category; exact counts.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type AssentServer, createServer } from '../src/index.js';
import { publishable } from '../src/policies.js';
import { seedChoices } from './admin-seed.js';
import {
  consentId,
  freshPgDatabase,
  newReceipt,
  ORIGIN,
  OTHER,
  receiptBody,
  SITES,
  tempDir,
} from './helpers.js';

/** A site whose visitors get each of the three modes, by region. */
const MODES_SITE = 'https://modes.example';
const MODES_CONFIG = {
  policy: 'm1',
  regions: { EU: 'opt-in', US: 'opt-out', JP: 'notice' },
  categories: [{ id: 'analytics' }],
};
const MODES_SHA = (() => {
  const r = publishable(MODES_CONFIG);
  if (!r.ok) throw new Error(r.errors.join('; '));
  return r.version.sha256;
})();

const TOKEN = 'overview-test-admin-token';
describe('admin overview', () => {
  for (const kind of ['sqlite', 'postgres'] as const)
    describe(kind, () => {
      let s: AssentServer;
      let drop: (() => Promise<void>) | undefined;
      before(async () => {
        const pgDb = kind === 'postgres' ? await freshPgDatabase() : null;
        drop = pgDb?.drop;
        s = await createServer({
          // SQLite on a file, as a server runs: the overview's queries go to the reader thread.
          db: pgDb ? pgDb.url : `sqlite:${join(tempDir(), 'receipts.db')}`,
          sites: { ...SITES, [MODES_SITE]: MODES_CONFIG },
          adminToken: TOKEN,
          regionHeader: 'cf-ipcountry',
          logger: false,
          rateLimit: false,
          retention: false,
        });
        await seedChoices(s);
      });
      after(async () => {
        await s.close();
        await drop?.();
      });
      /** A receipt of the modes site, which must be stored. */
      const post = async (id: string, mode: string, method: string, on: boolean, gpc = false) => {
        const r = await s.app.inject({
          method: 'POST',
          url: '/v1/receipts',
          headers: { origin: MODES_SITE },
          payload: {
            consentId: id,
            policy: { version: 'm1', sha256: MODES_SHA },
            mode,
            choices: { analytics: on },
            method,
            source: 'banner',
            signals: { gpc },
            page: { origin: MODES_SITE, path: '/' },
            lang: 'en',
          },
        });
        assert.equal(r.statusCode, 201, r.body);
      };

      it('counts each consent once, by its latest choice, with the receipts beside', async () => {
        const r = await s.app.inject({
          url: '/v1/admin/overview',
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        assert.equal(r.statusCode, 200, r.body);
        const o = r.json();
        assert.equal(o.consents, 5);
        assert.deepEqual(
          o.outcomes.map((x: { method: string; consents: number; receipts: number }) => [
            x.method,
            x.consents,
            x.receipts,
          ]),
          [
            ['accept-all', 1, 2],
            ['reject-all', 1, 1],
            ['custom', 1, 1],
            ['withdraw', 1, 1],
            ['gpc', 1, 1],
            ['notice-ack', 0, 0],
          ],
        );
        const today = new Date().toISOString().slice(0, 10);
        assert.deepEqual(o.days, [
          {
            day: today,
            counts: { 'accept-all': 1, 'reject-all': 1, custom: 1, withdraw: 1, gpc: 1, 'notice-ack': 0 },
          },
        ]);
        assert.deepEqual(
          o.regions.map((x: { region: string; counts: Record<string, number> }) => [
            x.region,
            x.counts.withdraw,
            x.counts['accept-all'],
          ]),
          [
            ['DE', 1, 0],
            ['FR', 0, 1],
            ['unknown', 0, 0],
          ],
        );
        assert.deepEqual(
          o.categories.map((c: { id: string; granting: number; consents: number }) => [
            c.id,
            c.granting,
            c.consents,
          ]),
          [
            ['analytics', 2, 5],
            ['marketing', 1, 5],
            ['ad_tech', 2, 5],
          ],
        );
        const future = await s.app.inject({
          url: '/v1/admin/overview?from=2999-01-01',
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        assert.equal(future.json().consents, 0);
        const typo = await s.app.inject({
          url: '/v1/admin/overview?site=https://shop.exampel',
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        assert.deepEqual([typo.statusCode, typo.json().error], [400, 'ASSENT_UNKNOWN_SITE']);
      });

      it('answers a control or bidi character in any parameter with a 400 naming it, never a 500', async () => {
        // A NUL reached PostgreSQL from ?site= and came back a 500 ("invalid byte sequence").
        for (const [url, field] of [
          ['/v1/admin/receipts?site=%00', 'site'],
          ['/v1/admin/overview?site=a%00b', 'site'],
          ['/v1/admin/stats?site=%E2%80%AE', 'site'],
          ['/v1/admin/policies/versions?site=%07', 'site'],
          ['/v1/admin/receipts/page?from=%00', 'from'],
          ['/v1/admin/receipts/%00', 'id'],
          ['/v1/consents/%00', 'id'],
          ['/v1/config?site=%00', 'site'],
          ['/v1/log/inclusion?site=https%3A%2F%2Fnews.example&size=1%00', 'size'],
        ] as const) {
          const r = await s.app.inject({ url, headers: { authorization: `Bearer ${TOKEN}` } });
          assert.equal(r.statusCode, 400, url);
          assert.deepEqual([r.json().error, r.json().field], ['ASSENT_BAD_FIELD', field], url);
          assert.match(r.json().message, /control|bidirectional/, url);
        }
        // And in a JSON body's strings (NUL in a sign-in's email reached the users table).
        const signIn = await s.app.inject({
          method: 'POST',
          url: '/v1/admin/session',
          payload: { email: 'dpo@news.example\u0000', password: 'x' },
        });
        assert.equal(signIn.statusCode, 400);
        assert.deepEqual([signIn.json().error, signIn.json().field], ['ASSENT_BAD_FIELD', 'email']);
        const policy = await s.app.inject({
          method: 'POST',
          url: '/v1/admin/policies',
          headers: { authorization: `Bearer ${TOKEN}` },
          payload: { site: MODES_SITE, config: { ...MODES_CONFIG, texts: { en: { message: 'a\u0000b' } } } },
        });
        assert.equal(policy.statusCode, 400);
        assert.deepEqual(
          [policy.json().error, policy.json().field],
          ['ASSENT_BAD_FIELD', 'config.texts.en.message'],
        );
      });

      it('counts each consent once per mode, by the mode of its latest choice', async () => {
        const [a, b, c, d, e, f] = Array.from({ length: 6 }, consentId) as [
          string,
          string,
          string,
          string,
          string,
          string,
        ];
        await post(a, 'opt-in', 'accept-all', true);
        await post(b, 'opt-out', 'reject-all', false);
        await post(c, 'opt-out', 'gpc', true, true);
        await post(d, 'notice', 'notice-ack', true);
        await post(e, 'notice', 'notice-ack', true);
        const w = await s.app.inject({ method: 'POST', url: `/v1/consents/${e}/withdraw` });
        assert.equal(w.statusCode, 201, w.body);
        // Chose under opt-in, then again under opt-out (travelled): counted once, as opt-out.
        await post(f, 'opt-in', 'custom', true);
        await post(f, 'opt-out', 'accept-all', true);

        const r = await s.app.inject({
          url: `/v1/admin/overview?site=${encodeURIComponent(MODES_SITE)}`,
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        assert.equal(r.statusCode, 200, r.body);
        const o = r.json();
        assert.equal(o.consents, 6);
        const zero = { 'accept-all': 0, 'reject-all': 0, custom: 0, withdraw: 0, gpc: 0, 'notice-ack': 0 };
        assert.deepEqual(o.modes, [
          { mode: 'opt-in', counts: { ...zero, 'accept-all': 1 } },
          { mode: 'opt-out', counts: { ...zero, 'reject-all': 1, gpc: 1, 'accept-all': 1 } },
          { mode: 'notice', counts: { ...zero, 'notice-ack': 1, withdraw: 1 } },
        ]);
        // The other site's five consents all chose under opt-in.
        const other = await s.app.inject({
          url: '/v1/admin/overview?site=http://127.0.0.1:3000',
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        assert.deepEqual(
          other
            .json()
            .modes.map((m: { mode: string; counts: Record<string, number> }) => [
              m.mode,
              Object.values(m.counts).reduce((n, x) => n + x, 0),
            ]),
          [
            ['opt-in', 5],
            ['opt-out', 0],
            ['notice', 0],
          ],
        );
      });

      it('a range that ends in the past counts the latest choice before its end, as today is counted', async () => {
        const get = async (q: string) => {
          const r = await s.app.inject({
            url: `/v1/admin/overview?site=${encodeURIComponent(MODES_SITE)}${q}`,
            headers: { authorization: `Bearer ${TOKEN}` },
          });
          assert.equal(r.statusCode, 200, r.body);
          const { from: _f, to: _t, ...o } = r.json();
          return o;
        };
        await new Promise((r) => setTimeout(r, 5));
        const end = new Date().toISOString();
        await new Promise((r) => setTimeout(r, 5));
        // Nothing after `end` yet: the consent_latest table (open range) and the per-receipt
        // search (a range ending in the past) must give the same overview.
        const open = await get('');
        assert.equal(open.consents, 6);
        assert.deepEqual(await get(`&to=${end}`), open);
        // A new visitor rejects after `end`: today's overview moves, the one ending at `end`
        // does not.
        await post(consentId(), 'opt-in', 'reject-all', false);
        const now = await get('');
        assert.equal(now.consents, 7);
        assert.equal(now.outcomes.find((x: { method: string }) => x.method === 'reject-all').consents, 2);
        assert.deepEqual(await get(`&to=${end}`), open);
        const later = new Date(Date.now() + 1000).toISOString();
        assert.deepEqual(await get(`&to=${later}`), now);
      });

      it('orders a consent’s receipts of one millisecond by the chain, everywhere, and counts it on each site', async () => {
        const overview = async (site: string, q = '') => {
          const r = await s.app.inject({
            url: `/v1/admin/overview?site=${encodeURIComponent(site)}${q}`,
            headers: { authorization: `Bearer ${TOKEN}` },
          });
          assert.equal(r.statusCode, 200, r.body);
          return r.json();
        };
        const before = await overview(ORIGIN);
        // An acceptance and its withdrawal in one millisecond, in one batch, the withdrawal
        // second in the chain but with the smaller receipt ID (IDs are random within a
        // millisecond): the withdrawal is the latest, for the store, the history and the overview.
        const at = new Date().toISOString();
        const body = receiptBody({
          method: 'accept-all',
          choices: { analytics: true, marketing: true, ad_tech: true },
        });
        await s.store.append(
          [
            newReceipt(s.signer.kid, { id: 'zzzzzzzzzzzzzzzz', at }, body),
            newReceipt(
              s.signer.kid,
              { id: 'AAAAAAAAAAAAAAAA', at },
              {
                ...body,
                method: 'withdraw',
                choices: { analytics: false, 'analytics:matomo': false, marketing: false, ad_tech: false },
              },
            ),
          ],
          s.signer,
        );
        assert.equal((await s.store.latest(body.consentId))?.method, 'withdraw');
        assert.equal(
          (await s.store.history(body.consentId, { offset: 0, limit: 5 })).receipts[0]?.method,
          'withdraw',
        );
        const methods = (o: { outcomes: { method: string; consents: number }[] }) =>
          Object.fromEntries(o.outcomes.map((x) => [x.method, x.consents]));
        const open = await overview(ORIGIN);
        assert.equal(methods(open).withdraw ?? 0, (methods(before).withdraw ?? 0) + 1);
        assert.equal(methods(open)['accept-all'] ?? 0, methods(before)['accept-all'] ?? 0);
        const end = new Date(Date.now() + 1).toISOString();
        await new Promise((r) => setTimeout(r, 5));
        const closed = await overview(ORIGIN, `&to=${end}`);
        assert.deepEqual(methods(closed), methods(open), 'the range ending in the past counts the same');
        // The same consent ID on a second site (apex and www sharing the cookie): counted on both.
        const other = await overview(OTHER);
        const there = await s.app.inject({
          method: 'POST',
          url: '/v1/receipts',
          headers: { origin: OTHER },
          payload: { ...body, page: { origin: OTHER, path: '/' } },
        });
        assert.equal(there.statusCode, 201, there.body);
        assert.equal((await overview(OTHER)).consents, other.consents + 1);
        assert.equal((await overview(ORIGIN)).consents, open.consents, 'still counted on the first site');
      });
    });
});
