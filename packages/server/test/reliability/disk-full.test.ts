import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { fullDisk } from './full-disk.js';
import { assertNoClientTraces, assertNothingLost, exportAndVerify, Fleet, until } from './harness.js';
import { type Allowed, isApiError, type Load, NORMAL, startLoad, tallyLines } from './load.js';
import { PROFILE, SEED } from './profile.js';

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
});
