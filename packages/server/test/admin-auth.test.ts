/**
 * Sign-in for people (issue 17, part 1): users with roles, scrypt passwords, session cookies,
 * CSRF, throttling, and the role of every admin route walked with each kind of caller.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type AssentServer, createServer } from '../src/index.js';
import { hashPassword, PASSWORD_COST, verifyPassword } from '../src/passwords.js';
import { keyId } from '../src/signer.js';
import type { Role } from '../src/store/admin-store.js';
import { openStore } from '../src/store/open.js';
import { addUser } from '../src/users.js';
import { freshPgDatabase, SITES, tempDir } from './helpers.js';

const BIN = new URL('../bin/assent-server.js', import.meta.url).pathname;
const TOKEN = 'admin-auth-test-token';
/** Tests hash with a cheap scrypt (hashes carry their parameters); the default is tested once. */
const CHEAP = { N: 2 ** 10, r: 8, p: 1 };
const PASSWORD = 'correct horse battery staple';

let s: AssentServer;
const users: Record<Role, string> = { owner: '', editor: '', auditor: '' };

const signIn = async (email: string, password = PASSWORD, headers: Record<string, string> = {}) =>
  s.app.inject({ method: 'POST', url: '/v1/admin/session', payload: { email, password }, headers });

/** A signed-in session: its cookie header and CSRF token. */
const session = async (email: string) => {
  const r = await signIn(email);
  assert.equal(r.statusCode, 201, r.body);
  const cookie = String(r.headers['set-cookie']).split(';')[0]!;
  return { cookie, csrf: r.json().csrf as string };
};

describe('admin sign-in', () => {
  before(async () => {
    s = await createServer({
      db: 'sqlite::memory:',
      sites: SITES,
      adminToken: TOKEN,
      logger: false,
      rateLimit: false,
      retention: false,
      // Each test's client is 127.0.0.1: a high bar, so only the throttle test reaches it.
      authFailures: { max: 1000, timeWindow: 60_000 },
    });
    for (const role of ['owner', 'editor', 'auditor'] as const) {
      const r = await addUser(s.store, { email: `${role}@example.com`, role, password: PASSWORD }, CHEAP);
      assert.ok(r.ok);
      users[role] = r.user.id;
    }
  });
  after(() => s.close());

  it('hashes with scrypt at OWASP cost by default, and an unknown user takes the same path', async () => {
    assert.ok(PASSWORD_COST.N * PASSWORD_COST.p >= 2 ** 17 && PASSWORD_COST.r >= 8);
    const h = await hashPassword('a long enough password');
    assert.match(h, /^scrypt\$65536\$8\$2\$[\w-]{22}\$[\w-]{43}$/);
    assert.equal(await verifyPassword('a long enough password', h), true);
    assert.equal(await verifyPassword('a long enough passwore', h), false);
    assert.equal(await verifyPassword('a long enough password', null), false);
    // The same password twice: two salts, two hashes.
    assert.notEqual(h, await hashPassword('a long enough password'));
  });

  it('signs in with a session cookie that is HttpOnly, Secure, SameSite=Strict and host-only', async () => {
    const wrong = await signIn('owner@example.com', 'not the password at all');
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.json().field, 'password');
    assert.equal(wrong.headers['set-cookie'], undefined);
    const unknown = await signIn('nobody@example.com');
    assert.equal(unknown.statusCode, 401);
    assert.equal(
      unknown.json().message,
      wrong.json().message,
      'unknown email and wrong password read the same',
    );

    const r = await signIn('  OWNER@example.com ');
    assert.equal(r.statusCode, 201);
    const c = String(r.headers['set-cookie']);
    assert.match(
      c,
      /^__Host-assent-admin=[\w-]{43}; Path=\/; Max-Age=43200; HttpOnly; Secure; SameSite=Strict$/,
    );
    assert.equal(r.json().role, 'owner');
    const cookie = c.split(';')[0]!;
    const me = await s.app.inject({ url: '/v1/admin/session', headers: { cookie } });
    assert.equal(me.statusCode, 200);
    assert.deepEqual(
      { email: me.json().email, role: me.json().role, csrf: me.json().csrf },
      { email: 'owner@example.com', role: 'owner', csrf: r.json().csrf },
    );
    // The database holds the token's hash, not the token.
    const token = cookie.split('=')[1]!;
    assert.equal(await s.store.admin.session(token, new Date().toISOString()), null);
  });

  it('a change needs the CSRF token, from the console itself; signing out ends the session', async () => {
    const { cookie, csrf } = await session('owner@example.com');
    const body = { email: 'csrf@example.com', role: 'auditor', password: PASSWORD };
    const none = await s.app.inject({
      method: 'POST',
      url: '/v1/admin/users',
      headers: { cookie },
      payload: body,
    });
    assert.equal(none.statusCode, 403);
    assert.equal(none.json().field, 'x-assent-csrf');
    const forged = await s.app.inject({
      method: 'POST',
      url: '/v1/admin/users',
      // Change the last character to one it is not (replacing it with a fixed
      // letter forged nothing one time in 64).
      headers: { cookie, 'x-assent-csrf': `${csrf.slice(0, -1)}${csrf.endsWith('A') ? 'B' : 'A'}` },
      payload: body,
    });
    assert.equal(forged.statusCode, 403);
    const crossSite = await s.app.inject({
      method: 'POST',
      url: '/v1/admin/users',
      headers: { cookie, 'x-assent-csrf': csrf, 'sec-fetch-site': 'same-site' },
      payload: body,
    });
    assert.equal(crossSite.statusCode, 403);
    assert.equal(crossSite.json().field, 'sec-fetch-site');
    assert.equal(await s.store.admin.userByEmail('csrf@example.com'), null, 'nothing was added');
    // Reads need no token.
    assert.equal((await s.app.inject({ url: '/v1/admin/users', headers: { cookie } })).statusCode, 200);
    // Signing in from another site's page is refused too (login CSRF).
    assert.equal(
      (await signIn('owner@example.com', PASSWORD, { 'sec-fetch-site': 'cross-site' })).statusCode,
      403,
    );

    const out = await s.app.inject({
      method: 'DELETE',
      url: '/v1/admin/session',
      headers: { cookie, 'x-assent-csrf': csrf },
    });
    assert.equal(out.statusCode, 204);
    assert.match(String(out.headers['set-cookie']), /^__Host-assent-admin=; Path=\/; Max-Age=0;/);
    const after = await s.app.inject({ url: '/v1/admin/session', headers: { cookie } });
    assert.equal(after.statusCode, 401);
  });

  it("a signed-in browser's reads come from the console's own pages only: another site's (same-site too) are refused", async () => {
    const { cookie } = await session('owner@example.com');
    const before = (await s.store.admin.auditHead())?.seq;
    // An <img> or a link on a page of the same site (another port of the same host, or
    // news.example beside admin.news.example): the SameSite=Strict cookie goes along.
    for (const [site, mode] of [
      ['same-site', 'no-cors'],
      ['same-site', 'navigate'],
      ['cross-site', 'no-cors'],
      ['cross-site', 'navigate'],
    ] as const)
      for (const url of ['/v1/admin/receipts?format=csv', '/v1/admin/session', '/v1/admin/users']) {
        const r = await s.app.inject({
          url,
          headers: { cookie, 'sec-fetch-site': site, 'sec-fetch-mode': mode },
        });
        assert.equal(r.statusCode, 403, `${site} ${mode} ${url}: ${r.body}`);
        assert.equal(r.json().error, 'ASSENT_FORBIDDEN');
        assert.equal(r.json().field, 'sec-fetch-site');
        assert.match(r.json().message, /console's own pages/);
      }
    assert.equal((await s.store.admin.auditHead())?.seq, before, 'no export was run (or recorded) for them');
    // The console's own fetches, a typed or bookmarked URL, and browsers without the header.
    for (const site of ['same-origin', 'none', undefined]) {
      const r = await s.app.inject({
        url: '/v1/admin/receipts?format=csv',
        headers: { cookie, ...(site ? { 'sec-fetch-site': site, 'sec-fetch-mode': 'cors' } : {}) },
      });
      assert.equal(r.statusCode, 200, `${site}: ${r.body}`);
    }
    // The console's pages themselves open from anywhere (a link in an email): they hold no data.
    const page = await s.app.inject({
      url: '/admin',
      headers: { cookie, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' },
    });
    assert.equal(page.statusCode, 200);
    // Scripts with the bearer token send no cookie: the header means nothing to them.
    const script = await s.app.inject({
      url: '/v1/admin/receipts?format=csv',
      headers: { authorization: `Bearer ${TOKEN}`, 'sec-fetch-site': 'cross-site' },
    });
    assert.equal(script.statusCode, 200);
  });

  it('the bearer token keeps working for scripts, as an owner, without a CSRF token', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    assert.equal((await s.app.inject({ url: '/v1/admin/stats', headers: auth })).statusCode, 200);
    const me = await s.app.inject({ url: '/v1/admin/session', headers: auth });
    assert.deepEqual(me.json(), {
      kind: 'token',
      email: null,
      role: 'owner',
      csrf: null,
      csrfHeader: 'x-assent-csrf',
      expiresAt: null,
      sites: [],
    });
    const r = await s.app.inject({
      method: 'POST',
      url: '/v1/admin/users',
      headers: auth,
      payload: { email: 'script@example.com', role: 'auditor', password: 'short' },
    });
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().field, 'password');
  });

  it('walks every admin route with each role, the token and no one: 403 exactly where the role is not allowed', async () => {
    const routes = s.adminRoutes;
    const paths = new Set(routes.map((r) => `${r.method} ${r.url}`));
    for (const must of [
      'GET /v1/admin/receipts',
      'GET /v1/admin/stats',
      'POST /v1/admin/policies',
      'GET /v1/admin/policies',
      'GET /v1/admin/session',
      'DELETE /v1/admin/session',
      'GET /v1/admin/users',
      'POST /v1/admin/users',
      'PATCH /v1/admin/users/:id',
      'DELETE /v1/admin/users/:id',
      'GET /v1/admin/audit',
      'GET /v1/admin/audit/export',
      'GET /v1/admin/audit/verify',
      'GET /v1/admin/receipts/page',
      'GET /v1/admin/receipts/:id',
      'GET /v1/admin/overview',
      'POST /v1/admin/erasures',
    ])
      assert.ok(paths.has(must), `${must} is guarded (registered routes: ${[...paths].join(', ')})`);
    const callers = {
      owner: await session('owner@example.com'),
      editor: await session('editor@example.com'),
      auditor: await session('auditor@example.com'),
    };
    let checked = 0;
    for (const r of routes) {
      const url = r.url.replace(':id', r.url.includes('receipts') ? 'AAAAAAAAAAAAAAAA' : 'no-such-user');
      const payload = r.method === 'GET' || r.method === 'DELETE' ? undefined : {};
      const nobody = await s.app.inject({ method: r.method as 'GET', url, ...(payload ? { payload } : {}) });
      assert.equal(nobody.statusCode, 401, `${r.method} ${r.url} without credentials`);
      for (const [role, c] of Object.entries(callers)) {
        // DELETE /v1/admin/session would sign the caller out: last, below.
        if (r.method === 'DELETE' && r.url === '/v1/admin/session') continue;
        const res = await s.app.inject({
          method: r.method as 'GET',
          url,
          headers: { cookie: c.cookie, 'x-assent-csrf': c.csrf },
          ...(payload ? { payload } : {}),
        });
        const allowed = r.allow.includes(role as Role);
        if (allowed)
          assert.ok(![401, 403].includes(res.statusCode), `${role} may ${r.method} ${r.url}: ${res.body}`);
        else {
          assert.equal(res.statusCode, 403, `${role} may not ${r.method} ${r.url}`);
          assert.equal(res.json().field, 'role');
        }
        checked++;
      }
      const bearer = await s.app.inject({
        method: r.method as 'GET',
        url,
        headers: { authorization: `Bearer ${TOKEN}` },
        ...(payload ? { payload } : {}),
      });
      assert.ok(![401, 403].includes(bearer.statusCode), `the token may ${r.method} ${r.url}`);
    }
    assert.ok(checked >= 45, `${checked} role checks`);
    // The exact allow lists that matter most.
    const allow = (m: string, u: string) => routes.find((r) => r.method === m && r.url === u)?.allow;
    assert.deepEqual(allow('POST', '/v1/admin/policies'), ['owner', 'editor']);
    assert.deepEqual(allow('GET', '/v1/admin/receipts'), ['owner', 'auditor']);
    assert.deepEqual(allow('POST', '/v1/admin/users'), ['owner']);
    assert.deepEqual(allow('POST', '/v1/admin/erasures'), ['owner']);
  });

  it('owners manage users; a change signs the user out; the last owner stays an owner', async () => {
    const owner = await session('owner@example.com');
    const h = { cookie: owner.cookie, 'x-assent-csrf': owner.csrf };
    const add = await s.app.inject({
      method: 'POST',
      url: '/v1/admin/users',
      headers: h,
      payload: { email: 'New@Example.com', role: 'editor', password: PASSWORD },
    });
    assert.equal(add.statusCode, 201, add.body);
    assert.equal(add.json().email, 'new@example.com');
    assert.equal(add.json().password, undefined, 'never sent back');
    const again = await s.app.inject({
      method: 'POST',
      url: '/v1/admin/users',
      headers: h,
      payload: { email: 'new@example.com', role: 'owner', password: PASSWORD },
    });
    assert.equal(again.statusCode, 400);
    assert.equal(again.json().field, 'email');

    const editor = await session('editor@example.com');
    const demote = await s.app.inject({
      method: 'PATCH',
      url: `/v1/admin/users/${users.editor}`,
      headers: h,
      payload: { role: 'auditor' },
    });
    assert.equal(demote.statusCode, 200);
    assert.equal(demote.json().role, 'auditor');
    assert.equal(
      (await s.app.inject({ url: '/v1/admin/session', headers: { cookie: editor.cookie } })).statusCode,
      401,
      'the demoted editor was signed out',
    );

    // The only owner cannot demote or remove themself.
    const self = await s.app.inject({
      method: 'PATCH',
      url: `/v1/admin/users/${users.owner}`,
      headers: h,
      payload: { role: 'auditor' },
    });
    assert.equal(self.statusCode, 400);
    assert.match(self.json().message, /last owner/);
    const rm = await s.app.inject({ method: 'DELETE', url: `/v1/admin/users/${users.owner}`, headers: h });
    assert.equal(rm.statusCode, 400);
    assert.equal(await s.store.admin.countUsers('owner'), 1);
    // Removing someone else works, and ends their sessions.
    const newId = add.json().id;
    const newSession = await session('new@example.com');
    assert.equal(
      (await s.app.inject({ method: 'DELETE', url: `/v1/admin/users/${newId}`, headers: h })).statusCode,
      204,
    );
    assert.equal(
      (await s.app.inject({ url: '/v1/admin/session', headers: { cookie: newSession.cookie } })).statusCode,
      401,
    );
    assert.equal(
      (await s.app.inject({ method: 'DELETE', url: `/v1/admin/users/${newId}`, headers: h })).statusCode,
      404,
    );
  });
});

describe('sign-in throttling', () => {
  it('after 10 failures a client gets 429 for the rest of the window, even with the right password', async () => {
    const t = await createServer({
      db: 'sqlite::memory:',
      sites: SITES,
      logger: false,
      retention: false,
      rateLimit: false,
    });
    try {
      assert.ok(
        (await addUser(t.store, { email: 'o@example.com', role: 'owner', password: PASSWORD }, CHEAP)).ok,
      );
      const attempt = (password: string) =>
        t.app.inject({
          method: 'POST',
          url: '/v1/admin/session',
          payload: { email: 'o@example.com', password },
        });
      for (let i = 0; i < 10; i++) assert.equal((await attempt(`wrong password ${i}`)).statusCode, 401);
      const blocked = await attempt(PASSWORD);
      assert.equal(blocked.statusCode, 429);
      assert.ok(Number(blocked.headers['retry-after']) > 0);
      assert.equal(blocked.headers['set-cookie'], undefined);
      // The same counter as the admin token and API keys: one throttle for every secret.
      const token = await t.app.inject({ url: '/v1/admin/stats', headers: { authorization: 'Bearer x' } });
      assert.equal(token.statusCode, 429);
    } finally {
      await t.close();
    }
  });

  it('attempts sent at once are counted before they are checked: 40 wrong passwords, then the right one, check 10', async () => {
    const t = await createServer({
      db: 'sqlite::memory:',
      sites: SITES,
      logger: false,
      retention: false,
      rateLimit: false,
    });
    try {
      assert.ok(
        (await addUser(t.store, { email: 'o@example.com', role: 'owner', password: PASSWORD }, CHEAP)).ok,
      );
      // How many passwords were really checked: every check reads the user first.
      let checked = 0;
      const byEmail = t.store.admin.userByEmail.bind(t.store.admin);
      t.store.admin.userByEmail = (email: string) => {
        checked++;
        return byEmail(email);
      };
      const attempt = (password: string) =>
        t.app.inject({
          method: 'POST',
          url: '/v1/admin/session',
          payload: { email: 'o@example.com', password },
        });
      // All in flight together: none has failed yet when the others arrive.
      const answers = await Promise.all([
        ...Array.from({ length: 40 }, (_, i) => attempt(`wrong password ${i}`)),
        attempt(PASSWORD),
      ]);
      const codes = answers.map((r) => r.statusCode);
      assert.equal(checked, 10, 'at most the allowed number of attempts were checked');
      assert.equal(codes.filter((c) => c === 401).length, 10, codes.join(' '));
      assert.equal(codes.filter((c) => c === 429).length, 31, codes.join(' '));
      assert.equal(answers[40]!.statusCode, 429, 'the right password, last, is refused too');
      assert.equal(answers[40]!.headers['set-cookie'], undefined);
    } finally {
      await t.close();
    }
  });

  it('counting attempts in flight does not refuse a signed-in console or a script that sends many requests at once', async () => {
    const t = await createServer({
      db: 'sqlite::memory:',
      sites: SITES,
      adminToken: TOKEN,
      logger: false,
      retention: false,
      rateLimit: false,
    });
    try {
      assert.ok(
        (await addUser(t.store, { email: 'o@example.com', role: 'owner', password: PASSWORD }, CHEAP)).ok,
      );
      const signed = await t.app.inject({
        method: 'POST',
        url: '/v1/admin/session',
        payload: { email: 'o@example.com', password: PASSWORD },
      });
      assert.equal(signed.statusCode, 201);
      const cookie = String(signed.headers['set-cookie']).split(';')[0]!;
      for (const headers of [{ cookie }, { authorization: `Bearer ${TOKEN}` }]) {
        const codes = (
          await Promise.all(
            Array.from({ length: 30 }, () => t.app.inject({ url: '/v1/admin/session', headers })),
          )
        ).map((r) => r.statusCode);
        assert.deepEqual(new Set(codes), new Set([200]), codes.join(' '));
      }
    } finally {
      await t.close();
    }
  });
});

describe('users and sessions on each store', () => {
  for (const kind of ['sqlite file (writer thread)', 'postgres'] as const)
    it(`${kind}: add, sign in, change role (signed out), last-owner guard, remove`, async () => {
      const pgDb = kind === 'postgres' ? await freshPgDatabase() : null;
      const t = await createServer({
        db: pgDb ? pgDb.url : `sqlite:${tempDir()}/admin.db`,
        sites: SITES,
        logger: false,
        retention: false,
        rateLimit: false,
      });
      try {
        const a = await addUser(
          t.store,
          { email: 'a@example.com', role: 'owner', password: PASSWORD },
          CHEAP,
        );
        const b = await addUser(
          t.store,
          { email: 'b@example.com', role: 'editor', password: PASSWORD },
          CHEAP,
        );
        assert.ok(a.ok && b.ok);
        assert.equal(
          (await addUser(t.store, { email: 'A@example.com', role: 'owner', password: PASSWORD }, CHEAP)).ok,
          false,
        );
        const signed = await t.app.inject({
          method: 'POST',
          url: '/v1/admin/session',
          payload: { email: 'b@example.com', password: PASSWORD },
        });
        assert.equal(signed.statusCode, 201);
        const cookie = String(signed.headers['set-cookie']).split(';')[0]!;
        assert.equal(
          (await t.app.inject({ url: '/v1/admin/session', headers: { cookie } })).json().role,
          'editor',
        );
        assert.equal(
          await t.store.admin.updateUser(a.user.id, { role: 'auditor' }, new Date().toISOString()),
          false,
        );
        assert.equal(
          await t.store.admin.updateUser(b.user.id, { role: 'auditor' }, new Date().toISOString()),
          true,
        );
        await t.store.admin.removeSessionsOf(b.user.id);
        assert.equal((await t.app.inject({ url: '/v1/admin/session', headers: { cookie } })).statusCode, 401);
        assert.equal(await t.store.admin.removeUser(a.user.id), false, 'the last owner stays');
        assert.equal(await t.store.admin.removeUser(b.user.id), true);
        assert.deepEqual(
          (await t.store.admin.users()).map((u) => `${u.email} ${u.role}`),
          ['a@example.com owner'],
        );
      } finally {
        await t.close();
        await pgDb?.drop();
      }
    });
});

describe('assent-server user add (first run)', () => {
  it('creates the first owner from a password on stdin, refuses mistakes with exit 2, lists users', async () => {
    const db = `sqlite:${tempDir()}/cli.db`;
    const dataDir = tempDir();
    const run = (args: string[], input = '') =>
      spawnSync(process.execPath, [BIN, 'user', ...args, '--db', db, '--data-dir', dataDir], {
        encoding: 'utf8',
        input,
      });
    const added = run(['add', '--email', 'Owner@News.example', '--role', 'owner'], `${PASSWORD}\n`);
    assert.equal(added.status, 0, added.stderr);
    assert.match(added.stdout, /added owner@news\.example \(owner\)/);
    const bad = [
      run(['add', '--email', 'owner@news.example', '--role', 'owner'], `${PASSWORD}\n`),
      run(['add', '--email', 'x@news.example', '--role', 'boss'], `${PASSWORD}\n`),
      run(['add', '--email', 'x@news.example', '--role', 'auditor'], 'short\n'),
      run(['add', '--role', 'auditor'], `${PASSWORD}\n`),
    ];
    assert.deepEqual(
      bad.map((r) => r.status),
      [2, 2, 2, 2],
    );
    assert.match(bad[0]!.stderr, /--email owner@news\.example is already a user/);
    assert.match(bad[1]!.stderr, /--role must be one of owner, editor, auditor/);
    assert.match(bad[2]!.stderr, /the password must be at least 12 characters/);
    const list = run(['list']);
    assert.equal(list.status, 0);
    assert.match(list.stdout, /^owner@news\.example\towner\t\d{4}-/);
    assert.equal(list.stdout.trim().split('\n').length, 1);
    // Recorded in the audit log, signed with the data dir's key (the one the server uses).
    const store = openStore(db);
    const [entry] = await store.admin.auditAfter(0, 10);
    await store.close();
    assert.deepEqual(
      [entry?.actor, entry?.action, entry?.target, entry?.detail],
      ['cli', 'user-add', 'owner@news.example', '{"role":"owner"}'],
    );
    assert.equal(
      entry?.kid,
      keyId(createPublicKey(readFileSync(join(dataDir, 'signing-key.pub.pem'), 'utf8'))),
    );
    // The server it starts signs that owner in.
    const t = await createServer({ db, sites: SITES, logger: false, retention: false, rateLimit: false });
    try {
      const r = await t.app.inject({
        method: 'POST',
        url: '/v1/admin/session',
        payload: { email: 'owner@news.example', password: PASSWORD },
      });
      assert.equal(r.statusCode, 201);
    } finally {
      await t.close();
    }
  });
});
