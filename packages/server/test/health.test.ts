import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import SQLite from 'better-sqlite3';
import { freePort } from '../../../test-support/ports.js';
import { createServer, openStore, type Store } from '../src/index.js';
import { ORIGIN, receiptBody, SITES, tempDir } from './helpers.js';

const BIN = fileURLToPath(new URL('../bin/assent-server.js', import.meta.url));

/**
 * A store whose writes fail while `broken` is set, as on a full disk: every append and every
 * probe throws SQLite's SQLITE_FULL. Reads keep working (a full disk still reads).
 */
const faulty = (inner: Store) => {
  const state = { broken: false };
  const full = () => Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
  const store = new Proxy(inner, {
    get: (t, k) => {
      if (k === 'append' || k === 'probeWrite')
        return (...args: unknown[]) =>
          state.broken
            ? Promise.reject(full())
            : (t[k] as (...a: unknown[]) => Promise<unknown>).apply(t, args);
      return Reflect.get(t, k);
    },
  });
  return { store, state };
};

describe('honest health under faults', () => {
  it('/readyz is 503 while writes fail, and 200 again once they succeed; the log says so once', async () => {
    const { store, state } = faulty(openStore(`sqlite:${join(tempDir(), 'receipts.db')}`));
    let log = '';
    const s = await createServer({
      store,
      sites: SITES,
      rateLimit: false,
      retention: false,
      logger: {
        level: 'info',
        stream: new Writable({
          write(c, _e, cb) {
            log += c;
            cb();
          },
        }),
      },
    });
    const post = () =>
      s.app.inject({
        method: 'POST',
        url: '/v1/receipts',
        headers: { 'content-type': 'application/json', origin: ORIGIN },
        payload: JSON.stringify(receiptBody()),
      });
    assert.equal((await post()).statusCode, 201);
    assert.equal((await s.app.inject('/readyz')).statusCode, 200);

    state.broken = true;
    for (let i = 0; i < 50; i++) {
      const r = await post();
      assert.equal(r.statusCode, 503);
      assert.equal(r.json().error, 'ASSENT_UNAVAILABLE');
    }
    const down = await s.app.inject('/readyz');
    assert.equal(down.statusCode, 503);
    assert.deepEqual(Object.keys(down.json()).sort(), ['error', 'field', 'message']);
    assert.match(down.json().message, /SQLITE_FULL/);
    // 50 failed receipts, one line: identical errors are logged once per window.
    assert.equal(log.match(/receipt not stored/g)?.length, 1, 'one line for 50 identical failures');

    // The disk has room again: readiness's own probe write succeeds, with no receipt needed
    // (a balancer that took the server out sends none).
    state.broken = false;
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await s.app.inject('/readyz')).statusCode, 200);
    assert.equal((await post()).statusCode, 201);
    await s.close();
  });

  it("SQLite's readiness probe needs room to grow, not only a one-row write (a full disk still takes that)", async () => {
    const file = join(tempDir(), 'receipts.db');
    const store = openStore(`sqlite:${file}`);
    await store.migrate();
    try {
      await store.probeWrite('2026-01-01T00:00:00.000Z', 1 << 20);
      assert.equal(existsSync(`${file}-probe`), false, 'the room probe leaves no file behind');
      // Where the probe's file would go, nothing can be written (as on a full disk: ENOSPC).
      mkdirSync(`${file}-probe`);
      await store.probeWrite('2026-01-01T00:00:01.000Z');
      await assert.rejects(store.probeWrite('2026-01-01T00:00:02.000Z', 1 << 20), { code: 'EISDIR' });
    } finally {
      await store.close();
    }
  });

  it('a read-only (immutable) database at start is exit code 3 with a clear message, not a crash loop', () => {
    const dir = tempDir();
    const conf = join(dir, 'conf.json');
    writeFileSync(conf, JSON.stringify({ sites: SITES }));
    const args = ['--config', conf, '--data-dir', dir];
    const env = { ...process.env, ASSENT_LOG_LEVEL: 'warn' };
    const migrated = spawnSync(process.execPath, [BIN, 'migrate', ...args], { env, encoding: 'utf8' });
    assert.equal(migrated.status, 0, migrated.stderr);
    const db = join(dir, 'receipts.db');
    // chattr +i: even root cannot write it (as a read-only mount would be).
    execFileSync('chattr', ['+i', db]);
    try {
      const r = spawnSync(process.execPath, [BIN, 'start', ...args, '--port', '0'], {
        env,
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(r.status, 3, r.stderr);
      assert.match(r.stderr, /receipts\.db cannot be written \(SQLITE_READONLY\)/);
    } finally {
      execFileSync('chattr', ['-i', db]);
    }
  });

  it('a database made immutable while the server runs is 503 and /readyz 503, then recovers: no SIGBUS, no -shm to map', async () => {
    const dir = tempDir();
    const conf = join(dir, 'conf.json');
    writeFileSync(conf, JSON.stringify({ sites: SITES }));
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [BIN, 'start', '--config', conf, '--data-dir', dir, '--port', String(port)],
      {
        env: { ...process.env, ASSENT_LOG_LEVEL: 'warn', ASSENT_RATE_LIMIT: 'off' },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    const exited = new Promise<{ code: number | null; signal: string | null }>((r) =>
      child.on('exit', (code, signal) => r({ code, signal })),
    );
    const base = `http://127.0.0.1:${port}`;
    const post = () =>
      fetch(`${base}/v1/receipts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: ORIGIN },
        body: JSON.stringify(receiptBody()),
      });
    const db = join(dir, 'receipts.db');
    // Everything of the database there is (an operator's `chattr +i receipts.db*`); with the
    // default VFS that includes the mapped `-shm`, whose next write is SIGBUS.
    const files = () => [db, `${db}-wal`, `${db}-shm`].filter((f) => existsSync(f));
    let stored = 0;
    try {
      for (let i = 0; ; i++) {
        const up = await fetch(`${base}/readyz`).catch(() => undefined);
        if (up?.status === 200) break;
        assert.ok(i < 300 && child.exitCode === null, `server did not start: ${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      for (let i = 0; i < 20; i++) {
        assert.equal((await post()).status, 201);
        stored++;
      }
      const frozen = files();
      execFileSync('chattr', ['+i', ...frozen]);
      try {
        for (let i = 0; i < 20; i++) {
          const r = await post();
          assert.equal(r.status, 503);
          assert.equal(((await r.json()) as { error: string }).error, 'ASSENT_UNAVAILABLE');
        }
        const down = await fetch(`${base}/readyz`);
        assert.equal(down.status, 503);
        assert.equal(child.exitCode, null, 'the server is alive');
        assert.equal(child.signalCode, null, 'no signal killed it');
      } finally {
        execFileSync('chattr', ['-i', ...frozen]);
      }
      // Writable again: readiness's own probe brings it back, and receipts are stored.
      for (let i = 0; ; i++) {
        if ((await fetch(`${base}/readyz`)).status === 200) break;
        assert.ok(i < 100, 'ready again');
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal((await post()).status, 201);
      stored++;
      // The WAL index lives on the heap (unix-excl): there is no file for the kernel to map.
      assert.equal(existsSync(`${db}-shm`), false, 'no -shm file');
      // Another process cannot open the file mid-write.
      const other = spawnSync(
        process.execPath,
        [
          '-e',
          `new (require('better-sqlite3'))(${JSON.stringify(db)}, { timeout: 200 }).prepare('select 1').get()`,
        ],
        {
          encoding: 'utf8',
          cwd: dir,
          env: { ...process.env, NODE_PATH: join(BIN, '../../../../node_modules') },
        },
      );
      assert.match(other.stderr, /database is locked/);
      // A second server on the same file is told so (exit 3), as is the CLI's export (exit 3 too).
      const second = spawnSync(
        process.execPath,
        [BIN, 'start', '--config', conf, '--data-dir', dir, '--port', String(await freePort())],
        { env: { ...process.env, ASSENT_LOG_LEVEL: 'warn' }, encoding: 'utf8', timeout: 60_000 },
      );
      assert.equal(second.status, 3, second.stderr);
      assert.match(second.stderr, /receipts\.db is held by another process/);
      const exp = spawnSync(process.execPath, [BIN, 'export', '--config', conf, '--data-dir', dir], {
        env: { ...process.env, ASSENT_LOG_LEVEL: 'warn' },
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(exp.status, 3, exp.stderr);
      assert.match(exp.stderr, /held by a running assent-server .*GET \/v1\/admin\/receipts/);
    } finally {
      child.kill('SIGTERM');
    }
    const end = await exited;
    assert.deepEqual(end, { code: 0, signal: null }, stderr);
    // Every 201 is on disk, nothing from the refused requests.
    const check = new SQLite(db, { readonly: true });
    assert.equal((check.prepare('select count(*) n from receipts').get() as { n: number }).n, stored);
    check.close();
  });
});
