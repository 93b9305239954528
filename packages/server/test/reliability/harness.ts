import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { verifyExport } from '../../src/verify.js';
import { type Child, exited, startChild } from '../helpers.js';
import { serverBuild } from './server-build.js';

/**
 * What the reliability tests share on top of ../helpers.ts: the test clients' identity (the
 * IPs and user agent that must never be stored or logged), server processes that believe
 * X-Forwarded-For and log every request, the server's own CLI to export and verify, and the
 * scan of every file, dump and log for the clients' traces.
 */

const run = promisify(execFile);
export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const ADMIN = { authorization: 'Bearer the-test-admin-token' };

/**
 * A distinctive browser: the server may keep its family ("Chrome"), never the string. The
 * probe token is not part of any family, so finding it anywhere means the UA was kept.
 */
export const CLIENT_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.126 Safari/537.36 AssentReliabilityProbe/9.4.1';

/**
 * The test clients' addresses, all from the documentation ranges (RFC 5737, RFC 3849): none of
 * these prefixes may appear in a database, a dump or a log. Some requests name a second hop,
 * as a chain of proxies would.
 */
export const clientIp = (i: number): string => {
  const v4 = `203.0.113.${(i % 250) + 1}`;
  const v6 = `2001:db8::${(i % 4000).toString(16)}`;
  const one = i % 3 === 2 ? v6 : v4;
  return i % 5 === 4 ? `${one}, 198.51.100.${(i % 200) + 7}` : one;
};
export const TRACES = ['203.0.113.', '2001:db8:', '198.51.100.', CLIENT_UA, 'AssentReliabilityProbe'];

/** The headers every test request carries: who the client is, per the (trusted) proxy. */
export const clientHeaders = (i: number): Record<string, string> => ({
  'x-forwarded-for': clientIp(i),
  'user-agent': CLIENT_UA,
});

/** Every server process a test started: their logs are scanned, and none outlives the test. */
export class Fleet {
  readonly children: Child[] = [];
  readonly logs: { name: string; text: () => string }[] = [];

  /**
   * `assent-server start` as a real process: trusts X-Forwarded-For, logs every request (at
   * trace: the default level, info, logs none), so the scan for client traces reads every URL.
   */
  async start(db: string, dataDir: string, env: Record<string, string> = {}): Promise<Child> {
    mkdirSync(dataDir, { recursive: true });
    const c = await startChild({
      db,
      dataDir,
      env: { ASSENT_TRUST_PROXY: 'true', ASSENT_LOG_LEVEL: 'trace', ...env },
      bin: await serverBuild(),
    });
    this.children.push(c);
    this.logs.push({ name: `server ${this.logs.length + 1} (pid ${c.proc.pid})`, text: c.output });
    return c;
  }

  /** SIGTERM: in-flight receipts finish, exit code 0. */
  async stop(c: Child): Promise<void> {
    c.proc.kill('SIGTERM');
    await exited(c.proc);
    assert.equal(c.proc.exitCode, 0, `graceful shutdown exits 0:\n${c.output().slice(-2000)}`);
  }

  /** Kills what is still running (after a failed assertion) and writes the logs beside the data. */
  async dispose(dir: string): Promise<void> {
    for (const c of this.children)
      if (c.proc.exitCode === null && c.proc.signalCode === null) {
        c.proc.kill('SIGKILL');
        await exited(c.proc);
      }
    for (const [i, l] of this.logs.entries()) writeFileSync(join(dir, `server-${i + 1}.log`), l.text());
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits for a condition the test drives (never a timed assertion: the test's timeout bounds it). */
export const until = async (cond: () => boolean, step = 5) => {
  while (!cond()) await sleep(step);
};

/** Publishes `days` as the site's policy through the admin API, as an operator would mid-run. */
export const publish = async (url: string, site: string, config: Record<string, unknown>) => {
  const res = await fetch(`${url}/v1/admin/policies`, {
    method: 'POST',
    headers: { ...ADMIN, 'content-type': 'application/json', ...clientHeaders(0) },
    body: JSON.stringify({ site, config }),
  });
  assert.equal(res.status, 201, await res.text());
};

export interface Exported {
  readonly policies: readonly { sha256: string }[];
  readonly receipts: readonly { id: string; site: string; seq: number; policy: { sha256?: string } }[];
  /** What the verifier found, in words. */
  readonly verified: string;
}

/**
 * The proof as an operator would run it: `assent-server export` straight from the database (the
 * CLI, compiled as the servers are, a process of its own, after the servers stopped), then the server's own verifier (the
 * code behind `assent-server verify`, run in this process to save a second start-up) with every
 * process's public key.
 */
export const exportAndVerify = async (db: string, dataDirs: readonly string[], out: string) => {
  const e = await run(process.execPath, [await serverBuild(), 'export', '--db', db, '--out', out], {
    maxBuffer: 1 << 26,
  }).catch((err: { stderr?: string; message: string }) =>
    assert.fail(`export failed: ${err.stderr ?? err.message}`),
  );
  assert.equal(e.stderr, '');
  const text = readFileSync(out, 'utf8');
  const v = await verifyExport(
    text.split('\n').filter(Boolean),
    dataDirs.map((d) => readFileSync(join(d, 'signing-key.pub.pem'), 'utf8')),
  );
  assert.ok(v.ok, `the export does not verify: ${JSON.stringify(v)}`);
  const lines = text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    policies: lines.filter((l) => l.type === 'policy') as unknown as Exported['policies'],
    receipts: lines.filter((l) => l.type !== 'policy') as unknown as Exported['receipts'],
    verified: `verified: ${v.receipts} receipts in ${v.sites} site chain(s), with the ${v.policies} policies they name`,
  } satisfies Exported;
};

/**
 * Every receipt acknowledged with 201 is in the export exactly once; each site's chain is
 * gap-free from seq 1 (no fork, no duplicate); every receipt names a policy the export carries.
 * Returns the receipts committed but never acknowledged (in flight at a kill: allowed, the
 * client saw an error and would retry).
 */
export const assertNothingLost = (ex: Exported, acked: readonly string[]) => {
  const ids = new Map<string, number>();
  for (const r of ex.receipts) ids.set(r.id, (ids.get(r.id) ?? 0) + 1);
  const duplicated = [...ids].filter(([, n]) => n > 1).map(([id]) => id);
  assert.deepEqual(duplicated, [], 'no receipt is stored twice');
  const ackedSet = new Set(acked);
  assert.equal(ackedSet.size, acked.length, 'no receipt ID was acknowledged twice');
  const lost = acked.filter((id) => !ids.has(id));
  assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged receipts lost`);
  const bySite = new Map<string, number[]>();
  for (const r of ex.receipts) bySite.set(r.site, [...(bySite.get(r.site) ?? []), r.seq]);
  for (const [site, seqs] of bySite)
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => i + 1),
      `${site}: one gap-free chain`,
    );
  const carried = new Set(ex.policies.map((p) => p.sha256));
  const orphans = ex.receipts.filter((r) => !r.policy.sha256 || !carried.has(r.policy.sha256));
  assert.deepEqual(orphans, [], 'every receipt names a policy the export carries');
  return {
    stored: ex.receipts.length,
    unacknowledged: ex.receipts.length - acked.length,
    sites: bySite.size,
    policies: carried.size,
  };
};

const filesUnder = (dir: string): string[] =>
  readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });

/** The newest PostgreSQL client tools, as scripts/postgres.sh picks them. */
export const pgBin = (tool: string) => {
  const dirs = readdirSync('/usr/lib/postgresql')
    .sort((a, b) => Number(a) - Number(b))
    .map((v) => `/usr/lib/postgresql/${v}/bin`);
  assert.ok(dirs.length, 'PostgreSQL is not installed (scripts/postgres.sh install)');
  return join(dirs.at(-1)!, tool);
};

/** `pg_dump` of a whole database: schema and every row, as text. */
export const pgDump = async (url: string): Promise<string> =>
  (await run(pgBin('pg_dump'), ['--dbname', url], { maxBuffer: 1 << 28 })).stdout;

/**
 * After a run: no file under `dirs` (SQLite database, WAL, exports), no dump, no log holds a
 * test client's IP (any X-Forwarded-For hop) or the full user agent. Returns the bytes scanned.
 */
export const assertNoClientTraces = async (what: {
  dirs?: readonly string[];
  pgUrls?: readonly string[];
  logs?: readonly { name: string; text: () => string }[];
}): Promise<number> => {
  const sources: { name: string; bytes: Buffer }[] = [];
  for (const d of what.dirs ?? [])
    for (const f of filesUnder(d)) sources.push({ name: f, bytes: readFileSync(f) });
  for (const u of what.pgUrls ?? [])
    sources.push({ name: `pg_dump ${new URL(u).pathname}`, bytes: Buffer.from(await pgDump(u)) });
  for (const l of what.logs ?? []) sources.push({ name: l.name, bytes: Buffer.from(l.text()) });
  const found = sources.flatMap((s) =>
    TRACES.filter((t) => s.bytes.includes(t)).map((t) => {
      const at = s.bytes.indexOf(t);
      return `${s.name}: ${JSON.stringify(t)} in …${s.bytes.subarray(Math.max(0, at - 120), at + 120).toString('utf8')}…`;
    }),
  );
  assert.deepEqual(found, [], 'no client IP or user agent is stored or logged');
  return sources.reduce((n, s) => n + s.bytes.length, 0);
};
