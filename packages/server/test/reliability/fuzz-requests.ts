import fc from 'fast-check';
import { ORIGIN, OTHER, SITE_CONFIG } from '../helpers.js';
import { clientHeaders } from './harness.js';
import type { RawRequest } from './raw-http.js';

/**
 * Arbitraries for every route of the receipt server, as an attacker and a careless integrator
 * would call them: mostly near-valid requests with one or a few things wrong (so they get past
 * the parser into the rules), a share of fully valid ones (so the writes are exercised), and
 * junk of every kind (methods, paths, headers, bodies, malformed HTTP, clients that go away).
 *
 * Each arbitrary gives a function of the running server's state (the consent IDs it has
 * acknowledged, the policy each site publishes now), because a valid request depends on it.
 */

export interface FuzzEnv {
  /** `http://127.0.0.1:port`: the server's own origin (the consent page's forms post from it). */
  readonly own: string;
  /** Consent IDs with at least one stored receipt. */
  readonly known: string[];
  /** The policy each site publishes now (learnt from 409s, as the banner learns it). */
  readonly policy: Map<string, { version: string; sha256: string }>;
}

/** The route family (for grouping findings) and the request. `token`: fetch the page's form token first. */
export interface FuzzCase {
  readonly route: string;
  readonly req: RawRequest;
  readonly token?: string;
}
type Gen = fc.Arbitrary<(env: FuzzEnv) => FuzzCase>;

export const TOKEN = '{{form-token}}';

const nasty = fc.constantFrom(
  '',
  ' ',
  '\u0000',
  '\u202e',
  '\u2066x\u2069',
  '\ud800',
  '\r\n',
  '../../etc/passwd',
  '%00',
  '%zz',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  'null',
  '__proto__',
  'constructor',
  '😀',
  '2026-13-45',
  '9'.repeat(400),
);
const junk = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 3, arbitrary: nasty },
  { weight: 1, arbitrary: fc.string({ minLength: 300, maxLength: 3000 }) },
);
const json = fc.jsonValue({ maxDepth: 3 });
/** Percent-encodes every byte of the UTF-8 (lone surrogates become U+FFFD) but unreserved ones. */
const pct = (s: string) =>
  [...Buffer.from(s, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9_.~-]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).padStart(2, '0')}`,
    )
    .join('');
/** A path segment: usually percent-encoded, sometimes raw (which may be malformed HTTP). */
const segment = fc.oneof({ weight: 5, arbitrary: junk.map(pct) }, { weight: 1, arbitrary: junk });
const validId = fc
  .uint8Array({ minLength: 16, maxLength: 16 })
  .map((b) => Buffer.from(b).toString('base64url').slice(0, 22));

/** A consent ID: one the server knows, a fresh valid one, or junk. */
const idOf = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .nat()
      .map((n) => (env: FuzzEnv) => env.known[n % Math.max(1, env.known.length)] ?? 'AAAAAAAAAAAAAAAAAAAAAA'),
  },
  { weight: 2, arbitrary: validId.map((id) => () => id) },
  { weight: 2, arbitrary: segment.map((s) => () => s) },
);

const clientIdx = fc.nat({ max: 1_000_000 });
const headersOf = (i: number, extra: [string, string][]): [string, string][] => [
  ...Object.entries(clientHeaders(i)),
  ...extra,
];

const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant(['content-type', 'application/json'] as [string, string]) },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(
        'application/json; charset=utf-8',
        'application/json; charset=utf-16',
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/json, text/plain',
        'APPLICATION/JSON',
        '',
      )
      .map((v) => ['content-type', v] as [string, string]),
  },
  { weight: 1, arbitrary: fc.constant(null) },
);

/** How a JSON body is sent: as is, or broken in one of the ways parsers trip on. */
const encoding = fc.record({
  kind: fc.oneof(
    { weight: 12, arbitrary: fc.constant('json') },
    { weight: 1, arbitrary: fc.constantFrom('cut', 'bom', 'proto', 'ctor', 'nest', 'huge', 'junk') },
  ),
  n: fc.nat({ max: 300_000 }),
  junk,
});
const encodeBody = (value: unknown, e: { kind: string; n: number; junk: string }): string => {
  const text = JSON.stringify(value);
  switch (e.kind) {
    case 'cut':
      return text.slice(0, e.n % text.length);
    case 'bom':
      return `\ufeff${text}`;
    case 'proto':
      return text.replace('{', '{"__proto__":{"polluted":1},');
    case 'ctor':
      return text.replace('{', '{"constructor":{"prototype":{"x":1}},');
    case 'nest':
      return '['.repeat(10 + (e.n % 100_000)) + ']'.repeat(10 + (e.n % 100_000));
    case 'huge':
      return JSON.stringify({ ...(value as object), pad: 'x'.repeat(9000 + e.n) });
    case 'junk':
      return e.junk;
    default:
      return text;
  }
};

type Receipt = Record<string, unknown> & { page: Record<string, unknown>; policy: Record<string, unknown> };
const FIELDS = ['consentId', 'policy', 'mode', 'choices', 'method', 'source', 'signals', 'page', 'lang'];
const NESTED = ['policy.version', 'policy.sha256', 'page.origin', 'page.path', 'signals.gpc'];

/** One thing wrong with a receipt (or nothing: `none` keeps it valid). */
const mutation = fc.oneof(
  { weight: 10, arbitrary: fc.constant({ op: 'none' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('drop' as const), field: fc.constantFrom(...FIELDS) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('set' as const), field: fc.constantFrom(...FIELDS), value: json }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('nested' as const),
      path: fc.constantFrom(...NESTED),
      value: fc.oneof(junk, json),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('extra' as const), field: junk, value: json }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('choices' as const),
      value: fc.dictionary(
        fc.oneof(junk, fc.constantFrom('analytics', 'necessary', 'analytics:matomo', 'x:y')),
        fc.oneof(fc.boolean(), json),
        {
          maxKeys: 8,
        },
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('path' as const),
      value: fc.constantFrom(
        '/a?q=1',
        '/a#x',
        '/\u0000',
        '/\u202eevil',
        '/\ud800',
        'no-slash',
        '//evil.example/',
        `/${'a'.repeat(2000)}`,
      ),
    }),
  },
);

/** An earlier mutation may have made a nested field a string or an array. */
const objectOr = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

const mutate = (r: Receipt, m: Record<string, unknown>): Receipt => {
  const c = structuredClone(r) as Record<string, Record<string, unknown> | unknown>;
  switch (m.op) {
    case 'drop':
      delete c[m.field as string];
      break;
    case 'set':
    case 'extra':
      c[m.field as string] = m.value;
      break;
    case 'nested': {
      const [a, b] = (m.path as string).split('.') as [string, string];
      c[a] = { ...objectOr(c[a]), [b]: m.value };
      break;
    }
    case 'choices':
      c.choices = m.value;
      break;
    case 'path':
      c.page = { ...objectOr(c.page), path: m.value };
      break;
  }
  return c as Receipt;
};

/** `POST /v1/receipts`: the banner's call, valid or with up to three things wrong. */
const receipts: Gen = fc
  .record({
    site: fc.constantFrom(ORIGIN, OTHER, 'https://unknown.example'),
    consentId: validId,
    choices: fc.record({
      analytics: fc.boolean(),
      'analytics:matomo': fc.boolean(),
      marketing: fc.boolean(),
    }),
    mutations: fc.array(mutation, { maxLength: 3 }),
    encoding,
    origin: fc.oneof(
      { weight: 10, arbitrary: fc.constant('same') },
      { weight: 1, arbitrary: fc.constantFrom('none', 'other', 'null', 'referer', 'junk') },
    ),
    ct: contentType,
    auth: fc.oneof({ weight: 12, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: junk }),
    client: clientIdx,
  })
  .map((p) => {
    const base = {
      consentId: p.consentId,
      policy: {},
      mode: 'opt-in',
      choices: p.choices,
      method: 'custom',
      source: 'preferences',
      signals: { gpc: false },
      page: { origin: p.site, path: '/articles/x' },
      lang: 'en',
    } as Receipt;
    return (env: FuzzEnv): FuzzCase => {
      let body = {
        ...base,
        policy: { ...(env.policy.get(p.site) ?? { version: 'v3', sha256: '0'.repeat(64) }) },
      } as Receipt;
      for (const m of p.mutations) body = mutate(body, m as Record<string, unknown>);
      const text = encodeBody(body, p.encoding);
      const origin =
        p.origin === 'same'
          ? [['origin', p.site]]
          : p.origin === 'other'
            ? [['origin', 'https://evil.example']]
            : p.origin === 'null'
              ? [['origin', 'null']]
              : p.origin === 'referer'
                ? [['referer', `${p.site}/articles/x`]]
                : p.origin === 'junk'
                  ? [['origin', 'not a url']]
                  : [];
      return {
        route: 'POST /v1/receipts',
        req: {
          method: 'POST',
          path: '/v1/receipts',
          headers: headersOf(p.client, [
            ...(origin as [string, string][]),
            ...(p.ct ? [p.ct] : []),
            ...(p.auth !== null
              ? [['authorization', p.auth.replace(/[\r\n]/g, '')] as [string, string]]
              : []),
          ]),
          body: text,
        },
      };
    };
  });

/** `POST /v1/consents/:id/withdraw` (API) and `POST /consent/:id/withdraw` (the page's form). */
const withdrawals: Gen = fc
  .record({
    id: idOf,
    form: fc.boolean(),
    body: fc.oneof(
      fc.constant(undefined),
      fc.constant('{}'),
      fc.constantFrom('preferences', 'api', 'banner', 'x').map((s) => JSON.stringify({ source: s })),
      json.map((j) => JSON.stringify(j)),
      fc.integer({ min: 10, max: 100_000 }).map((d) => '['.repeat(d) + ']'.repeat(d)),
      fc.integer({ min: 900, max: 2_000_000 }).map((n) => JSON.stringify({ source: 'x'.repeat(n) })),
      fc.constant(TOKEN).map((t) => `token=${t}`),
      junk.map((j) => `token=${pct(j)}`),
    ),
    ct: contentType,
    origin: fc.constantFrom('none', 'own', 'site', 'evil'),
    client: clientIdx,
  })
  .map((p) => (env: FuzzEnv): FuzzCase => {
    const id = p.id(env);
    const origin = {
      none: [],
      own: [['origin', env.own]],
      site: [['origin', ORIGIN]],
      evil: [['origin', 'https://evil.example']],
    }[p.origin] as [string, string][];
    const formCt: [string, string] = ['content-type', 'application/x-www-form-urlencoded'];
    const isForm = p.body?.startsWith('token=');
    return {
      route: p.form ? 'POST /consent/:id/withdraw' : 'POST /v1/consents/:id/withdraw',
      req: {
        method: 'POST',
        path: p.form ? `/consent/${id}/withdraw` : `/v1/consents/${id}/withdraw`,
        headers: headersOf(p.client, [
          ...origin,
          ...(isForm ? [formCt] : p.ct && p.body !== undefined ? [p.ct] : []),
        ]),
        ...(p.body !== undefined ? { body: p.body } : {}),
      },
      ...(p.body?.includes(TOKEN) ? { token: id } : {}),
    };
  });

/** The visitor's reads: history, cookie, the consent page; GET and HEAD, with junk queries. */
const reads: Gen = fc
  .record({
    id: idOf,
    which: fc.constantFrom('/v1/consents/:id', '/v1/consents/:id/cookie', '/consent/:id'),
    method: fc.constantFrom('GET', 'GET', 'GET', 'HEAD'),
    query: fc.oneof(
      fc.constant(''),
      fc.constantFrom('?done=withdrawn', '?page=2', '?limit=100000', '?cursor=%00'),
      segment.map((s) => `?${s}=${s}`),
    ),
    client: clientIdx,
  })
  .map(
    (p) =>
      (env: FuzzEnv): FuzzCase => ({
        route: `${p.method} ${p.which}`,
        req: {
          method: p.method,
          path: p.which.replace(':id', p.id(env)) + p.query,
          headers: headersOf(p.client, []),
        },
      }),
  );

/** The policy registry's public side and the static files. */
const publicReads: Gen = fc
  .record({
    which: fc.constantFrom(
      '/v1/policy',
      '/v1/assent.js',
      '/v1/policies/:sha',
      '/v1/config',
      '/healthz',
      '/readyz',
      '/admin',
      '/admin/assets/console.js',
      '/admin/sign-in',
      '/consent/assets/consent.js',
      '/consent/assets/consent.css',
    ),
    site: fc.oneof(
      fc.constantFrom('', `?site=${encodeURIComponent(ORIGIN)}`, `?site=${OTHER}`),
      segment.map((s) => `?site=${s}`),
    ),
    sha: fc.oneof(fc.constant('current'), fc.stringMatching(/^[0-9a-f]{64}$/), segment),
    headers: fc.array(
      fc.constantFrom<[string, string]>(
        ['sec-gpc', '1'],
        ['cf-ipcountry', 'DE'],
        ['if-none-match', '"x"'],
        ['accept-encoding', 'gzip, br'],
        ['range', 'bytes=0-10'],
        ['x-forwarded-host', 'evil.example'],
        ['x-forwarded-proto', 'https'],
      ),
      { maxLength: 3 },
    ),
    client: clientIdx,
  })
  .map((p) => (env: FuzzEnv): FuzzCase => {
    const sha = p.sha === 'current' ? (env.policy.get(ORIGIN)?.sha256 ?? '') : p.sha;
    const path =
      p.which === '/v1/policies/:sha'
        ? `/v1/policies/${sha}`
        : p.which.startsWith('/v1/policy') || p.which === '/v1/assent.js'
          ? p.which + p.site
          : p.which;
    return { route: `GET ${p.which}`, req: { method: 'GET', path, headers: headersOf(p.client, p.headers) } };
  });

const date = fc.oneof(
  fc.constantFrom(
    '2026-01-01',
    '2026-11-01T10:00',
    '2026-11-01T10:00:00.000Z',
    '2026-02-30',
    '2026-13-45',
    'T25:00',
    '2026-11-01T25:00',
    '0000-00-00',
    '9999-12-31',
    '2026-11-01T10:00+14:00',
  ),
  segment,
);

/** The admin API: exports, stats, publishing. Mostly with the right token, to reach the handlers. */
const admin: Gen = fc
  .record({
    which: fc.constantFrom('receipts', 'stats', 'policies-get', 'policies-post'),
    auth: fc.oneof(
      { weight: 6, arbitrary: fc.constant('Bearer the-test-admin-token') },
      {
        weight: 1,
        arbitrary: fc.constantFrom('Bearer wrong', 'bearer the-test-admin-token', 'Basic YWRtaW4=', ''),
      },
      { weight: 1, arbitrary: fc.constant(null) },
    ),
    from: fc.option(date),
    to: fc.option(date),
    site: fc.option(fc.oneof(fc.constant(encodeURIComponent(ORIGIN)), segment)),
    extra: fc.option(
      fc.constantFrom(
        'format=csv',
        'format=ndjson',
        'format=xml',
        'by=category',
        'by=region',
        'by=method',
        'by=x',
        'foo=1',
      ),
    ),
    config: fc.oneof(
      fc.constant({ ...SITE_CONFIG, days: 30 }),
      fc.record({
        categories: fc.array(fc.record({ id: fc.oneof(junk, fc.constantFrom('analytics', 'ads')) }), {
          maxLength: 3,
        }),
      }),
      json,
    ),
    pubSite: fc.oneof(fc.constantFrom('https://fuzz.example', 'http://127.0.0.1:9', 'not an origin'), junk),
    client: clientIdx,
  })
  .map((p) => (): FuzzCase => {
    const auth: [string, string][] = p.auth === null ? [] : [['authorization', p.auth]];
    const q = [
      p.from !== null && `from=${p.from}`,
      p.to !== null && `to=${p.to}`,
      p.site !== null && `site=${p.site}`,
      p.extra,
    ].filter(Boolean);
    if (p.which === 'policies-post') {
      // The fuzzer publishes for other sites only: its valid receipts keep the two sites' policies.
      const site = /127\.0\.0\.1:3000|shop\.example/i.test(p.pubSite) ? 'https://fuzz.example' : p.pubSite;
      return {
        route: 'POST /v1/admin/policies',
        req: {
          method: 'POST',
          path: '/v1/admin/policies',
          headers: headersOf(p.client, [...auth, ['content-type', 'application/json']]),
          body: JSON.stringify({ site, config: p.config }),
        },
      };
    }
    const path =
      p.which === 'policies-get'
        ? '/v1/admin/policies'
        : p.which === 'stats'
          ? '/v1/admin/stats'
          : '/v1/admin/receipts';
    return {
      route: `GET ${path}`,
      req: {
        method: 'GET',
        path: q.length ? `${path}?${q.join('&')}` : path,
        headers: headersOf(p.client, auth),
      },
    };
  });

const KNOWN_PATHS = [
  '/v1/receipts',
  '/v1/consents/x',
  '/v1/admin/receipts',
  '/consent/x',
  '/v1/policy',
  '/',
  '/healthz',
];

/** Anything: other methods, unknown paths, CORS preflights, random headers and bodies. */
const junkRequests: Gen = fc
  .record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND'),
    path: fc.oneof(
      fc.constantFrom(...KNOWN_PATHS),
      fc.tuple(fc.constantFrom(...KNOWN_PATHS), segment).map(([a, b]) => `${a}/${b}`),
    ),
    headers: fc.array(
      fc.oneof(
        fc.tuple(
          fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
          fc.string({ maxLength: 50 }).map((s) => s.replace(/[\r\n\0]/g, '')),
        ),
        fc.constantFrom<[string, string]>(
          ['origin', ORIGIN],
          ['access-control-request-method', 'POST'],
          ['access-control-request-headers', 'content-type, x-evil'],
          ['content-type', 'application/json'],
          ['expect', '100-continue'],
          ['transfer-encoding', 'chunked'],
          ['content-encoding', 'gzip'],
        ),
      ),
      { maxLength: 5 },
    ),
    body: fc.option(
      fc.oneof(
        junk,
        json.map((j) => JSON.stringify(j)),
      ),
    ),
    client: clientIdx,
  })
  .map((p) => (): FuzzCase => {
    const chunked = p.headers.some(([k, v]) => k === 'transfer-encoding' && v === 'chunked');
    const body = chunked
      ? `${p.body ? `${Buffer.byteLength(p.body).toString(16)}\r\n${p.body}\r\n` : ''}0\r\n\r\n`
      : (p.body ?? undefined);
    return {
      route: `${p.method} (junk)`,
      req: {
        method: p.method,
        path: p.path,
        headers: headersOf(p.client, p.headers),
        ...(body !== undefined ? { body } : {}),
      },
    };
  });

/** Malformed HTTP, oversized headers, and clients that leave mid-request. */
const broken: Gen = fc
  .record({
    kind: fc.constantFrom(
      'big-header',
      'many-headers',
      'bad-line',
      'no-colon',
      'nul-header',
      'bad-length',
      'bad-chunk',
      'abort',
    ),
    n: fc.integer({ min: 1, max: 400 }),
    client: clientIdx,
  })
  .map((p) => (env: FuzzEnv): FuzzCase => {
    const h = headersOf(p.client, []);
    const line = (s: string) =>
      Buffer.from(
        `${s}\r\nhost: x\r\nconnection: close\r\n${h.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`,
        'latin1',
      );
    const req: RawRequest =
      p.kind === 'big-header'
        ? { method: 'GET', path: '/v1/config', headers: [...h, ['x-big', 'a'.repeat(17_000 + p.n * 100)]] }
        : p.kind === 'many-headers'
          ? {
              method: 'GET',
              path: '/healthz',
              headers: [
                ...h,
                ...Array.from({ length: 2100 }, (_, i) => [`x-h${i}`, 'v'] as [string, string]),
              ],
            }
          : p.kind === 'bad-line'
            ? {
                method: '',
                path: '',
                headers: [],
                raw: line(
                  [
                    'GET /v1/config HTTP/9.9',
                    'GET',
                    'GET /a b c HTTP/1.1',
                    '\u0001 / HTTP/1.1',
                    'GET /v1/config',
                  ][p.n % 5]!,
                ),
              }
            : p.kind === 'no-colon'
              ? {
                  method: '',
                  path: '',
                  headers: [],
                  raw: Buffer.from(
                    `GET /v1/config HTTP/1.1\r\nhost: x\r\nconnection: close\r\nbroken header\r\n\r\n`,
                  ),
                }
              : p.kind === 'nul-header'
                ? {
                    method: '',
                    path: '',
                    headers: [],
                    raw: Buffer.from(
                      `GET /v1/config HTTP/1.1\r\nhost: x\r\nconnection: close\r\nx-a: b\u0000c\r\n\r\n`,
                      'latin1',
                    ),
                  }
                : p.kind === 'bad-length'
                  ? {
                      method: 'POST',
                      path: '/v1/receipts',
                      headers: [
                        ...h,
                        ['content-type', 'application/json'],
                        ['content-length', `-${p.n}`],
                        ['origin', ORIGIN],
                      ],
                      body: '{}',
                    }
                  : p.kind === 'bad-chunk'
                    ? {
                        method: 'POST',
                        path: '/v1/receipts',
                        headers: [
                          ...h,
                          ['content-type', 'application/json'],
                          ['transfer-encoding', 'chunked'],
                          ['origin', ORIGIN],
                        ],
                        body: 'zz\r\n{}\r\n0\r\n\r\n',
                      }
                    : {
                        // A receipt whose body never fully arrives: the client leaves.
                        method: 'POST',
                        path:
                          p.n % 2
                            ? '/v1/receipts'
                            : `/v1/consents/${env.known[0] ?? 'AAAAAAAAAAAAAAAAAAAAAA'}/withdraw`,
                        headers: [
                          ...h,
                          ['content-type', 'application/json'],
                          ['origin', ORIGIN],
                          ['content-length', '5000'],
                        ],
                        body: '{"consentId":',
                        abortAfter: 100 + (p.n % 300),
                      };
    return { route: `malformed ${p.kind}`, req };
  });

/** Every route, weighted towards the ones that write. */
export const anyRequest: Gen = fc.oneof(
  { weight: 30, arbitrary: receipts },
  { weight: 10, arbitrary: withdrawals },
  { weight: 8, arbitrary: reads },
  { weight: 8, arbitrary: publicReads },
  { weight: 10, arbitrary: admin },
  { weight: 8, arbitrary: junkRequests },
  { weight: 4, arbitrary: broken },
);
