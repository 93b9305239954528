/**
 * The admin console's reads at scale: `GET /v1/admin/overview` (counted per consent) and the
 * receipts table (`/v1/admin/receipts/page`: first page, a filter, the next page, a search by
 * consent ID, a receipt's detail) with 1,000,000 receipts in SQLite and in PostgreSQL, served by
 * a server process each, timed from this one over 127.0.0.1 (sequential requests, after one
 * warm-up of each).
 *
 *   npm run bench:admin                  # 1,000,000 receipts, both databases
 *   BENCH_ROWS=100000 BENCH_ONLY=sqlite npm run bench:admin   # a quick look; writes no results
 *
 * The receipts are 90 days of a news site: 700,000 visitors, some of whom choose again or
 * withdraw, every method, four regions, real signatures and the real chain and log (seeded
 * through the store's own append, 5,000 per transaction). The SQLite file is kept in
 * bench/.data (git-ignored) and reused by the next run with the same BENCH_ROWS.
 *
 * Writes bench/results/admin.md.
 */

import { execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Method, Receipt } from '../packages/core/src/index.js';
import { createServer, publishable } from '../packages/server/src/index.js';
import { createSigner } from '../packages/server/src/signer.js';
import { openStore } from '../packages/server/src/store/open.js';
import { ConsentLog } from '../packages/server/src/tlog/log.js';
import { freePort } from '../test-support/ports.js';

const ORIGIN = 'https://news.example';
const SITE = {
  policy: 'v3',
  categories: [{ id: 'analytics', services: [{ id: 'matomo' }] }, { id: 'marketing' }, { id: 'ad_tech' }],
};
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SHA256 = (() => {
  const r = publishable(SITE);
  if (!r.ok) throw new Error(r.errors.join('; '));
  return r.version.sha256;
})();
const DAY = 86_400_000;
const DAYS = 90;
const REGIONS = ['FR', 'DE', 'US', 'GB'];
/** A visitor's choice, weighted as on a real opt-in site: most accept or reject everything. */
const CHOICES: readonly [Method, Record<string, boolean>][] = [
  ['accept-all', { analytics: true, 'analytics:matomo': true, marketing: true, ad_tech: true }],
  ['accept-all', { analytics: true, 'analytics:matomo': true, marketing: true, ad_tech: true }],
  ['reject-all', { analytics: false, 'analytics:matomo': false, marketing: false, ad_tech: false }],
  ['reject-all', { analytics: false, 'analytics:matomo': false, marketing: false, ad_tech: false }],
  ['custom', { analytics: true, 'analytics:matomo': true, marketing: false, ad_tech: false }],
  ['gpc', { analytics: true, 'analytics:matomo': true, marketing: false, ad_tech: false }],
  ['withdraw', { analytics: false, 'analytics:matomo': false, marketing: false, ad_tech: false }],
];

const seed = async (db: string, rows: number) => {
  const store = openStore(db);
  await store.migrate();
  const key = generateKeyPairSync('ed25519').privateKey;
  const signer = createSigner(key);
  const visitors = Math.round(rows * 0.7);
  const ids = Array.from({ length: visitors }, () => randomBytes(16).toString('base64url').slice(0, 22));
  const start = Date.now() - DAYS * DAY;
  const BATCH = 5000;
  for (let done = 0; done < rows; done += BATCH) {
    const items = Array.from({ length: Math.min(BATCH, rows - done) }, (_, i) => {
      const n = done + i;
      // The first 70 % are each visitor's first choice; the rest choose again (or withdraw).
      const consentId = ids[n < visitors ? n : (n * 7919) % visitors]!;
      const [method, choices] = CHOICES[n < visitors ? n % 6 : n % CHOICES.length]!;
      const at = new Date(start + Math.floor((n / rows) * DAYS * DAY));
      return {
        v: 2 as const,
        id: `${at.getTime().toString(36)}${randomBytes(6).toString('base64url')}`,
        site: ORIGIN,
        at: at.toISOString(),
        consentId,
        policy: { version: 'v3', sha256: SHA256 },
        mode: 'opt-in' as const,
        choices,
        method,
        source: 'banner' as const,
        signals: { gpc: method === 'gpc' },
        page: { origin: ORIGIN, path: '/articles/bench' },
        lang: 'en',
        expiresAt: new Date(at.getTime() + 182 * DAY).toISOString(),
        region: REGIONS[n % REGIONS.length]!,
        ua: 'Firefox',
        ipHash: randomBytes(16).toString('base64url').slice(0, 22),
        kid: signer.kid,
      };
    }) as unknown as Omit<Receipt, 'seq' | 'prev'>[];
    await store.append(items, signer);
    if ((done + BATCH) % 100_000 === 0)
      process.stderr.write(`  seeded ${(done + BATCH).toLocaleString('en')}\n`);
  }
  // The log's tree and a checkpoint, as a running server keeps them (every 10 s): a server
  // started on unintegrated leaves would spend its first minutes hashing a million of them.
  const t = performance.now();
  await new ConsentLog(store, key).integrate(ORIGIN);
  process.stderr.write(`  log integrated in ${((performance.now() - t) / 1000).toFixed(0)} s\n`);
  await store.close();
  return ids;
};

/** A visitor's receipt as the banner posts it. */
const receiptBody = () =>
  JSON.stringify({
    consentId: randomBytes(16).toString('base64url').slice(0, 22),
    policy: { version: 'v3', sha256: SHA256 },
    mode: 'opt-in',
    choices: CHOICES[0]![1],
    method: 'accept-all',
    source: 'banner',
    signals: { gpc: false },
    page: { origin: ORIGIN, path: '/articles/bench' },
    lang: 'en',
  });

/** Child mode: serve the admin API on the seeded database. */
const serve = async (port: number, db: string) => {
  const { app } = await createServer({
    db,
    sites: { [ORIGIN]: SITE },
    adminToken: 'bench-admin-token',
    logger: false,
    retention: false,
    rateLimit: false,
  });
  await app.listen({ port, host: '127.0.0.1' });
  console.log('READY');
};

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

const time = async (base: string, path: string, runs: number) => {
  const get = async () => {
    const res = await fetch(base + path, { headers: { authorization: 'Bearer bench-admin-token' } });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<Record<string, unknown>>;
  };
  const body = await get(); // warm-up
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await get();
    ms.push(performance.now() - t);
  }
  return { body, p50: pct(ms, 50), p95: pct(ms, 95) };
};

const LOAD0 = os.loadavg()[0]!.toFixed(1);

const measure = async (kind: string, db: string, ids: readonly string[]) => {
  const port = await freePort();
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), 'serve', String(port), db],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => d.toString().includes('READY') && resolve());
    proc.once('exit', (c) => reject(new Error(`server exited ${c}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  const last30 = new Date(Date.now() - 30 * DAY).toISOString().slice(0, 10);
  const site = encodeURIComponent(ORIGIN);
  const rows: [string, string, number][] = [];
  try {
    const first = await time(base, `/v1/admin/receipts/page?site=${site}&limit=50`, 20);
    const next = String(first.body.next);
    const detailId = String((first.body.receipts as { id: string }[])[10]!.id);
    const cases: [string, string, number][] = [
      ['overview, all 90 days', `/v1/admin/overview?site=${site}`, 5],
      ['overview, last 30 days', `/v1/admin/overview?site=${site}&from=${last30}`, 5],
      ['receipts, first page (50)', `/v1/admin/receipts/page?site=${site}&limit=50`, 20],
      [
        'receipts, next page',
        `/v1/admin/receipts/page?site=${site}&limit=50&after=${encodeURIComponent(next)}`,
        20,
      ],
      ['receipts, method=withdraw', `/v1/admin/receipts/page?site=${site}&method=withdraw&limit=50`, 20],
      ['receipts, last 30 days', `/v1/admin/receipts/page?site=${site}&from=${last30}&limit=50`, 20],
      ['search by consent ID', `/v1/admin/receipts/page?consent=${ids[12_345 % ids.length]}`, 20],
      ['receipt detail (verified)', `/v1/admin/receipts/${detailId}`, 20],
    ];
    for (const [label, path, runs] of cases) {
      const r = await time(base, path, runs);
      rows.push([label, `${r.p50.toFixed(1)} / ${r.p95.toFixed(1)}`, runs]);
      process.stderr.write(`  ${kind}: ${label}: p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms\n`);
    }
    // What a visitor feels while the site owner looks at the console: receipts stored one
    // after another, alone and while overviews of all 90 days run back to back.
    for (const [label, busy] of [
      ['a receipt stored, console idle', false],
      ['a receipt stored while overviews run', true],
    ] as const) {
      let running = busy;
      const overviews = (async () => {
        while (running) await time(base, `/v1/admin/overview?site=${site}`, 0);
      })();
      const ms: number[] = [];
      const until = performance.now() + 5000;
      while (performance.now() < until) {
        const t = performance.now();
        const res = await fetch(`${base}/v1/receipts`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: ORIGIN },
          body: receiptBody(),
        });
        if (res.status !== 201) throw new Error(`receipt: ${res.status} ${await res.text()}`);
        ms.push(performance.now() - t);
      }
      running = false;
      await overviews;
      rows.push([label, `${pct(ms, 50).toFixed(1)} / ${pct(ms, 95).toFixed(1)}`, ms.length]);
      process.stderr.write(
        `  ${kind}: ${label}: p50 ${pct(ms, 50).toFixed(1)} ms, p95 ${pct(ms, 95).toFixed(1)} ms, max ${Math.max(...ms).toFixed(1)} ms (${ms.length})\n`,
      );
    }
  } finally {
    proc.kill();
  }
  return rows;
};

const main = async () => {
  const rows = Number(process.env.BENCH_ROWS ?? 1_000_000);
  const only = process.env.BENCH_ONLY;
  const dir = join(ROOT, 'bench/.data');
  mkdirSync(dir, { recursive: true });
  const results: Record<string, { seeded: string; rows: [string, string, number][] }> = {};

  if (!only || only === 'sqlite') {
    const file = join(dir, `admin-${rows}.db`);
    const db = `sqlite:${file}`;
    const t = performance.now();
    let seeded = 'reused from an earlier run';
    let ids: readonly string[];
    if (!existsSync(file)) {
      process.stderr.write(`seeding ${rows.toLocaleString('en')} receipts into SQLite…\n`);
      ids = await seed(db, rows);
      writeFileSync(`${file}.ids`, ids.slice(0, 20_000).join('\n'));
      seeded = `${((performance.now() - t) / 1000).toFixed(0)} s`;
    } else ids = readFileSync(`${file}.ids`, 'utf8').split('\n');
    // BENCH_SEED_ONLY=1: seed (at low priority, while other work runs) and stop.
    if (process.env.BENCH_SEED_ONLY) return;
    results.SQLite = { seeded, rows: await measure('SQLite', db, ids) };
  }
  if (!only || only === 'postgres') {
    // BENCH_PG_URL: a database seeded by an earlier run (BENCH_SEED_ONLY=1) is reused, with the
    // consent IDs it kept beside the SQLite file; otherwise a throwaway cluster is seeded now.
    const given = process.env.BENCH_PG_URL;
    const env = given
      ? ''
      : execFileSync('bash', [join(ROOT, 'scripts/postgres.sh'), 'start'], { encoding: 'utf8' });
    const vars = Object.fromEntries([...env.matchAll(/export (\w+)=(\S+)/g)].map((m) => [m[1], m[2]]));
    const url = given ?? vars.ASSENT_TEST_PG_URL!;
    const idsFile = join(dir, `admin-${rows}.pg.ids`);
    try {
      const t = performance.now();
      let seeded = 'reused from an earlier run';
      let ids: readonly string[];
      if (given && existsSync(idsFile)) ids = readFileSync(idsFile, 'utf8').split('\n');
      else {
        process.stderr.write(`seeding ${rows.toLocaleString('en')} receipts into PostgreSQL…\n`);
        ids = await seed(url, rows);
        if (given) writeFileSync(idsFile, ids.slice(0, 20_000).join('\n'));
        seeded = `${((performance.now() - t) / 1000).toFixed(0)} s`;
      }
      if (process.env.BENCH_SEED_ONLY) return;
      results.PostgreSQL = { seeded, rows: await measure('PostgreSQL', url, ids) };
    } finally {
      if (!given) execFileSync('bash', [join(ROOT, 'scripts/postgres.sh'), 'stop', vars.ASSENT_TEST_PG_DIR!]);
    }
  }
  if (only || rows !== 1_000_000) return;

  const kinds = Object.keys(results);
  const labels = results[kinds[0]!]!.rows.map((r) => r[0]);
  const md = [
    '# Admin console at 1,000,000 receipts',
    '',
    '`npm run bench:admin` — one server process per database on 127.0.0.1, sequential requests',
    '(after one warm-up each), p50 / p95 in milliseconds. 1,000,000 receipts over 90 days of one',
    'site: 700,000 visitors, 300,000 later choices and withdrawals, every method, four regions.',
    `Load average (1 min) when the run started: ${LOAD0}, when it ended: ${os.loadavg()[0]!.toFixed(1)} (2 cores, shared).`,
    '',
    `| request | ${kinds.join(' | ')} |`,
    `|---|${kinds.map(() => '---:').join('|')}|`,
    ...labels.map((l, i) => `| ${l} | ${kinds.map((k) => results[k]!.rows[i]![1]).join(' | ')} |`),
    '',
    `Seeding (the store's own append, real signatures, 5,000 per transaction): ${kinds.map((k) => `${k} ${results[k]!.seeded}`).join(', ')}.`,
    '',
    'The last two rows post receipts one after another for 5 s (each row adds them to the database),',
    'with the console idle and while overviews of all 90 days run back to back. On SQLite the',
    "console's long queries run on a reader thread, so an overview does not hold receipts up; on",
    "PostgreSQL, Assent's connections run without parallel query, so it leaves them cores.",
    '',
  ].join('\n');
  writeFileSync(join(ROOT, 'bench/results/admin.md'), md);
  console.log(md);
};

if (process.argv[2] === 'serve') await serve(Number(process.argv[3]), process.argv[4]!);
else await main();
