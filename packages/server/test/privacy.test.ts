import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { InjectOptions } from 'fastify';
import pino from 'pino';
import { createServer } from '../src/index.js';
import { purgeExpired } from '../src/retention.js';
import { newReceipt, ORIGIN, receiptBody, SITES, tempDir } from './helpers.js';

const IP = '203.0.113.77';
const IP6 = '2001:db8::77';

describe('privacy', () => {
  it('never writes the raw IP to the database or the logs, whatever the request', async () => {
    const dir = tempDir();
    const logFile = join(dir, 'server.log');
    const s = await createServer({
      db: `sqlite:${join(dir, 'receipts.db')}`,
      sites: SITES,
      adminToken: 'tlog-test-admin-token',
      trustProxy: true,
      logger: { level: 'debug', stream: pino.destination({ dest: logFile, sync: true }) },
      rateLimit: { max: 10, timeWindow: 60_000 },
      retention: false,
    });
    const send = (ip: string, opts: InjectOptions) =>
      s.app.inject({ ...opts, headers: { 'x-forwarded-for': ip, 'x-real-ip': ip, ...opts.headers } });
    const bodies = [receiptBody(), receiptBody()];
    for (const [i, ip] of [IP, IP6].entries()) {
      const ok = await send(ip, {
        method: 'POST',
        url: '/v1/receipts',
        headers: { origin: ORIGIN },
        payload: bodies[i]!,
      });
      assert.equal(ok.statusCode, 201, ok.body);
      await send(ip, {
        method: 'POST',
        url: '/v1/receipts',
        headers: { origin: ORIGIN },
        payload: { ...bodies[i], choices: { x: true } },
      });
      await send(ip, {
        method: 'POST',
        url: '/v1/receipts',
        headers: { 'content-type': 'text/plain' },
        payload: 'x',
      });
      await send(ip, {
        method: 'POST',
        url: '/v1/receipts',
        headers: { 'content-type': 'application/json' },
        payload: '{',
      });
      await send(ip, { method: 'POST', url: `/v1/consents/${bodies[i]!.consentId}/withdraw` });
      await send(ip, { url: `/consent/${bodies[i]!.consentId}` });
      await send(ip, { url: '/v1/admin/receipts', headers: { authorization: 'Bearer wrong' } });
      await send(ip, { url: '/nothing' });
      await send(ip, { url: '/healthz' });
      const codes: number[] = [];
      for (let n = 0; n < 6; n++)
        codes.push((await send(ip, { url: `/v1/consents/${bodies[i]!.consentId}` })).statusCode);
      assert.ok(codes.includes(429), 'this visitor was rate-limited');
    }
    const exp = await s.app.inject({
      url: '/v1/admin/receipts',
      headers: { authorization: 'Bearer tlog-test-admin-token' },
    });
    const lines = exp.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // The export starts with the policy the receipts name.
    assert.equal(lines[0].type, 'policy');
    const receipts = lines.slice(1);
    assert.equal(receipts.length, 4);
    // The same visitor gets the same hash within a day; another visitor another hash.
    assert.equal(receipts[0].ipHash, receipts[1].ipHash);
    assert.equal(receipts[2].ipHash, receipts[3].ipHash);
    assert.notEqual(receipts[0].ipHash, receipts[2].ipHash);
    await s.close();

    const log = readFileSync(logFile, 'utf8');
    // At debug every refusal (4xx) is logged with its URL (successes only at trace).
    assert.match(log, /request refused/, 'requests were logged');
    assert.match(log, /"statusCode":429/, 'the rate limit was hit and logged');
    const files = readdirSync(dir).filter((f) => f.startsWith('receipts.db'));
    assert.ok(files.length >= 1);
    for (const f of [...files, 'server.log']) {
      const bytes = readFileSync(join(dir, f));
      for (const ip of [IP, IP6, '203.0.113', '2001:db8::']) {
        assert.equal(bytes.indexOf(ip), -1, `${ip} found in ${f}`);
        assert.equal(bytes.indexOf(Buffer.from(ip, 'utf16le')), -1, `${ip} (UTF-16) found in ${f}`);
      }
    }
  });

  it('leaves no byte of an erased or purged consent in the SQLite files, running or closed', async () => {
    const dir = tempDir();
    const s = await createServer({
      db: `sqlite:${join(dir, 'receipts.db')}`,
      sites: SITES,
      adminToken: 'privacy-test-admin-token',
      logger: false,
      log: false,
      retention: false,
    });
    const erased = receiptBody();
    const kept = receiptBody();
    for (const body of [erased, kept, { ...erased, method: 'reject-all', choices: {} }]) {
      const r = await s.app.inject({
        method: 'POST',
        url: '/v1/receipts',
        headers: { origin: ORIGIN },
        payload: body,
      });
      assert.equal(r.statusCode, 201, r.body);
    }
    // One whose time ran out long ago, for retention to purge.
    const expired = receiptBody();
    await s.store.append(
      [newReceipt(s.signer.kid, { expiresAt: '2020-01-01T00:00:00.000Z' }, expired)],
      s.signer,
    );
    const res = await s.app.inject({
      method: 'POST',
      url: '/v1/admin/erasures',
      headers: { authorization: 'Bearer privacy-test-admin-token' },
      payload: { site: ORIGIN, consentId: erased.consentId },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(await purgeExpired({ store: s.store }, 30), 1);
    const traces = () =>
      readdirSync(dir)
        .filter((f) => f.startsWith('receipts.db'))
        .flatMap((f) => {
          const bytes = readFileSync(join(dir, f));
          return [erased.consentId, expired.consentId, kept.consentId]
            .filter((id) => bytes.indexOf(id) !== -1)
            .map(
              (id) =>
                `${id === kept.consentId ? 'kept' : id === erased.consentId ? 'erased' : 'expired'} in ${f}`,
            );
        });
    // Running: secure_delete zeroed what was cleared, and the checkpoint emptied the WAL.
    assert.deepEqual(
      traces().filter((t) => !t.startsWith('kept')),
      [],
    );
    assert.ok(
      traces().some((t) => t.startsWith('kept')),
      'the kept consent is there (the search works)',
    );
    await s.close();
    assert.deepEqual(
      traces().filter((t) => !t.startsWith('kept')),
      [],
    );
  });

  it('empties the WAL of an erased consent once a reader that held the checkpoint back is done', async () => {
    const dir = tempDir();
    const file = join(dir, 'receipts.db');
    const s = await createServer({
      db: `sqlite:${file}`,
      sites: SITES,
      adminToken: 'privacy-test-admin-token',
      logger: false,
      log: false,
      retention: false,
    });
    const reader = new Database(file, { readonly: true });
    try {
      const erased = receiptBody();
      const r = await s.app.inject({
        method: 'POST',
        url: '/v1/receipts',
        headers: { origin: ORIGIN },
        payload: erased,
      });
      assert.equal(r.statusCode, 201, r.body);
      const inWal = () => readFileSync(`${file}-wal`).indexOf(erased.consentId) !== -1;
      // A reader mid-export: its snapshot keeps the erasure's checkpoint from finishing.
      reader.exec('BEGIN');
      reader.prepare('SELECT count(*) FROM receipts').get();
      const res = await s.app.inject({
        method: 'POST',
        url: '/v1/admin/erasures',
        headers: { authorization: 'Bearer privacy-test-admin-token' },
        payload: { site: ORIGIN, consentId: erased.consentId },
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.ok(inWal(), 'held back by the reader, the WAL still has the consent ID (the test sees it)');
      reader.exec('COMMIT');
      // Retried a second later, without waiting for another purge or erasure.
      for (let i = 0; i < 40 && inWal(); i++) await new Promise((t) => setTimeout(t, 100));
      assert.ok(!inWal(), 'the WAL was emptied once the reader was done');
    } finally {
      reader.close();
      await s.close();
    }
  });

  it('deletes the IP hash’s old salts with retention off too', async () => {
    const s = await createServer({
      db: 'sqlite::memory:',
      sites: SITES,
      logger: false,
      log: false,
      retention: false,
    });
    try {
      assert.equal(await s.store.salt('2020-01-01', 'old-salt'), 'old-salt');
      // The job's first run comes a second after the start.
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(await s.store.salt('2020-01-01', 'fresh'), 'fresh', 'the old day’s salt was deleted');
    } finally {
      await s.close();
    }
  });
});
