import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type Child, freshPgDatabase, tempDir } from '../helpers.js';
import { assertNoClientTraces, assertNothingLost, exportAndVerify, Fleet, until } from './harness.js';
import { type Load, startLoad, tallyLines } from './load.js';
import { PROFILE, SEED } from './profile.js';

describe('four server processes on one PostgreSQL', { timeout: PROFILE.timeoutMs }, () => {
  it('under load: no duplicate or lost receipt, one correct chain per site', async (t) => {
    const seed = SEED + 41;
    const pgDb = await freshPgDatabase();
    const base = tempDir('assent-reliability-multi-');
    // Each process keeps its own signing key, as separate machines would: the export verifies
    // against the four public keys, each receipt by its `kid`.
    const dirs = [0, 1, 2, 3].map((i) => join(base, `p${i}`));
    const fleet = new Fleet();
    let load: Load | undefined;
    try {
      // Started together: their migrations and policy publications race, as in a rollout.
      const procs: Child[] = await Promise.all(dirs.map((d) => fleet.start(pgDb.url, d)));
      let next = 0;
      // Round robin, request by request, like a load balancer: every process writes every site.
      load = startLoad({ target: () => procs[next++ % procs.length]!.url, workers: 32, seed });
      const l = load;
      await until(() => l.acked.length >= PROFILE.multiAcks);
      await l.stop();
      await Promise.all(procs.map((p) => fleet.stop(p)));

      const ex = await exportAndVerify(pgDb.url, dirs, join(base, 'export.ndjson'));
      const c = assertNothingLost(ex, l.acked);
      assert.equal(c.unacknowledged, 0, 'nothing was committed that was not acknowledged (no process died)');
      const perKid = new Map<string, number>();
      for (const r of ex.receipts as unknown as { kid: string }[])
        perKid.set(r.kid, (perKid.get(r.kid) ?? 0) + 1);
      assert.equal(perKid.size, 4, 'all four processes wrote into the same chains');
      assert.equal(ex.policies.length, 1, 'the four processes published the one policy once');
      const scanned = await assertNoClientTraces({ dirs: [base], pgUrls: [pgDb.url], logs: fleet.logs });
      t.diagnostic(
        `4 processes (seed ${seed}): acknowledged ${l.acked.length}, lost 0, duplicates 0, stored ${c.stored} in ${c.sites} gap-free chains; per process ${[...perKid.values()].join(' / ')}; ${ex.verified}`,
      );
      t.diagnostic(tallyLines(l).join(', '));
      t.diagnostic(`no client IP or UA in ${(scanned / 1e6).toFixed(1)} MB of dump and logs`);
      assert.deepEqual(l.problems, [], 'every answer 201 (200 for reads), in the documented shape');
    } finally {
      await load?.stop();
      await fleet.dispose(base);
      await pgDb.drop();
    }
  });
});
