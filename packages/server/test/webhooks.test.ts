/**
 * Webhooks (issue 17, item 7): a site's receipts and withdrawals delivered to a receiver in
 * chain order, signed, retried with backoff, at least once across restarts, on SQLite and
 * PostgreSQL; registration validated; roles enforced; every change in the audit log.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CompiledQuery, Migrator } from 'kysely';
import { type AssentServer, createServer, generateKeys, openStore } from '../src/index.js';
import type { ServerOptions } from '../src/server.js';
import type { KyselyStore } from '../src/store/kysely-store.js';
import { migrationProvider } from '../src/store/migrations.js';
import { addUser } from '../src/users.js';
import { backoffDelay } from '../src/webhooks/dispatcher.js';
import {
  consentId,
  databaseFaults,
  freshPgDatabase,
  ORIGIN,
  OTHER,
  receiptBody,
  SITES,
  tempDir,
} from './helpers.js';
import { receiver, receiverVerifies, waitFor } from './webhook-receiver.js';

const TOKEN = 'webhooks-test-admin-token';
const KEYS = generateKeys();
const OWNER = { authorization: `Bearer ${TOKEN}` };
const CHEAP = { N: 2 ** 10, r: 8, p: 1 };
const PASSWORD = 'correct horse battery staple';
/** Fast backoff, so that retries take milliseconds: 40, 80, 160 ms (± jitter), at most 5 tries. */
const FAST = {
  pollMs: 50,
  wakeMs: 10,
  // Generous: the test machine may be loaded, and a timeout counts as a failed attempt.
  timeoutMs: 10_000,
  leaseMs: 20_000,
  backoff: { baseMs: 40, capMs: 400, maxAttempts: 5 },
  // The test receivers listen on 127.0.0.1: allowed by name, as an owner would allow theirs.
  privateNetworks: ['127.0.0.0/8'],
} as const;

const start = (db: string, over: Partial<ServerOptions> = {}) =>
  createServer({
    db,
    sites: SITES,
    adminToken: TOKEN,
    signingKey: KEYS.privateKeyPem,
    logger: false,
    rateLimit: false,
    retention: false,
    log: false,
    webhooks: FAST,
    ...over,
  });

const post = async (s: AssentServer, over: Record<string, unknown> = {}, origin = ORIGIN) => {
  const r = await s.app.inject({
    method: 'POST',
    url: '/v1/receipts',
    headers: { origin },
    payload: receiptBody({ page: { origin, path: '/a' }, ...over }),
  });
  assert.equal(r.statusCode, 201, r.body);
  return r.json() as { id: string; consentId: string };
};

const withdraw = async (s: AssentServer, id: string) => {
  const r = await s.app.inject({ method: 'POST', url: `/v1/consents/${id}/withdraw` });
  assert.equal(r.statusCode, 201, r.body);
};

const addHook = async (s: AssentServer, url: string, body: Record<string, unknown> = {}) => {
  const r = await s.app.inject({
    method: 'POST',
    url: '/v1/admin/webhooks',
    headers: OWNER,
    payload: { site: ORIGIN, url, ...body },
  });
  assert.equal(r.statusCode, 201, r.body);
  return r.json() as { id: string; secret: string; publicKey: string; cursor: number };
};

const deliveries = async (s: AssentServer, id: string) => {
  const r = await s.app.inject({ url: `/v1/admin/webhooks/${id}/deliveries?limit=200`, headers: OWNER });
  assert.equal(r.statusCode, 200, r.body);
  return (r.json().deliveries as Record<string, unknown>[]).reverse();
};

const unhook = async (s: AssentServer, id: string) => {
  const r = await s.app.inject({ method: 'DELETE', url: `/v1/admin/webhooks/${id}`, headers: OWNER });
  assert.equal(r.statusCode, 204, r.body);
};

/** The receipts of the site as the admin export gives them, in chain order. */
const exported = async (s: AssentServer) => {
  const r = await s.app.inject({
    url: `/v1/admin/receipts?site=${encodeURIComponent(ORIGIN)}`,
    headers: OWNER,
  });
  return r.body
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.type !== 'policy');
};

/**
 * A fresh database on which every migration but `skip` ran, as one made before those existed:
 * its store (not migrated further), the Kysely store under it and what the migrator said.
 */
const oldDatabase = async (kind: 'sqlite' | 'postgres', skip: readonly string[]) => {
  const fresh =
    kind === 'sqlite'
      ? { url: `sqlite:${join(tempDir(), 'old.db')}`, drop: async () => {} }
      : await freshPgDatabase();
  const store = openStore(fresh.url) as KyselyStore | { reads: KyselyStore };
  const k = ('reads' in store ? store.reads : store) as KyselyStore;
  const before = await new Migrator({
    db: k.db,
    allowUnorderedMigrations: true,
    provider: {
      getMigrations: async () =>
        Object.fromEntries(
          Object.entries(await migrationProvider.getMigrations()).filter(([name]) => !skip.includes(name)),
        ),
    },
  }).migrateToLatest();
  const close = async () => {
    await (store as unknown as { close(): Promise<void> }).close();
    await fresh.drop();
  };
  return { store: store as unknown as { migrate(): Promise<string[]> }, k, before, close };
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const deliverySuite = (kind: 'sqlite' | 'postgres') => {
  describe(`webhook delivery on ${kind}`, () => {
    let db: string;
    let drop = async () => {};
    before(async () => {
      if (kind === 'sqlite') db = `sqlite:${join(tempDir(), 'hooks.db')}`;
      else ({ url: db, drop } = await freshPgDatabase());
    });
    after(() => drop());

    it('a receiver gets every receipt and withdrawal of its site, in chain order, signed (checked with only the secret or the public key)', async () => {
      const s = await start(db);
      const rx = await receiver();
      try {
        await post(s); // before the webhook: not delivered
        const hook = await addHook(s, rx.url);
        const mine: string[] = [];
        const visitors: string[] = [];
        for (let i = 0; i < 5; i++) {
          const r = await post(s, { consentId: consentId() });
          mine.push(r.id);
          visitors.push(r.consentId);
          await post(s, {}, OTHER); // another site's: not this webhook's
        }
        await withdraw(s, visitors[1]!);
        await waitFor('six events', () => rx.acknowledged().length >= 6);
        // Nothing more arrives (no duplicates, nothing of the other site).
        await new Promise((r) => setTimeout(r, 200));
        const events = rx.acknowledged();
        assert.equal(events.length, 6);
        assert.deepEqual(
          events.map((e) => e.type),
          [...Array(5).fill('receipt.created'), 'consent.withdrawn'],
        );
        assert.deepEqual(
          events.slice(0, 5).map((e) => e.id),
          mine,
        );
        const seqs = events.map((e) => e.seq!);
        assert.deepEqual(
          seqs,
          seqs.map((_, i) => hook.cursor + 1 + i),
          'consecutive seqs after the cursor',
        );
        // Each event's receipt is the export's line, exactly; its ID is the idempotency key.
        const exp = new Map((await exported(s)).map((l) => [l.id, l]));
        for (const e of events) {
          assert.deepEqual(e.receipt, exp.get(e.id));
          assert.equal(e.receipt!.id, e.id);
        }
        assert.equal(events[5]!.receipt!.method, 'withdraw');
        for (const g of rx.got) {
          assert.deepEqual(receiverVerifies(g.headers, g.body, hook.secret, hook.publicKey), {
            hmac: true,
            ed25519: true,
          });
          assert.equal(g.headers['assent-webhook-id'], hook.id);
          // A receiver refuses a body that was altered, or a signature made with another secret.
          assert.deepEqual(receiverVerifies(g.headers, `${g.body} `, hook.secret, hook.publicKey), {
            hmac: false,
            ed25519: false,
          });
          assert.equal(receiverVerifies(g.headers, g.body, 'whsec_another', hook.publicKey).hmac, false);
        }
        // The delivery log: every attempt, 2xx, and never a consent ID or an IP.
        const log = await deliveries(s, hook.id);
        assert.ok(log.length >= 1 && log.every((d) => d.outcome === 'delivered' && d.status === 200));
        const text = JSON.stringify(log);
        for (const v of visitors) assert.ok(!text.includes(v), 'no consent ID in the delivery log');
        assert.ok(!text.includes('127.0.0.1'), 'no address in the delivery log');

        // Latency: a receipt acknowledged (the 201) → the receiver has it.
        const lat: number[] = [];
        for (let i = 0; i < 20; i++) {
          const n = rx.got.length;
          const r = await post(s);
          const acked = performance.now();
          await waitFor('the receipt', () => rx.got.slice(n).some((g) => g.body.includes(r.id)));
          lat.push(rx.got.find((g) => g.body.includes(r.id))!.at - acked);
        }
        console.log(
          `webhook latency on ${kind} (201 → receiver, 20 receipts): median ${median(lat).toFixed(1)} ms, max ${Math.max(...lat).toFixed(1)} ms`,
        );
        assert.ok(median(lat) < 500);
        // Pruning keeps the recent attempts of live webhooks, drops everything else. A delivery
        // is logged once its answer is back, after the receiver already has it: wait for the
        // log to hold each of the receiver's requests.
        await waitFor(
          'every delivery logged',
          async () => (await deliveries(s, hook.id)).length === rx.got.length,
        );
        const n = rx.got.length;
        await s.store.webhooks.pruneDeliveries('2000-01-01T00:00:00.000Z');
        assert.equal((await deliveries(s, hook.id)).length, n);
        await s.store.webhooks.pruneDeliveries(new Date(Date.now() + 1000).toISOString());
        assert.equal((await deliveries(s, hook.id)).length, 0);
        await unhook(s, hook.id);
      } finally {
        await rx.close();
        await s.close();
      }
    });

    it('a receiver that fails three times gets the receipt after backoff; one that keeps failing is marked failed, and resuming delivers it', async () => {
      const s = await start(db);
      let down = 3;
      const rx = await receiver(() => (down-- > 0 ? 503 : 200));
      try {
        const hook = await addHook(s, rx.url);
        const r = await post(s);
        await waitFor('the delivery', () => rx.acknowledged().some((e) => e.id === r.id));
        // Logged once the answer is in.
        await waitFor('the logged delivery', async () =>
          (await deliveries(s, hook.id)).some((d) => d.outcome === 'delivered'),
        );
        const log = (await deliveries(s, hook.id)).filter((d) => d.kind === 'receipts');
        assert.deepEqual(
          log.map((d) => [d.attempt, d.status, d.outcome]),
          [
            [1, 503, 'retry'],
            [2, 503, 'retry'],
            [3, 503, 'retry'],
            [4, 200, 'delivered'],
          ],
        );
        // Each wait at least half the backoff (equal jitter): 20, 40, 80 ms.
        const at = rx.got.map((g) => g.at);
        for (let i = 1; i < 4; i++)
          assert.ok(at[i]! - at[i - 1]! >= (FAST.backoff.baseMs * 2 ** (i - 1)) / 2 - 5, `wait ${i}`);
        assert.equal(rx.acknowledged().length, 1);

        // Down for good: after maxAttempts the webhook is failed, shown, its cursor kept.
        down = Number.POSITIVE_INFINITY;
        const lost = await post(s);
        const mine = async () =>
          (
            (await s.app.inject({ url: '/v1/admin/webhooks', headers: OWNER })).json().webhooks as {
              id: string;
              state: string;
              pending: number;
              last_error: string;
            }[]
          ).find((x) => x.id === hook.id)!;
        await waitFor('failed', async () => (await mine()).state === 'failed');
        const w = await mine();
        assert.equal(w.pending, 1);
        assert.equal(w.last_error, 'HTTP 503');
        const failedLog = (await deliveries(s, hook.id)).slice(4);
        assert.deepEqual(
          failedLog.map((d) => d.outcome),
          ['retry', 'retry', 'retry', 'retry', 'failed'],
        );
        down = 0;
        const resumed = await s.app.inject({
          method: 'PATCH',
          url: `/v1/admin/webhooks/${hook.id}`,
          headers: OWNER,
          payload: { state: 'active' },
        });
        assert.equal(resumed.statusCode, 200, resumed.body);
        await waitFor('the held receipt', () => rx.acknowledged().some((e) => e.id === lost.id));
        await unhook(s, hook.id);
      } finally {
        await rx.close();
        await s.close();
      }
    });

    it('receipts erased before their delivery go out purged: the receiver never gets the erased consent', async () => {
      const s = await start(db);
      const rx = await receiver();
      try {
        const hook = await addHook(s, rx.url);
        const state = (value: string) =>
          s.app.inject({
            method: 'PATCH',
            url: `/v1/admin/webhooks/${hook.id}`,
            headers: OWNER,
            payload: { state: value },
          });
        assert.equal((await state('paused')).statusCode, 200);
        const visitor = consentId();
        const erased = [await post(s, { consentId: visitor }), await post(s, { consentId: visitor })];
        const kept = await post(s);
        const res = await s.app.inject({
          method: 'POST',
          url: '/v1/admin/erasures',
          headers: OWNER,
          payload: { site: ORIGIN, consentId: visitor },
        });
        assert.equal(res.statusCode, 200, res.body);
        assert.equal((await state('active')).statusCode, 200);
        await waitFor('the three receipts', () => rx.acknowledged().filter((e) => e.receipt).length >= 3);
        const got = new Map(rx.acknowledged().map((e) => [e.id, e.receipt!]));
        for (const { id } of erased) {
          assert.equal(got.get(id)!.purged, true);
          assert.equal(got.get(id)!.consentId, undefined);
        }
        assert.equal(got.get(kept.id)!.consentId, kept.consentId);
        assert.ok(
          !rx.got.some((g) => g.body.includes(visitor)),
          'the erased consent ID never left the server',
        );
        await unhook(s, hook.id);
      } finally {
        await rx.close();
        await s.close();
      }
    });

    it('an erasure reaches the receivers that got the receipts (consent.erased, Art. 19): once, signed, retried; passed over by a webhook that does not want it', async () => {
      const s = await start(db);
      const rx = await receiver();
      // Set just before the erasure: its first delivery there fails, and is retried like any batch.
      let failNext = false;
      const flaky = await receiver(() => {
        if (!failNext) return 200;
        failNext = false;
        return 503;
      });
      const plain = await receiver();
      try {
        const hook = await addHook(s, rx.url);
        const receiptsOnly = await addHook(s, plain.url, { events: ['receipt.created'] });
        const visitor = consentId();
        const erased = [
          (await post(s, { consentId: visitor })).id,
          (await post(s, { consentId: visitor })).id,
        ];
        await post(s);
        await waitFor(
          'the receipts delivered',
          () => rx.acknowledged().length >= 3 && plain.acknowledged().length >= 3,
        );
        // A receiver whose first answer to the erasure is an error.
        const retried = await addHook(s, flaky.url);
        failNext = true;
        const res = await s.app.inject({
          method: 'POST',
          url: '/v1/admin/erasures',
          headers: OWNER,
          payload: { site: ORIGIN, consentId: visitor },
        });
        assert.equal(res.statusCode, 200, res.body);
        const audit = (await s.app.inject({ url: '/v1/admin/audit?limit=1', headers: OWNER })).json() as {
          entries: { seq: number; action: string }[];
        };
        const entry = audit.entries[0]!;
        assert.equal(entry.action, 'consent-erase');

        await waitFor('the erasure event', () => rx.acknowledged().some((e) => e.type === 'consent.erased'));
        await waitFor('the retried erasure event', () =>
          flaky.acknowledged().some((e) => e.type === 'consent.erased'),
        );
        // A receipt after it: every webhook moved on, the one without consent.erased too.
        const later = await post(s);
        for (const r of [rx, plain, flaky])
          await waitFor('the later receipt', () => r.acknowledged().some((e) => e.id === later.id));
        await new Promise((r) => setTimeout(r, 200));

        const events = rx.acknowledged().filter((e) => e.type === 'consent.erased');
        assert.equal(events.length, 1, 'delivered once');
        const e = events[0] as unknown as {
          id: string;
          seq: null;
          erasure: { audit: number; at: string; receipts: string[] };
        };
        assert.equal(e.id, `erasure_${entry.seq}`);
        assert.equal(e.seq, null);
        assert.equal(e.erasure.audit, entry.seq);
        assert.deepEqual([...e.erasure.receipts].sort(), [...erased].sort());
        const body = rx.got.find((g) => g.body.includes('consent.erased'))!;
        assert.deepEqual(receiverVerifies(body.headers, body.body, hook.secret, hook.publicKey), {
          hmac: true,
          ed25519: true,
        });
        assert.ok(!body.body.includes(visitor), 'not the consent ID: the server no longer has it');
        const log = await deliveries(s, hook.id);
        const logged = log.filter((d) => d.kind === 'erasures');
        assert.deepEqual(
          logged.map((d) => [d.first_seq, d.last_seq, d.events, d.outcome]),
          [[entry.seq, entry.seq, 1, 'delivered']],
        );
        // Retried after the 503, then delivered; nothing else of it.
        assert.deepEqual(
          (await deliveries(s, retried.id))
            .filter((d) => d.kind === 'erasures')
            .map((d) => [d.attempt, d.outcome]),
          [
            [1, 'retry'],
            [2, 'delivered'],
          ],
        );
        assert.equal(flaky.acknowledged().filter((x) => x.type === 'consent.erased').length, 1);
        // Not wanted, not sent.
        assert.ok(!plain.got.some((g) => g.body.includes('consent.erased')));
        // Nothing waits any more, delivered or passed over.
        for (const h of [hook, receiptsOnly, retried]) {
          const w = (await s.app.inject({ url: `/v1/admin/webhooks`, headers: OWNER }))
            .json()
            .webhooks.find((x: { id: string }) => x.id === h.id);
          assert.deepEqual([w.pending, w.erasures_pending], [0, 0], h.id);
        }
        // A webhook made after the erasure never hears of it.
        const newcomer = await receiver();
        try {
          const fresh = await addHook(s, newcomer.url);
          const last = await post(s);
          await waitFor('the newcomer', () => newcomer.acknowledged().some((x) => x.id === last.id));
          assert.ok(!newcomer.got.some((g) => g.body.includes('consent.erased')));
          await unhook(s, fresh.id);
        } finally {
          await newcomer.close();
        }
        for (const h of [hook, receiptsOnly, retried]) await unhook(s, h.id);
      } finally {
        await rx.close();
        await flaky.close();
        await plain.close();
        await s.close();
      }
    });

    it('an erasure entry altered in the database is neither sent nor skipped: the webhook shows the error and retries', async () => {
      const s = await start(db);
      const rx = await receiver();
      const sqlExec = databaseFaults(s.store, db).exec;
      try {
        const visitor = consentId();
        await post(s, { consentId: visitor });
        const res = await s.app.inject({
          method: 'POST',
          url: '/v1/admin/erasures',
          headers: OWNER,
          payload: { site: ORIGIN, consentId: visitor },
        });
        assert.equal(res.statusCode, 200, res.body);
        // Someone with the database rewrites the entry (the audit log's own chain shows it).
        const seq = (await s.app.inject({ url: '/v1/admin/audit?limit=1', headers: OWNER })).json().entries[0]
          .seq;
        await sqlExec(`update audit_log set detail = '{"receipts":1}' where seq = ${Number(seq)}`);
        // A webhook whose erasures' cursor is before it (made, then set back, so that nothing
        // races the rewrite).
        const hook = await addHook(s, rx.url);
        await sqlExec(`update webhooks set erase_cursor = ${Number(seq) - 1} where id = '${hook.id}'`);
        const listed = async () =>
          (await s.app.inject({ url: '/v1/admin/webhooks', headers: OWNER }))
            .json()
            .webhooks.find((x: { id: string }) => x.id === hook.id);
        // The attempt is logged, then the webhook's retry state set: wait for the second.
        await waitFor(
          'the error on the webhook',
          async () => (await listed()).last_error === 'ASSENT_BAD_AUDIT_ENTRY',
        );
        const info = await listed();
        assert.equal(info.erasures_pending, 1, 'not passed over');
        const [first] = await deliveries(s, hook.id);
        assert.deepEqual([first!.kind, first!.first_seq, first!.outcome], ['erasures', seq, 'retry']);
        assert.equal(rx.got.length, 0, 'no erasure of nothing was sent');
        await unhook(s, hook.id);
      } finally {
        await rx.close();
        await s.close();
      }
    });

    it('passing over erasures a webhook does not want leaves its retry state as it was', async () => {
      const s = await start(db);
      try {
        const w = s.store.webhooks;
        const id = `wh_${consentId().slice(0, 12)}`;
        await w.add({
          id,
          site: ORIGIN,
          url: 'https://hooks.example/a',
          secret: 'whsec_x',
          events: 'receipt.created',
          state: 'active',
          cursor: 0,
          erase_cursor: 0,
          attempts: 3,
          next_at: null,
          last_error: 'HTTP 500',
          lease_owner: null,
          lease_until: null,
          created_at: new Date().toISOString(),
          created_by: 'test',
        });
        const now = new Date().toISOString();
        assert.ok(await w.lease(id, 'me', now, new Date(Date.now() + 60_000).toISOString()));
        assert.ok(await w.advanceErasures(id, 'me', 0, 5, false));
        let h = (await w.get(id))!;
        assert.deepEqual([h.erase_cursor, h.attempts, h.last_error], [5, 3, 'HTTP 500']);
        // Delivered: the receiver answered, so its retry state starts afresh.
        assert.ok(await w.advanceErasures(id, 'me', 5, 7, true));
        h = (await w.get(id))!;
        assert.deepEqual([h.erase_cursor, h.attempts, h.last_error], [7, 0, null]);
        // Only from the cursor it read.
        assert.equal(await w.advanceErasures(id, 'me', 5, 9, true), false);
        await w.remove(id);
      } finally {
        await s.close();
      }
    });

    it('a restart in the middle of a delivery loses nothing: the next process sends from the cursor', async () => {
      let s = await start(db);
      let hang = true;
      const rx = await receiver(() => (hang ? 'hang' : 200));
      try {
        const hook = await addHook(s, rx.url);
        const ids = [(await post(s)).id, (await post(s)).id, (await post(s)).id];
        await waitFor('the first attempt', () => rx.got.length >= 1);
        // Stopped while the receiver holds the request: no 2xx, the cursor did not move.
        await s.close();
        hang = false;
        s = await start(db);
        await waitFor('all three, again', () =>
          ids.every((id) => rx.acknowledged().some((e) => e.id === id)),
        );
        assert.deepEqual(
          rx.acknowledged().map((e) => e.id),
          ids,
          'in chain order, each once after the restart',
        );
        // The cursor moves once the 2xx is in.
        await waitFor('the cursor at the head', async () => {
          const w = (await s.app.inject({ url: '/v1/admin/webhooks', headers: OWNER })).json().webhooks;
          return w.find((x: { id: string }) => x.id === hook.id).pending === 0;
        });
        await unhook(s, hook.id);
      } finally {
        await rx.close();
        await s.close();
      }
    });

    if (kind === 'postgres')
      it('two server processes on one PostgreSQL deliver each receipt once, in order', async () => {
        const a = await start(db);
        const b = await start(db);
        const rx = await receiver();
        try {
          const hook = await addHook(a, rx.url);
          const ids: string[] = [];
          for (let i = 0; i < 30; i++) ids.push((await post(i % 2 ? b : a)).id);
          await waitFor('30 events', () => rx.acknowledged().length >= 30);
          await new Promise((r) => setTimeout(r, 300));
          const got = rx.acknowledged().map((e) => e.id);
          assert.deepEqual(got, ids, 'every receipt once, in chain order');
          await unhook(a, hook.id);
        } finally {
          await rx.close();
          await a.close();
          await b.close();
        }
      });

    it('a database that ran every migration up to now (tlog_0001_leaves included) gets admin_0003_webhooks on the next start', async () => {
      // And what came after it.
      const { store, before, close } = await oldDatabase(kind, [
        'admin_0003_webhooks',
        'admin_0005_webhook_erasures',
      ]);
      try {
        assert.ifError(before.error);
        assert.ok(before.results?.some((r) => r.migrationName === 'tlog_0001_leaves'));
        assert.deepEqual(await store.migrate(), ['admin_0003_webhooks', 'admin_0005_webhook_erasures']);
      } finally {
        await close();
      }
    });

    it('webhooks made before consent.erased existed get it, from the audit log’s head: no past erasure is sent', async () => {
      const { store, k, before, close } = await oldDatabase(kind, ['admin_0005_webhook_erasures']);
      try {
        assert.ifError(before.error);
        // biome-ignore lint/suspicious/noExplicitAny: the tables as they were before admin_0005.
        const old = k.db as any;
        for (const seq of [1, 2, 3])
          await old
            .insertInto('audit_log')
            .values({
              seq,
              at: new Date().toISOString(),
              actor: 'cli',
              role: null,
              action: 'consent-erase',
              target: ORIGIN,
              detail: '{"receipts":1,"ids":"AAAAAAAAAAAAAAAA"}',
              prev: '0'.repeat(64),
              kid: 'k',
              hash: String(seq).repeat(64).slice(0, 64),
              sig: 's',
            })
            .execute();
        await old
          .insertInto('webhooks')
          .values({
            id: 'wh_old',
            site: ORIGIN,
            url: 'https://hooks.example/a',
            secret: 'whsec_x',
            events: 'receipt.created,consent.withdrawn',
            state: 'active',
            cursor: 0,
            attempts: 0,
            created_at: new Date().toISOString(),
            created_by: 'cli',
          })
          .execute();
        assert.deepEqual(await store.migrate(), ['admin_0005_webhook_erasures']);
        const row = await k.db
          .selectFrom('webhooks' as never)
          .select(['erase_cursor' as never, 'events' as never])
          .executeTakeFirstOrThrow();
        assert.equal(Number((row as { erase_cursor: unknown }).erase_cursor), 3);
        // It got receipts: it is told of their erasure from now on (Art. 19).
        assert.equal((row as { events: string }).events, 'receipt.created,consent.withdrawn,consent.erased');
      } finally {
        await close();
      }
    });
  });
};

deliverySuite('sqlite');
deliverySuite('postgres');

describe('webhook queries on SQLite', () => {
  it("find a site's erasures after a cursor through the audit log's index, never walking every entry since", async () => {
    const store = openStore('sqlite::memory:') as KyselyStore;
    await store.migrate();
    const plan = async (q: { compile(): { sql: string; parameters: readonly unknown[] } }) => {
      const c = q.compile();
      return (
        await store.db.executeQuery<{ detail: string }>(
          CompiledQuery.raw(`explain query plan ${c.sql}`, [...c.parameters]),
        )
      ).rows.map((r) => r.detail);
    };
    assert.deepEqual(await plan(store.webhooks.erasuresQuery(ORIGIN, 10, 100)), [
      'SEARCH audit_log USING INDEX audit_log_action (action=? AND target=? AND seq>?)',
    ]);
    // The dispatcher's poll: the erasures' EXISTS is a seek too.
    const due = await plan(store.webhooks.dueQuery(new Date().toISOString()));
    const audit = due.filter((d) => d.includes('audit_log'));
    assert.equal(audit.length, 1, JSON.stringify(due));
    assert.match(
      audit[0]!,
      /^SEARCH a USING (COVERING )?INDEX audit_log_action \(action=\? AND target=\? AND seq>\?\)$/,
    );
    await store.close();
  });
});

describe('webhook registration and roles', () => {
  let s: AssentServer;
  let rx: Awaited<ReturnType<typeof receiver>>;
  const sessions: Record<string, Record<string, string>> = {};
  before(async () => {
    s = await start('sqlite::memory:');
    rx = await receiver();
    for (const role of ['editor', 'auditor'] as const) {
      const email = `${role}@example.com`;
      assert.ok((await addUser(s.store, { email, role, password: PASSWORD }, CHEAP)).ok);
      const r = await s.app.inject({
        method: 'POST',
        url: '/v1/admin/session',
        payload: { email, password: PASSWORD },
      });
      sessions[role] = {
        cookie: String(r.headers['set-cookie']).split(';')[0]!,
        'x-assent-csrf': r.json().csrf,
      };
    }
  });
  after(async () => {
    await rx.close();
    await s.close();
  });

  it('refuses receivers that are not http(s) URLs, unknown sites and unknown events, naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ site: ORIGIN, url: 'ftp://example.com/x' }, 'url'],
      [{ site: ORIGIN, url: 'not a url' }, 'url'],
      [{ site: ORIGIN, url: 'javascript:alert(1)' }, 'url'],
      [{ site: ORIGIN, url: 'https://user:pw@example.com/x' }, 'url'],
      [{ site: ORIGIN, url: 'https://example.com/x#frag' }, 'url'],
      [{ site: ORIGIN, url: 'https://example.com/\u202ex' }, 'url'],
      [{ site: ORIGIN, url: `https://example.com/${'a'.repeat(2000)}` }, 'url'],
      [{ site: ORIGIN }, 'url'],
      [{ site: ORIGIN, url: 42 }, 'url'],
      [{ site: 'https://nobody.example', url: 'https://example.com/x' }, 'site'],
      [{ url: 'https://example.com/x' }, 'site'],
      [{ site: ORIGIN, url: 'https://example.com/x', events: ['receipt.deleted'] }, 'events.0'],
      [{ site: ORIGIN, url: 'https://example.com/x', events: [] }, 'events'],
      [{ site: ORIGIN, url: 'https://example.com/x', extra: 1 }, 'extra'],
    ];
    for (const [payload, field] of cases) {
      const r = await s.app.inject({ method: 'POST', url: '/v1/admin/webhooks', headers: OWNER, payload });
      assert.equal(r.statusCode, 400, `${JSON.stringify(payload)}: ${r.body}`);
      assert.equal(r.json().field, field, JSON.stringify(payload));
    }
    const list = await s.app.inject({ url: '/v1/admin/webhooks', headers: OWNER });
    assert.deepEqual(list.json().webhooks, [], 'nothing was registered');
  });

  it('refuses receivers on addresses off the public internet unless the owner allows them, naming url', async () => {
    const closed = await start('sqlite::memory:', { webhooks: { ...FAST, privateNetworks: false } });
    try {
      for (const url of [
        'http://127.0.0.1:9/x',
        'http://127.1:9/x', // the URL parser's 127.0.0.1
        'http://2130706433/x', // and again
        'http://localhost:9/x',
        'http://api.localhost/x',
        'http://[::1]:9/x',
        'http://[::ffff:127.0.0.1]/x',
        'http://10.1.2.3/x',
        'http://172.20.0.1/x',
        'http://192.168.1.1/x',
        'http://169.254.169.254/latest/meta-data/',
        'http://100.64.0.1/x',
        'http://[fd00::1]/x',
        'http://[fe80::1]/x',
        'http://0.0.0.0/x',
        // IPv6 that leads to a refused IPv4 address: NAT64, 6to4, SIIT; and the prefixes that
        // are no public address themselves (local-use NAT64, IPv4-compatible, Teredo).
        'http://[64:ff9b::a9fe:a9fe]/latest/meta-data/',
        'http://[64:ff9b::127.0.0.1]/x',
        'http://[64:ff9b::a01:203]/x',
        'http://[2002:a9fe:a9fe::1]/x',
        'http://[2002:7f00:1::]/x',
        'http://[::ffff:0:a9fe:a9fe]/x',
        'http://[64:ff9b:1::a00:1]/x',
        'http://[::127.0.0.1]/x',
        'http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/x',
      ]) {
        const r = await closed.app.inject({
          method: 'POST',
          url: '/v1/admin/webhooks',
          headers: OWNER,
          payload: { site: ORIGIN, url },
        });
        assert.equal(r.statusCode, 400, `${url}: ${r.body}`);
        assert.equal(r.json().field, 'url', url);
        assert.match(r.json().message, /not a public address.*webhookPrivateNetworks/, url);
      }
      // Public addresses and names are taken (names are checked again at each delivery).
      for (const url of [
        'https://93.184.216.34/x',
        'https://hooks.example.com/x',
        'https://[2001:db8::1]/x',
        // NAT64 and 6to4 to a public IPv4 address (93.184.216.34): how an IPv6-only host
        // reaches an IPv4-only receiver.
        'https://[64:ff9b::5db8:d822]/x',
        'https://[2002:5db8:d822::1]/x',
      ]) {
        const r = await closed.app.inject({
          method: 'POST',
          url: '/v1/admin/webhooks',
          headers: OWNER,
          payload: { site: ORIGIN, url },
        });
        assert.equal(r.statusCode, 201, `${url}: ${r.body}`);
      }
    } finally {
      await closed.close();
    }
    // Allowed by list: 10.1.2.3 is in it, 192.168.1.1 is not.
    const listed = await start('sqlite::memory:', { webhooks: { ...FAST, privateNetworks: ['10.0.0.0/8'] } });
    try {
      const add = (url: string) =>
        listed.app.inject({
          method: 'POST',
          url: '/v1/admin/webhooks',
          headers: OWNER,
          payload: { site: ORIGIN, url },
        });
      assert.equal((await add('http://10.1.2.3/x')).statusCode, 201);
      assert.equal((await add('http://192.168.1.1/x')).statusCode, 400);
      // The same addresses through NAT64 and 6to4: allowed and refused alike.
      assert.equal((await add('http://[64:ff9b::a01:203]/x')).statusCode, 201);
      assert.equal((await add('http://[2002:c0a8:101::1]/x')).statusCode, 400);
      assert.equal((await add('http://localhost:9/x')).statusCode, 400, 'loopback is not in the list');
    } finally {
      await listed.close();
    }
  });

  it('checks the address a delivery connects to: a name resolving to loopback is refused and logged, and delivered once allowed', async () => {
    // Registered while the owner allowed loopback, then the allowance was taken back: the
    // webhook stays, and only the lookup each delivery makes can refuse it.
    const file = `sqlite:${join(tempDir(), 'private.db')}`;
    const rx = await receiver();
    const port = new URL(rx.url).port;
    // Loopback allowed by the list: a localhost name registers (checked again when delivering).
    let s = await start(file, { webhooks: { ...FAST, privateNetworks: ['127.0.0.0/8'] } });
    const hook = await addHook(s, `http://localhost:${port}/hook`);
    await s.close();
    try {
      s = await start(file, { webhooks: { ...FAST, privateNetworks: false } });
      await post(s);
      await waitFor('a refused attempt', async () => (await deliveries(s, hook.id)).length >= 1);
      const [first] = await deliveries(s, hook.id);
      assert.equal(first!.error, 'ASSENT_PRIVATE_ADDRESS');
      assert.equal(first!.status, null);
      assert.equal(rx.got.length, 0, 'nothing reached the receiver');
      await s.close();
      // Allowed again (loopback, as 'localhost' may resolve to either): the receipt arrives.
      s = await start(file, { webhooks: { ...FAST, privateNetworks: ['127.0.0.0/8', '::1'] } });
      const resume = await s.app.inject({
        method: 'PATCH',
        url: `/v1/admin/webhooks/${hook.id}`,
        headers: OWNER,
        payload: { state: 'active' },
      });
      assert.equal(resume.statusCode, 200, resume.body);
      await waitFor('the receipt', () => rx.acknowledged().length >= 1);
    } finally {
      await s.close();
      await rx.close();
    }
  });

  it('owners add webhooks and choose their events; editors pause, test and remove them; auditors read them and the delivery log, and change nothing; each change is audited', async () => {
    const e = sessions.editor!;
    const a = sessions.auditor!;
    // A receiver gets every receipt, consent IDs included, which an editor may not export:
    // an editor who could add one (or widen what one receives) read them at a URL of their own.
    const byEditor = await s.app.inject({
      method: 'POST',
      url: '/v1/admin/webhooks',
      headers: e,
      payload: { site: ORIGIN, url: rx.url },
    });
    assert.equal(byEditor.statusCode, 403, byEditor.body);
    assert.equal(byEditor.json().field, 'role');
    assert.match(byEditor.json().message, /needs owner/);
    const made = await s.app.inject({
      method: 'POST',
      url: '/v1/admin/webhooks',
      headers: OWNER,
      payload: { site: ORIGIN, url: rx.url, events: ['consent.withdrawn'] },
    });
    assert.equal(made.statusCode, 201, made.body);
    const { id, secret } = made.json();
    assert.match(secret, /^whsec_/);
    assert.equal(made.json().url, rx.url, 'the owner who made it sees it whole');
    const listed = await s.app.inject({ url: '/v1/admin/webhooks', headers: a });
    assert.equal(listed.statusCode, 200);
    assert.ok(!listed.body.includes(secret), 'the secret is never shown again');
    assert.equal(listed.json().webhooks[0].created_by, 'admin token');
    // Receivers carry their tokens in the path or the query: others see the origin only.
    for (const who of [a, e]) {
      const w = (await s.app.inject({ url: '/v1/admin/webhooks', headers: who })).json().webhooks[0];
      assert.equal(w.url, `${new URL(rx.url).origin}/…`);
    }
    assert.equal(
      (await s.app.inject({ url: '/v1/admin/webhooks', headers: OWNER })).json().webhooks[0].url,
      rx.url,
    );
    assert.equal(
      (await s.app.inject({ url: `/v1/admin/webhooks/${id}/deliveries`, headers: a })).statusCode,
      200,
    );
    for (const [method, url, payload] of [
      ['POST', '/v1/admin/webhooks', { site: ORIGIN, url: rx.url }],
      ['PATCH', `/v1/admin/webhooks/${id}`, { state: 'paused' }],
      ['DELETE', `/v1/admin/webhooks/${id}`, undefined],
      ['POST', `/v1/admin/webhooks/${id}/test`, undefined],
    ] as const) {
      const r = await s.app.inject({ method, url, headers: a, ...(payload ? { payload } : {}) });
      assert.equal(r.statusCode, 403, `${method} ${url}`);
      assert.equal(r.json().field, 'role');
    }
    assert.equal((await s.app.inject({ url: '/v1/admin/webhooks' })).statusCode, 401);

    // Only withdrawals: a plain receipt passes by, the withdrawal arrives.
    const r = await post(s);
    await withdraw(s, r.consentId);
    await waitFor('the withdrawal', () => rx.acknowledged().length >= 1);
    await new Promise((res) => setTimeout(res, 100));
    assert.deepEqual(
      rx.acknowledged().map((e) => e.type),
      ['consent.withdrawn'],
    );

    const test = await s.app.inject({ method: 'POST', url: `/v1/admin/webhooks/${id}/test`, headers: e });
    assert.equal(test.statusCode, 200, test.body);
    assert.equal(test.json().outcome, 'test-ok');
    assert.equal(JSON.parse(rx.got.at(-1)!.body).events[0].type, 'webhook.test');
    const paused = await s.app.inject({
      method: 'PATCH',
      url: `/v1/admin/webhooks/${id}`,
      headers: e,
      payload: { state: 'paused' },
    });
    assert.equal(paused.json().state, 'paused');
    // What it receives is the owner's to change, from now on; nothing, or an unknown event, is
    // refused by name.
    const widen = await s.app.inject({
      method: 'PATCH',
      url: `/v1/admin/webhooks/${id}`,
      headers: e,
      payload: { events: ['receipt.created', 'consent.withdrawn'] },
    });
    assert.equal(widen.statusCode, 403, widen.body);
    assert.equal(widen.json().field, 'role');
    assert.deepEqual(
      (await s.app.inject({ url: '/v1/admin/webhooks', headers: e })).json().webhooks[0].events,
      ['consent.withdrawn'],
    );
    const changed = await s.app.inject({
      method: 'PATCH',
      url: `/v1/admin/webhooks/${id}`,
      headers: OWNER,
      payload: { events: ['consent.withdrawn', 'consent.erased'] },
    });
    assert.equal(changed.statusCode, 200, changed.body);
    assert.deepEqual(changed.json().events, ['consent.withdrawn', 'consent.erased']);
    assert.equal(changed.json().state, 'paused');
    for (const payload of [{}, { events: [] }, { events: ['receipt.deleted'] }]) {
      const bad = await s.app.inject({
        method: 'PATCH',
        url: `/v1/admin/webhooks/${id}`,
        headers: OWNER,
        payload,
      });
      assert.equal(bad.statusCode, 400, JSON.stringify(payload));
    }
    const removed = await s.app.inject({ method: 'DELETE', url: `/v1/admin/webhooks/${id}`, headers: e });
    assert.equal(removed.statusCode, 204);
    const gone = await s.app.inject({ method: 'DELETE', url: `/v1/admin/webhooks/${id}`, headers: e });
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.json().field, 'id');

    const audit = await s.app.inject({ url: '/v1/admin/audit?limit=200', headers: OWNER });
    const actions = (
      audit.json().entries as { action: string; actor: string; detail: Record<string, unknown> }[]
    )
      .filter((x) => x.action.startsWith('webhook-'))
      .reverse();
    assert.deepEqual(
      actions.map((x) => [x.action, x.actor]),
      [
        ['webhook-add', 'admin token'],
        ['webhook-test', 'editor@example.com'],
        ['webhook-change', 'editor@example.com'],
        ['webhook-change', 'admin token'],
        ['webhook-remove', 'editor@example.com'],
      ],
    );
    assert.deepEqual(actions[3]!.detail, {
      id,
      events: 'consent.withdrawn consent.erased',
      were: 'consent.withdrawn',
    });
    // The audit log is permanent and goes to auditors: the receiver's origin and the SHA-256 of
    // its whole URL, never its path or query (where receivers keep their tokens).
    assert.deepEqual(actions[0]!.detail, {
      id,
      url: `${new URL(rx.url).origin}/…`,
      urlSha256: createHash('sha256').update(rx.url).digest('hex'),
      events: 'consent.withdrawn',
    });
    assert.equal(actions[4]!.detail.urlSha256, actions[0]!.detail.urlSha256);
    assert.ok(
      !/token=abc|hooks\/assent/.test(JSON.stringify(actions)),
      "the audit log keeps no URL's path or query",
    );
  });

  it('backoff doubles from the base up to the cap, jittered between half and all of it', () => {
    assert.equal(
      backoffDelay(1, 1000, 60_000, () => 1),
      1000,
    );
    assert.equal(
      backoffDelay(1, 1000, 60_000, () => 0),
      500,
    );
    assert.equal(
      backoffDelay(4, 1000, 60_000, () => 1),
      8000,
    );
    assert.equal(
      backoffDelay(30, 1000, 60_000, () => 1),
      60_000,
    );
    assert.equal(
      backoffDelay(30, 1000, 60_000, () => 0),
      30_000,
    );
  });
});
