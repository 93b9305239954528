import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { tempDir } from '../helpers.js';
import { fullDisk } from './full-disk.js';
import { assertNoClientTraces, assertNothingLost, exportAndVerify, Fleet, until } from './harness.js';
import { type Allowed, isApiError, type Load, NORMAL, startLoad, tallyLines } from './load.js';
import { PROFILE, SEED } from './profile.js';

const run = promisify(execFile);

/** A file's size, 0 when there is none. */
const sizeOf = (path: string) => {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
};

/** While the disk is full (and just after it is freed), a write may also be 503: nothing written, retry. */
const allowed: Allowed = (kind, status, phase) =>
  NORMAL(kind, status, phase) || (!phase.startsWith('up') && kind !== 'read' && status === 503);

/** Answers in a phase, whatever they were. */
const seen = (l: Load, phase: string) =>
  [...l.tally].filter(([k]) => k.startsWith(`${phase} `)).reduce((n, [, v]) => n + v, 0);

describe('a full disk under load', { timeout: PROFILE.timeoutMs }, () => {
  it(`SQLite, ${PROFILE.diskFulls} time(s): writes answer 503 with JSON, /readyz 503, then recover without a restart; nothing acknowledged lost`, async (t) => {
    const seed = SEED + 31;
    const base = tempDir('assent-reliability-disk-');
    const disk = await fullDisk(base);
    const db = `sqlite:${join(disk.dir, 'receipts.db')}`;
    const fleet = new Fleet();
    let load: Load | undefined;
    try {
      const server = await fleet.start(db, disk.dir);
      const pid = server.proc.pid!;
      const alive = () =>
        assert.ok(
          server.proc.exitCode === null && server.proc.signalCode === null,
          `the server process died (${server.proc.exitCode ?? server.proc.signalCode}):\n${server.output().slice(-1500)}`,
        );
      load = startLoad({ target: () => server.url, workers: 16, seed, allowed });
      const l = load;
      /** Per full disk: what /readyz answered while every write was refused. */
      const readyWhileFull: number[] = [];
      for (let i = 0; i < PROFILE.diskFulls; i++) {
        l.phase(`up ${i}`);
        const a = l.acked.length;
        await until(() => l.acked.length >= a + 150);
        l.phase(`full ${i}`);
        await disk.fill(pid);
        // Writes inside space SQLite already holds may still succeed for a while (readiness is
        // then honestly 200 again); then every write needs a new page and fails, one after
        // the other. Then readiness must say so.
        await until(() => l.streak() >= 40 || seen(l, `full ${i}`) >= 5000);
        assert.ok(l.streak() >= 40, `writes keep failing on a full disk: ${tallyLines(l)}`);
        alive();
        const ready = await fetch(`${server.url}/readyz`);
        const readyText = await ready.text();
        if (ready.status === 503) assert.ok(isApiError(JSON.parse(readyText)), readyText);
        // Counted only if no write succeeded meanwhile (then 200 would be the truth).
        if (l.streak() >= 40) readyWhileFull.push(ready.status);
        l.phase(`freed ${i}`);
        await disk.free(pid);
        const b = l.acked.length;
        await until(() => l.acked.length >= b + 150);
        alive();
        assert.equal((await fetch(`${server.url}/readyz`)).status, 200, '/readyz is back to 200');
      }
      l.phase('up end');
      await l.stop();
      await fleet.stop(server);

      t.diagnostic(`disk: ${disk.kind}; ${tallyLines(l).join(', ')}`);
      const ex = await exportAndVerify(db, [disk.dir], join(base, 'export.ndjson'));
      const c = assertNothingLost(ex, l.acked);
      const refused = [...l.tally].filter(([k]) => k.endsWith(' 503')).reduce((n, [, v]) => n + v, 0);
      const scanned = await assertNoClientTraces({ dirs: [base], logs: fleet.logs });
      t.diagnostic(
        `${PROFILE.diskFulls} full disk(s) (${disk.kind}, seed ${seed}): ${refused} writes refused with 503, acknowledged ${l.acked.length}, lost 0, stored ${c.stored}; ${ex.verified}; no client IP or UA in ${(scanned / 1e6).toFixed(1)} MB`,
      );
      assert.deepEqual(
        l.problems,
        [],
        'only 201, 409 or (while the disk is full) 503, each in the documented shape',
      );
      t.diagnostic(`/readyz while every write failed: ${readyWhileFull.join(', ')}`);
      assert.deepEqual(
        readyWhileFull,
        readyWhileFull.map(() => 503),
        '/readyz says 503 while every write fails',
      );
    } finally {
      await load?.stop();
      await fleet.dispose(base);
      await disk.dispose();
    }
  });

  // The `rlimit` fallback above sets the limit to 0, under any file: readiness's probe (which
  // wrote a fresh 1 MiB file beside the database) failed too. A real LimitFSIZE (systemd) or
  // `ulimit -f` sits above the database's size: the probe's fresh file fitted under it, and
  // /readyz said 200 while every receipt failed with EFBIG.
  it('SQLite, a per-file size limit (LimitFSIZE) just above the database: /readyz 503 while every write fails, then recovery', async (t) => {
    const seed = SEED + 37;
    const base = tempDir('assent-reliability-fsize-');
    const dataDir = join(base, 'data');
    const file = join(dataDir, 'receipts.db');
    const db = `sqlite:${file}`;
    const fleet = new Fleet();
    let load: Load | undefined;
    try {
      const server = await fleet.start(db, dataDir);
      const pid = server.proc.pid!;
      const largest = () => Math.max(sizeOf(file), sizeOf(`${file}-wal`));
      load = startLoad({ target: () => server.url, workers: 16, seed, allowed });
      const l = load;
      l.phase('up');
      // Larger than the probe's 1 MiB, with room to spare: a fresh file that size fits under the limit.
      await until(() => largest() > 1.5 * (1 << 20) && l.acked.length >= 150);
      const limit = largest() + (64 << 10);
      l.phase('limited');
      await run('prlimit', ['--pid', String(pid), `--fsize=${limit}:unlimited`]);
      // The WAL cycles within its size and the file grows up to the limit; then every write fails.
      await until(() => l.streak() >= 40 || seen(l, 'limited') >= 30_000);
      assert.ok(l.streak() >= 40, `writes keep failing over the limit: ${tallyLines(l)}`);
      const ready = await fetch(`${server.url}/readyz`);
      const text = await ready.text();
      const stillFailing = l.streak() >= 40;
      t.diagnostic(`limit ${limit} bytes; /readyz ${ready.status} ${text}`);
      if (stillFailing) {
        assert.equal(ready.status, 503, `/readyz says 503 while every write fails: ${text}`);
        assert.ok(isApiError(JSON.parse(text)), text);
      }
      l.phase('lifted');
      await run('prlimit', ['--pid', String(pid), '--fsize=unlimited:unlimited']);
      const b = l.acked.length;
      await until(() => l.acked.length >= b + 150);
      assert.equal((await fetch(`${server.url}/readyz`)).status, 200, '/readyz is back to 200');
      l.phase('up end');
      await l.stop();
      await fleet.stop(server);

      const ex = await exportAndVerify(db, [dataDir], join(base, 'export.ndjson'));
      const c = assertNothingLost(ex, l.acked);
      await assertNoClientTraces({ dirs: [base], logs: fleet.logs });
      t.diagnostic(
        `seed ${seed}: ${tallyLines(l).join(', ')}; acknowledged ${l.acked.length}, stored ${c.stored}, lost 0`,
      );
      assert.deepEqual(l.problems, [], 'only 201, 409 or (while limited) 503, each in the documented shape');
    } finally {
      await load?.stop();
      await fleet.dispose(base);
    }
  });
});
