/**
 * Sites (issue 17, part 5): every site with its policy, API key fingerprint, counts and log;
 * users limited to some sites, on every admin route, on SQLite and PostgreSQL; and a walk of
 * every registered admin route proving each one enforces the limit or is declared server-wide.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createServer } from '../src/index.js';
import type { Role } from '../src/store/admin-store.js';
import { openStore } from '../src/store/open.js';
import { addUser } from '../src/users.js';
import { seedChoices } from './admin-seed.js';
import { freshPgDatabase, ORIGIN, OTHER, PUBLISHED, receiptBody, SITES, tempDir } from './helpers.js';

const BIN = new URL('../bin/assent-server.js', import.meta.url).pathname;
const TOKEN = 'admin-sites-test-token';
const API_KEY = 'shop-example-api-key-0123456789';
const CHEAP = { N: 2 ** 10, r: 8, p: 1 };
const PASSWORD = 'correct horse battery staple';

interface Caller {
  readonly cookie: string;
  readonly csrf: string;
}

/** A server with ORIGIN (seeded: 5 consents, 6 receipts) and OTHER (2 receipts), and users. */
const setUp = async (db: string) => {
  const s = await createServer({
    db,
    sites: SITES,
    apiKeys: { [OTHER]: API_KEY },
    adminToken: TOKEN,
    logger: false,
    rateLimit: false,
    retention: false,
    log: false,
    authFailures: { max: 1000, timeWindow: 60_000 },
  });
  const known = (site: string) => s.policies.has(site);
  const add = async (email: string, role: Role, sites: string[] = []) => {
    const r = await addUser(s.store, { email, role, password: PASSWORD, sites }, CHEAP, known);
    assert.ok(r.ok, JSON.stringify(r));
    return r.user;
  };
  await add('owner@example.com', 'owner');
  const users = {
    scopedAuditor: await add('dpo@example.com', 'auditor', [ORIGIN]),
    scopedEditor: await add('shop-editor@example.com', 'editor', [OTHER]),
    auditor: await add('auditor@example.com', 'auditor'),
  };
  await seedChoices(s);
  const other: string[] = [];
  for (const method of ['reject-all', 'custom']) {
    const r = await s.app.inject({
      method: 'POST',
      url: '/v1/receipts',
      headers: { origin: OTHER },
      payload: receiptBody({
        method,
        ...(method === 'reject-all' && { choices: {} }),
        page: { origin: OTHER, path: '/cart' },
      }),
    });
    assert.equal(r.statusCode, 201, r.body);
    other.push(r.json().id);
  }
  // other[2]: a webhook of OTHER (its receiver, on TEST-NET-1, never answers; deliveries just
  // fail and retry).
  const hook = await s.app.inject({
    method: 'POST',
    url: '/v1/admin/webhooks',
    headers: { authorization: `Bearer ${TOKEN}` },
    payload: { site: OTHER, url: 'http://192.0.2.1:9/hook' },
  });
  assert.equal(hook.statusCode, 201, hook.body);
  other.push(hook.json().id);
  const session = async (email: string): Promise<Caller> => {
    const r = await s.app.inject({
      method: 'POST',
      url: '/v1/admin/session',
      payload: { email, password: PASSWORD },
    });
    assert.equal(r.statusCode, 201, r.body);
    return { cookie: String(r.headers['set-cookie']).split(';')[0]!, csrf: r.json().csrf };
  };
  const as =
    (c: Caller) =>
    (url: string, method = 'GET', payload?: unknown) =>
      s.app.inject({
        method: method as 'GET',
        url,
        headers: { cookie: c.cookie, 'x-assent-csrf': c.csrf },
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
  return { s, users, other, session, as };
};

describe('sites and users limited to some sites, on each store', () => {
  for (const kind of ['sqlite file (writer thread)', 'postgres'] as const)
    it(`${kind}: a scoped auditor sees only its site's receipts, counts and exports; 403 naming site for the others`, async () => {
      const pgDb = kind === 'postgres' ? await freshPgDatabase() : null;
      const { s, users, other, session, as } = await setUp(pgDb ? pgDb.url : `sqlite:${tempDir()}/sites.db`);
      try {
        await s.log.integrate(ORIGIN);
        const dpo = as(await session('dpo@example.com'));
        const owner = as(await session('owner@example.com'));
        const forbidden = (r: { statusCode: number; json(): { field?: string; error?: string } }) => {
          assert.equal(r.statusCode, 403);
          assert.equal(r.json().field, 'site');
          assert.equal(r.json().error, 'ASSENT_FORBIDDEN');
        };

        // The sites page's data: every site for the owner, with counts the overview gives.
        const all = (await owner('/v1/admin/sites')).json().sites;
        assert.deepEqual(
          all.map((x: { site: string }) => x.site),
          [ORIGIN, OTHER].sort(),
        );
        const bySite = Object.fromEntries(all.map((x: { site: string }) => [x.site, x]));
        const mine = bySite[ORIGIN];
        const overview = (await owner(`/v1/admin/overview?site=${encodeURIComponent(ORIGIN)}`)).json();
        assert.equal(mine.consents, 5, 'one acceptance later withdrawn counts once');
        assert.equal(mine.consents, overview.consents);
        assert.equal(mine.receipts, 6);
        assert.equal(bySite[OTHER].receipts, 2);
        assert.equal(mine.policy.version, 'v3');
        assert.equal(mine.policy.versions, 1);
        assert.match(mine.policy.sha256, /^[0-9a-f]{64}$/);
        assert.deepEqual(mine.apiKey, { configured: false, fingerprint: null });
        assert.deepEqual(bySite[OTHER].apiKey, {
          configured: true,
          fingerprint: createHash('sha256').update(API_KEY).digest('hex').slice(0, 8),
        });
        const raw = (await owner('/v1/admin/sites')).body;
        assert.ok(!raw.includes(API_KEY), 'never the key itself');
        assert.ok(mine.log.size >= 6, 'at least the six receipts are in the log');
        assert.ok(mine.log.ageSeconds >= 0 && mine.log.ageSeconds < 60);
        assert.equal(bySite[OTHER].log.size, null, 'no checkpoint yet');
        assert.equal(mine.links.receipts, `/admin/receipts?site=${encodeURIComponent(ORIGIN)}`);

        // The scoped auditor: its one site, everywhere, without naming it.
        assert.deepEqual(
          (await dpo('/v1/admin/sites')).json().sites.map((x: { site: string }) => x.site),
          [ORIGIN],
        );
        assert.deepEqual((await dpo('/v1/admin/session')).json().sites, [ORIGIN]);
        const seen = (await dpo('/v1/admin/overview')).json();
        assert.equal(seen.consents, 5);
        assert.equal(
          seen.outcomes.reduce((n: number, o: { receipts: number }) => n + o.receipts, 0),
          6,
        );
        const everything = (await owner('/v1/admin/overview')).json();
        assert.equal(everything.consents, 7, 'the owner counts both sites');
        const page = (await dpo('/v1/admin/receipts/page?limit=100')).json();
        assert.equal(page.receipts.length, 6);
        assert.ok(page.receipts.every((r: { site: string }) => r.site === ORIGIN));
        const exported = await dpo('/v1/admin/receipts?format=ndjson');
        assert.equal(exported.statusCode, 200);
        const lines = exported.body
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l));
        assert.ok(lines.length >= 6);
        assert.ok(
          lines.every((l) => l.site === undefined || l.site === ORIGIN),
          'no line of the other site',
        );
        assert.ok(!exported.body.includes(OTHER), exported.body.slice(0, 300));
        const stats = (await dpo('/v1/admin/stats?by=method')).json();
        assert.equal(
          stats.rows.reduce((n: number, r: { total: number }) => n + r.total, 0),
          6,
        );

        // Any other site, however asked: 403 naming site.
        const q = `site=${encodeURIComponent(OTHER)}`;
        forbidden(await dpo(`/v1/admin/overview?${q}`));
        forbidden(await dpo(`/v1/admin/receipts/page?${q}`));
        forbidden(await dpo(`/v1/admin/receipts?${q}`));
        forbidden(await dpo(`/v1/admin/stats?${q}`));
        forbidden(await dpo(`/v1/admin/policies?${q}`));
        // Another site's receipt is not found: a 403 would say it exists.
        const hidden = await dpo(`/v1/admin/receipts/${other[0]}`);
        assert.equal(hidden.statusCode, 404);
        assert.equal(hidden.json().error, 'ASSENT_NOT_FOUND');
        assert.ok(!hidden.body.includes(OTHER), hidden.body);
        forbidden(await dpo(`/v1/admin/log/checkpoint?${q}`, 'POST'));
        // The checkpoint's site is the query's: a body names nothing, and a `site` there is
        // refused (it was ignored, and the checkpoint made for the request's own origin).
        const mineQ = `site=${encodeURIComponent(ORIGIN)}`;
        const inBody = await dpo(`/v1/admin/log/checkpoint?${mineQ}`, 'POST', { site: ORIGIN });
        assert.equal(inBody.statusCode, 400, inBody.body);
        assert.deepEqual([inBody.json().error, inBody.json().field], ['ASSENT_BAD_FIELD', 'site']);
        forbidden(await dpo(`/v1/admin/log/checkpoint?${mineQ}`, 'POST', { site: OTHER }));
        const bare = await owner('/v1/admin/log/checkpoint', 'POST', { site: ORIGIN });
        assert.equal(bare.statusCode, 400, bare.body);
        for (const body of [undefined, {}]) {
          const made = await dpo(`/v1/admin/log/checkpoint?${mineQ}`, 'POST', body);
          assert.equal(made.statusCode, 200, made.body);
          assert.equal(made.json().site, ORIGIN);
        }
        assert.equal(
          (await dpo(`/v1/admin/receipts/page?site=${encodeURIComponent(ORIGIN)}`)).statusCode,
          200,
        );
        // The audit log is the server's (it names every site's actions): not for a scoped user.
        forbidden(await dpo('/v1/admin/audit'));
        assert.equal((await as(await session('auditor@example.com'))('/v1/admin/audit')).statusCode, 200);
        // A scoped editor publishes for its site only.
        const editor = as(await session('shop-editor@example.com'));
        forbidden(await editor('/v1/admin/policies', 'POST', { site: ORIGIN, config: { policy: 'v9' } }));

        // Owners assign sites; each change is in the audit log.
        const set = (id: string, body: object) => owner(`/v1/admin/users/${id}`, 'PATCH', body);
        const changed = await set(users.auditor.id, { sites: [`${OTHER}/`] });
        assert.equal(changed.statusCode, 200, changed.body);
        assert.deepEqual(changed.json().sites, [OTHER], 'normalized');
        const unknown = await set(users.auditor.id, { sites: ['https://nope.example'] });
        assert.equal(unknown.statusCode, 400);
        assert.equal(unknown.json().field, 'sites');
        const ownerWithSites = await set(users.scopedEditor.id, { role: 'owner', sites: [OTHER] });
        assert.equal(ownerWithSites.statusCode, 400);
        assert.equal(ownerWithSites.json().field, 'sites');
        const [entry] = (await owner('/v1/admin/audit?limit=1')).json().entries;
        assert.equal(entry.action, 'user-change');
        assert.equal(entry.target, 'auditor@example.com');
        assert.deepEqual([entry.detail.sites, entry.detail.sitesWere], [OTHER, 'all']);
        // Promoted to owner: the limit goes with it.
        const promoted = await set(users.scopedAuditor.id, { role: 'owner' });
        assert.deepEqual(promoted.json().sites, []);
        const added = await owner('/v1/admin/users', 'POST', {
          email: 'new@example.com',
          role: 'auditor',
          password: PASSWORD,
          sites: [ORIGIN],
        });
        assert.equal(added.statusCode, 201, added.body);
        assert.deepEqual(added.json().sites, [ORIGIN]);
      } finally {
        await s.close();
        await pgDb?.drop();
      }
    });
});

/**
 * How to ask each `site` route that takes no `site` for another site's data, and what the
 * answer must be. A new route that reads site data without a `site` parameter fails the walk
 * until it is listed here, with proof that it narrows.
 */
type Probe = (
  call: (
    url: string,
    method?: string,
    payload?: unknown,
  ) => Promise<{ statusCode: number; body: string; json(): { field?: string } }>,
  other: string[],
) => Promise<void>;
/** A webhook route by ID, asked about OTHER's webhook (other[2]): 403 naming `site`. */
const hookProbe =
  (suffix: string, method: string, payload?: unknown): Probe =>
  async (call, other) => {
    const r = await call(`/v1/admin/webhooks/${other[2]}${suffix}`, method, payload);
    assert.equal(r.statusCode, 403, r.body);
    assert.equal(r.json().field, 'site');
  };
const PROBES: Record<string, Probe> = {
  'GET /v1/admin/webhooks': async (call) => {
    const r = await call('/v1/admin/webhooks');
    assert.equal(r.statusCode, 200);
    assert.ok(!r.body.includes(OTHER), 'lists only the caller’s sites’ webhooks');
  },
  'PATCH /v1/admin/webhooks/:id': hookProbe('', 'PATCH', { state: 'paused' }),
  'DELETE /v1/admin/webhooks/:id': hookProbe('', 'DELETE'),
  'POST /v1/admin/webhooks/:id/test': hookProbe('/test', 'POST'),
  'GET /v1/admin/webhooks/:id/deliveries': hookProbe('/deliveries', 'GET'),
  'GET /v1/admin/policies/sites': async (call) => {
    const r = await call('/v1/admin/policies/sites');
    assert.equal(r.statusCode, 200);
    assert.ok(!r.body.includes(OTHER), 'lists only the caller’s sites');
  },
  // A published policy is public (GET /v1/policies/:sha256 serves it to anyone): the editor's
  // view of it holds nothing more, whichever site published it.
  'GET /v1/admin/policies/versions/:sha256': async (call) => {
    const r = await call(`/v1/admin/policies/versions/${PUBLISHED.sha256}`);
    assert.equal(r.statusCode, 200);
    assert.deepEqual(Object.keys(JSON.parse(r.body)).sort(), ['config', 'sha256', 'version']);
  },
  'GET /v1/admin/sites': async (call) => {
    const r = await call('/v1/admin/sites');
    assert.equal(r.statusCode, 200);
    assert.ok(!r.body.includes(OTHER), 'lists only the caller’s sites');
  },
  'GET /v1/admin/receipts/:id': async (call, other) => {
    const r = await call(`/v1/admin/receipts/${other[0]}`);
    assert.equal(r.statusCode, 404);
    assert.equal(r.json().field, 'id');
  },
  // Another site's receipt has no proof file for this user, like an unknown ID.
  'GET /v1/admin/receipts/:id/proof': async (call, other) => {
    const r = await call(`/v1/admin/receipts/${other[0]}/proof`);
    assert.equal(r.statusCode, 404, r.body);
    assert.equal(r.json().field, 'id');
    assert.doesNotMatch(r.body, /purged|assent-receipt-proof/);
  },
};

describe('every admin route enforces site scoping or is declared server-wide', () => {
  let t: Awaited<ReturnType<typeof setUp>>;
  before(async () => {
    t = await setUp('sqlite::memory:');
  });
  after(() => t.s.close());

  it('walks every registered admin route with a user limited to another site', async () => {
    const routes = t.s.adminRoutes;
    assert.ok(routes.length >= 17, `${routes.length} admin routes`);
    // Limited to ORIGIN, one of each role that can be limited.
    const limited = {
      auditor: t.as(await t.session('dpo@example.com')),
      editor: t.as(
        await (async () => {
          const r = await addUser(
            t.s.store,
            { email: 'origin-editor@example.com', role: 'editor', password: PASSWORD, sites: [ORIGIN] },
            CHEAP,
            (x) => t.s.policies.has(x),
          );
          assert.ok(r.ok);
          return t.session('origin-editor@example.com');
        })(),
      ),
    };
    const kinds = { site: 0, server: 0, caller: 0 };
    for (const r of routes) {
      const where = `${r.method} ${r.url}`;
      assert.ok(['site', 'server', 'caller'].includes(r.scope), `${where} declares what it touches`);
      kinds[r.scope]++;
      const url = r.url.replace(':id', 'AAAAAAAAAAAAAAAA');
      const withBody = !['GET', 'DELETE'].includes(r.method);
      for (const [role, call] of Object.entries(limited)) {
        if (!r.allow.includes(role as Role)) continue;
        if (r.scope === 'caller') {
          // Only the caller's own session: listed, so nothing reading site data hides here.
          assert.ok(/^\/v1\/admin\/session$/.test(r.url), `${where} is not the caller's own session`);
          continue;
        }
        if (r.scope === 'server') {
          const res = await call(url, r.method, withBody ? {} : undefined);
          assert.equal(res.statusCode, 403, `${where}: server-wide, not for ${role} limited to a site`);
          assert.equal(res.json().field, 'site');
          continue;
        }
        if (r.takesSite) {
          const sep = url.includes('?') ? '&' : '?';
          const res = await call(
            `${url}${sep}site=${encodeURIComponent(OTHER)}`,
            r.method,
            withBody ? { site: OTHER } : undefined,
          );
          assert.equal(res.statusCode, 403, `${where} with another site, as ${role}: ${res.body}`);
          assert.equal(res.json().field, 'site');
          // In the body alone too (the guard reads it before validation).
          if (withBody) {
            const inBody = await call(url, r.method, { site: OTHER });
            assert.equal(inBody.statusCode, 403, `${where} with another site in its body`);
          }
        } else {
          const probe = PROBES[where];
          assert.ok(probe, `${where} reads site data but takes no site: add a probe proving it narrows`);
          await probe((u, m = 'GET', p?: unknown) => call(u, m, p), t.other);
        }
      }
    }
    assert.ok(kinds.site >= 9, JSON.stringify(kinds));
  });

  it('refuses at start an admin route that does not declare what it touches', async () => {
    const { guardAdmin } = await import('../src/admin-auth.js');
    const Fastify = (await import('fastify')).default;
    const app = Fastify();
    await assert.rejects(
      (async () => {
        await app.register(async (inner) => {
          // biome-ignore lint/suspicious/noExplicitAny: only the guard's hooks are exercised.
          guardAdmin({} as any, inner, []);
          inner.get('/v1/admin/forgetful', { config: { allow: ['owner'] } }, async () => ({}));
        });
        await app.ready();
      })(),
      /does not say what it touches/,
    );
    await app.close();
  });
});

describe('assent-server user add --sites', () => {
  it('limits a user to sites the server serves, and refuses an unknown one with exit 2', async () => {
    const dir = tempDir();
    const db = `sqlite:${join(dir, 'cli.db')}`;
    const config = join(dir, 'assent.json');
    writeFileSync(config, JSON.stringify({ sites: SITES }));
    const run = (args: string[]) =>
      spawnSync(process.execPath, [BIN, 'user', ...args, '--db', db, '--data-dir', dir, '--config', config], {
        encoding: 'utf8',
        input: `${PASSWORD}\n`,
      });
    const ok = run([
      'add',
      '--email',
      'dpo@example.com',
      '--role',
      'auditor',
      '--sites',
      `${ORIGIN},${OTHER}/`,
    ]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /added dpo@example\.com \(auditor, sites .*127\.0\.0\.1:3000.*shop\.example\)/);
    const bad = run([
      'add',
      '--email',
      'x@example.com',
      '--role',
      'auditor',
      '--sites',
      'https://nope.example',
    ]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--sites https:\/\/nope\.example is not a site this server serves/);
    const owner = run(['add', '--email', 'o@example.com', '--role', 'owner', '--sites', ORIGIN]);
    assert.equal(owner.status, 2);
    assert.match(owner.stderr, /an owner has every site/);
    const store = openStore(db);
    try {
      await store.migrate();
      assert.deepEqual(
        (await store.admin.users()).map((u) => [u.email, u.sites]),
        [['dpo@example.com', [ORIGIN, OTHER].sort()]],
      );
      const [entry] = await store.admin.auditAfter(0, 10);
      assert.equal(JSON.parse(entry!.detail).sites, [ORIGIN, OTHER].sort().join(','));
    } finally {
      await store.close();
    }
  });
});

describe('publishing adds no site from a session', () => {
  it('refuses a policy for an origin that is not a site, for editors and owners; the admin token may add one', async () => {
    const s = await createServer({
      db: 'sqlite::memory:',
      sites: SITES,
      adminToken: TOKEN,
      logger: false,
      rateLimit: false,
      retention: false,
      log: false,
      webhooks: false,
    });
    try {
      for (const role of ['owner', 'editor'] as const)
        assert.ok(
          (await addUser(s.store, { email: `${role}@example.com`, role, password: PASSWORD }, CHEAP)).ok,
        );
      const session = async (email: string) => {
        const r = await s.app.inject({
          method: 'POST',
          url: '/v1/admin/session',
          payload: { email, password: PASSWORD },
        });
        assert.equal(r.statusCode, 201, r.body);
        return { cookie: String(r.headers['set-cookie']).split(';')[0]!, 'x-assent-csrf': r.json().csrf };
      };
      const publish = (headers: Record<string, string>, site: string, policy: string) =>
        s.app.inject({
          method: 'POST',
          url: '/v1/admin/policies',
          headers,
          payload: { site, config: { ...SITES[ORIGIN], policy } },
        });
      const audited = async () =>
        (
          await s.app.inject({
            url: '/v1/admin/audit?limit=200',
            headers: { authorization: `Bearer ${TOKEN}` },
          })
        )
          .json()
          .entries.filter((e: { action: string }) => e.action === 'policy-publish').length;
      const before = await audited();
      for (const [n, email] of ['editor@example.com', 'owner@example.com'].entries()) {
        const who = await session(email);
        for (const site of ['https://attacker.example', 'HTTPS://Attacker.example/']) {
          const r = await publish(who, site, 'v9');
          assert.equal(r.statusCode, 400, `${email} ${site}: ${r.body}`);
          assert.deepEqual([r.json().error, r.json().field], ['ASSENT_UNKNOWN_SITE', 'site']);
          assert.match(r.json().message, /https:\/\/attacker\.example is not a site this server serves/);
        }
        // The server's own sites: published as before.
        const mine = await publish(who, ORIGIN, `v${5 + n}`);
        assert.equal(mine.statusCode, 201, `${email}: ${mine.body}`);
      }
      assert.equal(s.policies.has('https://attacker.example'), false);
      assert.equal(
        (await s.app.inject({ url: `/v1/policy?site=${encodeURIComponent('https://attacker.example')}` }))
          .statusCode,
        404,
      );
      assert.equal(await audited(), before + 2, 'only the two publications for a site were audited');
      // The admin token is the operator's: it may add a site (README "Sites"), and from then
      // on the site is one the console may publish for.
      const token = { authorization: `Bearer ${TOKEN}` };
      assert.equal((await publish(token, 'https://added.example', 'v1')).statusCode, 201);
      assert.equal(
        (await publish(await session('editor@example.com'), 'https://added.example', 'v2')).statusCode,
        201,
      );
    } finally {
      await s.close();
    }
  });
});
