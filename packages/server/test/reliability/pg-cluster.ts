import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../helpers.js';
import { pgBin } from './harness.js';

const run = promisify(execFile);

/**
 * A PostgreSQL cluster of the test's own, which it may stop and start under load without
 * disturbing the shared one other tests use: initdb in a temp dir (as scripts/postgres.sh
 * does, but with --no-sync: the cluster is thrown away, and syncing initdb's files cost
 * seconds on a loaded machine; the server runs with its normal fsync), then pg_ctl on the same
 * port and data dir for each stop and start. PostgreSQL refuses to run as root: as root, its
 * tools run as `postgres`, as the script does.
 */
export const ownPgCluster = async () => {
  const dir = mkdtempSync('/tmp/assent-pg-outage-');
  chmodSync(dir, 0o755);
  const root = process.getuid?.() === 0;
  if (root) await run('chown', ['postgres:postgres', dir]);
  const asPg = (cmd: string) =>
    root ? run('su', ['postgres', '-s', '/bin/bash', '-c', cmd]) : run('bash', ['-c', cmd]);
  await asPg(`${pgBin('initdb')} -D '${dir}/data' -A trust -U assent --no-sync`).catch(
    (e: { stderr?: string; message: string }) => {
      throw new Error(`initdb of the outage test's PostgreSQL failed: ${e.stderr ?? e.message}`);
    },
  );
  const port = await freePort();
  const pgCtl = (args: string) => asPg(`${pgBin('pg_ctl')} -D '${dir}/data' ${args}`);
  const start = () =>
    pgCtl(
      `-w -t 60 -l '${dir}/data/log' -o '-p ${port} -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200' start`,
    );
  await start();
  return {
    url: `postgres://assent@127.0.0.1:${port}/postgres`,
    /** The cluster's own log: scanned with the server logs. */
    log: join(dir, 'data', 'log'),
    /** `immediate` is a crash (no checkpoint; recovery replays the WAL at start); `fast` a clean stop. */
    stop: (mode: 'fast' | 'immediate') => pgCtl(`-m ${mode} -w stop`),
    start,
    destroy: async () => {
      await pgCtl('-m immediate -w stop').catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
};
