/**
 * The overview (issue 17, part 4): outcomes counted per consent (each visitor's latest
 * choice), with receipts beside, over time, per region and category; exact counts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type AssentServer, createServer } from '../src/index.js';
import { seedChoices } from './admin-seed.js';
import { freshPgDatabase, SITES } from './helpers.js';

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
          db: pgDb ? pgDb.url : 'sqlite::memory:',
          sites: SITES,
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
            ['ad_tech', 1, 5],
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
    });
});
