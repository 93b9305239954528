import assert from 'node:assert/strict';
import { copyFileSync, existsSync, realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { assertNoClientTraces, assertNothingLost, exportAndVerify, Fleet, until } from './harness.js';
import { type Allowed, isApiError, type Load, NORMAL, startLoad, tallyLines } from './load.js';
import { PROFILE, SEED } from './profile.js';

/** Once the file is gone, writes are 503 (nothing written); reads still answer from the old file. */
const allowed: Allowed = (kind, status, phase) =>
  NORMAL(kind, status, phase) || (phase === 'gone' && kind !== 'read' && status === 503);

/** Answers in a phase, whatever they were. */
const seen = (l: Load, phase: string) =>
  [...l.tally].filter(([k]) => k.startsWith(`${phase} `)).reduce((n, [, v]) => n + v, 0);

/**
 * `rm receipts.db receipts.db-wal` under a running server: it went on answering 201 into the
 * unlinked file and /readyz 200, logging nothing; after a restart the database was empty and
 * the consent log began again (a fork to every witness), every receipt acknowledged so far lost.
 */
describe('the SQLite file deleted under a running server', { timeout: PROFILE.timeoutMs }, () => {
  it('writes answer 503 once it is noticed (no 201 after), /readyz 503, one error line naming the file; what the process still held restores every acknowledged receipt', async (t) => {
    const seed = SEED + 53;
    const base = tempDir('assent-reliability-gone-');
    const dataDir = join(base, 'data');
    const file = join(dataDir, 'receipts.db');
    const db = `sqlite:${file}`;
    const fleet = new Fleet();
    let load: Load | undefined;
    try {
      const server = await fleet.start(db, dataDir);
      load = startLoad({ target: () => server.url, workers: 16, seed, allowed });
      const l = load;
      l.phase('up');
      await until(() => l.acked.length >= 150);

      l.phase('gone');
      rmSync(file);
      rmSync(`${file}-wal`, { force: true });
      // A commit already past its check when the file went may still be acknowledged (it is in
      // the old file); then every write fails.
      await until(() => l.streak() >= 40 || seen(l, 'gone') >= 3000);
      assert.ok(l.streak() >= 40, `writes fail once the file is gone: ${tallyLines(l).join(', ')}`);
      const noticed = l.acked.length;
      const readyz = await fetch(`${server.url}/readyz`);
      const ready = (await readyz.json()) as { message: string };
      assert.equal(readyz.status, 503, JSON.stringify(ready));
      assert.ok(isApiError(ready), JSON.stringify(ready));
      assert.match(ready.message, /SQLITE_READONLY_DBMOVED/);
      // Writes go on failing: nothing more is acknowledged.
      const streak = l.streak();
      await until(() => l.streak() >= streak + 200);
      assert.equal(l.acked.length, noticed, 'no 201 after the deletion was noticed');
      assert.equal(existsSync(file), false, 'no new, empty database was made in its place');

      // One error line per kind (throttled), naming the file; readiness's says what to keep.
      const errors = server
        .output()
        .split('\n')
        .filter((line) => line.includes('"level":50') && line.includes(file));
      assert.ok(errors.length >= 1, `an error line names ${file}:\n${server.output().slice(-3000)}`);
      const advice = errors.map((line) => /copy (.+?) to a safe place/.exec(line)?.[1]).find(Boolean);
      assert.ok(advice, `the log says what the process still holds:\n${errors.join('\n')}`);
      const held = [...advice.matchAll(/(\/proc\/\d+\/fd\/\d+) \(([^)]+)\)/g)].map((m) => ({
        fd: m[1]!,
        name: m[2]!,
      }));
      const real = realpathSync(dataDir);
      assert.deepEqual(held.map((h) => h.name).sort(), [
        join(real, 'receipts.db'),
        join(real, 'receipts.db-wal'),
      ]);

      // What the message tells the operator: copy those out, stop the server, put them back, start.
      for (const h of held)
        copyFileSync(h.fd, join(base, h.name.endsWith('-wal') ? 'saved.db-wal' : 'saved.db'));
      await l.stop();
      await fleet.stop(server);
      copyFileSync(join(base, 'saved.db'), file);
      copyFileSync(join(base, 'saved.db-wal'), `${file}-wal`);
      const again = await fleet.start(db, dataDir);
      const res = await fetch(`${again.url}/readyz`);
      assert.equal(res.status, 200);
      await fleet.stop(again);

      t.diagnostic(`seed ${seed}: ${tallyLines(l).join(', ')}`);
      const ex = await exportAndVerify(db, [dataDir], join(base, 'export.ndjson'));
      const c = assertNothingLost(ex, l.acked);
      await assertNoClientTraces({ dirs: [base], logs: fleet.logs });
      t.diagnostic(
        `acknowledged ${l.acked.length} (${noticed} when the deletion was noticed), stored ${c.stored}, lost 0`,
      );
      assert.deepEqual(
        l.problems,
        [],
        'only 201, 409 or (once the file is gone) 503, in the documented shape',
      );
    } finally {
      await load?.stop();
      await fleet.dispose(base);
    }
  });
});
