import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { assertNoClientTraces, assertNothingLost, exportAndVerify, Fleet, until } from './harness.js';
import { type Allowed, count, isApiError, type Load, NORMAL, startLoad, tallyLines } from './load.js';
import { ownPgCluster } from './pg-cluster.js';
import { PROFILE, SEED } from './profile.js';

/** While PostgreSQL is away (and just after), an answer may also be 503: "nothing written, retry". */
const allowed: Allowed = (kind, status, phase) =>
  NORMAL(kind, status, phase) || (!phase.startsWith('up') && status === 503);

/** Answers (and connection errors) seen in a phase, whatever they were. */
const seen = (l: Load, phase: string) =>
  [...l.tally].filter(([k]) => k.startsWith(`${phase} `)).reduce((n, [, v]) => n + v, 0);

describe('PostgreSQL stopped under load', { timeout: PROFILE.timeoutMs }, () => {
  it(`${PROFILE.pgOutages} outage(s): 503 with JSON while it is down, recovery without a server restart, nothing acknowledged lost`, async (t) => {
    const seed = SEED + 21;
    // A cluster of this test's own: the shared one keeps serving the other tests.
    const cluster = await ownPgCluster();
    const dir = tempDir('assent-reliability-pg-outage-');
    const fleet = new Fleet();
    let load: Load | undefined;
    try {
      const server = await fleet.start(cluster.url, dir);
      const alive = () =>
        assert.ok(
          server.proc.exitCode === null && server.proc.signalCode === null,
          `the server process died (${server.proc.exitCode ?? server.proc.signalCode}):\n${server.output().slice(-1500)}`,
        );
      load = startLoad({ target: () => server.url, workers: 16, seed, allowed });
      const l = load;
      const t0 = performance.now();
      const marks: string[] = [];
      for (let i = 0; i < PROFILE.pgOutages; i++) {
        l.phase(`up ${i}`);
        const a = l.acked.length;
        await until(() => l.acked.length >= a + 150);
        // Alternately a crash (no checkpoint, WAL replay at start) and a clean stop.
        marks.push(`up ${Math.round(performance.now() - t0)} ms`);
        l.phase(`down ${i}`);
        await cluster.stop(i % 2 ? 'fast' : 'immediate');
        await until(() => seen(l, `down ${i}`) >= 60);
        alive();
        const ready = await fetch(`${server.url}/readyz`);
        assert.equal(ready.status, 503, '/readyz says the database is away');
        assert.ok(isApiError(await ready.json()));
        assert.equal((await fetch(`${server.url}/healthz`)).status, 200, 'the process itself answers');
        assert.ok(
          count(l, `down ${i}`, 'receipt', 503) > 0,
          `receipts are refused with 503 while PostgreSQL is down: ${tallyLines(l)}`,
        );
        marks.push(`down ${Math.round(performance.now() - t0)} ms`);
        l.phase(`restarting ${i}`);
        await cluster.start();
        marks.push(`restart ${Math.round(performance.now() - t0)} ms`);
        l.phase(`recovering ${i}`);
        const b = l.acked.length;
        await until(() => l.acked.length >= b + 150);
        alive();
        marks.push(`recovered ${Math.round(performance.now() - t0)} ms`);
      }
      l.phase('up end');
      await l.stop();
      await fleet.stop(server);

      t.diagnostic(tallyLines(l).join(', '));
      t.diagnostic(`phases ended at: ${marks.join(', ')}`);
      assert.deepEqual(
        l.problems,
        [],
        'only 201, 409 or (while PostgreSQL is away) 503, each in the documented shape',
      );
      const ex = await exportAndVerify(cluster.url, [dir], join(dir, 'export.ndjson'));
      const c = assertNothingLost(ex, l.acked);
      const refused = [...l.tally].filter(([k]) => k.endsWith(' 503')).reduce((n, [, v]) => n + v, 0);
      const scanned = await assertNoClientTraces({
        dirs: [dir],
        pgUrls: [cluster.url],
        logs: [...fleet.logs, { name: 'PostgreSQL log', text: () => readFileSafe(cluster.log) }],
      });
      t.diagnostic(
        `${PROFILE.pgOutages} PostgreSQL outage(s) under load (seed ${seed}): ${refused} answers 503 while away, acknowledged ${l.acked.length}, lost 0, stored ${c.stored} (${c.unacknowledged} committed but answered 503 or cut off); ${ex.verified}`,
      );
      t.diagnostic(`no client IP or UA in ${(scanned / 1e6).toFixed(1)} MB of dump and logs`);
      assert.deepEqual(
        l.problems,
        [],
        'only 201, 409 or (while PostgreSQL is away) 503, each in the documented shape',
      );
    } finally {
      await load?.stop();
      await fleet.dispose(dir);
      await cluster.destroy();
    }
  });
});

const readFileSafe = (p: string) => {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
};
