import assert from 'node:assert/strict';
import { join } from 'node:path';
import { type Child, exited, freshPgDatabase, ORIGIN, SITE_CONFIG, tempDir } from '../helpers.js';
import {
  assertNoClientTraces,
  assertNothingLost,
  exportAndVerify,
  Fleet,
  publish,
  sleep,
  until,
} from './harness.js';
import { startLoad, tallyLines } from './load.js';
import { PROFILE, rng, SEED } from './profile.js';

/**
 * SIGKILL at random moments under load: each life of the server is killed after a random
 * number of acknowledged receipts plus a random few milliseconds, so the kill lands anywhere in
 * the group-commit cycle (parsing, in the writer thread, mid-fsync, between commit and reply).
 * Each life also publishes a new policy through the admin API (and each start republishes the
 * config file's), so the chain names many policies. At the end the server's own CLI exports
 * the database and verifies it.
 */
export const killCycles = async (t: { diagnostic(s: string): void }, kind: 'sqlite' | 'postgres') => {
  const seed = SEED + (kind === 'sqlite' ? 1 : 2);
  const r = rng(seed);
  const dir = tempDir('assent-reliability-kill-');
  const pgDb = kind === 'postgres' ? await freshPgDatabase() : undefined;
  const db = pgDb?.url ?? `sqlite:${join(dir, 'receipts.db')}`;
  const fleet = new Fleet();
  let current: Child | undefined;
  const load = startLoad({ target: () => current?.url, workers: 24, seed });
  const lives: string[] = [];
  try {
    for (let k = 0; k < PROFILE.kills; k++) {
      current = await fleet.start(db, dir);
      await publish(current.url, ORIGIN, { ...SITE_CONFIG, days: 20 + (k % 300) });
      const before = load.acked.length;
      const at = before + r.int(20, 400);
      await until(() => load.acked.length >= at);
      await sleep(r.int(0, 30));
      const victim = current;
      victim.proc.kill('SIGKILL');
      current = undefined;
      await exited(victim.proc);
      assert.equal(victim.proc.signalCode, 'SIGKILL');
      lives.push(String(load.acked.length - before));
    }
    // A last life: the chain continues where the kills left it, then a graceful stop.
    current = await fleet.start(db, dir);
    const last = load.acked.length;
    await until(() => load.acked.length >= last + 100);
    await load.stop();
    await fleet.stop(current);

    assert.deepEqual(load.problems, [], 'every answer was 201, or 409 right after a policy change');
    const ex = await exportAndVerify(db, [dir], join(dir, 'export.ndjson'));
    const c = assertNothingLost(ex, load.acked);
    assert.ok(c.policies >= 2, 'the chain names the policies published along the way');
    const scanned = await assertNoClientTraces({
      dirs: [dir],
      pgUrls: pgDb ? [pgDb.url] : [],
      logs: fleet.logs,
    });
    t.diagnostic(
      `${kind}: ${PROFILE.kills} SIGKILLs under load (seed ${seed}); acknowledged ${load.acked.length}, lost 0, stored ${c.stored} (${c.unacknowledged} committed while their client saw the kill), ${c.sites} chains, ${c.policies} policies; acked per life ${lives.join(' ')}`,
    );
    t.diagnostic(`${kind}: ${ex.verified}`);
    t.diagnostic(`${kind}: ${tallyLines(load).join(', ')}`);
    t.diagnostic(
      `${kind}: no client IP or UA in ${(scanned / 1e6).toFixed(1)} MB of database, dump and logs`,
    );
  } finally {
    await load.stop();
    await fleet.dispose(dir);
    await pgDb?.drop();
  }
};
