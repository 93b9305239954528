/**
 * Consent storage side by side with the one peer that has a self-hostable consent-storage
 * backend: c15t (`@c15t/backend`, Hono + fumadb), set up the way its self-host docs tell
 * (`docs/self-host/quickstart.md` and `guides/database-setup.md` in the package: a Kysely
 * instance handed to `kyselyAdapter`, `c15tInstance({ basePath, trustedOrigins, adapter })`,
 * the tables made by its migrator, `c15t.handler` served on Node by `@hono/node-server`),
 * recording consents as c15t's browser client does when a visitor clicks "Accept all" in its
 * banner (`POST {basePath}/subjects`, the body `saveConsents('all', { uiSource: 'banner' })`
 * sends), against Assent's receipt route on SQLite (and PostgreSQL) and a bare Fastify route.
 * One run, interleaved rounds (every cell once per round), one connection count (100); every
 * server in its own process, autocannon in this one.
 *
 *   node --conditions=@assent/source --import tsx bench/server-peers.ts
 *   BENCH_ONLY=bare,sqlite,c15t BENCH_ROUNDS=1 BENCH_DURATION=5 node … bench/server-peers.ts   # a quick look; writes no results
 *
 * Cells (BENCH_ONLY picks some): bare, rewrite (bare route, c15t's load path), sqlite, pg
 * (Assent), c15t (SQLite as documented: better-sqlite3's defaults), c15t-wal (SQLite with
 * Assent's WAL + synchronous=FULL), c15t-pg. BENCH_ROUNDS (3), BENCH_DURATION (10 s per cell),
 * BENCH_CONNECTIONS (100).
 *
 * The peer is installed on demand from bench/peers-server/package.json (exact versions, own
 * lock) into bench/peers-server/node_modules, never into the workspace. bench/server.ts exports
 * nothing (it runs on import), so the little this shares with it is copied: the receipt body,
 * the bare route, Assent's server options, the /proc CPU sampling and the PostgreSQL start.
 *
 * Writes bench/results/server-peers.md when every cell ran.
 */

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os, { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import SQLite from 'better-sqlite3';
import Fastify from 'fastify';
import pg from 'pg';
import { createServer } from '../packages/server/src/index.js';
import { SQLITE_PRAGMAS } from '../packages/server/src/store/sqlite-file.js';
import { freePort } from '../test-support/ports.js';
import { type CpuSample, cpuSample } from './cpu.js';
import { BODIES, ORIGIN, SITE } from './receipts.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PEERS = join(ROOT, 'bench/peers-server');
const PEER_MODULES = join(PEERS, 'node_modules');
const HOST = 'news.example';
/** Where the docs' quickstart mounts c15t. */
const C15T_BASE = '/api/c15t';

// ---------------------------------------------------------------------------------------------
// Assent's side: as bench/server.ts (copied, it exports nothing).

// ---------------------------------------------------------------------------------------------
// c15t's side: what its browser client (c15t 2.2.1, dist/index.js) sends on "Accept all".

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
/** c15t's `generateSubjectId`: `sub_` + base58 of 8 bytes of ms since 2023-11-14 and 12 random bytes. */
const subjectId = () => {
  const buf = randomBytes(20);
  buf.writeBigUInt64BE(BigInt(Date.now() - 1700000000000), 0);
  let num = BigInt(`0x${buf.toString('hex')}`);
  let s = '';
  while (num > 0n) {
    s = BASE58[Number(num % 58n)] + s;
    num /= 58n;
  }
  for (const b of buf) {
    if (b !== 0) break;
    s = `1${s}`;
  }
  return `sub_${s}`;
};

interface Visitor {
  /** The body up to `givenAt`'s value, and after it: each request gets a givenAt of its own. */
  head: string;
  tail: string;
  headers: Record<string, string>;
}

/**
 * One visitor's "Accept all" (`saveConsents('all')`, uiSource 'banner' from @c15t/react's
 * ConsentBanner): every consent type, those of `consentCategories` (the quickstart's necessary,
 * measurement, marketing) true; jurisdiction and model as /init answers a German visitor. No
 * `policySnapshotToken`: the backend issues none unless policy packs with a signing key are set.
 * Headers: the client's version header and JSON, a browser's user agent and language, and what a
 * reverse proxy or CDN in front adds (the visitor's address in X-Forwarded-For, the country):
 * without them c15t stores no IP and resolves no jurisdiction.
 */
const c15tVisitor = (i: number): Visitor => {
  const [head, tail] = JSON.stringify({
    type: 'cookie_banner',
    domain: HOST,
    preferences: {
      necessary: true,
      functionality: false,
      measurement: true,
      experience: false,
      marketing: true,
    },
    subjectId: subjectId(),
    jurisdiction: 'GDPR',
    jurisdictionModel: 'opt-in',
    givenAt: 0,
    uiSource: 'banner',
    consentAction: 'all',
  }).split('"givenAt":0') as [string, string];
  return {
    head: `${head}"givenAt":`,
    tail,
    headers: {
      'content-type': 'application/json',
      'x-c15t-version': '2.2.1',
      origin: ORIGIN,
      'user-agent':
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36',
      'accept-language': 'de-DE,de;q=0.9,en;q=0.8',
      'x-forwarded-for': `198.51.${(i >> 8) & 255}.${i & 255}`,
      'cf-ipcountry': 'DE',
    },
  };
};
const VISITORS = Array.from({ length: 1000 }, (_, i) => c15tVisitor(i));

/**
 * c15t derives a consent's ID from subject, domain, policy and `givenAt` and answers a repeat of
 * one with the stored record (an idempotent retry, nothing written). A visitor's next consent
 * carries a new `givenAt`, so every request here gets one: a counter from a day ago, ms apart
 * (c15t clamps a givenAt more than 5 min in the future). That means a body built per request
 * (autocannon's setupRequest), which costs the load generator: the `rewrite` cell measures it on
 * the bare route. The visitor is picked by the same counter, so the 100 connections start on
 * 100 different visitors (autocannon's per-connection context is reset on every wrap of a
 * one-entry list, so it cannot hold a cursor).
 */
let given = Date.now() - 86_400_000;
let nth = 0;
const c15tRequests = (path: string): autocannon.Request[] => [
  {
    method: 'POST',
    path,
    setupRequest: (req) => {
      const v = VISITORS[nth++ % VISITORS.length]!;
      return { ...req, method: 'POST', path, headers: v.headers, body: v.head + given++ + v.tail };
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Child mode: serve one target and print READY.

interface C15tModules {
  c15tInstance(o: Record<string, unknown>): { handler(r: Request): Promise<Response> };
  kyselyAdapter(o: { db: unknown; provider: string }): unknown;
  migrator(o: { db: unknown; schema: 'latest' }): Promise<{ execute(): Promise<void> }>;
  DB: { client(adapter: unknown): unknown };
  Kysely: new (o: { dialect: unknown }) => unknown;
  SqliteDialect: new (o: { database: unknown }) => unknown;
  PostgresDialect: new (o: { pool: unknown }) => unknown;
  Database: new (file: string) => { pragma(p: string, o?: { simple: boolean }): unknown };
  Pool: new (o: { connectionString: string }) => unknown;
  serve(
    o: { fetch: (r: Request) => Promise<Response>; port: number; hostname: string },
    cb: () => void,
  ): void;
}

/** The peer's packages, from bench/peers-server/node_modules (resolved from there, not from here). */
const peerModules = (): C15tModules => {
  const req = createRequire(join(PEERS, 'package.json'));
  return {
    ...req('@c15t/backend'),
    ...req('@c15t/backend/db/adapters/kysely'),
    ...req('@c15t/backend/db/migrator'),
    ...req('@c15t/backend/db/schema'),
    ...req('kysely'),
    Database: req('better-sqlite3'),
    Pool: req('pg').Pool,
    ...req('@hono/node-server'),
  };
};

/**
 * c15t as its docs set it up. `db` is `sqlite:<file>` (better-sqlite3 as opened, what Kysely's
 * docs and c15t's show: rollback journal, synchronous=FULL), `sqlite-wal:<file>` (the same with
 * `journal_mode=WAL` and `synchronous=FULL`: Assent's settings), or a postgres:// URL (pg Pool,
 * its defaults, as the database-setup guide). The migrator is what c15t's CLI runs.
 */
const serveC15t = async (port: number, db: string) => {
  const m = peerModules();
  let dialect: unknown;
  let provider = 'postgresql';
  let settings = 'PostgreSQL defaults';
  if (db.startsWith('sqlite')) {
    const sqlite = new m.Database(db.slice(db.indexOf(':') + 1));
    // better-sqlite3's SQLite build makes a WAL connection's default synchronous NORMAL (no fsync
    // per commit): FULL is set explicitly, as Assent does, so both are durable on commit.
    if (db.startsWith('sqlite-wal:'))
      for (const p of ['journal_mode = WAL', 'synchronous = FULL']) sqlite.pragma(p);
    settings = `journal_mode=${sqlite.pragma('journal_mode', { simple: true })} synchronous=${sqlite.pragma('synchronous', { simple: true })}`;
    dialect = new m.SqliteDialect({ database: sqlite });
    provider = 'sqlite';
  } else dialect = new m.PostgresDialect({ pool: new m.Pool({ connectionString: db }) });
  const adapter = m.kyselyAdapter({ db: new m.Kysely({ dialect }), provider });
  await (await m.migrator({ db: m.DB.client(adapter), schema: 'latest' })).execute();
  const c15t = m.c15tInstance({
    appName: 'bench',
    basePath: C15T_BASE,
    trustedOrigins: [ORIGIN],
    adapter,
  });
  await new Promise<void>((resolve) =>
    m.serve({ fetch: c15t.handler, port, hostname: '127.0.0.1' }, () => resolve()),
  );
  process.stdout.write(`SETTINGS ${settings}\nREADY\n`);
};

const serve = async (kind: string, port: number, db: string) => {
  if (kind === 'bare') {
    // As bench/server.ts: Fastify parsing the same JSON body and answering 201, no storage.
    const app = Fastify({ logger: false });
    app.post('/v1/receipts', async (req, reply) =>
      reply.code(201).send({ id: 'x', consentId: (req.body as { consentId?: string }).consentId }),
    );
    await app.listen({ port, host: '127.0.0.1' });
    process.stdout.write('READY\n');
  } else if (kind === 'assent') {
    const { app } = await createServer({
      db,
      sites: { [ORIGIN]: SITE },
      logger: { level: 'warn' },
      rateLimit: false,
      retention: false,
      ipSecret: 'bench-ip-secret-of-32-bytes-or-more',
    });
    await app.listen({ port, host: '127.0.0.1' });
    process.stdout.write(
      `SETTINGS ${db.startsWith('sqlite') ? SQLITE_PRAGMAS.join(', ') : 'PostgreSQL defaults'}\nREADY\n`,
    );
  } else await serveC15t(port, db);
};

// ---------------------------------------------------------------------------------------------
// Load generator side.

const startTarget = async (kind: string, db: string) => {
  const port = await freePort();
  const proc: ChildProcess = spawn(
    process.execPath,
    [
      '--conditions=@assent/source',
      '--import',
      'tsx',
      fileURLToPath(import.meta.url),
      '--serve',
      kind,
      String(port),
      db,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('READY')) resolve();
    });
    proc.once('exit', (c) => reject(new Error(`${kind} server exited with ${c}`)));
  });
  const exited = new Promise((r) => proc.once('exit', r));
  return {
    url: `http://127.0.0.1:${port}`,
    pid: proc.pid!,
    settings: /SETTINGS (.*)/.exec(out)?.[1] ?? '',
    stop: async () => {
      proc.kill('SIGTERM');
      await exited;
    },
  };
};

/**
 * As bench/server.ts: machine core-µs per 2xx response (every process on the machine, other
 * agents' work included when the machine is shared) and a core's share per thread. Added: the
 * server's own CPU per 2xx response, all its threads plus `extra` processes (PostgreSQL's), which
 * other work on the machine does not inflate. /proc ticks are 100 per second (10,000 µs each).
 */
const cpuUse = (a: CpuSample, b: CpuSample, responses: number, server: number, extra: readonly number[]) => {
  const seconds = (b.at - a.at) / 1000;
  const busyShare = b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : 0;
  const ticks = (k: string) => (b.threads.get(k) ?? 0) - (a.threads.get(k) ?? 0);
  const pct = (k: string) => ticks(k) / seconds;
  let other = 0;
  let own = 0;
  for (const k of b.threads.keys()) {
    if (k.startsWith(`${server}/`) && k !== `${server}/${server}`) other = Math.max(other, pct(k));
    if (k.startsWith(`${server}/`) || extra.some((p) => k.startsWith(`${p}/`))) own += ticks(k);
  }
  let loadgen = 0;
  for (const k of b.threads.keys()) if (k.startsWith(`${process.pid}/`)) loadgen += pct(k);
  return {
    cpuUs: responses ? Math.round((busyShare * cpus().length * seconds * 1e6) / responses) : 0,
    serverUs: responses ? Math.round((own * 10_000) / responses) : 0,
    threads: `request ${Math.round(pct(`${server}/${server}`))} %, busiest other ${Math.round(other)} %, load generator ${Math.round(loadgen)} %${
      extra.length
        ? `, PostgreSQL ${Math.round(extra.reduce((n, p) => n + [...b.threads.keys()].filter((k) => k.startsWith(`${p}/`)).reduce((m, k) => m + pct(k), 0), 0))} %`
        : ''
    }`,
  };
};

/** The PostgreSQL server's processes: its postmaster (first line of postmaster.pid) and children. */
const pgPids = (dir: string | undefined): number[] => {
  if (!dir) return [];
  let master = 0;
  try {
    master = Number(readFileSync(join(dir, 'data/postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return [];
  }
  const kids = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return (
          Number(
            readFileSync(`/proc/${d}/stat`, 'utf8')
              .replace(/^.*\) /s, '')
              .split(' ')[1],
          ) === master
        );
      } catch {
        return false;
      }
    })
    .map(Number);
  return [master, ...kids];
};

interface Row {
  cell: string;
  round: number;
  rate: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  cpuUs: number;
  serverUs: number;
  threads: string;
}

interface Cell {
  key: string;
  name: string;
  kind: 'bare' | 'assent' | 'c15t';
  db: string;
  /** The load: Assent's pre-built receipts, or c15t's per-request bodies to `path`. */
  load: 'assent' | { path: string };
}

const measure = async (
  cell: Cell,
  url: string,
  connections: number,
  duration: number,
  server = 0,
  extra: readonly number[] = [],
) => {
  const opts =
    cell.load === 'assent'
      ? {
          url: `${url}/v1/receipts`,
          method: 'POST' as const,
          headers: { 'content-type': 'application/json', origin: ORIGIN },
          requests: BODIES.map((b) => ({ body: b })),
        }
      : { url, requests: c15tRequests(cell.load.path) };
  const before = cpuSample([server, process.pid, ...extra]);
  const r = await autocannon({ ...opts, connections, duration });
  return {
    rate: Math.round(r['2xx'] / duration),
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
    ...cpuUse(before, cpuSample([server, process.pid, ...extra]), r['2xx'], server, extra),
  };
};

/** As bench/server.ts, but one PostgreSQL server for several databases. */
const startPg = async (): Promise<{ db(): Promise<string>; dir?: string; done(): void }> => {
  let base = process.env.ASSENT_TEST_PG_URL;
  let stop = () => {};
  let dir: string | undefined;
  if (!base) {
    const out = execFileSync('bash', [join(ROOT, 'scripts/postgres.sh'), 'start'], { encoding: 'utf8' });
    const env = Object.fromEntries([...out.matchAll(/export (\w+)=(\S+)/g)].map((m) => [m[1], m[2]]));
    base = env.ASSENT_TEST_PG_URL!;
    dir = env.ASSENT_TEST_PG_DIR;
    stop = () => execFileSync('bash', [join(ROOT, 'scripts/postgres.sh'), 'stop', env.ASSENT_TEST_PG_DIR!]);
  }
  return {
    async db() {
      const name = `assent_bench_${randomBytes(4).toString('hex')}`;
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`create database ${name} template template0`);
      await c.end();
      const u = new URL(base!);
      u.pathname = `/${name}`;
      return u.toString();
    },
    dir,
    done: stop,
  };
};

/** Rows of one table, one sample row, on SQLite (file, after its server exited) or PostgreSQL. */
const inspect = async (db: string, table: string, order: string) => {
  if (db.startsWith('postgres')) {
    const c = new pg.Client({ connectionString: db });
    await c.connect();
    const n = (await c.query(`select count(*)::int as n from "${table}"`)).rows[0].n as number;
    const row = (await c.query(`select * from "${table}" order by "${order}" desc limit 1`)).rows[0];
    await c.end();
    return { n, row: row as Record<string, unknown> };
  }
  // Read-write: a server stopped mid-transaction leaves a hot journal that only a writer rolls back.
  const s = new SQLite(db.slice(db.indexOf(':') + 1));
  const n = (s.prepare(`select count(*) as n from "${table}"`).get() as { n: number }).n;
  const row = s.prepare(`select * from "${table}" order by "${order}" desc limit 1`).get() as Record<
    string,
    unknown
  >;
  s.close();
  return { n, row };
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const installPeers = () => {
  const manifest = JSON.parse(readFileSync(join(PEERS, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const installed = (name: string) => {
    try {
      return (
        JSON.parse(readFileSync(join(PEER_MODULES, name, 'package.json'), 'utf8')) as { version: string }
      ).version;
    } catch {
      return undefined;
    }
  };
  const stale = Object.entries(manifest.dependencies).some(([n, v]) => installed(n) !== v);
  if (!existsSync(PEER_MODULES) || stale) {
    // Scripts on: better-sqlite3 builds its addon (allowScripts in the manifest names it alone).
    const cmd = existsSync(join(PEERS, 'package-lock.json')) ? 'ci' : 'install';
    console.error(`npm ${cmd} --prefix bench/peers-server`);
    execFileSync('npm', [cmd, '--prefix', PEERS, '--no-audit', '--no-fund'], { stdio: 'inherit' });
  }
  return installed('@c15t/backend') ?? '?';
};

const main = async () => {
  const load0 = os.loadavg()[0]!.toFixed(1);
  const t0 = Date.now();
  const duration = Number(process.env.BENCH_DURATION ?? 10);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 100);
  const only = process.env.BENCH_ONLY?.split(',');
  const want = (k: string) => !only || only.includes(k);
  const c15tVersion = installPeers();
  const dir = mkdtempSync(join(tmpdir(), 'assent-bench-peers-'));
  const pgServer = want('pg') || want('c15t-pg') ? await startPg() : undefined;
  const c15tPath = `${C15T_BASE}/subjects`;
  const all: [boolean, () => Promise<Cell>][] = [
    [
      want('bare'),
      async () => ({ key: 'bare', name: 'bare Fastify (ceiling)', kind: 'bare', db: 'bare', load: 'assent' }),
    ],
    [
      want('rewrite'),
      async () => ({
        key: 'rewrite',
        name: "bare Fastify, c15t's load path (body built per request)",
        kind: 'bare',
        db: 'bare',
        load: { path: '/v1/receipts' },
      }),
    ],
    [
      want('sqlite'),
      async () => ({
        key: 'sqlite',
        name: 'Assent, SQLite',
        kind: 'assent',
        db: `sqlite:${join(dir, 'receipts.db')}`,
        load: 'assent',
      }),
    ],
    [
      want('c15t'),
      async () => ({
        key: 'c15t',
        name: `c15t ${c15tVersion}, SQLite as documented`,
        kind: 'c15t',
        db: `sqlite:${join(dir, 'c15t.db')}`,
        load: { path: c15tPath },
      }),
    ],
    [
      want('c15t-wal'),
      async () => ({
        key: 'c15t-wal',
        name: `c15t ${c15tVersion}, SQLite WAL`,
        kind: 'c15t',
        db: `sqlite-wal:${join(dir, 'c15t-wal.db')}`,
        load: { path: c15tPath },
      }),
    ],
    [
      want('pg'),
      async () => ({
        key: 'pg',
        name: 'Assent, PostgreSQL',
        kind: 'assent',
        db: await pgServer!.db(),
        load: 'assent',
      }),
    ],
    [
      want('c15t-pg'),
      async () => ({
        key: 'c15t-pg',
        name: `c15t ${c15tVersion}, PostgreSQL`,
        kind: 'c15t',
        db: await pgServer!.db(),
        load: { path: c15tPath },
      }),
    ],
  ];
  const cells: Cell[] = [];
  for (const [on, make] of all) if (on) cells.push(await make());
  const settings = new Map<string, string>();
  const rows: Row[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const cell of cells) {
      // A fresh process per cell and round; the database stays, so it grows over the rounds.
      const t = await startTarget(cell.kind, cell.db);
      settings.set(cell.key, t.settings);
      await measure(cell, t.url, 10, 1); // warm-up
      const extra = cell.db.startsWith('postgres') ? pgPids(pgServer?.dir) : [];
      const m = await measure(cell, t.url, connections, duration, t.pid, extra);
      await t.stop();
      rows.push({ cell: cell.key, round, ...m });
      console.error(
        `round ${round} ${cell.name} ×${connections}: ${m.rate}/s p50 ${m.p50} ms p99 ${m.p99} ms, non-2xx ${m.non2xx}, errors ${m.errors}; CPU per response: server ${m.serverUs} µs, machine ${m.cpuUs} µs (${m.threads})`,
      );
    }
  }
  // What each stored, read from its database once its server is gone.
  const stored = new Map<string, { n: number; row: Record<string, unknown> }>();
  for (const cell of cells) {
    try {
      if (cell.kind === 'assent') stored.set(cell.key, await inspect(cell.db, 'receipts', 'seq'));
      if (cell.kind === 'c15t') stored.set(cell.key, await inspect(cell.db, 'consent', 'givenAt'));
    } catch (e) {
      stored.set(cell.key, { n: -1, row: { error: String(e) } });
    }
  }
  pgServer?.done();
  const load1 = os.loadavg()[0]!.toFixed(1);
  for (const [k, v] of stored) console.error(`${k}: ${v.n} rows; newest: ${JSON.stringify(v.row)}`);
  console.error(
    `load average (1 min) at start ${load0}, at end ${load1}; ${((Date.now() - t0) / 1000).toFixed(0)} s`,
  );
  if (only) return;

  const name = (k: string) => cells.find((c) => c.key === k)!.name;
  const byCell = (k: string) => rows.filter((r) => r.cell === k);
  const summary = cells.map((c) => {
    const rs = byCell(c.key);
    return {
      key: c.key,
      rate: median(rs.map((r) => r.rate)),
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
      cpuUs: median(rs.map((r) => r.cpuUs)),
      serverUs: median(rs.map((r) => r.serverUs)),
      rates: rs.map((r) => r.rate.toLocaleString('en')).join(' / '),
      bad: rs.reduce((n, r) => n + r.non2xx + r.errors, 0),
    };
  });
  const s = (k: string) => summary.find((x) => x.key === k)!;
  const table = [
    '| cell | median/s | per round/s | p50 ms | p99 ms | server CPU µs per response | machine CPU µs per response | non-2xx + errors | × bare |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...summary.map(
      (x) =>
        `| ${name(x.key)} | ${x.rate.toLocaleString('en')} | ${x.rates} | ${x.p50} | ${x.p99} | ${x.serverUs} | ${x.cpuUs} | ${x.bad} | ${(x.rate / s('bare').rate).toFixed(2)} |`,
    ),
  ].join('\n');
  const detail = [
    '| round | cell | /s | p50 ms | p99 ms | non-2xx | errors | server CPU µs per response | machine CPU µs per response | threads (share of a core) |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.round} | ${name(r.cell)} | ${r.rate.toLocaleString('en')} | ${r.p50} | ${r.p99} | ${r.non2xx} | ${r.errors} | ${r.serverUs} | ${r.cpuUs} | ${r.threads} |`,
    ),
  ].join('\n');
  const clip = (row: Record<string, unknown>) =>
    Object.fromEntries(
      Object.entries(row).map(([k, v]) => [
        k,
        typeof v === 'string' && v.length > 120 ? `${v.slice(0, 120)}…` : v,
      ]),
    );
  const storedLines = [...stored]
    .map(
      ([k, v]) =>
        `- ${name(k)}: ${v.n.toLocaleString('en')} rows after the run (${settings.get(k)}). Newest:\n  \`${JSON.stringify(clip(v.row))}\``,
    )
    .join('\n');
  const md = `# Consent storage: Assent and c15t's self-hosted backend

\`node --conditions=@assent/source --import tsx bench/server-peers.ts\` (\`bench/server-peers.ts\`) — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model.trim()}).
One run: ${rounds} interleaved rounds, each cell ${duration} s at ${connections} connections after a 1 s warm-up at 10, every cell a fresh server process per round on the same database (so it grows over the rounds). autocannon in the bench process.
Load average (1 min) at start ${load0}, at end ${load1}: the machine is shared; compare cells within this run only.

${table}

Per round:

${detail}

What each stored:

${storedLines}
`;
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const file = join(ROOT, 'bench/results/server-peers.md');
  // Keep the hand-written notes below the generated part.
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const i = old.indexOf('## Notes');
  writeFileSync(file, i === -1 ? md : `${md}\n${old.slice(i)}`);
  console.log(md);
};

const [flag, kind, port, db] = process.argv.slice(2);
if (flag === '--serve') await serve(kind!, Number(port), db!);
else await main();
