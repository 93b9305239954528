import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { ConsentId } from '@assent/core';
import { DATE_HINT, parseDateParam } from '../src/dates.js';
import { type AssentServer, createServer, openStore } from '../src/index.js';
import { redactUrl } from '../src/logging.js';
import { POLICY_BODY_LIMIT } from '../src/schemas.js';
import type { NewReceipt } from '../src/store/types.js';
import { unsafeIn, unsafeText } from '../src/text.js';
import { consentId, ORIGIN, receiptBody, SITES } from './helpers.js';

const TOKEN = 'hardening-admin-token';

/** A logger stream kept in memory, to read what the server logged. */
const memoryLog = () => {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += chunk;
      cb();
    },
  });
  return { stream, text: () => text };
};

const keysOf = (body: string) => Object.keys(JSON.parse(body)).sort();

/** Sends raw bytes to the server and resolves with everything it answered. */
const raw = (port: number, text: string, waitMs = 2000) =>
  new Promise<string>((resolve) => {
    const c = connect(port, '127.0.0.1');
    let out = '';
    c.on('data', (d) => (out += d));
    c.on('error', () => {});
    c.on('close', () => resolve(out));
    c.write(text);
    setTimeout(() => c.destroy(), waitMs);
  });

/** A receipt for `id` as the store appends it, for filling a history fast. */
const item = (s: AssentServer, id: ConsentId): NewReceipt => {
  const body = receiptBody({ consentId: id });
  return {
    ...(body as unknown as NewReceipt),
    v: 2,
    id: Math.random().toString(36).slice(2),
    expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    site: ORIGIN,
    at: new Date().toISOString(),
    region: null,
    ua: 'Firefox',
    ipHash: 'hash',
    kid: s.signer.kid,
  };
};

describe('hardening: findings of the abuse campaign', () => {
  let s: AssentServer;
  const log = memoryLog();
  let port: number;
  before(async () => {
    s = await createServer({
      db: 'sqlite::memory:',
      sites: SITES,
      adminToken: TOKEN,
      // trace: every request is logged with its URL (at info, none is), for the redaction test.
      logger: { level: 'trace', stream: log.stream },
      // Off: authentication failures are throttled on their own, and the early-disconnect
      // finding only showed with the limiter off (it read the IP on arrival).
      rateLimit: false,
      retention: false,
      trustProxy: true,
    });
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    port = (s.app.server.address() as { port: number }).port;
  });
  after(() => s.close());

  describe('paged consent history', () => {
    const id = consentId() as ConsentId;
    before(async () => {
      await s.store.append(
        Array.from({ length: 250 }, () => item(s, id)),
        s.signer,
      );
    });

    it('GET /v1/consents/:id answers one bounded page, newest first, with the total', async () => {
      const first = await s.app.inject(`/v1/consents/${id}`);
      assert.equal(first.statusCode, 200);
      const j = first.json();
      assert.equal(j.receipts.length, 50);
      assert.deepEqual([j.total, j.page, j.limit, j.pages], [250, 1, 50, 5]);
      const last = (await s.app.inject(`/v1/consents/${id}?page=3&limit=100`)).json();
      assert.equal(last.receipts.length, 50);
      assert.equal(last.pages, 3);
      // Newest first: page 1's first is what `latest` says applies now.
      assert.equal(j.receipts[0].id, (await s.store.latest(id))!.id);
      const ids = new Set([...j.receipts, ...last.receipts].map((r: { id: string }) => r.id));
      assert.equal(ids.size, 100, 'pages do not overlap');
      for (const [q, field] of [
        ['limit=101', 'limit'],
        ['limit=0', 'limit'],
        ['page=0', 'page'],
        ['page=abc', 'page'],
        ['size=3', 'size'],
      ]) {
        const bad = await s.app.inject(`/v1/consents/${id}?${q}`);
        assert.equal(bad.statusCode, 400, q);
        assert.equal(bad.json().field, field, q);
      }
    });

    it('the consent page shows 20 receipts a page, with links through the rest', async () => {
      const p1 = await s.app.inject(`/consent/${id}`);
      assert.equal(p1.statusCode, 200);
      assert.equal(p1.body.match(/<li><p><strong>/g)?.length, 20);
      assert.match(p1.body, /Page 1 of 13/);
      assert.match(p1.body, /href="\?page=2" rel="next"/);
      assert.match(p1.body, /<ol reversed start="250">/);
      const p13 = await s.app.inject(`/consent/${id}?page=13`);
      assert.equal(p13.body.match(/<li><p><strong>/g)?.length, 10);
      assert.match(p13.body, /href="\?page=12" rel="prev"/);
      assert.doesNotMatch(p13.body, /rel="next"/);
      // What applies now is the latest receipt on every page.
      assert.match(p13.body, /What applies now/);
      assert.equal((await s.app.inject(`/consent/${id}?page=x`)).statusCode, 400);
    });
  });

  describe('admin authentication', () => {
    it('answers 429 per client after 10 failures, even to the right token; other clients go on', async () => {
      const as = (ip: string, token: string) =>
        s.app.inject({
          url: '/v1/admin/stats',
          headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': ip },
        });
      for (let i = 0; i < 10; i++) assert.equal((await as('198.51.100.20', `guess-${i}`)).statusCode, 401);
      const limited = await as('198.51.100.20', 'guess-10');
      assert.equal(limited.statusCode, 429);
      assert.equal(limited.json().error, 'ASSENT_RATE_LIMITED');
      assert.equal(limited.json().field, 'authorization');
      assert.ok(Number(limited.headers['retry-after']) > 0);
      assert.equal((await as('198.51.100.20', TOKEN)).statusCode, 429, 'a guesser learns nothing');
      assert.equal((await as('198.51.100.21', TOKEN)).statusCode, 200, 'another client is not limited');
    });

    it('throttles guesses of a site API key the same way', async () => {
      const send = () =>
        s.app.inject({
          method: 'POST',
          url: '/v1/receipts',
          headers: {
            'content-type': 'application/json',
            authorization: 'Bearer wrong',
            'x-forwarded-for': '198.51.100.30',
          },
          payload: JSON.stringify(receiptBody({ source: 'api' })),
        });
      for (let i = 0; i < 10; i++) assert.equal((await send()).statusCode, 401);
      assert.equal((await send()).statusCode, 429);
    });
  });

  describe('body limits', () => {
    /**
     * Sends `head` (a request asking for a 2 MB body) and a first part of the body, stops
     * reading (the answer waits in the client's kernel buffer), then sends the rest and reads.
     * A server that closed at once answered that rest with a reset, and the reset threw the
     * unread answer away: "no answer" (soak fuzzing). What the client read, or its error.
     */
    const sendWhileNotReading = (head: Buffer, size: number) =>
      new Promise<string>((resolve) => {
        const c = connect(port, '127.0.0.1');
        const chunks: Buffer[] = [];
        c.on('error', (e) => resolve(`error ${(e as NodeJS.ErrnoException).code}`));
        c.on('data', (d) => chunks.push(d));
        c.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
        c.on('connect', async () => {
          c.write(head);
          c.write(Buffer.alloc(64 * 1024, 0x20));
          c.pause();
          await new Promise((r) => setTimeout(r, 300));
          for (let sent = 64 * 1024; sent < size; sent += 64 * 1024)
            if (!c.write(Buffer.alloc(Math.min(64 * 1024, size - sent), 0x20)))
              await new Promise((r) => setTimeout(r, 5));
          await new Promise((r) => setTimeout(r, 300));
          c.resume();
        });
      });
    const SIZE = 2_000_000;

    it('lets a client still sending an oversized body read its 413 (no reset before the answer)', async () => {
      const got = await sendWhileNotReading(
        Buffer.from(
          `POST /v1/consents/${consentId()}/withdraw HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${SIZE}\r\n\r\n`,
        ),
        SIZE,
      );
      assert.match(got, /^HTTP\/1\.1 413 /);
      assert.match(got, /"error":"ASSENT_TOO_LARGE"/);
    });

    it('lets a client still sending a body after a request Node cannot parse read its 400 (no reset before the answer)', async () => {
      // A request line Node's parser refuses (a NUL in the path: what a URL with an emoji
      // becomes when a client writes it as Latin-1), answered by clientErrorHandler before any
      // of the body is read.
      const got = await sendWhileNotReading(
        Buffer.from(
          `POST /v1/consents/=\u0000/withdraw HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${SIZE}\r\n\r\n`,
          'latin1',
        ),
        SIZE,
      );
      assert.match(got, /^HTTP\/1\.1 400 /);
      assert.match(got, /"error":"ASSENT_BAD_REQUEST"/);
    });

    it('refuses a body over the limit on the consent page form before parsing it (413)', async () => {
      const nested = `${'['.repeat(4600)}${']'.repeat(4600)}`;
      const res = await s.app.inject({
        method: 'POST',
        url: `/consent/${consentId()}/withdraw`,
        headers: { 'content-type': 'application/json' },
        payload: nested,
      });
      assert.equal(res.statusCode, 413);
      assert.deepEqual(res.json(), {
        error: 'ASSENT_TOO_LARGE',
        field: 'body',
        message: 'is larger than the limit',
      });
      const form = await s.app.inject({
        method: 'POST',
        url: `/consent/${consentId()}/withdraw`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `token=${'a'.repeat(2000)}`,
      });
      assert.equal(form.statusCode, 413);
    });

    it('refuses 9 KiB on every other route that takes a body', async () => {
      const big = JSON.stringify({ pad: 'x'.repeat(9 * 1024) });
      for (const url of ['/v1/receipts', `/v1/consents/${consentId()}/withdraw`]) {
        const res = await s.app.inject({
          method: 'POST',
          url,
          headers: { 'content-type': 'application/json' },
          payload: big,
        });
        assert.equal(res.statusCode, 413, url);
      }
    });

    it("reads the admin API's larger policy body only after the token", async () => {
      const res = await s.app.inject({
        method: 'POST',
        url: '/v1/admin/policies',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.40' },
        payload: JSON.stringify({ site: ORIGIN, config: { pad: 'x'.repeat(100_000) } }),
      });
      assert.equal(res.statusCode, 401);
    });

    it('the proxy recipes let through the largest body the server takes (a policy upload)', () => {
      const conf = readFileSync(new URL('../../../deploy/nginx/assent.conf', import.meta.url), 'utf8');
      const sizes = [...conf.matchAll(/^\s*client_max_body_size\s+(\d+)([km]?);/gm)].map(
        ([, n, unit]) => Number(n) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 * 1024 : 1),
      );
      assert.ok(sizes.length, 'the nginx recipe sets client_max_body_size');
      for (const size of sizes) assert.ok(size >= POLICY_BODY_LIMIT, `${size} < ${POLICY_BODY_LIMIT}`);
      // Caddy sets no limit of its own unless told to (request_body max_size).
      const caddy = readFileSync(new URL('../../../deploy/caddy/Caddyfile', import.meta.url), 'utf8');
      assert.doesNotMatch(caddy.replace(/#.*$/gm, ''), /max_size/);
    });
  });

  describe('dates', () => {
    it('parses real dates and date-times only, never rolling over', () => {
      assert.equal(parseDateParam('2026-11-01'), '2026-11-01T00:00:00.000Z');
      assert.equal(parseDateParam('2024-02-29'), '2024-02-29T00:00:00.000Z');
      assert.equal(parseDateParam('2026-11-01T12:30'), '2026-11-01T12:30:00.000Z');
      assert.equal(parseDateParam('2026-11-01T12:30:05.5+02:00'), '2026-11-01T10:30:05.500Z');
      for (const bad of [
        '2026-13-45',
        '2026-02-30',
        '2025-02-29',
        '2026-11-01T25:00',
        '2026-11-01T12:60',
        '2026-11-01T12:00:61',
        '2026-11-01T12:00+24:00',
        'yesterday',
        '',
        '2026-1-1',
      ])
        assert.equal(parseDateParam(bad), null, bad);
    });

    it('admin routes answer 400 naming the parameter, never 500 nor the wrong day', async () => {
      for (const [q, field] of [
        ['from=2026-13-45', 'from'],
        ['from=2026-02-30', 'from'],
        ['to=2026-11-01T25:00', 'to'],
        ['from=2026-11-01&to=2026-11-31', 'to'],
      ]) {
        for (const route of ['stats', 'receipts']) {
          const res = await s.app.inject({
            url: `/v1/admin/${route}?${q}`,
            headers: { authorization: `Bearer ${TOKEN}` },
          });
          assert.equal(res.statusCode, 400, `${route}?${q}`);
          assert.deepEqual(res.json(), { error: 'ASSENT_BAD_FIELD', field, message: DATE_HINT });
        }
      }
      const leap = await s.app.inject({
        url: '/v1/admin/stats?from=2024-02-29',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(leap.json().from, '2024-02-29T00:00:00.000Z');
    });
  });

  describe('stored strings', () => {
    it('knows what may not be stored', () => {
      assert.equal(unsafeText('/articles/été/日本'), null);
      assert.match(unsafeText('/a\u0000b')!, /control characters \(U\+0000\)/);
      assert.match(unsafeText('/a\u202eb')!, /bidirectional/);
      assert.match(unsafeText('/a\u061cb')!, /bidirectional control characters \(U\+061C\)/);
      for (const c of ['\u200b', '\u200c', '\u200d', '\u2060', '\ufeff'])
        assert.match(unsafeText(`/a${c}b`)!, /invisible characters/, `U+${c.codePointAt(0)!.toString(16)}`);
      // Prose keeps the joiners its scripts need (Persian, emoji sequences).
      assert.equal(unsafeText('می\u200cخواهم 👩\u200d💻', true), null);
      assert.match(unsafeText('/a\ud800b')!, /lone surrogate/);
      assert.equal(unsafeText('/a\ud83d\ude00b'), null, 'a pair is an emoji, not a lone surrogate');
      assert.equal(unsafeText('line one\nline two', true), null, 'prose may break lines');
    });

    it('finds the first unsafe string or key of a JSON value in document order, at any depth', async () => {
      assert.deepEqual(unsafeIn({ a: ['ok', { b: 'x\u0000' }], c: '\u0007' }), [
        'a[1].b',
        'must not contain control characters (U+0000)',
      ]);
      assert.deepEqual(unsafeIn({ a: 'ok', 'k\u202e': 'v', z: '\u0000' })?.[0], 'k\u202e');
      assert.equal(unsafeIn({ t: 'line\n\tbreak \u200f' }), null);
      // 5,000 nested arrays overflowed the recursive version's stack: a 500 (fuzzing found it).
      const deep = JSON.parse(`${'['.repeat(5000)}"\\u0000"${']'.repeat(5000)}`);
      assert.match(unsafeIn(deep)![0], /^(\[0\]){5000}$/);
      assert.equal(unsafeIn(JSON.parse(`${'['.repeat(5000)}${']'.repeat(5000)}`)), null);
      const res = await s.app.inject({
        method: 'POST',
        url: '/v1/receipts',
        headers: { 'content-type': 'application/json', origin: ORIGIN },
        payload: `${'['.repeat(3000)}${']'.repeat(3000)}`,
      });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().error, 'ASSENT_BAD_FIELD');
    });

    it('refuses a page path with NUL, control, bidi or lone surrogate characters, and stores nothing', async () => {
      for (const path of [
        '/a\u0000',
        '/a\u0007',
        '/a\u0085',
        '/a\u202egnp.exe',
        '/a\u2066',
        '/a\ud800',
        '/a\udc00',
      ]) {
        const body = receiptBody({ page: { origin: ORIGIN, path } });
        const res = await s.app.inject({
          method: 'POST',
          url: '/v1/receipts',
          headers: { 'content-type': 'application/json', origin: ORIGIN },
          payload: JSON.stringify(body),
        });
        assert.equal(res.statusCode, 400, JSON.stringify(path));
        assert.equal(res.json().field, 'page.path');
        assert.equal((await s.app.inject(`/v1/consents/${body.consentId}`)).statusCode, 404);
      }
    });

    it('refuses a published policy whose texts carry them, naming the field', async () => {
      const res = await s.app.inject({
        method: 'POST',
        url: '/v1/admin/policies',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        payload: JSON.stringify({
          site: 'https://texts.example',
          config: { texts: { en: { message: 'We use \u202ecookies' } } },
        }),
      });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().field, 'config.texts.en.message');
    });
  });

  describe('errors in the documented shape', () => {
    const cases: [string, string, number, string | null][] = [
      ['malformed HTTP', 'NOT HTTP AT ALL\r\n\r\n', 400, null],
      [
        'oversized headers',
        `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        431,
        'headers',
      ],
      [
        'a bad Content-Length',
        'POST /v1/receipts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}',
        400,
        null,
      ],
      ['bad percent-encoding', 'GET /v1/consents/%E0%A4%A HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'url'],
      [
        'unparseable JSON',
        'POST /v1/receipts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n{"a":',
        400,
        'body',
      ],
    ];
    it('answers a CORS preflight without Access-Control-Request-Method with 400 JSON (not text/plain)', async () => {
      for (const origin of [ORIGIN, 'https://unknown.example']) {
        const res = await s.app.inject({ method: 'OPTIONS', url: '/v1/receipts', headers: { origin } });
        assert.equal(res.statusCode, 400, origin);
        assert.match(String(res.headers['content-type']), /^application\/json/);
        assert.deepEqual(res.json(), {
          error: 'ASSENT_BAD_REQUEST',
          field: 'access-control-request-method',
          message: 'is required in a CORS preflight (OPTIONS with an Origin)',
        });
      }
      // A real preflight still answers 204 with the CORS headers.
      const ok = await s.app.inject({
        method: 'OPTIONS',
        url: '/v1/receipts',
        headers: { origin: ORIGIN, 'access-control-request-method': 'POST' },
      });
      assert.equal(ok.statusCode, 204);
      assert.equal(ok.headers['access-control-allow-origin'], ORIGIN);
    });

    it('answers reads and withdrawals with 503 JSON while the database is away (was 500)', async () => {
      const cut = [
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
        Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
        new Error('Connection terminated unexpectedly'),
        new Error('Client has encountered a connection error and is not queryable'),
      ];
      const inner = openStore('sqlite::memory:');
      let failure: Error | null = null;
      const store = new Proxy(inner, {
        get: (t, k) => {
          const v = Reflect.get(t, k);
          return typeof v === 'function' && k !== 'close' && k !== 'migrate'
            ? (...a: unknown[]) => (failure ? Promise.reject(failure) : v.apply(t, a))
            : v;
        },
      });
      const down = await createServer({
        store,
        sites: SITES,
        rateLimit: false,
        retention: false,
        logger: false,
      });
      try {
        const id = consentId();
        for (const e of cut) {
          failure = e;
          for (const [method, url] of [
            ['GET', `/v1/consents/${id}`],
            ['GET', `/v1/consents/${id}/cookie`],
            ['POST', `/v1/consents/${id}/withdraw`],
          ] as const) {
            const res = await down.app.inject({ method, url });
            assert.equal(res.statusCode, 503, `${method} ${url} on ${e.message}: ${res.body}`);
            assert.equal(res.json().error, 'ASSENT_UNAVAILABLE');
            assert.deepEqual(keysOf(res.body), ['error', 'field', 'message']);
          }
        }
        // A bug is still a 500, not a 503.
        failure = new TypeError('x is not a function');
        assert.equal((await down.app.inject(`/v1/consents/${id}`)).statusCode, 500);
      } finally {
        failure = null;
        await down.close();
      }
    });

    for (const [name, request, status, field] of cases)
      it(`answers ${name} with ${status} {error, field, message}`, async () => {
        const res = await raw(port, request);
        const [head, body = ''] = res.split('\r\n\r\n');
        assert.match(head!, new RegExp(`^HTTP/1.1 ${status} `), res.slice(0, 200));
        assert.deepEqual(keysOf(body), ['error', 'field', 'message'], body);
        assert.equal(JSON.parse(body).field, field);
        assert.match(JSON.parse(body).error, /^ASSENT_/);
      });
  });

  describe('logs', () => {
    it('never log a consent ID, whatever the route, query string or encoding', async () => {
      const id = consentId();
      const encoded = `%${id.charCodeAt(0).toString(16).toUpperCase()}${id.slice(1)}`;
      for (const [method, url] of [
        ['GET', `/v1/consents/${id}`],
        ['GET', `/v1/consents/${id}/cookie`],
        ['POST', `/v1/consents/${id}/withdraw`],
        ['GET', `/consent/${id}`],
        ['GET', `/consent/${id}?done=withdrawn`],
        ['POST', `/consent/${id}/withdraw`],
        ['POST', `/consent/${id}/withdraw?x=1`],
        ['GET', `/v1/config?consent=${id}`],
        ['GET', `/v1/consents/${encoded}`],
        ['GET', `/nothing/${id}/here`],
        // One bad escape elsewhere in the URL must not leave the ID encoded.
        ['GET', `/v1/consents/${encoded}/cookie?%`],
        ['GET', `/consent/${encoded}?x=%zz`],
        ['GET', `/v1/consents/${id.slice(0, 21)}%${id.charCodeAt(21).toString(16)}?%E0%A4%A`],
        ['GET', `/v1/consents/%25${id.charCodeAt(0).toString(16)}${id.slice(1)}`],
        // Right after an escape that does not decode (not UTF-8, or not an escape at all): the
        // ID's first character follows the escape's hex digits, not a separator.
        ['GET', `/consent/%E0${id}`],
        ['GET', `/v1/consents/%e0${id}/cookie`],
        ['GET', `/consent/%C3%28${id}`],
        ['GET', `/consent/%E0%A4${id}?x=1`],
        ['GET', `/v1/config?consent=%FF${id}`],
        ['GET', `/consent/%zz${id}`],
        ['GET', `/consent/%A${id}`],
        ['GET', `/consent/%25E0${id}`],
        ['GET', `/consent/x%E0${id}%E0`],
      ] as const)
        await s.app.inject({ method, url });
      const text = log.text();
      assert.ok(
        text.includes('request refused') && text.includes('request completed'),
        'requests are logged',
      );
      assert.ok(!text.includes(id), 'the ID is in no line');
      assert.ok(!text.includes(id.slice(1)), 'nor its percent-encoded form');
    });

    it('redact a consent ID after an escape left as sent, whatever its first character', () => {
      // Every ID first character, hex digit or not: `%A` + `B…` must not leave `B…` behind.
      for (const first of ['X', 'A', 'f', '0', '_', '-']) {
        const id = `${first}q3v0b9YbK1mJ2v8T4c6Aa`;
        for (const [url, want] of [
          [`/consent/%E0${id}`, '/consent/%E0:id'],
          [`/consent/%e0${id}/withdraw`, '/consent/%e0:id/withdraw'],
          [`/consent/%E0%A4${id}`, '/consent/%E0%A4:id'],
          [`/consent/%FF${id}?x=%E0`, '/consent/%FF:id?x=%E0'],
          [`/consent/%zz${id}`, '/consent/%zz:id'],
          [`/consent/%25E0${id}`, '/consent/%E0:id'],
          [`/v1/consents/${id}%E0`, '/v1/consents/:id%E0'],
          [`/consent/${id}`, '/consent/:id'],
        ] as const)
          assert.equal(redactUrl(url), want, url);
        // A broken escape that takes the ID's first character: none of the ID is left whole.
        const broken = redactUrl(`/consent/%A${id}`);
        assert.ok(!broken.includes(id) && !broken.includes(id.slice(1)), broken);
      }
      // Runs of other lengths are not IDs, escape or not (receipt IDs, SHA-256s stay readable).
      assert.equal(redactUrl('/v1/receipts/AZbcdefghijklmno'), '/v1/receipts/AZbcdefghijklmno');
      assert.equal(redactUrl(`/v1/policies/%E0${'a'.repeat(64)}`), `/v1/policies/%E0${'a'.repeat(64)}`);
    });

    it('log no TypeError when clients disconnect early (rate limiter off)', async () => {
      // A withdrawal reads the consent's latest receipt before it records one; on a real
      // database that read takes a while, and a client gone by then took its address along
      // (req.ip is read from the socket). The store here answers `latest` 50 ms late.
      const store = openStore('sqlite::memory:');
      const slow = new Proxy(store, {
        get: (t, k) =>
          k === 'latest'
            ? async (id: string) => {
                await new Promise((r) => setTimeout(r, 50));
                return t.latest(id);
              }
            : Reflect.get(t, k),
      });
      const own = memoryLog();
      const t = await createServer({
        store: slow,
        sites: SITES,
        logger: { level: 'info', stream: own.stream },
        rateLimit: false,
        retention: false,
      });
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const tPort = (t.app.server.address() as { port: number }).port;
      const body = receiptBody();
      const posted = await t.app.inject({
        method: 'POST',
        url: '/v1/receipts',
        headers: { 'content-type': 'application/json', origin: ORIGIN },
        payload: JSON.stringify(body),
      });
      assert.equal(posted.statusCode, 201);
      const request = `POST /v1/consents/${body.consentId}/withdraw HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n`;
      await Promise.all(
        Array.from(
          { length: 5 },
          () =>
            new Promise<void>((resolve) => {
              const c = connect(tPort, '127.0.0.1', () => {
                c.write(request);
                c.destroy();
              });
              c.on('close', () => resolve());
              c.on('error', () => resolve());
            }),
        ),
      );
      await new Promise((r) => setTimeout(r, 300));
      // The withdrawals the server read were recorded (the visitor asked for them; one whose
      // bytes the server never read before the close is not a request) and nothing failed.
      const { total } = await t.store.history(body.consentId, { offset: 0, limit: 10 });
      await t.close();
      assert.ok(total > 1, `withdrawals recorded after their clients left: ${total - 1}`);
      assert.doesNotMatch(own.text(), /TypeError/);
      assert.doesNotMatch(own.text(), /"level":50/, 'no error at all');
    });
  });
});
