/**
 * Admin actions and their audit entries commit together (store/admin-store.ts Write): when the
 * audit log cannot take the entry, the action does not happen. The fault is injected in the
 * database itself (a trigger refusing every insert into audit_log), on SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type AssentServer, createServer, generateKeys } from '../src/index.js';
import { addUser } from '../src/users.js';
import {
  consentId,
  databaseFaults,
  freshPgDatabase,
  ORIGIN,
  receiptBody,
  SITE_CONFIG,
  SITES,
  tempDir,
} from './helpers.js';

const TOKEN = 'atomic-test-admin-token';
const OWNER = { authorization: `Bearer ${TOKEN}` };
const CHEAP = { N: 2 ** 10, r: 8, p: 1 };
const PASSWORD = 'correct horse battery staple';

const suite = (kind: 'sqlite' | 'postgres') =>
  describe(`admin actions and their audit entries on ${kind}`, () => {
    let s: AssentServer;
    let url = '';
    let drop = async () => {};
    const faults = () => databaseFaults(s.store, url);
    const call = (method: 'POST' | 'PATCH' | 'DELETE', path: string, payload?: Record<string, unknown>) =>
      s.app.inject({ method, url: path, headers: OWNER, ...(payload ? { payload } : {}) });
    const head = async () =>
      ((await s.app.inject({ url: '/v1/admin/audit?limit=1', headers: OWNER })).json().entries[0]?.seq as
        | number
        | undefined) ?? 0;

    before(async () => {
      if (kind === 'sqlite') url = `sqlite:${join(tempDir(), 'atomic.db')}`;
      else ({ url, drop } = await freshPgDatabase());
      s = await createServer({
        db: url,
        sites: SITES,
        adminToken: TOKEN,
        signingKey: generateKeys().privateKeyPem,
        logger: false,
        rateLimit: false,
        retention: false,
        log: false,
        // No deliveries: the webhooks' rows change only by the actions under test.
        webhooks: false,
      });
      assert.ok(
        (await addUser(s.store, { email: 'owner@example.com', role: 'owner', password: PASSWORD }, CHEAP)).ok,
      );
    });
    after(async () => {
      await s.close();
      await drop();
    });

    it('an action whose entry the audit log refuses fails with an error and leaves nothing changed; the same actions then succeed, each with its entry', async () => {
      // What the actions act on, made while the log still takes entries.
      const kept = await call('POST', '/v1/admin/users', {
        email: 'ed@example.com',
        role: 'editor',
        password: PASSWORD,
      });
      assert.equal(kept.statusCode, 201, kept.body);
      const editor = kept.json().id as string;
      const hook = await call('POST', '/v1/admin/webhooks', { site: ORIGIN, url: 'https://hooks.example/a' });
      assert.equal(hook.statusCode, 201, hook.body);
      const hookId = hook.json().id as string;
      const visitor = consentId();
      const receipt = await s.app.inject({
        method: 'POST',
        url: '/v1/receipts',
        headers: { origin: ORIGIN },
        payload: receiptBody({ consentId: visitor }),
      });
      assert.equal(receipt.statusCode, 201, receipt.body);

      const users = async () => (await s.app.inject({ url: '/v1/admin/users', headers: OWNER })).json().users;
      const hooks = async () =>
        (await s.app.inject({ url: '/v1/admin/webhooks', headers: OWNER })).json().webhooks as {
          id: string;
          state: string;
          events: string[];
        }[];
      const published = async () => {
        const p = await s.store.publications(ORIGIN);
        return { versions: p.length, log: (await s.store.logEntries(ORIGIN, 1000)).length };
      };
      const stateBefore = JSON.stringify([await users(), await hooks(), await published()]);
      const seq = await head();

      const actions: [string, () => ReturnType<typeof call>][] = [
        [
          'user add',
          () =>
            call('POST', '/v1/admin/users', {
              email: 'new@example.com',
              role: 'auditor',
              password: PASSWORD,
            }),
        ],
        ['user change', () => call('PATCH', `/v1/admin/users/${editor}`, { role: 'auditor' })],
        ['user remove', () => call('DELETE', `/v1/admin/users/${editor}`)],
        [
          'webhook add',
          () => call('POST', '/v1/admin/webhooks', { site: ORIGIN, url: 'https://hooks.example/b' }),
        ],
        [
          'webhook change',
          () =>
            call('PATCH', `/v1/admin/webhooks/${hookId}`, { state: 'paused', events: ['receipt.created'] }),
        ],
        ['webhook remove', () => call('DELETE', `/v1/admin/webhooks/${hookId}`)],
        ['erasure', () => call('POST', '/v1/admin/erasures', { site: ORIGIN, consentId: visitor })],
        [
          'policy publish',
          () =>
            call('POST', '/v1/admin/policies', { site: ORIGIN, config: { ...SITE_CONFIG, policy: 'v4' } }),
        ],
      ];
      await faults().refuseAudit();
      try {
        for (const [name, act] of actions) {
          const r = await act();
          assert.ok(r.statusCode >= 500, `${name}: ${r.statusCode} ${r.body}`);
          assert.ok(r.json().error, `${name}: a JSON error`);
        }
      } finally {
        await faults().acceptAudit();
      }
      assert.equal(
        JSON.stringify([await users(), await hooks(), await published()]),
        stateBefore,
        'nothing changed: no user, webhook, publication or log entry',
      );
      assert.equal(s.policies.site(ORIGIN)?.config.policy, 'v3', 'the served policy is the one before');
      assert.notEqual((await s.store.receiptLeaf(receipt.json().id))!.body, null, 'nothing erased');
      assert.equal(await head(), seq, 'no entry');

      // The log takes entries again: each action happens, with its entry.
      const done: string[] = [];
      for (const [name, act] of actions) {
        const r = await act();
        assert.ok(r.statusCode < 300, `${name}: ${r.statusCode} ${r.body}`);
        done.push(name);
      }
      const entries = (
        (await s.app.inject({ url: `/v1/admin/audit?limit=${actions.length}`, headers: OWNER })).json()
          .entries as { seq: number; action: string }[]
      ).reverse();
      assert.deepEqual(
        entries.map((e) => e.action),
        [
          'user-add',
          'user-change',
          'user-remove',
          'webhook-add',
          'webhook-change',
          'webhook-remove',
          'consent-erase',
          'policy-publish',
        ],
      );
      assert.equal(entries[0]!.seq, seq + 1, 'one entry each, none left over from the refused attempts');
      // An action that changes nothing records nothing: an unknown webhook is a 404, no entry.
      const missing = await call('DELETE', `/v1/admin/webhooks/${hookId}`);
      assert.equal(missing.statusCode, 404);
      assert.equal(await head(), seq + actions.length);
    });

    it('a sign-in or sign-out whose entry the audit log refuses does not happen: no session is made or ended unrecorded', async () => {
      const signIn = () =>
        s.app.inject({
          method: 'POST',
          url: '/v1/admin/session',
          payload: { email: 'owner@example.com', password: PASSWORD },
        });
      const seq = await head();
      await faults().refuseAudit();
      try {
        const refused = await signIn();
        assert.ok(refused.statusCode >= 500, `${refused.statusCode} ${refused.body}`);
        assert.equal(refused.headers['set-cookie'], undefined, 'no session cookie');
      } finally {
        await faults().acceptAudit();
      }
      assert.equal(await head(), seq);
      const ok = await signIn();
      assert.equal(ok.statusCode, 201, ok.body);
      const cookie = String(ok.headers['set-cookie']).split(';')[0]!;
      const headers = { cookie, 'x-assent-csrf': ok.json().csrf as string };
      const live = () => s.app.inject({ url: '/v1/admin/session', headers: { cookie } });
      assert.equal((await live()).statusCode, 200);
      await faults().refuseAudit();
      try {
        const out = await s.app.inject({ method: 'DELETE', url: '/v1/admin/session', headers });
        assert.ok(out.statusCode >= 500, `${out.statusCode} ${out.body}`);
      } finally {
        await faults().acceptAudit();
      }
      assert.equal((await live()).statusCode, 200, 'the session was not ended unrecorded');
      const out = await s.app.inject({ method: 'DELETE', url: '/v1/admin/session', headers });
      assert.equal(out.statusCode, 204, out.body);
      assert.equal((await live()).statusCode, 401);
      const entries = (
        (await s.app.inject({ url: '/v1/admin/audit?limit=2', headers: OWNER })).json().entries as {
          seq: number;
          action: string;
        }[]
      ).reverse();
      assert.deepEqual(
        entries.map((e) => [e.seq, e.action]),
        [
          [seq + 1, 'sign-in'],
          [seq + 2, 'sign-out'],
        ],
      );
    });
  });

suite('sqlite');
suite('postgres');
