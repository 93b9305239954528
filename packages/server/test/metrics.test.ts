import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type AssentServer, createServer } from '../src/server.js';
import { OTHER, receiptBody, SITE_CONFIG } from './helpers.js';

const METRICS = 'metrics-token-for-the-test';
const ADMIN = 'admin-token-for-the-test';
const IP = '203.0.113.7';
let server: AssentServer;

before(async () => {
  server = await createServer({
    db: 'sqlite::memory:',
    sites: { [OTHER]: SITE_CONFIG },
    adminToken: ADMIN,
    metricsToken: METRICS,
    logger: false,
    log: false,
    retention: { days: 365, intervalMs: 3_600_000 },
  });
});
after(() => server.close());

const post = (body: unknown, headers: Record<string, string> = { origin: OTHER }) =>
  server.app.inject({
    method: 'POST',
    url: '/v1/receipts',
    remoteAddress: IP,
    headers: { 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
const scrape = (auth?: string) =>
  server.app.inject({ url: '/metrics', remoteAddress: IP, headers: auth ? { authorization: auth } : {} });
const value = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

test('the counters equal what the requests caused; no label holds a consent ID or an IP', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const b = receiptBody({ page: { origin: OTHER, path: '/x' } });
    ids.push(b.consentId as string);
    assert.equal((await post(b)).statusCode, 201);
  }
  assert.equal(
    (await post(receiptBody({ mode: 'nope', page: { origin: OTHER, path: '/' } }))).statusCode,
    400,
  );
  assert.equal((await post(receiptBody({ lang: 5, page: { origin: OTHER, path: '/' } }))).statusCode, 400);
  assert.equal((await post('{not json')).statusCode, 400);
  assert.equal((await post(receiptBody({ page: { origin: OTHER, path: '/' } }), {})).statusCode, 403);
  const stale = receiptBody({
    policy: { version: 'v0', sha256: 'a'.repeat(64) },
    page: { origin: OTHER, path: '/' },
  });
  assert.equal((await post(stale)).statusCode, 409);
  // A visitor's history: its URL holds a consent ID, which must not become a label.
  assert.equal(
    (await server.app.inject({ url: `/v1/consents/${ids[0]}`, remoteAddress: IP })).statusCode,
    200,
  );
  // A checkpoint, so the site has an age.
  const cp = await server.app.inject({
    method: 'POST',
    url: `/v1/admin/log/checkpoint?site=${encodeURIComponent(OTHER)}`,
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  assert.equal(cp.statusCode, 200);

  const r = await scrape(`Bearer ${METRICS}`);
  assert.equal(r.statusCode, 200);
  assert.match(String(r.headers['content-type']), /^text\/plain/);
  const t = r.body;
  assert.equal(value(t, 'assent_receipts_stored_total'), 3);
  assert.equal(value(t, 'assent_receipts_refused_total{reason="ASSENT_BAD_FIELD"}'), 2);
  assert.equal(value(t, 'assent_receipts_refused_total{reason="ASSENT_INVALID_JSON"}'), 1);
  assert.equal(value(t, 'assent_receipts_refused_total{reason="ASSENT_ORIGIN_REQUIRED"}'), 1);
  assert.equal(value(t, 'assent_receipts_refused_total{reason="ASSENT_POLICY_MISMATCH"}'), 1);
  assert.equal(value(t, 'assent_writer_batch_receipts_sum'), 3);
  assert.equal(value(t, 'assent_writer_queue_receipts'), 0);
  assert.equal(
    value(t, 'assent_http_request_duration_seconds_count{route="/v1/receipts",method="POST",status="2xx"}'),
    3,
  );
  assert.equal(
    value(t, 'assent_http_request_duration_seconds_count{route="/v1/receipts",method="POST",status="4xx"}'),
    5,
  );
  assert.equal(
    value(
      t,
      'assent_http_request_duration_seconds_count{route="/v1/consents/:id",method="GET",status="2xx"}',
    ),
    1,
  );
  const age = value(t, `assent_log_checkpoint_age_seconds{site="${OTHER}"}`);
  assert.ok(age !== undefined && age >= 0 && age < 60, `checkpoint age ${age}`);
  assert.ok(value(t, 'process_cpu_user_seconds_total') !== undefined, 'default process metrics');
  const labels = [...t.matchAll(/\w+="([^"]*)"/g)].map((m) => m[1]!);
  assert.ok(labels.length > 10);
  for (const l of labels) {
    assert.ok(!l.includes(IP), `a label holds the client's IP: ${l}`);
    for (const id of ids) assert.ok(!l.includes(id), `a label holds a consent ID: ${l}`);
  }
});

test('/metrics answers 401 without a token, with a wrong one, and on a server that has none', async () => {
  assert.equal((await scrape()).statusCode, 401);
  const wrong = await scrape('Bearer nope');
  assert.equal(wrong.statusCode, 401);
  assert.equal(wrong.json().error, 'ASSENT_UNAUTHORIZED');
  assert.equal((await scrape(`Bearer ${ADMIN}`)).statusCode, 200);
  const bare = await createServer({ db: 'sqlite::memory:', logger: false, log: false, retention: false });
  try {
    const r = await bare.app.inject({ url: '/metrics', headers: { authorization: 'Bearer ' } });
    assert.equal(r.statusCode, 401);
    assert.match(r.json().message, /metricsToken/);
  } finally {
    await bare.close();
  }
});

test('each server has its own registry', async () => {
  const other = await createServer({ db: 'sqlite::memory:', logger: false, log: false, retention: false });
  try {
    assert.notEqual(other.metrics.registry, server.metrics.registry);
    const t = await other.metrics.registry.metrics();
    assert.equal(value(t, 'assent_receipts_stored_total'), 0);
  } finally {
    await other.close();
  }
});
