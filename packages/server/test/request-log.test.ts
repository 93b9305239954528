import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createServer, openStore, type Store } from '../src/index.js';
import { consentId, ORIGIN, receiptBody, SITES, tempDir } from './helpers.js';

/** Every line a server logs, parsed. */
const memoryLog = () => {
  const lines: Record<string, unknown>[] = [];
  return { lines, stream: { write: (l: string) => void lines.push(JSON.parse(l)) } };
};

/** A store whose writes fail (SQLITE_FULL, as on a full disk) while `broken` is set. */
const faulty = (inner: Store) => {
  const state = { broken: false };
  const store = new Proxy(inner, {
    get: (t, k) => {
      if (k === 'append' || k === 'probeWrite')
        return (...args: unknown[]) =>
          state.broken
            ? Promise.reject(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }))
            : (t[k] as (...a: unknown[]) => Promise<unknown>).apply(t, args);
      return Reflect.get(t, k);
    },
  });
  return { store, state };
};

const IP = '203.0.113.91';

/**
 * Fastify logged two lines per request at info ("incoming request", "request completed"): a
 * 15 s disk-full episode wrote 113,187 lines (17.8 MB) beside 5 throttled error lines, filling
 * the disk the throttling was there to spare.
 */
describe('the request log', () => {
  it('at the default level (info) writes nothing per request; answers of 500 or more are one error line per route and status per window', async () => {
    const log = memoryLog();
    const { store, state } = faulty(openStore(`sqlite:${join(tempDir(), 'receipts.db')}`));
    const s = await createServer({
      store,
      sites: SITES,
      rateLimit: false,
      retention: false,
      log: false,
      webhooks: false,
      trustProxy: true,
      logger: { level: 'info', stream: log.stream },
    });
    try {
      const post = (body: unknown = receiptBody()) =>
        s.app.inject({
          method: 'POST',
          url: '/v1/receipts',
          headers: { 'content-type': 'application/json', origin: ORIGIN, 'x-forwarded-for': IP },
          payload: JSON.stringify(body),
        });
      const before = log.lines.length;
      for (let i = 0; i < 100; i++) assert.equal((await post()).statusCode, 201);
      for (let i = 0; i < 50; i++)
        assert.equal((await post({ ...receiptBody(), mode: 'x' })).statusCode, 400);
      for (let i = 0; i < 50; i++)
        assert.equal((await s.app.inject(`/v1/consents/${consentId()}`)).statusCode, 404);
      assert.equal((await s.app.inject('/readyz')).statusCode, 200);
      assert.deepEqual(log.lines.slice(before), [], 'no line for 201, 200, 400 or 404 at info');

      // Every write fails: 1,000 refusals, a handful of lines.
      state.broken = true;
      const failing = log.lines.length;
      for (let i = 0; i < 1000; i++) assert.equal((await post()).statusCode, 503);
      const lines = log.lines.slice(failing);
      assert.deepEqual(lines.map((l) => l.msg).sort(), [
        'POST /v1/receipts answered 503',
        'receipt not stored',
      ]);
      const answered = lines.find((l) => l.msg === 'POST /v1/receipts answered 503')!;
      assert.equal(answered.level, 50, 'at error');
      assert.equal(answered.route, '/v1/receipts');
      assert.equal(answered.statusCode, 503);
      const text = JSON.stringify(log.lines);
      assert.ok(!text.includes(IP), 'no IP is logged');
      assert.ok(!text.includes('"consentId"'), 'no body is logged');
    } finally {
      await s.close();
    }
  });

  it('at debug logs each refusal (4xx), its URL with the consent ID redacted, no IP; successes only at trace', async () => {
    const log = memoryLog();
    const s = await createServer({
      db: 'sqlite::memory:',
      sites: SITES,
      rateLimit: false,
      retention: false,
      log: false,
      webhooks: false,
      trustProxy: true,
      logger: { level: 'debug', stream: log.stream },
    });
    try {
      const id = consentId();
      const before = log.lines.length;
      const headers = { 'x-forwarded-for': IP };
      assert.equal((await s.app.inject({ url: `/v1/consents/${id}`, headers })).statusCode, 404);
      assert.equal((await s.app.inject({ url: '/healthz', headers })).statusCode, 200);
      const lines = log.lines.slice(before);
      assert.equal(lines.length, 1, JSON.stringify(lines));
      assert.equal(lines[0]!.msg, 'request refused');
      assert.equal(lines[0]!.level, 20);
      assert.deepEqual(lines[0]!.req, { method: 'GET', url: '/v1/consents/:id' });
      assert.deepEqual(lines[0]!.res, { statusCode: 404 });
      assert.ok(!JSON.stringify(log.lines).includes(IP), 'no IP is logged');
      assert.ok(!JSON.stringify(log.lines).includes(id), 'no consent ID is logged');
    } finally {
      await s.close();
    }
  });
});
