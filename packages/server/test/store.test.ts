import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ConsentId, SignedReceipt } from '@assent/core';
import { CompiledQuery, sql } from 'kysely';
import { exportChunks, openStore, purgeExpired, type Store, verifyExport } from '../src/index.js';
import { createSigner } from '../src/signer.js';
import { latestBefore } from '../src/store/admin-store.js';
import type { KyselyStore } from '../src/store/kysely-store.js';
import { SQLITE_PRAGMAS } from '../src/store/sqlite-file.js';
import type { SqliteThreadStore } from '../src/store/sqlite-thread-store.js';
import { writes } from '../src/store/statements.js';
import type { NewReceipt } from '../src/store/types.js';
import {
  consentId,
  freshPgDatabase,
  newReceipt,
  ORIGIN,
  OTHER,
  PUBLISHED,
  receiptBody,
  tempDir,
} from './helpers.js';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const signer = createSigner(privateKey);

const item = (over: Partial<NewReceipt> = {}, body = receiptBody()): NewReceipt =>
  newReceipt(signer.kid, { region: 'FR', ...over }, body);

const exportText = async (store: Store, filter = {}) => {
  let s = '';
  for await (const c of exportChunks(store, filter, 'ndjson')) s += c;
  return s;
};

/** One suite, two databases: the store behaves the same on SQLite and PostgreSQL. */
const storeSuite = (kind: 'sqlite' | 'postgres') => {
  describe(`store on ${kind}`, () => {
    let url: string;
    let drop = async () => {};
    let store: Store;
    before(async () => {
      if (kind === 'sqlite') url = `sqlite:${join(tempDir(), 'receipts.db')}`;
      else ({ url, drop } = await freshPgDatabase());
      store = openStore(url);
      assert.deepEqual(await store.migrate(), [
        '0001_receipts',
        '0002_policies',
        '0003_history_probes',
        '0004_consent_latest',
        '0005_latest_by_site',
        '0006_latest_by_seq',
        'admin_0001_users',
        'admin_0002_audit',
        'admin_0003_webhooks',
        'admin_0004_user_sites',
        'admin_0005_webhook_erasures',
        'tlog_0001_leaves',
        'tlog_0002_cosignatures',
        'tlog_0003_entries',
      ]);
      // The receipts below name PUBLISHED (receiptBody's policy): publish it, as the server does.
      const at = new Date().toISOString();
      for (const site of [ORIGIN, OTHER])
        await store.publish(site, { sha256: PUBLISHED.sha256, doc: PUBLISHED.canonical }, at);
    });
    after(async () => {
      await store.close();
      await drop();
    });

    it('migrates once: running migrations again applies nothing', async () => {
      assert.deepEqual(await store.migrate(), []);
    });

    it('chains each site separately: seq from 1, prev = hash of the one before', async () => {
      const out = await store.append([item(), item({ site: OTHER }), item(), item()], signer);
      const mine = out.filter((r) => r.site === ORIGIN);
      assert.deepEqual(
        mine.map((r) => r.seq),
        [1, 2, 3],
      );
      assert.equal(mine[0]!.prev, '0'.repeat(64));
      assert.equal(mine[1]!.prev, mine[0]!.hash);
      assert.equal(mine[2]!.prev, mine[1]!.hash);
      assert.equal(out.find((r) => r.site === OTHER)!.seq, 1);
      const next = await store.append([item()], signer);
      assert.equal(next[0]!.seq, 4);
      assert.equal(next[0]!.prev, mine[2]!.hash);
    });

    it('continues one chain whichever path appends (writer thread or this thread)', async () => {
      // A sealer without `key` makes the store call digest/sign here (the path PostgreSQL and
      // in-memory SQLite always take); with it, SQLite on a file appends on its writer thread.
      const { key: _key, ...inThread } = signer;
      const a = await store.append([item(), item()], signer);
      const b = await store.append([item(), item()], inThread);
      const c = await store.append([item()], signer);
      assert.equal(b[0]!.prev, a[1]!.hash);
      assert.equal(b[0]!.seq, a[1]!.seq + 1);
      assert.equal(c[0]!.prev, b[1]!.hash);
      assert.equal(c[0]!.seq, b[1]!.seq + 1);
      const lines = (await exportText(store)).trim().split('\n');
      assert.deepEqual((await verifyExport(lines, [publicKey])).ok, true);
    });

    it('rolls a failed batch back whole: nothing of it is written, the chain goes on', async () => {
      const before = (await exportText(store)).trim().split('\n').length;
      const dup = item();
      // The second receipt reuses the first one's id (the primary key): the insert fails.
      await assert.rejects(store.append([item(), dup, { ...item(), id: dup.id }], signer));
      assert.equal((await exportText(store)).trim().split('\n').length, before);
      const [next] = await store.append([item()], signer);
      const lines = (await exportText(store)).trim().split('\n');
      assert.equal(lines.length, before + 1);
      const mine = (await exportText(store, { site: ORIGIN })).trim().split('\n');
      assert.equal(JSON.parse(mine.at(-1)!).id, next!.id);
      assert.equal(next!.prev, (JSON.parse(mine.at(-2)!) as SignedReceipt).hash);
      assert.deepEqual((await verifyExport(lines, [publicKey])).ok, true);
    });

    it("returns a consent's history a page at a time, newest first, with the total, as signed", async () => {
      const id = consentId() as ConsentId;
      const body = receiptBody({ consentId: id });
      await store.append([item({}, body)], signer);
      const none = { analytics: false, 'analytics:matomo': false, marketing: false, ad_tech: false };
      await store.append([item({ method: 'withdraw', choices: none }, body)], signer);
      const h = await store.history(id, { offset: 0, limit: 10 });
      assert.equal(h.total, 2);
      assert.deepEqual(
        h.receipts.map((r) => r.method),
        ['withdraw', 'custom'],
      );
      assert.equal(h.receipts[0]!.consentId, id);
      assert.match(h.receipts[0]!.sig, /^[\w-]{86}$/);
      const second = await store.history(id, { offset: 1, limit: 1 });
      assert.deepEqual(
        second.receipts.map((r) => r.method),
        ['custom'],
      );
      assert.equal(second.total, 2);
      assert.deepEqual(await store.history('nobodynobodynobodynobo', { offset: 0, limit: 10 }), {
        total: 0,
        receipts: [],
      });
    });

    it('bounds a history page whatever the consent holds (a limit above the maximum is the maximum)', async () => {
      const id = consentId() as ConsentId;
      const body = receiptBody({ consentId: id });
      await store.append(
        Array.from({ length: 250 }, () => item({}, body)),
        signer,
      );
      const h = await store.history(id, { offset: 0, limit: 10_000 });
      assert.equal(h.total, 250);
      assert.equal(h.receipts.length, 100);
      const last = await store.history(id, { offset: 200, limit: 100 });
      assert.equal(last.receipts.length, 50);
      // Newest first across pages: the last page ends with the first receipt appended.
      const first = await store.history(id, { offset: 249, limit: 1 });
      assert.equal(first.receipts[0]!.id, last.receipts.at(-1)!.id);
    });

    it('exports in chain order by pages, filtered by site and time, and the export verifies', async () => {
      await store.append(
        Array.from({ length: 2500 }, () => item()),
        signer,
      );
      const text = await exportText(store);
      const lines = text.trim().split('\n');
      // The one policy the receipts name comes first, then the receipts.
      assert.deepEqual(JSON.parse(lines[0]!), {
        type: 'policy',
        sha256: PUBLISHED.sha256,
        doc: JSON.parse(PUBLISHED.canonical),
      });
      const seqs = lines.map((l) => JSON.parse(l) as SignedReceipt).filter((r) => r.site === ORIGIN);
      assert.ok(seqs.every((r, i) => r.seq === i + 1));
      const v = await verifyExport(lines, [publicKey]);
      assert.deepEqual(v, {
        ok: true,
        receipts: lines.length - 1,
        purged: 0,
        sites: 2,
        partial: [],
        policies: 1,
        legacy: 0,
      });
      const other = (await exportText(store, { site: OTHER })).trim().split('\n');
      assert.equal(other.length, 2);
      assert.equal(JSON.parse(other[0]!).type, 'policy');
      assert.equal(JSON.parse(other[1]!).site, OTHER);
      assert.equal(await exportText(store, { to: '2000-01-01T00:00:00.000Z' }), '');
    });

    it('aggregates by day, category, region and method', async () => {
      const day = await store.stats({}, 'day', []);
      assert.equal(day.length, 1);
      assert.equal(day[0]!.key, new Date().toISOString().slice(0, 10));
      const total = day[0]!.total;
      const cats = await store.stats({}, 'category', ['analytics', 'marketing', 'ad_tech']);
      assert.deepEqual(
        cats.map((c) => [c.key, c.total]),
        [
          ['analytics', total],
          ['marketing', 0 + total],
          ['ad_tech', total],
        ],
      );
      assert.equal(cats[0]!.accepted, total - 1); // the withdrawal grants nothing
      assert.equal(cats[1]!.accepted, 0);
      assert.equal(cats[2]!.accepted, 0, '`_` in an id is not a LIKE wildcard');
      assert.deepEqual(await store.stats({}, 'region', []), [{ key: 'FR', total, accepted: total - 1 }]);
      const methods = await store.stats({ site: ORIGIN }, 'method', []);
      assert.deepEqual(
        methods.map((m) => m.key),
        ['custom', 'withdraw'],
      );
    });

    it('keeps the first salt of a day: every process gets the same one', async () => {
      const a = await store.salt('2026-01-01', 'first');
      const b = await store.salt('2026-01-01', 'second');
      assert.equal(a, 'first');
      assert.equal(b, 'first');
      await store.dropSaltsBefore('2026-01-02');
      assert.equal(await store.salt('2026-01-01', 'third'), 'third');
    });

    it('keeps the chain correct with concurrent writers', async () => {
      // PostgreSQL: three pools, as three server processes would have. SQLite is one process
      // per file with one connection (a second connection in the same thread would only
      // deadlock against better-sqlite3's synchronous busy wait), so: concurrent calls on it.
      const others = kind === 'postgres' ? [openStore(url), openStore(url)] : [store, store];
      await Promise.all(
        [store, ...others].flatMap((s) =>
          Array.from({ length: 8 }, () =>
            s.append(
              Array.from({ length: 5 }, () =>
                item({ site: OTHER }, receiptBody({ page: { origin: OTHER, path: '/' } })),
              ),
              signer,
            ),
          ),
        ),
      );
      if (kind === 'postgres') await Promise.all(others.map((s) => s.close()));
      const lines = (await exportText(store, { site: OTHER })).trim().split('\n');
      assert.equal(lines.length, 1 + 1 + 3 * 8 * 5, 'the policy, the first receipt, 120 more');
      assert.deepEqual((await verifyExport(lines, [publicKey])).ok, true);
    });

    it('purges the payload of expired consents and the chain still verifies', async () => {
      const [gone] = await store.append([item({ expiresAt: '2020-01-01T00:00:00.000Z' })], signer);
      await store.append([item()], signer);
      // The consent is counted (by its latest receipt) until that receipt is purged; then its
      // row of consent_latest, consent ID and all, is gone too.
      const counted = async () =>
        (await store.admin.latestGroups({}, new Date().toISOString())).reduce((n, g) => n + g.consents, 0);
      const before = await counted();
      const purged = await purgeExpired({ store }, 30);
      assert.equal(purged, 1);
      assert.equal(await counted(), before - 1);
      assert.deepEqual(await store.history(gone!.consentId, { offset: 0, limit: 10 }), {
        total: 0,
        receipts: [],
      });
      const text = await exportText(store);
      assert.ok(!text.includes(gone!.consentId), 'no trace of the purged consent ID');
      const purgedLine = text.split('\n').find((l) => l.includes(gone!.id))!;
      assert.deepEqual(Object.keys(JSON.parse(purgedLine)).sort(), [
        'at',
        'hash',
        'id',
        'kid',
        'prev',
        'purged',
        'seq',
        'sig',
        'site',
        'v',
      ]);
      const v = await verifyExport(text.trim().split('\n'), [publicKey]);
      assert.ok(v.ok && v.purged === 1, JSON.stringify(v));
      assert.equal(await purgeExpired({ store }, 30), 0);
    });

    it('never purges a withdrawal before the acceptance it withdrew: the consent stays withdrawn', async () => {
      // Accepted under a policy of 395 days, withdrawn under one of 30: the withdrawal expires
      // first. Purging it alone would make the acceptance the consent's latest receipt again.
      const c = receiptBody({ method: 'accept-all' });
      const day = 86_400_000;
      await store.append([item({ expiresAt: new Date(Date.now() + 395 * day).toISOString() }, c)], signer);
      await store.append(
        [
          item(
            { expiresAt: '2020-01-01T00:00:00.000Z' },
            { ...c, method: 'withdraw', choices: { ...c.choices, analytics: false } },
          ),
        ],
        signer,
      );
      assert.equal(await purgeExpired({ store }, 30), 0);
      assert.equal((await store.latest(c.consentId))?.method, 'withdraw');
      assert.equal((await store.history(c.consentId, { offset: 0, limit: 10 })).total, 2);
      // Once the acceptance has expired too, both go, the earlier one first.
      const d = receiptBody({ method: 'accept-all' });
      await store.append([item({ expiresAt: '2020-02-01T00:00:00.000Z' }, d)], signer);
      await store.append(
        [item({ expiresAt: '2020-01-01T00:00:00.000Z' }, { ...d, method: 'withdraw' })],
        signer,
      );
      assert.equal(await purgeExpired({ store }, 30), 2);
      assert.equal(await store.latest(d.consentId), null);
      // The same across two sites sharing the cookie (apex and www): the consent is read across
      // sites, so the withdrawal on one waits for the acceptance on the other.
      // (A second apart: across sites, receipts of one millisecond have no order to keep.)
      const x = receiptBody({ method: 'accept-all' });
      await store.append(
        [
          item(
            {
              expiresAt: new Date(Date.now() + 395 * day).toISOString(),
              at: new Date(Date.now() - 1000).toISOString(),
            },
            x,
          ),
        ],
        signer,
      );
      await store.append(
        [
          item(
            { expiresAt: '2020-01-01T00:00:00.000Z', site: OTHER },
            { ...x, method: 'withdraw', page: { origin: OTHER, path: '/' } },
          ),
        ],
        signer,
      );
      assert.equal(await purgeExpired({ store }, 30), 0);
      assert.equal((await store.latest(x.consentId))?.method, 'withdraw');
    });

    it('probes a write (readiness after write failures)', async () => {
      await store.probeWrite('2026-01-01T00:00:00.000Z');
      await store.probeWrite('2026-01-01T00:00:01.000Z');
    });

    it('answers a ping', async () => {
      await store.ping();
    });

    if (kind === 'postgres')
      it('runs every connection without parallel query (a console scan must not take the receipts’ cores)', async () => {
        const db = (store as unknown as KyselyStore).db;
        // Several at once, so the pool opens several connections.
        const got = await Promise.all(
          Array.from({ length: 4 }, async () => {
            const r = await sql<{
              v: string;
            }>`select current_setting('max_parallel_workers_per_gather') as v, pg_sleep(0.05)`.execute(db);
            return r.rows[0]!.v;
          }),
        );
        assert.deepEqual(got, ['0', '0', '0', '0']);
      });

    if (kind === 'sqlite')
      it('runs both connections, the request thread’s and the writer’s, with the same settings', async () => {
        const { reads, writer } = await (store as SqliteThreadStore).pragmas([
          'journal_mode',
          'synchronous',
          'busy_timeout',
          'secure_delete',
        ]);
        // synchronous 2 = FULL: the WAL is fsynced on every commit (durability); secure_delete
        // 1: what a purge or an erasure clears is zeroed in the file (privacy.test).
        const want = { journal_mode: 'wal', synchronous: 2, busy_timeout: 5000, secure_delete: 1 };
        assert.deepEqual(reads, want);
        assert.deepEqual(writer, want);
        assert.deepEqual(
          SQLITE_PRAGMAS.map((p) => p.split(' = ')[0]),
          Object.keys(want),
          'every setting is checked here',
        );
      });
  });
};

storeSuite('sqlite');
storeSuite('postgres');

describe('retention queries on SQLite', () => {
  it('purge asks for a candidate’s earlier receipts through the consent ID’s index, never walking its site', async () => {
    const store = openStore('sqlite::memory:') as KyselyStore;
    await store.migrate();
    const q = writes(store.db).purge(new Date().toISOString(), new Date().toISOString(), 1000).compile();
    const plan = await store.db.executeQuery<{ detail: string }>(
      CompiledQuery.raw(`explain query plan ${q.sql}`, [...q.parameters]),
    );
    const details = plan.rows.map((r) => r.detail);
    // Every search of the correlated subquery (alias e) is by consent ID: at 1,000,000 receipts a
    // walk of the site's chain per candidate took 14 s per batch, with the writer held.
    const inner = details.filter((d) => /^SEARCH e |^SCAN e /.test(d));
    assert.ok(inner.length > 0, JSON.stringify(details));
    for (const d of inner) assert.match(d, /USING (COVERING )?INDEX receipts_consent_at \(consent_id=\?/, d);
    await store.close();
  });

  it('the overview of a past range finds a later receipt through the consent ID’s index, never walking the site', async () => {
    const store = openStore('sqlite::memory:') as KyselyStore;
    await store.migrate();
    const q = latestBefore(store.db as never, { site: ORIGIN, to: new Date().toISOString() }).compile();
    const plan = await store.db.executeQuery<{ detail: string }>(
      CompiledQuery.raw(`explain query plan ${q.sql}`, [...q.parameters]),
    );
    const details = plan.rows.map((r) => r.detail);
    const inner = details.filter((d) => /^SEARCH n |^SCAN n /.test(d));
    assert.ok(inner.length > 0, JSON.stringify(details));
    for (const d of inner) assert.match(d, /USING (COVERING )?INDEX receipts_consent_at \(consent_id=\?/, d);
    await store.close();
  });
});
