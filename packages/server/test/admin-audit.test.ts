/**
 * The admin audit log (issue 17, part 2): every admin action recorded with who, when and
 * what; hash-chained and signed; tampering found by the endpoint and by `verify-audit`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { AuditLog, verifyAudit } from '../src/audit.js';
import { type AssentServer, createServer, generateKeys } from '../src/index.js';
import type { KyselyStore } from '../src/store/kysely-store.js';
import { addUser } from '../src/users.js';
import { freshPgDatabase, ORIGIN, SITE_CONFIG, SITES, tempDir } from './helpers.js';

const BIN = new URL('../bin/assent-server.js', import.meta.url).pathname;
const TOKEN = 'audit-test-admin-token';
const CHEAP = { N: 2 ** 10, r: 8, p: 1 };
const PASSWORD = 'correct horse battery staple';
const KEYS = generateKeys();

describe('admin audit log', () => {
  let s: AssentServer;
  before(async () => {
    s = await createServer({
      db: 'sqlite::memory:',
      sites: SITES,
      adminToken: TOKEN,
      signingKey: KEYS.privateKeyPem,
      logger: false,
      rateLimit: false,
      retention: false,
    });
    assert.ok(
      (await addUser(s.store, { email: 'owner@example.com', role: 'owner', password: PASSWORD }, CHEAP)).ok,
    );
    assert.ok(
      (await addUser(s.store, { email: 'dpo@example.com', role: 'auditor', password: PASSWORD }, CHEAP)).ok,
    );
    assert.ok(
      (await addUser(s.store, { email: 'ed@example.com', role: 'editor', password: PASSWORD }, CHEAP)).ok,
    );
  });
  after(() => s.close());

  const signIn = (email: string, password = PASSWORD) =>
    s.app.inject({ method: 'POST', url: '/v1/admin/session', payload: { email, password } });
  const entries = async (headers: Record<string, string>) => {
    const r = await s.app.inject({ url: '/v1/admin/audit?limit=200', headers });
    assert.equal(r.statusCode, 200, r.body);
    return r.json().entries as Record<string, unknown>[];
  };

  it('records sign-ins, failures, user changes, publishing, exports and sign-out: who, role, what, on what', async () => {
    assert.equal((await signIn('owner@example.com', 'not the right password')).statusCode, 401);
    const r = await signIn('owner@example.com');
    const cookie = String(r.headers['set-cookie']).split(';')[0]!;
    const h = { cookie, 'x-assent-csrf': r.json().csrf };
    const added = await s.app.inject({
      method: 'POST',
      url: '/v1/admin/users',
      headers: h,
      payload: { email: 'editor@example.com', role: 'editor', password: PASSWORD },
    });
    assert.equal(added.statusCode, 201);
    const changed = await s.app.inject({
      method: 'PATCH',
      url: `/v1/admin/users/${added.json().id}`,
      headers: h,
      payload: { role: 'auditor', password: 'another long password' },
    });
    assert.equal(changed.statusCode, 200);
    const published = await s.app.inject({
      method: 'POST',
      url: '/v1/admin/policies',
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: { site: ORIGIN, config: { ...SITE_CONFIG, policy: 'v4' } },
    });
    assert.equal(published.statusCode, 201);
    assert.equal((await s.app.inject({ url: '/v1/admin/receipts?format=csv', headers: h })).statusCode, 200);
    assert.equal(
      (await s.app.inject({ method: 'DELETE', url: '/v1/admin/session', headers: h })).statusCode,
      204,
    );

    const dpo = String((await signIn('dpo@example.com')).headers['set-cookie']).split(';')[0]!;
    const log = (await entries({ cookie: dpo })).reverse();
    const seen = log.map((e) => [e.actor, e.role, e.action, e.target, e.detail]);
    assert.deepEqual(seen.slice(0, 8), [
      ['owner@example.com', null, 'sign-in-failed', null, {}],
      ['owner@example.com', 'owner', 'sign-in', null, {}],
      ['owner@example.com', 'owner', 'user-add', 'editor@example.com', { role: 'editor' }],
      [
        'owner@example.com',
        'owner',
        'user-change',
        'editor@example.com',
        { role: 'auditor', was: 'editor', password: true },
      ],
      [
        'admin token',
        'owner',
        'policy-publish',
        ORIGIN,
        { sha256: published.json().sha256, version: 'v4', changed: true },
      ],
      ['owner@example.com', 'owner', 'export', null, { format: 'csv', from: null, to: null }],
      ['owner@example.com', 'owner', 'sign-out', null, {}],
      ['dpo@example.com', 'auditor', 'sign-in', null, {}],
    ]);
    assert.deepEqual(
      log.map((e) => e.seq),
      log.map((_, i) => i + 1),
    );
    for (const e of log) assert.ok(Date.parse(String(e.at)) > Date.now() - 60_000);
    // Never a secret: not the passwords, not the token, not the session cookie.
    const all = JSON.stringify(log);
    for (const secret of [
      PASSWORD,
      'another long password',
      'not the right password',
      TOKEN,
      cookie.split('=')[1]!,
    ])
      assert.ok(!all.includes(secret), 'no secret in the audit log');
    // An editor cannot read it.
    const ed = await signIn('ed@example.com');
    assert.equal(ed.statusCode, 201, ed.body);
    const editor = String(ed.headers['set-cookie']).split(';')[0]!;
    assert.equal(
      (await s.app.inject({ url: '/v1/admin/audit', headers: { cookie: editor } })).statusCode,
      403,
    );
  });

  it('pages newest first by keyset, and verifies; an altered or removed entry is found', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const first = await s.app.inject({ url: '/v1/admin/audit?limit=3', headers: auth });
    const p1 = first.json();
    assert.equal(p1.entries.length, 3);
    const second = (
      await s.app.inject({ url: `/v1/admin/audit?limit=3&before=${p1.next}`, headers: auth })
    ).json();
    assert.equal(second.entries[0].seq, p1.entries[2].seq - 1);
    assert.equal((await s.app.inject({ url: '/v1/admin/audit?limit=0', headers: auth })).statusCode, 400);

    const ok = (await s.app.inject({ url: '/v1/admin/audit/verify', headers: auth })).json();
    assert.equal(ok.ok, true);
    assert.ok(ok.entries >= 9);

    // The export, checked offline by the CLI with the public key.
    const exported = await s.app.inject({ url: '/v1/admin/audit/export', headers: auth });
    assert.equal(exported.statusCode, 200);
    assert.match(
      String(exported.headers['content-disposition']),
      /attachment; filename="audit-\d{4}-\d\d-\d\d\.ndjson"/,
    );
    const lines = exported.body.trim().split('\n');
    assert.equal(JSON.parse(lines.at(-1)!).action, 'audit-export', 'the export records itself first');
    const dir = tempDir();
    const pub = join(dir, 'key.pub.pem');
    writeFileSync(pub, KEYS.publicKeyPem);
    const file = join(dir, 'audit.ndjson');
    writeFileSync(file, exported.body);
    const good = spawnSync(process.execPath, [BIN, 'verify-audit', file, '--public-key', pub], {
      encoding: 'utf8',
    });
    assert.equal(good.status, 0, good.stderr);
    assert.match(good.stdout, new RegExp(`^ok: ${lines.length} audit entries verify`));
    // One changed word in the file: exit 1, naming the entry.
    writeFileSync(file, exported.body.replace('"role":"auditor"', '"role":"owner"'));
    const bad = spawnSync(process.execPath, [BIN, 'verify-audit', file, '--public-key', pub], {
      encoding: 'utf8',
    });
    assert.equal(bad.status, 1);
    assert.match(bad.stdout, /^BROKEN at line \d+ \(seq \d+\): its hash does not match its content/);

    // Altered in the database: the endpoint names the entry.
    const db = (s.store as KyselyStore).db;
    await sql`update audit_log set actor = 'someone else' where seq = 3`.execute(db);
    const altered = (await s.app.inject({ url: '/v1/admin/audit/verify', headers: auth })).json();
    assert.deepEqual([altered.ok, altered.seq], [false, 3]);
    assert.match(altered.reason, /altered/);
    await sql`delete from audit_log where seq = 3`.execute(db);
    const removed = (await s.app.inject({ url: '/v1/admin/audit/verify', headers: auth })).json();
    assert.deepEqual([removed.ok, removed.seq], [false, 4]);
    assert.match(removed.reason, /missing/);
  });

  it("records a failed sign-in under a user's email, never what was typed for no user (a password in the wrong field)", async () => {
    // Passwords typed into the email field: the signed, permanent log must not keep them,
    // whether or not they look like an email address.
    assert.equal((await signIn('tr0ub4dor&3 my password', 'x')).statusCode, 401);
    assert.equal((await signIn('Tr0ub4dor@horse-staple!', 'x')).statusCode, 401);
    // A user's email with a wrong password is kept: that is who was tried (as stored).
    assert.equal((await signIn(' Ed@Example.com ', 'not the password')).statusCode, 401);
    const owner = await signIn('owner@example.com');
    const cookie = String(owner.headers['set-cookie']).split(';')[0]!;
    const log = await entries({ cookie });
    const failed = log
      .filter((e) => e.action === 'sign-in-failed')
      .slice(0, 3)
      .reverse()
      .map((e) => e.actor);
    assert.deepEqual(failed, ['(unknown email)', '(unknown email)', 'ed@example.com']);
    const text = JSON.stringify(log).toLowerCase();
    assert.ok(!text.includes('tr0ub4dor'), 'no typed password is in the log');
    assert.ok(!text.includes('horse-staple'), 'no typed password is in the log');
  });
});

describe('audit log appends', () => {
  for (const kind of ['sqlite file (writer thread)', 'postgres'] as const)
    it(`${kind}: two writers appending at once (as two processes) never fork the chain`, async () => {
      const pgDb = kind === 'postgres' ? await freshPgDatabase() : null;
      const t = await createServer({
        db: pgDb ? pgDb.url : `sqlite:${tempDir()}/audit.db`,
        sites: SITES,
        signingKey: KEYS.privateKeyPem,
        adminToken: 'audit-appends-admin-token',
        logger: false,
        retention: false,
        rateLimit: false,
      });
      try {
        // Two logs over one store: each queues its own appends, as a second process would.
        const a = new AuditLog(t.store, t.signer);
        const b = new AuditLog(t.store, t.signer);
        await Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            (i % 2 ? a : b).append({
              actor: `w${i % 2}`,
              role: 'owner',
              action: 'export',
              target: null,
              detail: { i },
            }),
          ),
        );
        const rows = await t.store.admin.auditAfter(0, 1000);
        assert.equal(rows.length, 40);
        const r = await verifyAudit(
          rows.map((x) => JSON.stringify({ ...x, v: 1, seq: Number(x.seq), detail: JSON.parse(x.detail) })),
          [KEYS.publicKeyPem],
        );
        assert.deepEqual(r.ok ? r.entries : r, 40);
        // A page "before" an entry past any the column can hold is the newest page (PostgreSQL's
        // 32-bit seq answered it with a 500).
        const admin = await t.app.inject({
          url: '/v1/admin/audit?limit=5&before=99999999999',
          headers: { authorization: 'Bearer audit-appends-admin-token' },
        });
        assert.equal(admin.statusCode, 200, admin.body);
        assert.equal(admin.json().entries[0].seq, 40);
      } finally {
        await t.close();
        await pgDb?.drop();
      }
    });
});
