import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pgBin, ROOT } from './harness.js';

const run = promisify(execFile);

/**
 * A PostgreSQL cluster of the test's own, which it may stop and start under load without
 * disturbing the shared one other tests use. Created by scripts/postgres.sh (as `npm test`
 * creates the shared one); stopped and started with pg_ctl on the same port and data dir.
 * PostgreSQL refuses to run as root: as root, pg_ctl runs as `postgres`, as the script does.
 */
export const ownPgCluster = async () => {
  const script = join(ROOT, 'scripts/postgres.sh');
  const { stdout } = await run('bash', [script, 'start']).catch((e: { stderr?: string; message: string }) => {
    throw new Error(
      `starting a PostgreSQL cluster with scripts/postgres.sh failed: ${e.stderr ?? e.message}`,
    );
  });
  const env = Object.fromEntries([...stdout.matchAll(/export (\w+)=(\S+)/g)].map((m) => [m[1], m[2]]));
  const url = env.ASSENT_TEST_PG_URL!;
  const dir = env.ASSENT_TEST_PG_DIR!;
  const port = new URL(url).port;
  const pgCtl = (args: string) => {
    const cmd = `${pgBin('pg_ctl')} -D '${dir}/data' ${args}`;
    return process.getuid?.() === 0
      ? run('su', ['postgres', '-s', '/bin/bash', '-c', cmd])
      : run('bash', ['-c', cmd]);
  };
  return {
    url,
    /** The cluster's own log: scanned with the server logs. */
    log: join(dir, 'data', 'log'),
    /** `immediate` is a crash (no checkpoint; recovery replays the WAL at start); `fast` a clean stop. */
    stop: (mode: 'fast' | 'immediate') => pgCtl(`-m ${mode} -w stop`),
    start: () =>
      pgCtl(
        `-w -t 60 -l '${dir}/data/log' -o '-p ${port} -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200' start`,
      ),
    destroy: () => run('bash', [script, 'stop', dir]),
  };
};
