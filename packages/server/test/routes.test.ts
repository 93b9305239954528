import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type AssentServer, createServer } from '../src/index.js';
import { consentId, ORIGIN, OTHER, PUBLISHED, receiptBody, SITES, tempDir } from './helpers.js';

const TOKEN = 'a-long-admin-token';
let s: AssentServer;

/** POSTs a receipt as the site's page would: with the Origin of the page it names, unless told otherwise. */
const postReceipt = (body: unknown, headers: Record<string, string> = {}) => {
  const origin = (body as { page?: { origin?: unknown } } | null)?.page?.origin;
  return s.app.inject({
    method: 'POST',
    url: '/v1/receipts',
    headers: {
      'content-type': 'application/json',
      ...(typeof origin === 'string' ? { origin } : {}),
      ...headers,
    },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
};

const admin = (url: string, token = TOKEN) =>
  s.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

before(async () => {
  s = await createServer({
    db: `sqlite:${join(tempDir(), 'receipts.db')}`,
    sites: SITES,
    adminToken: TOKEN,
    logger: false,
    regionHeader: 'CF-IPCountry',
    rateLimit: { max: 1000, timeWindow: 60_000 },
  });
});
after(() => s.close());

describe('POST /v1/receipts', () => {
  it('knows a site configured with its default port by the origin its pages send', async () => {
    const t = await createServer({
      db: 'sqlite::memory:',
      sites: { 'https://ports.example:443/': SITES[ORIGIN]! },
      logger: false,
      log: false,
    });
    try {
      const origin = 'https://ports.example';
      const r = await t.app.inject({
        method: 'POST',
        url: '/v1/receipts',
        headers: { origin },
        payload: receiptBody({ page: { origin, path: '/' } }),
      });
      assert.equal(r.statusCode, 201, r.body);
    } finally {
      await t.close();
    }
    await assert.rejects(
      createServer({
        db: 'sqlite::memory:',
        sites: { 'https://a.example': {}, 'https://a.example:443': {} },
      }),
      /are the same site/,
    );
  });
  it("starts only with sites its receipts can name (core's one origin rule): an underscore host is served, credentials or a query are refused at start", async () => {
    const origin = 'https://my_shop.example';
    const t = await createServer({
      db: 'sqlite::memory:',
      sites: { [origin]: SITES[ORIGIN]! },
      logger: false,
      log: false,
    });
    try {
      const r = await t.app.inject({
        method: 'POST',
        url: '/v1/receipts',
        headers: { origin },
        payload: receiptBody({ page: { origin, path: '/' } }),
      });
      // Was a 400 "page.origin must be an origin" on every receipt of a site the server started with.
      assert.equal(r.statusCode, 201, r.body);
    } finally {
      await t.close();
    }
    for (const site of [
      'https://user@c.example',
      'https://a.example?x=1',
      'https://a.example/shop',
      'https://a.example#x',
    ])
      await assert.rejects(
        createServer({ db: 'sqlite::memory:', sites: { [site]: {} }, logger: false, log: false }),
        (e: Error) => e.message.includes(`sites: "${site}" is not an origin`),
        site,
      );
    // adminOrigin is held to the same rule.
    await assert.rejects(
      createServer({
        db: 'sqlite::memory:',
        sites: SITES,
        adminOrigin: 'https://user@admin.example',
        logger: false,
        log: false,
      }),
      /adminOrigin/,
    );
  });
  it('takes a receipt in every mode the banner can show under regions, the unknown region’s opt-in too', async () => {
    const site = 'https://regions.example';
    const config = {
      policy: 'r1',
      mode: 'notice',
      regions: { 'US-CA': 'opt-out' },
      categories: [{ id: 'analytics' }],
    };
    const t = await createServer({
      db: 'sqlite::memory:',
      sites: { [site]: config },
      logger: false,
      log: false,
    });
    try {
      const policy = (await t.app.inject({ url: `/v1/policy?site=${encodeURIComponent(site)}` })).json();
      for (const mode of ['opt-in', 'opt-out', 'notice']) {
        const r = await t.app.inject({
          method: 'POST',
          url: '/v1/receipts',
          headers: { origin: site },
          payload: {
            ...receiptBody({ mode, choices: { analytics: false }, method: 'reject-all' }),
            policy: { version: 'r1', sha256: policy.sha256 },
            page: { origin: site, path: '/' },
          },
        });
        assert.equal(r.statusCode, 201, `${mode}: ${r.body}`);
      }
    } finally {
      await t.close();
    }
  });

  it('answers 201 with the receipt ID and records the server facts', async () => {
    const body = receiptBody();
    const res = await postReceipt(body, {
      'cf-ipcountry': 'de',
      'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
      origin: ORIGIN,
    });
    assert.equal(res.statusCode, 201, res.body);
    const { id, consentId: cid } = res.json();
    assert.equal(cid, body.consentId);
    assert.match(id, /^[\w-]{16}$/);
    assert.equal(res.headers['access-control-allow-origin'], ORIGIN);
    const [r] = (await s.app.inject(`/v1/consents/${cid}`)).json().receipts;
    assert.equal(r.id, id);
    assert.equal(r.region, 'DE');
    assert.equal(r.ua, 'Firefox');
    assert.match(r.ipHash, /^[\w-]{22}$/);
    assert.equal(r.kid, s.signer.kid);
    assert.ok(Math.abs(Date.parse(r.at) - Date.now()) < 60_000);
  });

  it("accepts sendBeacon: a Blob of type application/json with a charset, sent with the page's Origin", async () => {
    const res = await postReceipt(receiptBody(), {
      'content-type': 'application/json;charset=UTF-8',
      origin: ORIGIN,
    });
    assert.equal(res.statusCode, 201, res.body);
  });

  const bad: [
    string,
    () => Promise<{ statusCode: number; json(): unknown }>,
    number,
    string,
    string | null,
  ][] = [
    [
      'wrong type',
      () => postReceipt(receiptBody({ signals: { gpc: 'yes' } })),
      400,
      'ASSENT_BAD_FIELD',
      'signals.gpc',
    ],
    [
      'wrong type of a choice',
      () => postReceipt(receiptBody({ choices: { analytics: 1 } })),
      400,
      'ASSENT_BAD_FIELD',
      'choices.analytics',
    ],
    [
      'unknown category',
      () => postReceipt(receiptBody({ choices: { social: true } })),
      400,
      'ASSENT_BAD_FIELD',
      'choices.social',
    ],
    [
      'unknown service',
      () => postReceipt(receiptBody({ choices: { 'analytics:ga': true } })),
      400,
      'ASSENT_BAD_FIELD',
      'choices.analytics:ga',
    ],
    [
      'missing field',
      () => {
        const { lang: _, ...rest } = receiptBody();
        return postReceipt(rest);
      },
      400,
      'ASSENT_BAD_FIELD',
      'lang',
    ],
    ['unknown field', () => postReceipt({ ...receiptBody(), ip: '1.2.3.4' }), 400, 'ASSENT_BAD_FIELD', 'ip'],
    [
      // The SHA-256 names the published policy, and with it its version: another is a mistake
      // (the receipt would otherwise be stored with the real one, silently).
      'a policy.version that is not the version of the policy its sha256 names',
      () => postReceipt(receiptBody({ policy: { version: 'v2', sha256: PUBLISHED.sha256 } })),
      400,
      'ASSENT_BAD_FIELD',
      'policy.version',
    ],
    ['bad enum', () => postReceipt(receiptBody({ method: 'scroll' })), 400, 'ASSENT_BAD_FIELD', 'method'],
    [
      'bad consent ID',
      () => postReceipt(receiptBody({ consentId: 'not-an-id' })),
      400,
      'ASSENT_BAD_FIELD',
      'consentId',
    ],
    [
      // The server sets the expiry from the published policy's `days`; a browser's is refused.
      'an expiry set by the browser',
      () => postReceipt(receiptBody({ expiresAt: new Date(Date.now() + 86_400_000).toISOString() })),
      400,
      'ASSENT_BAD_FIELD',
      'expiresAt',
    ],
    [
      'query string in path',
      () => postReceipt(receiptBody({ page: { origin: ORIGIN, path: '/?mail=a@b.c' } })),
      400,
      'ASSENT_BAD_FIELD',
      'page.path',
    ],
    [
      'unknown site',
      () => postReceipt(receiptBody({ page: { origin: 'https://evil.example', path: '/' } })),
      400,
      'ASSENT_UNKNOWN_SITE',
      'page.origin',
    ],
    [
      'origin mismatch',
      () => postReceipt(receiptBody(), { origin: OTHER }),
      403,
      'ASSENT_ORIGIN_MISMATCH',
      'page.origin',
    ],
    [
      'body over 8 KiB',
      () => postReceipt(receiptBody({ page: { origin: ORIGIN, path: `/${'a'.repeat(9000)}` } })),
      413,
      'ASSENT_TOO_LARGE',
      'body',
    ],
    [
      'wrong content type',
      () => postReceipt(JSON.stringify(receiptBody()), { 'content-type': 'text/plain' }),
      415,
      'ASSENT_UNSUPPORTED_MEDIA_TYPE',
      'content-type',
    ],
    [
      'form content type',
      () => postReceipt('a=b', { 'content-type': 'application/x-www-form-urlencoded' }),
      415,
      'ASSENT_UNSUPPORTED_MEDIA_TYPE',
      'content-type',
    ],
    ['invalid JSON', () => postReceipt('{"consentId": '), 400, 'ASSENT_INVALID_JSON', 'body'],
    ['empty JSON body', () => postReceipt(''), 400, 'ASSENT_INVALID_JSON', 'body'],
    ['JSON that is not an object', () => postReceipt('[1,2]'), 400, 'ASSENT_BAD_FIELD', 'body'],
  ];
  for (const [name, send, status, error, field] of bad) {
    it(`refuses ${name} with ${status} naming ${field}, and writes nothing`, async () => {
      const before = (await admin('/v1/admin/stats?by=method')).json().rows;
      const res = await send();
      assert.equal(res.statusCode, status, JSON.stringify(res.json()));
      const b = res.json() as { error: string; field: string | null; message: string };
      assert.equal(b.error, error);
      assert.equal(b.field, field);
      assert.ok(b.message.length > 3);
      assert.deepEqual((await admin('/v1/admin/stats?by=method')).json().rows, before);
    });
  }

  it('refuses a "__proto__" key, or "constructor" with a "prototype", naming the key, on every JSON route', async () => {
    const body = JSON.stringify(receiptBody());
    for (const [text, field] of [
      [`{"__proto__":{"polluted":true},${body.slice(1)}`, '__proto__'],
      [body.replace('"page":{', '"page":{"__proto__":{},'), 'page.__proto__'],
      [body.replace('"choices":{', '"choices":{"constructor":{"prototype":{"x":1}},'), 'choices.constructor'],
      // Spelt with an escape: the key JSON.parse makes is the same.
      [body.replace('"signals":{', '"signals":{"\\u005f_proto__":1,'), 'signals.__proto__'],
    ] as const) {
      const r = await postReceipt(text);
      assert.equal(r.statusCode, 400, text);
      assert.deepEqual(r.json(), {
        error: 'ASSENT_BAD_FIELD',
        field,
        message: field.endsWith('constructor')
          ? 'is refused: a "constructor" key holding "prototype" could change how objects behave'
          : 'is refused: a "__proto__" key could change how objects behave',
      });
    }
    // Not only receipts: every route that reads JSON.
    const admin = await s.app.inject({
      method: 'POST',
      url: '/v1/admin/erasures',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      payload: '{"site":"x","__proto__":{}}',
    });
    assert.equal(admin.statusCode, 400);
    assert.equal(admin.json().field, '__proto__');
    // Text that is not JSON is still said to be so.
    const broken = await postReceipt('{"__proto__": ');
    assert.deepEqual([broken.statusCode, broken.json().error], [400, 'ASSENT_INVALID_JSON']);
  });

  it('lets only configured sites call it from a browser (CORS)', async () => {
    const ok = await s.app.inject({
      method: 'OPTIONS',
      url: '/v1/receipts',
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    assert.equal(ok.headers['access-control-allow-origin'], ORIGIN);
    const no = await s.app.inject({
      method: 'OPTIONS',
      url: '/v1/receipts',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(no.headers['access-control-allow-origin'], undefined);
  });
});

describe('visitor routes', () => {
  it('GET /v1/consents/:id returns the history; unknown 404; malformed 400', async () => {
    const body = receiptBody();
    await postReceipt(body);
    await postReceipt({
      ...body,
      method: 'accept-all',
      choices: { analytics: true, marketing: true, ad_tech: true },
    });
    const res = await s.app.inject(`/v1/consents/${body.consentId}`);
    assert.equal(res.statusCode, 200);
    // Newest first, with the total and the page.
    assert.deepEqual(
      res.json().receipts.map((r: { method: string }) => r.method),
      ['accept-all', 'custom'],
    );
    const { receipts: _, ...paging } = res.json() as Record<string, unknown>;
    assert.deepEqual(paging, { consentId: body.consentId, total: 2, page: 1, limit: 50, pages: 1 });
    const none = await s.app.inject(`/v1/consents/${consentId()}`);
    assert.equal(none.statusCode, 404);
    assert.equal(none.json().error, 'ASSENT_NOT_FOUND');
    const bad = await s.app.inject('/v1/consents/abc');
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(bad.json().field, 'id');
  });

  it('a withdrawal of a consent ID used on two sites is recorded on each, the latest one’s last', async () => {
    // Apex and www sharing one cookie domain: one consent ID, a chain on each site.
    const t = await createServer({ db: 'sqlite::memory:', sites: SITES, logger: false, log: false });
    try {
      const post = (body: ReturnType<typeof receiptBody>) =>
        t.app.inject({
          method: 'POST',
          url: '/v1/receipts',
          headers: { origin: body.page.origin },
          payload: body,
        });
      const id = consentId();
      const accept = {
        consentId: id,
        method: 'accept-all',
        choices: { analytics: true, marketing: true, ad_tech: true },
      };
      assert.equal(
        (await post(receiptBody({ ...accept, page: { origin: OTHER, path: '/' } }))).statusCode,
        201,
      );
      assert.equal((await post(receiptBody(accept))).statusCode, 201);
      const withdraw = () => t.app.inject({ method: 'POST', url: `/v1/consents/${id}/withdraw` });
      const res = await withdraw();
      assert.equal(res.statusCode, 201, res.body);
      const history = async () =>
        (
          (await t.app.inject(`/v1/consents/${id}`)).json().receipts as {
            site: string;
            method: string;
            id: string;
          }[]
        ).map((r) => `${r.site} ${r.method}`);
      assert.deepEqual(await history(), [
        `${ORIGIN} withdraw`,
        `${OTHER} withdraw`,
        `${ORIGIN} accept-all`,
        `${OTHER} accept-all`,
      ]);
      // Again: only the latest site records it; the other's latest is a withdrawal already.
      assert.equal((await withdraw()).statusCode, 201);
      assert.deepEqual((await history()).slice(0, 3), [
        `${ORIGIN} withdraw`,
        `${ORIGIN} withdraw`,
        `${OTHER} withdraw`,
      ]);
    } finally {
      await t.close();
    }
  });

  it('POST /v1/consents/:id/withdraw records a withdrawal refusing everything', async () => {
    const body = receiptBody({
      method: 'accept-all',
      choices: { analytics: true, marketing: true, ad_tech: true },
    });
    await postReceipt(body);
    const res = await s.app.inject({ method: 'POST', url: `/v1/consents/${body.consentId}/withdraw` });
    assert.equal(res.statusCode, 201, res.body);
    const json = await s.app.inject({
      method: 'POST',
      url: `/v1/consents/${body.consentId}/withdraw`,
      headers: { 'content-type': 'application/json' },
      payload: { source: 'preferences' },
    });
    assert.equal(json.statusCode, 201);
    const h = (await s.app.inject(`/v1/consents/${body.consentId}`)).json().receipts.reverse();
    assert.equal(h.length, 3);
    assert.equal(h[1].method, 'withdraw');
    assert.equal(h[1].source, 'api');
    assert.equal(h[2].source, 'preferences');
    assert.deepEqual(h[1].choices, {
      analytics: false,
      marketing: false,
      'analytics:matomo': false,
      ad_tech: false,
    });
    assert.equal(
      (await s.app.inject({ method: 'POST', url: `/v1/consents/${consentId()}/withdraw` })).statusCode,
      404,
    );
    const badBody = await s.app.inject({
      method: 'POST',
      url: `/v1/consents/${body.consentId}/withdraw`,
      headers: { 'content-type': 'application/json' },
      payload: { source: 'nowhere' },
    });
    assert.equal(badBody.statusCode, 400);
    assert.equal(badBody.json().field, 'source');
  });

  it('/consent/:id shows the record in plain language, with a Withdraw button and a strict CSP', async () => {
    const body = receiptBody();
    await postReceipt(body);
    const res = await s.app.inject(`/consent/${body.consentId}`);
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /text\/html/);
    const csp = res.headers['content-security-policy'] as string;
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.match(res.body, /<html lang="en">/);
    assert.match(res.body, /you chose which cookies to allow/);
    assert.match(res.body, /You allowed: Audience measurement, Matomo \(Audience measurement\)\./);
    // `ad_tech` has no title in the site's config and no known one: its id, as the banner shows it.
    assert.match(res.body, /You refused: Marketing, ad_tech\./);
    assert.match(res.body, /<button type="submit">Withdraw my consent<\/button>/);
    assert.doesNotMatch(res.body, /<script>|<script [^>]*>[^<]/, 'no inline script');
    assert.doesNotMatch(res.body, /style=/, 'no inline style');
    const js = await s.app.inject('/consent/assets/consent.js');
    assert.equal(js.statusCode, 200);
    assert.match(js.headers['content-type'] as string, /javascript/);
    assert.match(js.body, /\/withdraw/);
    assert.equal((await s.app.inject('/consent/assets/consent.css')).statusCode, 200);
  });

  it('the Withdraw form works without JavaScript', async () => {
    const body = receiptBody();
    await postReceipt(body);
    // The server's own origin, as a browser on the consent page sees it.
    const own = { host: 'consent.example', origin: 'http://consent.example' };
    const form = await s.app.inject({ url: `/consent/${body.consentId}`, headers: { host: own.host } });
    const token = /<input type="hidden" name="token" value="([^"]+)">/.exec(form.body)?.[1];
    assert.ok(token, 'the form carries its anti-forgery token');
    const url = `/consent/${body.consentId}/withdraw`;
    const res = await s.app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...own },
      payload: new URLSearchParams({ token }).toString(),
    });
    assert.equal(res.statusCode, 303, res.body);
    // Relative, so it works under a reverse proxy's prefix too; it leads back to the page.
    const location = res.headers.location as string;
    assert.ok(!location.startsWith('/'), location);
    const back = new URL(location, `http://consent.example${url}`);
    assert.equal(`${back.pathname}${back.search}`, `/consent/${body.consentId}?done=withdrawn`);
    const page = await s.app.inject(`${back.pathname}${back.search}`);
    assert.match(page.body, /Your withdrawal was recorded\./);
    assert.match(page.body, /you withdrew your consent/);
    assert.doesNotMatch(page.body, /<button/);
  });

  it('the Withdraw form refuses fields it does not take, form or JSON, naming them, and records nothing', async () => {
    const body = receiptBody();
    await postReceipt(body);
    const own = { host: 'consent.example', origin: 'http://consent.example' };
    const form = await s.app.inject({ url: `/consent/${body.consentId}`, headers: { host: own.host } });
    const token = /<input type="hidden" name="token" value="([^"]+)">/.exec(form.body)![1]!;
    const url = `/consent/${body.consentId}/withdraw`;
    for (const [type, payload, field] of [
      ['application/x-www-form-urlencoded', `token=${encodeURIComponent(token)}&source=api`, 'source'],
      ['application/x-www-form-urlencoded', `__proto__=1&token=${encodeURIComponent(token)}`, '__proto__'],
      ['application/x-www-form-urlencoded', `token=${encodeURIComponent(token)}&token=x`, 'token'],
      ['application/json', JSON.stringify({ token, reason: 'x' }), 'reason'],
    ] as const) {
      const r = await s.app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': type, ...own },
        payload,
      });
      assert.equal(r.statusCode, 400, `${payload}: ${r.body}`);
      assert.deepEqual([r.json().error, r.json().field], ['ASSENT_BAD_FIELD', field], payload);
    }
    assert.equal((await s.app.inject(`/v1/consents/${body.consentId}`)).json().total, 1, 'nothing recorded');
  });

  it('/consent/:id says so for an unknown or malformed ID', async () => {
    assert.equal((await s.app.inject(`/consent/${consentId()}`)).statusCode, 404);
    const bad = await s.app.inject('/consent/<script>');
    assert.equal(bad.statusCode, 400);
    assert.doesNotMatch(bad.body, /<script>/);
    // A parameter it does not take is refused, as everywhere else.
    const extra = await s.app.inject(`/consent/${consentId()}?x=`);
    assert.equal(extra.statusCode, 400, extra.body);
  });
});

describe('admin routes', () => {
  it('refuse a missing or wrong token', async () => {
    const none = await s.app.inject('/v1/admin/stats');
    assert.equal(none.statusCode, 401);
    assert.deepEqual(none.json().error, 'ASSENT_UNAUTHORIZED');
    assert.equal((await admin('/v1/admin/stats', 'wrong')).statusCode, 401);
    assert.equal((await admin('/v1/admin/stats', `${TOKEN}x`)).statusCode, 401);
    assert.equal((await admin('/v1/admin/receipts', TOKEN.slice(0, -1))).statusCode, 401);
  });

  it('export NDJSON and CSV, filtered by site and time', async () => {
    await postReceipt(receiptBody({ page: { origin: OTHER, path: '/cart' } }));
    const nd = await admin(`/v1/admin/receipts?site=${encodeURIComponent(OTHER)}`);
    assert.equal(nd.statusCode, 200);
    assert.equal(nd.headers['content-type'], 'application/x-ndjson');
    const lines = nd.body.trim().split('\n');
    // The policy its receipt names, then the receipt.
    assert.equal(lines.length, 2);
    assert.equal(JSON.parse(lines[0]!).type, 'policy');
    assert.equal(JSON.parse(lines[0]!).sha256, JSON.parse(lines[1]!).policy.sha256);
    assert.equal(JSON.parse(lines[1]!).page.path, '/cart');
    const csv = await admin('/v1/admin/receipts?format=csv');
    assert.match(csv.headers['content-type'] as string, /text\/csv/);
    const rows = csv.body.trim().split('\n');
    assert.match(rows[0]!, /^id,site,seq,at,consentId/);
    assert.ok(rows.length > 5);
    const future = await admin('/v1/admin/receipts?from=2999-01-01');
    assert.equal(future.body, '');
    const bad = await admin('/v1/admin/receipts?format=xml');
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().field, 'format');
    const badDate = await admin('/v1/admin/receipts?from=yesterday');
    assert.equal(badDate.json().field, 'from');
  });

  it('stats by day, category, region and method', async () => {
    for (const by of ['day', 'category', 'region', 'method']) {
      const res = await admin(`/v1/admin/stats?by=${by}`);
      assert.equal(res.statusCode, 200, res.body);
      const { rows } = res.json();
      assert.ok(rows.length > 0, by);
      for (const r of rows) assert.ok(r.total >= r.accepted);
    }
    const cats = (await admin('/v1/admin/stats?by=category')).json().rows.map((r: { key: string }) => r.key);
    assert.deepEqual(cats, ['analytics', 'marketing', 'ad_tech']);
    assert.equal((await admin('/v1/admin/stats?by=colour')).statusCode, 400);
  });
});

describe('health', () => {
  it('/healthz and /readyz answer', async () => {
    assert.deepEqual((await s.app.inject('/healthz')).json(), { status: 'ok' });
    assert.deepEqual((await s.app.inject('/readyz')).json(), { status: 'ready' });
  });

  it('unknown routes are JSON 404s', async () => {
    const r = await s.app.inject('/v2/nothing');
    assert.equal(r.statusCode, 404);
    assert.equal(r.json().error, 'ASSENT_NOT_FOUND');
  });

  it("the console's files: names of Object.prototype's properties are unknown files like any other (404)", async () => {
    assert.equal((await s.app.inject('/admin/assets/console.js')).statusCode, 200);
    for (const name of [
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
      'valueOf',
      'isPrototypeOf',
      '__defineGetter__',
      'nothing.js',
    ]) {
      const r = await s.app.inject(`/admin/assets/${name}`);
      assert.equal(r.statusCode, 404, `${name}: ${r.body}`);
      assert.equal(r.json().error, 'ASSENT_NOT_FOUND', name);
    }
  });
});

describe('rate limit', () => {
  it('limits per hashed IP with a JSON 429', async () => {
    const t = await createServer({
      db: 'sqlite::memory:',
      sites: SITES,
      logger: false,
      rateLimit: { max: 2, timeWindow: 60_000 },
      trustProxy: true,
      retention: false,
    });
    const hit = (ip: string) =>
      t.app.inject({ url: '/v1/consents/AAAAAAAAAAAAAAAAAAAAAA', headers: { 'x-forwarded-for': ip } });
    assert.equal((await hit('198.51.100.1')).statusCode, 404);
    assert.equal((await hit('198.51.100.1')).statusCode, 404);
    const limited = await hit('198.51.100.1');
    assert.equal(limited.statusCode, 429);
    assert.equal(limited.json().error, 'ASSENT_RATE_LIMITED');
    assert.equal((await hit('198.51.100.2')).statusCode, 404, 'another visitor is not limited');
    await t.close();
  });
});
