/**
 * A consent's latest receipt on a site is the last one in the site's chain (`seq`), whatever
 * the clock said when it was taken. A withdrawal made after the server's clock stepped back
 * (an NTP step, a VM snapshot restored, two server processes on one PostgreSQL with different
 * clocks) was stored but had no effect: ordered by `at` first, the acceptance before it stayed
 * "latest" for the cookie endpoint, the consent page and the overview until the clock caught
 * up. Across sites (one consent ID on apex and www) there is no common sequence: `at` decides.
 * On both databases, SQLite on a file (the writer thread's compiled statements).
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeConsent } from '@assent/core';
import { CompiledQuery, type Kysely, Migrator, sql } from 'kysely';
import {
  type AssentServer,
  createServer,
  createSigner,
  openStore,
  purgeExpired,
  type Store,
} from '../src/index.js';
import { type KyselyStore, newestFirst } from '../src/store/kysely-store.js';
import { migrationProvider } from '../src/store/migrations.js';
import type { Database, NewReceipt } from '../src/store/types.js';
import { checkStore, openForCheck } from '../src/store-check.js';
import { freshPgDatabase, newReceipt, ORIGIN, OTHER, receiptBody, SITES, tempDir } from './helpers.js';

const TOKEN = 'latest-by-seq-admin-token';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NONE = { analytics: false, 'analytics:matomo': false, marketing: false, ad_tech: false };
const ALL = { analytics: true, 'analytics:matomo': true, marketing: true, ad_tech: true };
const keys = generateKeyPairSync('ed25519');

/** The request thread's Kysely store of any store (SQLite on a file keeps it as `reads`). */
const kyselyOf = (store: Store): KyselyStore =>
  ('reads' in store ? (store as unknown as { reads: KyselyStore }).reads : store) as KyselyStore;

/** consent_latest's rows of one consent: site → the seq and method it names. */
const latestRows = async (store: Store, id: string) => {
  const rows = await kyselyOf(store)
    .db.selectFrom('consent_latest')
    .select(['site', 'seq', 'method', 'receipt_id'])
    .where('consent_id', '=', id)
    .orderBy('site')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.site, { seq: Number(r.seq), method: r.method }]));
};

const suite = (kind: 'sqlite' | 'postgres') => {
  describe(`a consent's latest receipt follows its site's chain, on ${kind}`, () => {
    let s: AssentServer;
    let url = '';
    let drop = async () => {};
    let closed = false;
    const realNow = Date.now;
    before(async () => {
      if (kind === 'sqlite') url = `sqlite:${join(tempDir(), 'receipts.db')}`;
      else ({ url, drop } = await freshPgDatabase());
      s = await createServer({
        db: url,
        sites: SITES,
        adminToken: TOKEN,
        signingKey: keys.privateKey,
        logger: false,
        rateLimit: false,
        retention: false,
        log: false,
        webhooks: false,
      });
    });
    after(async () => {
      Date.now = realNow;
      if (!closed) await s?.close();
      await drop();
    });

    const item = (over: Partial<NewReceipt>, body: ReturnType<typeof receiptBody>) =>
      newReceipt(s.signer.kid, over, body);
    const overview = async (site: string, q = '') => {
      const r = await s.app.inject({
        url: `/v1/admin/overview?site=${encodeURIComponent(site)}${q}`,
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(r.statusCode, 200, r.body);
      const o = r.json() as { consents: number; outcomes: { method: string; consents: number }[] };
      const counts: Record<string, number> = { consents: o.consents };
      for (const x of o.outcomes) counts[x.method] = x.consents;
      return counts;
    };
    const cookieMethod = async (id: string) => {
      const r = await s.app.inject(`/v1/consents/${id}/cookie`);
      assert.equal(r.statusCode, 200, r.body);
      return decodeConsent(r.json().cookie)?.method;
    };
    /** What the consent page says applies now ("On …, on <site>, you …."), not its history. */
    const applies = async (id: string) => {
      const r = await s.app.inject(`/consent/${id}`);
      assert.equal(r.statusCode, 200, r.body);
      return /<p>On [^<]*, on [^<]*, you ([^<]*)\.<\/p>/.exec(r.body)?.[1];
    };

    it('a withdrawal made after the clock stepped back an hour applies at once: cookie, consent page, overview', async () => {
      const before = await overview(ORIGIN);
      const body = receiptBody({ method: 'accept-all', choices: ALL });
      const posted = await s.app.inject({
        method: 'POST',
        url: '/v1/receipts',
        headers: { origin: ORIGIN },
        payload: body,
      });
      assert.equal(posted.statusCode, 201, posted.body);
      const id = body.consentId;
      assert.equal(await cookieMethod(id), 'accept-all');
      assert.equal(await applies(id), 'accepted all cookies');
      // The server's clock steps back an hour (NTP), and the visitor withdraws.
      Date.now = () => realNow() - HOUR;
      let w: Awaited<ReturnType<typeof s.app.inject>>;
      try {
        w = await s.app.inject({ method: 'POST', url: `/v1/consents/${id}/withdraw` });
      } finally {
        Date.now = realNow;
      }
      assert.equal(w.statusCode, 201, w.body);
      // What the visitor and the site are told: withdrawn.
      assert.equal(await cookieMethod(id), 'withdraw');
      assert.equal(await applies(id), 'withdrew your consent', 'not "you accepted all cookies"');
      assert.equal((await s.store.latest(id))?.method, 'withdraw');
      assert.equal((await s.store.latest(id, ORIGIN))?.method, 'withdraw');
      const history = await s.store.history(id, { offset: 0, limit: 10 });
      assert.deepEqual(
        history.receipts.map((r) => [r.method, r.seq]),
        [
          ['withdraw', history.receipts[1]!.seq + 1],
          ['accept-all', history.receipts[1]!.seq],
        ],
        'the withdrawal, later in the chain though its at is an hour earlier, comes first',
      );
      assert.ok(history.receipts[0]!.at < history.receipts[1]!.at, 'its at is earlier');
      assert.deepEqual(await latestRows(s.store, id), {
        [ORIGIN]: { seq: history.receipts[0]!.seq, method: 'withdraw' },
      });
      // Counted once, as withdrawn: today's overview (consent_latest) and one ending in the
      // past (the per-receipt search) alike.
      const now = await overview(ORIGIN);
      assert.equal(now.consents, before.consents! + 1);
      assert.equal(now.withdraw, before.withdraw! + 1);
      assert.equal(now['accept-all'], before['accept-all']);
      await new Promise((r) => setTimeout(r, 5));
      const end = new Date().toISOString();
      const closed = await overview(ORIGIN, `&to=${end}`);
      assert.deepEqual(closed, now, 'a range ending in the past counts the same');
    });

    it('orders by seq within a site whichever batch the receipts came in; latest, history and consent_latest agree', async () => {
      const T = Date.now();
      // Two batches: the acceptance, then the withdrawal taken an hour earlier by the clock.
      const a = receiptBody({ method: 'accept-all', choices: ALL });
      await s.store.append([item({ at: new Date(T).toISOString() }, a)], s.signer);
      await s.store.append(
        [item({ at: new Date(T - HOUR).toISOString() }, { ...a, method: 'withdraw', choices: NONE })],
        s.signer,
      );
      // One batch, in the same order.
      const b = receiptBody({ method: 'accept-all', choices: ALL });
      await s.store.append(
        [
          item({ at: new Date(T).toISOString() }, b),
          item({ at: new Date(T - HOUR).toISOString() }, { ...b, method: 'withdraw', choices: NONE }),
        ],
        s.signer,
      );
      // And the other way round: a withdrawal, then an acceptance taken before it by the clock.
      const c = receiptBody({ method: 'withdraw', choices: NONE });
      await s.store.append([item({ at: new Date(T).toISOString() }, c)], s.signer);
      await s.store.append(
        [item({ at: new Date(T - HOUR).toISOString() }, { ...c, method: 'accept-all', choices: ALL })],
        s.signer,
      );
      for (const [x, want] of [
        [a, 'withdraw'],
        [b, 'withdraw'],
        [c, 'accept-all'],
      ] as const) {
        const id = x.consentId;
        assert.equal((await s.store.latest(id))?.method, want, id);
        assert.equal((await s.store.latest(id, ORIGIN))?.method, want, id);
        const h = await s.store.history(id, { offset: 0, limit: 10 });
        assert.equal(h.receipts[0]!.method, want, id);
        assert.ok(h.receipts[0]!.seq > h.receipts[1]!.seq, id);
        assert.equal((await latestRows(s.store, id))[ORIGIN]?.method, want, id);
        assert.equal(await cookieMethod(id), want, id);
        assert.equal(
          await applies(id),
          want === 'withdraw' ? 'withdrew your consent' : 'accepted all cookies',
        );
      }
    });

    it('across sites (apex and www sharing the cookie) each site’s latest by seq, then the later by at', async () => {
      const T = Date.now();
      const on = (
        site: string,
        at: number,
        method: 'accept-all' | 'withdraw',
        x: ReturnType<typeof receiptBody>,
      ) =>
        s.store.append(
          [
            item(
              { at: new Date(at).toISOString(), site },
              {
                ...x,
                method,
                choices: method === 'withdraw' ? NONE : ALL,
                page: { origin: site, path: '/' },
              },
            ),
          ],
          s.signer,
        );
      // ORIGIN: accepted at T, withdrawn after the clock stepped back (T - 1 h). OTHER: accepted
      // at T - 30 min, later by the clock than ORIGIN's withdrawal: across sites `at` decides.
      const x = receiptBody();
      await on(ORIGIN, T, 'accept-all', x);
      await on(ORIGIN, T - HOUR, 'withdraw', x);
      await on(OTHER, T - 30 * 60_000, 'accept-all', x);
      const lx = await s.store.latest(x.consentId);
      assert.deepEqual([lx?.site, lx?.method], [OTHER, 'accept-all']);
      assert.equal((await s.store.latest(x.consentId, ORIGIN))?.method, 'withdraw');
      assert.equal((await s.store.latest(x.consentId, OTHER))?.method, 'accept-all');
      const hx = await s.store.history(x.consentId, { offset: 0, limit: 10 });
      assert.deepEqual(
        hx.receipts.map((r) => [r.site, r.method]),
        [
          [OTHER, 'accept-all'],
          [ORIGIN, 'withdraw'],
          [ORIGIN, 'accept-all'],
        ],
      );
      // The same, OTHER's acceptance at T - 2 h: ORIGIN's withdrawal is the consent's latest.
      const y = receiptBody();
      await on(ORIGIN, T, 'accept-all', y);
      await on(ORIGIN, T - HOUR, 'withdraw', y);
      await on(OTHER, T - 2 * HOUR, 'accept-all', y);
      const ly = await s.store.latest(y.consentId);
      assert.deepEqual([ly?.site, ly?.method], [ORIGIN, 'withdraw']);
      const hy = await s.store.history(y.consentId, { offset: 0, limit: 10 });
      assert.deepEqual(
        hy.receipts.map((r) => [r.site, r.method]),
        [
          [ORIGIN, 'withdraw'],
          [ORIGIN, 'accept-all'],
          [OTHER, 'accept-all'],
        ],
      );
      // A page at a time, the same order.
      const pages = [];
      for (let offset = 0; offset < 3; offset++)
        pages.push(...(await s.store.history(y.consentId, { offset, limit: 1 })).receipts);
      assert.deepEqual(
        pages.map((r) => r.id),
        hy.receipts.map((r) => r.id),
      );
      assert.equal(await cookieMethod(y.consentId), 'withdraw');
      assert.equal(await applies(y.consentId), 'withdrew your consent');
      assert.deepEqual(await latestRows(s.store, y.consentId), {
        [ORIGIN]: { seq: hy.receipts[0]!.seq, method: 'withdraw' },
        [OTHER]: { seq: hy.receipts[2]!.seq, method: 'accept-all' },
      });
    });

    it('retention keeps a withdrawal taken after the clock stepped back as long as the acceptance it withdrew', async () => {
      // The withdrawal's expiry has passed, the acceptance's has not: purging the withdrawal
      // alone would bring the acceptance back as the latest choice.
      const T = Date.now();
      const x = receiptBody({ method: 'accept-all', choices: ALL });
      await s.store.append(
        [item({ at: new Date(T).toISOString(), expiresAt: new Date(T + 395 * DAY).toISOString() }, x)],
        s.signer,
      );
      await s.store.append(
        [
          item(
            { at: new Date(T - HOUR).toISOString(), expiresAt: '2020-01-01T00:00:00.000Z' },
            { ...x, method: 'withdraw', choices: NONE },
          ),
        ],
        s.signer,
      );
      await purgeExpired({ store: s.store }, 30);
      assert.equal((await s.store.latest(x.consentId))?.method, 'withdraw');
      assert.equal((await s.store.history(x.consentId, { offset: 0, limit: 10 })).total, 2);
    });

    it('verify-db agrees: consent_latest names the last receipt of the chain', async () => {
      await s.close();
      closed = true;
      const store = openForCheck(url);
      try {
        const r = await checkStore(store, { publicKeys: [keys.publicKey], retentionDays: 365 });
        assert.deepEqual(
          r.problems.filter((p) => p.reason.includes('consent_latest')),
          [],
        );
      } finally {
        await store.close();
      }
    });
  });

  describe(`migration 0006_latest_by_seq, on ${kind}`, () => {
    it('rebuilds consent_latest by seq from a database whose rows the old (at, seq) rule chose', async () => {
      const fresh =
        kind === 'sqlite'
          ? { url: `sqlite:${join(tempDir(), 'old.db')}`, drop: async () => {} }
          : await freshPgDatabase();
      const store = openStore(fresh.url);
      const k = kyselyOf(store);
      try {
        // Every migration but this one, as the previous version left the database.
        const all = await migrationProvider.getMigrations();
        const { error } = await new Migrator({
          db: k.db,
          allowUnorderedMigrations: true,
          provider: {
            getMigrations: async () =>
              Object.fromEntries(Object.entries(all).filter(([name]) => name !== '0006_latest_by_seq')),
          },
        }).migrateToLatest();
        assert.ifError(error);
        const signer = createSigner(keys.privateKey);
        const mk = (over: Partial<NewReceipt>, body: ReturnType<typeof receiptBody>) =>
          newReceipt(signer.kid, over, body);
        const T = Date.now();
        const iso = (t: number) => new Date(t).toISOString();
        // a: accepted, withdrawn after the clock stepped back (the old rule kept the acceptance).
        const a = receiptBody({ method: 'accept-all', choices: ALL });
        // b: in order (both rules agree).
        const b = receiptBody({ method: 'accept-all', choices: ALL });
        // c: on both sites, stepped back on OTHER only.
        const c = receiptBody({ method: 'accept-all', choices: ALL });
        const cOther = { ...c, page: { origin: OTHER, path: '/' } };
        // d: its last receipt (by seq) purged: the one before it is the latest left.
        const d = receiptBody({ method: 'reject-all', choices: NONE });
        // e: as a, its row dropped (as retention drops a row whose receipt expired).
        const e = receiptBody({ method: 'accept-all', choices: ALL });
        await store.append(
          [
            mk({ at: iso(T) }, a),
            mk({ at: iso(T - HOUR) }, b),
            mk({ at: iso(T), site: OTHER }, cOther),
            mk({ at: iso(T) }, c),
            mk({ at: iso(T - 2 * HOUR) }, d),
            mk({ at: iso(T) }, e),
          ],
          signer,
        );
        await store.append(
          [
            mk({ at: iso(T - HOUR) }, { ...a, method: 'withdraw', choices: NONE }),
            mk({ at: iso(T) }, { ...b, method: 'withdraw', choices: NONE }),
            mk({ at: iso(T - HOUR), site: OTHER }, { ...cOther, method: 'withdraw', choices: NONE }),
            mk({ at: iso(T - 3 * HOUR), expiresAt: '2020-01-01T00:00:00.000Z' }, { ...d, method: 'custom' }),
            mk({ at: iso(T - HOUR) }, { ...e, method: 'withdraw', choices: NONE }),
          ],
          signer,
        );
        const db = k.db as unknown as Kysely<Database>;
        // Purged as retention would (ignoring the rule that keeps it while d's first is kept).
        await sql`update receipts set body = null, consent_id = null, method = null, region = null, mode = null, granted = null, accepted = null, salt = null, purged_at = ${iso(T)} where expires_at < '2021-01-01'`.execute(
          db,
        );
        // consent_latest as the previous version built and kept it: 0005's own rebuild, by (at, seq).
        await all['0005_latest_by_site']!.up(k.db as unknown as Kysely<unknown>);
        const methods = async () =>
          Object.fromEntries(
            (
              await db
                .selectFrom('consent_latest')
                .select(['site', 'consent_id', 'method'])
                .orderBy('site')
                .orderBy('consent_id')
                .execute()
            ).map((r) => [`${r.site === ORIGIN ? 'origin' : 'other'} ${r.consent_id}`, r.method]),
          );
        await db.deleteFrom('consent_latest').where('consent_id', '=', e.consentId).execute();
        const old = await methods();
        assert.equal(old[`origin ${a.consentId}`], 'accept-all', 'the old rule: the acceptance, by at');
        assert.equal(old[`other ${c.consentId}`], 'accept-all');
        assert.deepEqual(await store.migrate(), ['0006_latest_by_seq']);
        assert.deepEqual(await methods(), {
          [`origin ${a.consentId}`]: 'withdraw',
          [`origin ${b.consentId}`]: 'withdraw',
          [`origin ${c.consentId}`]: 'accept-all',
          [`other ${c.consentId}`]: 'withdraw',
          [`origin ${d.consentId}`]: 'reject-all',
          [`origin ${e.consentId}`]: 'withdraw',
        });
        // Every row as statements.ts latestRow writes it, naming its site's last receipt.
        const rows = await db.selectFrom('consent_latest').selectAll().execute();
        for (const l of rows) {
          const r = await db
            .selectFrom('receipts')
            .selectAll()
            .where('consent_id', '=', l.consent_id)
            .where('site', '=', l.site)
            .orderBy('seq', 'desc')
            .limit(1)
            .executeTakeFirstOrThrow();
          assert.deepEqual(
            { ...l, seq: Number(l.seq) },
            {
              site: r.site,
              consent_id: r.consent_id,
              seq: Number(r.seq),
              receipt_id: r.id,
              at: r.at,
              day: r.at.slice(0, 10),
              expires_at: r.expires_at,
              method: r.method,
              region: r.region,
              mode: r.mode,
              granted: r.granted,
            },
          );
        }
        assert.equal((await store.latest(a.consentId))?.method, 'withdraw');
      } finally {
        await store.close();
        await fresh.drop();
      }
    });
  });
};

suite('sqlite');
suite('postgres');

describe('the latest receipt’s order on SQLite', () => {
  it('reads a consent’s receipts through the consent ID’s index, never walking a site’s chain', async () => {
    const store = openStore('sqlite::memory:') as unknown as KyselyStore;
    await store.migrate();
    const plans = [];
    for (const q of [
      newestFirst(store.db, 'AAAAAAAAAAAAAAAAAAAAAA', 20, 40).compile(),
      store.db
        .selectFrom('receipts')
        .select('id')
        .where('consent_id', '=', 'AAAAAAAAAAAAAAAAAAAAAA')
        .where(sql<string>`${sql.ref('site')} || ''`, '=', ORIGIN)
        .orderBy('seq', 'desc')
        .limit(1)
        .compile(),
    ]) {
      const plan = await store.db.executeQuery<{ detail: string }>(
        CompiledQuery.raw(`explain query plan ${q.sql}`, [...q.parameters]),
      );
      plans.push(plan.rows.map((r) => r.detail));
    }
    for (const details of plans) {
      const receipts = details.filter((d) => /^(SEARCH|SCAN) (receipts|r)\b/.test(d));
      assert.ok(receipts.length > 0, JSON.stringify(details));
      for (const d of receipts)
        assert.match(
          d,
          /USING (COVERING )?INDEX (receipts_consent_at \(consent_id=\?|sqlite_autoindex_receipts_1 \(id=\?)/,
          d,
        );
    }
    await store.close();
  });
});
