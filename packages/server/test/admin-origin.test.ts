/**
 * The console on its own origin (`adminOrigin`): a site this server serves shares no origin
 * with a signed-in console, so its scripts cannot read the CSRF token or act as the console.
 * Without it, a sign-in on a site's origin is warned about, once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type AssentServer, createServer } from '../src/index.js';
import { addUser } from '../src/users.js';
import { SITE_CONFIG } from './helpers.js';

const CHEAP = { N: 2 ** 10, r: 8, p: 1 };
const PASSWORD = 'correct horse battery staple';
const TOKEN = 'admin-origin-test-token';
const SITE = 'http://news.example';
const ADMIN = 'http://admin.news.example';

const start = async (over: Record<string, unknown>, lines: string[] = []) => {
  const s = await createServer({
    db: 'sqlite::memory:',
    sites: { [SITE]: SITE_CONFIG },
    adminToken: TOKEN,
    logger: { level: 'info', stream: { write: (l: string) => void lines.push(l) } },
    rateLimit: false,
    retention: false,
    log: false,
    webhooks: false,
    ...over,
  });
  assert.ok(
    (await addUser(s.store, { email: 'owner@example.com', role: 'owner', password: PASSWORD }, CHEAP)).ok,
  );
  return s;
};

const signIn = (s: AssentServer, headers: Record<string, string>) =>
  s.app.inject({
    method: 'POST',
    url: '/v1/admin/session',
    headers,
    payload: { email: 'owner@example.com', password: PASSWORD },
  });

describe('adminOrigin: the console answers on its own origin only', () => {
  let s: AssentServer;
  before(async () => {
    s = await start({ adminOrigin: `${ADMIN}/` });
  });
  after(() => s.close());

  it('on the site host, the console pages and every admin route are a 404, as a route that does not exist', async () => {
    const site = { host: 'news.example' };
    const admin = { host: 'admin.news.example' };
    // Signed in on the admin host: the cookie is host-only (no Domain), the site's host never gets it.
    const ok = await signIn(s, admin);
    assert.equal(ok.statusCode, 201, ok.body);
    const setCookie = String(ok.headers['set-cookie']);
    assert.match(setCookie, /^__Host-assent-admin=/);
    assert.doesNotMatch(setCookie, /domain=/i);
    const cookie = setCookie.split(';')[0]!;
    const bearer = { authorization: `Bearer ${TOKEN}` };
    const requests: [string, string, Record<string, string>][] = [
      ['GET', '/v1/admin/session', { cookie }],
      ['GET', '/v1/admin/session', bearer],
      ['DELETE', '/v1/admin/session', bearer],
      ['GET', '/v1/admin/receipts', bearer],
      ['GET', '/v1/admin/users', bearer],
      ['GET', '/admin', {}],
      ['GET', '/admin/sign-in', {}],
      ['GET', '/admin/assets/console.js', {}],
      ['GET', '/admin/policies/preview', {}],
      // Another spelling of the path is routed the same, and refused the same.
      ['GET', '/%61dmin', {}],
    ];
    for (const [method, url, headers] of requests) {
      const r = await s.app.inject({ method: method as 'GET', url, headers: { ...site, ...headers } });
      assert.equal(r.statusCode, 404, `${method} ${url}: ${r.body}`);
      assert.equal(r.json().error, 'ASSENT_NOT_FOUND', url);
      assert.equal(r.json().message, `no route ${method} ${url}`, 'the same as a route that does not exist');
    }
    const refused = await signIn(s, site);
    assert.equal(refused.statusCode, 404);
    assert.equal(refused.headers['set-cookie'], undefined);
    // The admin host works: the pages, the session with its CSRF token, the token.
    const me = await s.app.inject({ url: '/v1/admin/session', headers: { ...admin, cookie } });
    assert.equal(me.statusCode, 200, me.body);
    assert.equal(typeof me.json().csrf, 'string');
    assert.equal((await s.app.inject({ url: '/admin', headers: admin })).statusCode, 200);
    assert.equal(
      (await s.app.inject({ url: '/v1/admin/receipts', headers: { ...admin, ...bearer } })).statusCode,
      200,
    );
    // The site's own routes are untouched on its host.
    assert.equal((await s.app.inject({ url: '/v1/config', headers: site })).statusCode, 200);
  });

  it('honours trustProxy: the origin is the one the browser used, from the proxy', async () => {
    const p = await start({ adminOrigin: 'https://admin.news.example', trustProxy: true });
    try {
      const via = (host: string) => ({
        host: '127.0.0.1:8787',
        'x-forwarded-host': host,
        'x-forwarded-proto': 'https',
      });
      assert.equal(
        (await p.app.inject({ url: '/admin', headers: via('admin.news.example') })).statusCode,
        200,
      );
      assert.equal((await p.app.inject({ url: '/admin', headers: via('news.example') })).statusCode, 404);
      // The proxy's own address is no way in either.
      assert.equal(
        (await p.app.inject({ url: '/admin', headers: { host: '127.0.0.1:8787' } })).statusCode,
        404,
      );
    } finally {
      await p.close();
    }
  });

  it('the default port is the same origin; the admin host under another scheme is a 404 said once in the log', async () => {
    const lines: string[] = [];
    const p = await start({ adminOrigin: 'https://admin.news.example', trustProxy: true }, lines);
    try {
      const via = (host: string, proto: string) => ({
        host: '127.0.0.1:8787',
        'x-forwarded-host': host,
        'x-forwarded-proto': proto,
      });
      assert.equal(
        (await p.app.inject({ url: '/admin', headers: via('admin.news.example:443', 'https') })).statusCode,
        200,
      );
      // A TLS proxy whose scheme the server does not hear: the console is a 404, and the log says why.
      for (let i = 0; i < 2; i++)
        assert.equal(
          (await p.app.inject({ url: '/admin', headers: via('admin.news.example', 'http') })).statusCode,
          404,
        );
      const said = lines
        .map((l) => JSON.parse(l))
        .filter((l) => l.level === 40 && /adminOrigin is/.test(l.msg));
      assert.equal(said.length, 1);
      assert.match(
        said[0].msg,
        /404 on http:\/\/admin\.news\.example: adminOrigin is https:\/\/admin\.news\.example/,
      );
    } finally {
      await p.close();
    }
  });
});

describe('without adminOrigin', () => {
  it("warns once when someone signs in on a site's origin, naming the site and no address", async () => {
    const lines: string[] = [];
    const s = await start({}, lines);
    try {
      const warnings = () =>
        lines.map((l) => JSON.parse(l)).filter((l) => l.level === 40 && /shares an origin/.test(l.msg));
      assert.equal((await signIn(s, { host: 'admin.news.example' })).statusCode, 201);
      assert.equal(warnings().length, 0, 'not on a host of its own');
      assert.equal((await signIn(s, { host: 'news.example' })).statusCode, 201);
      assert.equal((await signIn(s, { host: 'news.example' })).statusCode, 201);
      const w = warnings();
      assert.equal(w.length, 1, 'once');
      assert.equal(w[0].site, SITE);
      assert.match(w[0].msg, /shares an origin with the site http:\/\/news\.example/);
      assert.match(w[0].msg, /scripts on its pages can use a signed-in session/);
      assert.match(w[0].msg, /set adminOrigin/);
      assert.doesNotMatch(JSON.stringify(w[0]), /127\.0\.0\.1/, 'no client address');
      // The console still works there (the demo does so).
      assert.equal(
        (await s.app.inject({ url: '/admin', headers: { host: 'news.example' } })).statusCode,
        200,
      );
    } finally {
      await s.close();
    }
  });
});
