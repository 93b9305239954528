import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createServer } from '../../src/index.js';
import { REQUEST_TIMEOUT_MS, SHUTDOWN_GRACE_MS } from '../../src/server.js';
import { exited, ORIGIN, receiptBody, SITES, tempDir } from '../helpers.js';
import { Fleet, sleep } from './harness.js';

/**
 * A client that sends a request's headers and part of its body, then nothing: Fastify's
 * requestTimeout defaulted to 0 (no limit) and close() waited for every connection, so after
 * SIGTERM the process stayed up until systemd's SIGKILL (TimeoutStopSec, 30 s).
 */
const stall = (port: number): { socket: Socket; answer: Promise<string> } => {
  const socket = connect(port, '127.0.0.1');
  const body = JSON.stringify(receiptBody());
  socket.write(
    `POST /v1/receipts HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: ${ORIGIN}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 40)}`,
  );
  let got = '';
  socket.on('data', (d) => {
    got += d;
  });
  socket.on('error', () => {});
  return { socket, answer: new Promise((r) => socket.on('close', () => r(got))) };
};

/** Resolves with what happened first: `p`, or 'timeout' after `ms`. */
const within = <T>(p: Promise<T>, ms: number) => Promise.race([p, sleep(ms).then(() => 'timeout' as const)]);

describe('shutdown and stalled clients', { timeout: 120_000, concurrency: true }, () => {
  it(`after SIGTERM the process exits 0 within ${SHUTDOWN_GRACE_MS / 1000} s and a little, though a client stalls mid-body`, async () => {
    const base = tempDir('assent-reliability-shutdown-');
    const dataDir = join(base, 'data');
    const fleet = new Fleet();
    try {
      const server = await fleet.start(`sqlite:${join(dataDir, 'receipts.db')}`, dataDir);
      const port = Number(new URL(server.url).port);
      const stalled = stall(port);
      // The server has the headers and the start of the body, and waits for the rest.
      await sleep(300);
      const t0 = Date.now();
      server.proc.kill('SIGTERM');
      const bound = SHUTDOWN_GRACE_MS + 8_000;
      const end = await within(exited(server.proc), bound);
      const took = Date.now() - t0;
      assert.notEqual(
        end,
        'timeout',
        `still running ${bound / 1000} s after SIGTERM, held by the stalled client:\n${server.output().slice(-2000)}`,
      );
      assert.equal(server.proc.exitCode, 0, server.output().slice(-2000));
      assert.match(server.output(), /closing the connections still open after/);
      assert.equal(await within(stalled.answer, 1000), '', 'the stalled request got no answer: it was cut');
      assert.ok(took < bound, `exited after ${took} ms`);
    } finally {
      await fleet.dispose(base);
    }
  });

  it(`a request that does not arrive whole within ${REQUEST_TIMEOUT_MS / 1000} s is answered 408 and its connection closed`, async () => {
    const s = await createServer({
      db: `sqlite:${join(tempDir(), 'receipts.db')}`,
      sites: SITES,
      logger: false,
      log: false,
      retention: false,
      webhooks: false,
    });
    let stalled: ReturnType<typeof stall> | undefined;
    try {
      await s.app.listen({ port: 0, host: '127.0.0.1' });
      const port = (s.app.server.address() as { port: number }).port;
      const t0 = Date.now();
      stalled = stall(port);
      // Node checks its connections once a second: the limit plus that, and a margin for a busy machine.
      const answer = await within(stalled.answer, REQUEST_TIMEOUT_MS + 10_000);
      assert.notEqual(answer, 'timeout', 'the stalled request was never answered');
      assert.match(answer, /^HTTP\/1\.1 408 /);
      assert.match(answer, /"error":"ASSENT_BAD_REQUEST"/);
      assert.ok(Date.now() - t0 >= REQUEST_TIMEOUT_MS - 100, 'not before the limit');
    } finally {
      stalled?.socket.destroy();
      await s.close();
    }
  });
});
