import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { verifyExport } from '../src/index.js';
import {
  type Child,
  exited,
  freshPgDatabase,
  ORIGIN,
  post,
  receiptBody,
  startChild,
  tempDir,
} from './helpers.js';

/**
 * Sends receipts from `workers` concurrent loops until `stop()` says so, and returns the
 * receipt IDs that were acknowledged with 201. Connection errors (the server died) end a loop.
 */
const burst = (url: string, workers: number, onAck: (n: number) => void) => {
  const acked: string[] = [];
  let stopped = false;
  const loops = Array.from({ length: workers }, async () => {
    while (!stopped) {
      try {
        const res = await post(url, receiptBody());
        if (res.status === 201) {
          acked.push(((await res.json()) as { id: string }).id);
          onAck(acked.length);
        } else await res.arrayBuffer();
      } catch {
        return;
      }
    }
  });
  return {
    acked,
    stop: () => {
      stopped = true;
    },
    done: Promise.all(loops),
  };
};

const exportOf = async (c: Child) => {
  const res = await fetch(`${c.url}/v1/admin/receipts`, {
    headers: { authorization: 'Bearer the-test-admin-token' },
  });
  assert.equal(res.status, 200);
  return (await res.text()).trim().split('\n').filter(Boolean);
};

const check = async (lines: string[], acked: readonly string[], dataDirs: readonly string[]) => {
  const ids = new Set(lines.map((l) => (JSON.parse(l) as { id: string }).id));
  const lost = acked.filter((id) => !ids.has(id));
  assert.deepEqual(lost, [], `${lost.length} acknowledged receipts lost`);
  const keys = dataDirs.map((d) => readFileSync(join(d, 'signing-key.pub.pem'), 'utf8'));
  const v = await verifyExport(lines, keys);
  assert.ok(v.ok, JSON.stringify(v));
};

describe('durability', () => {
  it('SQLite: every receipt acknowledged with 201 is there after kill -9 mid-burst', async () => {
    const dataDir = tempDir();
    const db = `sqlite:${join(dataDir, 'receipts.db')}`;
    const first = await startChild({ db, dataDir });
    let killed = false;
    const b = burst(first.url, 32, (n) => {
      if (n >= 400 && !killed) {
        killed = true;
        first.proc.kill('SIGKILL');
      }
    });
    await exited(first.proc);
    b.stop();
    await b.done;
    assert.equal(first.proc.signalCode, 'SIGKILL');
    assert.ok(b.acked.length >= 400);

    const second = await startChild({ db, dataDir });
    const lines = await exportOf(second);
    await check(lines, b.acked, [dataDir]);
    // Nothing is half-written either: the chain continues where it stopped.
    assert.equal((await post(second.url, receiptBody())).status, 201);
    second.proc.kill('SIGTERM');
    await exited(second.proc);
    assert.equal(second.proc.exitCode, 0, 'graceful shutdown exits 0');
  });

  it('SIGTERM lets in-flight receipts commit and answer 201 before the process exits', async () => {
    const dataDir = tempDir();
    const db = `sqlite:${join(dataDir, 'receipts.db')}`;
    const child = await startChild({ db, dataDir });
    let signalled = false;
    let ackedAfterSignal = 0;
    const b = burst(child.url, 32, (n) => {
      if (signalled) ackedAfterSignal++;
      else if (n >= 200) {
        signalled = true;
        child.proc.kill('SIGTERM');
      }
    });
    await exited(child.proc);
    b.stop();
    await b.done;
    assert.equal(child.proc.exitCode, 0, child.output());
    assert.ok(ackedAfterSignal > 0, 'requests in flight at SIGTERM were answered 201');
    const again = await startChild({ db, dataDir });
    await check(await exportOf(again), b.acked, [dataDir]);
    again.proc.kill('SIGTERM');
    await exited(again.proc);
  });

  it('PostgreSQL: two server processes, one killed mid-burst, keep one correct chain and every acknowledged receipt', async () => {
    const { url, drop } = await freshPgDatabase();
    try {
      // Each process keeps its own key: the export verifies against both public keys.
      const dirs = [tempDir(), tempDir()];
      const a = await startChild({ db: url, dataDir: dirs[0]! });
      const c = await startChild({ db: url, dataDir: dirs[1]! });
      let killed = false;
      const ba = burst(a.url, 16, (n) => {
        if (n >= 300 && !killed) {
          killed = true;
          a.proc.kill('SIGKILL');
        }
      });
      const bc = burst(c.url, 16, () => {});
      await exited(a.proc);
      ba.stop();
      await ba.done;
      // Keep the survivor writing a little longer, then stop it gracefully.
      await new Promise((r) => setTimeout(r, 300));
      bc.stop();
      await bc.done;
      const lines = await exportOf(c);
      // The policy both processes publish (once: the second found it current), then receipts.
      assert.equal(JSON.parse(lines[0]!).type, 'policy');
      assert.equal(lines.filter((l) => JSON.parse(l).type === 'policy').length, 1);
      assert.ok(lines.slice(1).every((l) => JSON.parse(l).site === ORIGIN));
      const seqs = lines.slice(1).map((l) => (JSON.parse(l) as { seq: number }).seq);
      assert.deepEqual(
        seqs,
        seqs.map((_, i) => i + 1),
        'one gap-free chain',
      );
      await check(lines, [...ba.acked, ...bc.acked], dirs);
      c.proc.kill('SIGTERM');
      await exited(c.proc);
    } finally {
      await drop();
    }
  });
});
