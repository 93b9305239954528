import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { generateOpenApi, OPENAPI_FILE } from '../scripts/openapi.js';
import { type AssentServer, createServer } from '../src/server.js';
import { SITES } from './helpers.js';

interface Operation {
  summary?: string;
  description?: string;
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: unknown;
  responses: Record<
    string,
    { description?: string; content?: Record<string, { schema?: { $ref?: string } }> }
  >;
}
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>> };

let server: AssentServer;
let doc: Doc;
const ADMIN = 'admin-token-for-the-openapi-test';

before(async () => {
  server = await createServer({
    db: 'sqlite::memory:',
    sites: SITES,
    adminToken: ADMIN,
    metricsToken: 'metrics-token-for-openapi',
    logger: false,
    retention: false,
    log: false,
  });
  const r = await server.app.inject({ url: '/openapi.json' });
  assert.equal(r.statusCode, 200);
  doc = r.json();
});
after(() => server.close());

/**
 * The routes the description must cover: all registered ones but HEAD (Fastify's automatic
 * twin of each GET) and @fastify/cors's `OPTIONS *` (the CORS preflight of every path: not
 * an operation, and `*` is not an OpenAPI path; the document's info says preflights exist).
 */
const described = () =>
  server.routes.filter((r) => r.method !== 'HEAD' && !(r.method === 'OPTIONS' && r.url === '*'));

const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');
const operation = (method: string, url: string) => doc.paths[openApiPath(url)]?.[method.toLowerCase()];

test('the document is valid OpenAPI 3.1 (@seriousme/openapi-schema-validator)', async () => {
  assert.equal(doc.openapi, '3.1.0');
  const r = await new Validator().validate(doc as unknown as Record<string, unknown>);
  assert.equal(r.valid, true, JSON.stringify(r.errors, null, 2));
});

test('every registered route is described: summary, description, parameters, answers', () => {
  const routes = described();
  assert.ok(routes.length >= 48, `only ${routes.length} routes`);
  for (const r of routes) {
    const name = `${r.method} ${r.url}`;
    const op = operation(r.method, r.url);
    assert.ok(op, `${name} is missing from the document`);
    assert.ok(op.summary?.trim(), `${name} has no summary`);
    assert.ok(op.description?.trim(), `${name} has no description`);
    const params = op.parameters ?? [];
    for (const [, p] of r.url.matchAll(/:(\w+)/g))
      assert.ok(
        params.some((x) => x.in === 'path' && x.name === p && x.required),
        `${name}: path parameter ${p} is not described`,
      );
    const query = (r.schema?.querystring as { properties?: Record<string, unknown> } | undefined)?.properties;
    for (const q of Object.keys(query ?? {}))
      assert.ok(
        params.some((x) => x.in === 'query' && x.name === q),
        `${name}: query parameter ${q} is not described`,
      );
    if (r.schema?.body) assert.ok(op.requestBody, `${name}: its body is not described`);
    const codes = Object.keys(op.responses);
    assert.ok(
      codes.some((c) => /^[23]/.test(c)),
      `${name}: no success answer described (${codes.join(', ')})`,
    );
    for (const [code, resp] of Object.entries(op.responses))
      assert.ok(
        resp.description?.trim() && resp.description !== 'Default Response',
        `${name}: answer ${code} has no description of its own`,
      );
    // The JSON error shape of errors.ts, for some client error and for server errors.
    const isError = (c: string) =>
      op.responses[c]?.content?.['application/json']?.schema?.$ref === '#/components/schemas/ApiError';
    // (Some routes cannot refuse a request: the liveness probe, the static files.)
    for (const c of codes.filter((c) => c.startsWith('4')))
      if (op.responses[c]!.content?.['application/json'])
        assert.ok(isError(c), `${name}: its ${c} is JSON but not the error shape`);
    assert.ok(isError('5XX'), `${name}: no 5XX in the error shape`);
  }
});

test('an admin route names its roles, its security and its 401/403', () => {
  const admin = server.adminRoutes;
  assert.ok(admin.length > 10);
  for (const r of admin) {
    const op = operation(r.method, r.url) as Operation & { security?: Record<string, unknown>[] };
    assert.deepEqual(op.security, [{ adminToken: [] }, { session: [] }], `${r.method} ${r.url}`);
    assert.ok(op.responses['401'] && op.responses['403'], `${r.method} ${r.url}`);
    for (const role of r.allow) assert.match(op.responses['403']!.description!, new RegExp(role));
  }
});

/** What a route answers to a request that carries nothing useful, with and without the admin token. */
test('every status a route answers to a crawl is one the document describes', async () => {
  const consent = 'AAAAAAAAAAAAAAAAAAAAAA';
  const seen: string[] = [];
  for (const r of described()) {
    const op = operation(r.method, r.url)!;
    for (const fill of ['x', consent])
      for (const auth of [undefined, `Bearer ${ADMIN}`]) {
        const url = r.url.replace(/:(\w+)/g, fill);
        const res = await server.app.inject({
          method: r.method as 'GET',
          url,
          headers: {
            ...(auth ? { authorization: auth } : {}),
            ...(r.method === 'GET' || r.method === 'DELETE' ? {} : { 'content-type': 'application/json' }),
          },
          ...(r.method === 'GET' || r.method === 'DELETE' ? {} : { payload: '{}' }),
        });
        const code = String(res.statusCode);
        seen.push(code);
        assert.ok(
          op.responses[code] || op.responses[`${code[0]}XX`],
          `${r.method} ${url} answered ${code}, which its description lacks (${Object.keys(op.responses).join(', ')})`,
        );
      }
  }
  // The crawl reached successes, refusals and authentication failures, not only one kind.
  for (const c of ['200', '204', '400', '401', '403', '404']) assert.ok(seen.includes(c), `no ${c} seen`);
});

test('the committed packages/server/openapi.json is up to date (npm run openapi -w @assent/server)', async () => {
  assert.equal(readFileSync(OPENAPI_FILE, 'utf8'), await generateOpenApi());
});
