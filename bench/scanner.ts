/**
 * Scanner speed: seconds and CPU per page for all four phases (before, then reject and a
 * second page, in one visit / accept / GPC: three browser contexts at once) and peak memory of
 * this process plus Chromium, against the old three-phase scanner (git revision BENCH_OLD_REV,
 * default 755428a), scan v2 before its speed work (BENCH_PREV_REV, default 4b49224) and scan
 * v2 with four contexts per page (BENCH_FOUR_REV, default 6218598) — each extracted and
 * run in the same process and browser, rounds interleaved — and a plain page load (the floor:
 * one context, load + network idle). Per-step times of each phase come from the scan's
 * progress events. On a shared machine, run it at real-time priority for steadier figures:
 *
 *   BENCH_RT='chrt -r 10' chrt -r 10 npm run bench:scanner
 *
 *   npm run bench:scanner                            # the demo news site, started in-process
 *   BENCH_TARGET=fixtures npm run bench:scanner      # the scanner's fixture site
 *   BENCH_URLS=https://example.com/ npm run bench:scanner   # any site
 *   BENCH_ROUNDS=5 npm run bench:scanner
 *
 * Writes bench/results/scanner.md (committed) and bench/results/scanner.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeBrowser, launch, scanExecutable } from '../packages/scanner/src/browser.js';
import { type ScanOptions, scan } from '../packages/scanner/src/index.js';
import { startFixtures } from '../packages/scanner/test/fixtures/server.js';
import { ensureBanner, fixtureConfig } from '../packages/scanner/test/helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const loadAtStart = loadavg()
  .map((x) => x.toFixed(2))
  .join(' ');
const OLD_REV = process.env.BENCH_OLD_REV ?? '755428a';
/** Scan v2 as it was before the speed work (4b49224): the same four phases, unhurried. */
const PREV_REV = process.env.BENCH_PREV_REV ?? '4b49224';
/** Scan v2 with its four visits per page, before the before phase moved into the reject visit. */
const FOUR_REV = process.env.BENCH_FOUR_REV ?? '6218598';

/**
 * A scanner's sources (and its data files) at a git revision, written under
 * node_modules/.cache so that its imports (@assent/core, tldts, autoconsent, the tracker
 * database) resolve as they did.
 */
const scannerAt = async (rev: string): Promise<typeof scan> => {
  const dir = join(ROOT, `node_modules/.cache/assent-bench-scanner-${rev}`);
  rmSync(dir, { recursive: true, force: true });
  const files = execFileSync(
    'git',
    ['ls-tree', '-r', '--name-only', rev, 'packages/scanner/src', 'packages/scanner/data'],
    { cwd: ROOT, encoding: 'utf8' },
  )
    .split('\n')
    .filter(Boolean);
  for (const f of files) {
    const out = join(dir, f.replace('packages/scanner/', ''));
    mkdirSync(join(out, '..'), { recursive: true });
    writeFileSync(out, execFileSync('git', ['show', `${rev}:${f}`], { cwd: ROOT }));
  }
  const spec = join(dir, 'src/index.ts');
  return ((await import(spec)) as { scan: typeof scan }).scan;
};

/**
 * This process and all its descendants (Chromium's browser, renderer, GPU… processes), each
 * with its /proc/PID/stat fields after the command name (field 3 onwards: `f[1]` is the
 * parent, `f[11]`–`f[14]` utime, stime, cutime, cstime).
 */
const ownProcesses = (): Map<number, string[]> => {
  const all = new Map<number, string[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      all.set(Number(d), st.slice(st.lastIndexOf(')') + 2).split(' '));
    } catch {
      // the process ended while we looked
    }
  }
  const mine = new Map([[process.pid, all.get(process.pid) ?? []]]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, f] of all) {
      if (!mine.has(pid) && mine.has(Number(f[1]))) {
        mine.set(pid, f);
        grew = true;
      }
    }
  }
  return mine;
};

/**
 * Memory of this process and its descendants as PSS: shared pages are split between the
 * processes sharing them, so the sum is not inflated the way summed RSS is.
 */
const treeRss = (): number => {
  let total = 0;
  for (const pid of ownProcesses().keys()) {
    try {
      // smaps_rollup is costly to read: only for our own processes.
      total +=
        Number(/Pss:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0) * 1024;
    } catch {
      // ended
    }
  }
  return total;
};

/** CPU time (ms) of this process and its descendants, ended ones included (their parents' cutime). */
const treeCpu = (): number => {
  let ticks = 0;
  for (const f of ownProcesses().values())
    ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  return ticks * 10; // 100 clock ticks per second on Linux
};

const sampler = () => {
  let peak = 0;
  const t = setInterval(() => {
    peak = Math.max(peak, treeRss());
  }, 250);
  return {
    stop: () => {
      clearInterval(t);
      return Math.max(peak, treeRss());
    },
  };
};

const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// Targets: the demo news site (default, started in-process), the scanner's fixture site
// (BENCH_TARGET=fixtures), or any URLs (BENCH_URLS).
const target = process.env.BENCH_URLS
  ? 'urls'
  : process.env.BENCH_TARGET === 'fixtures'
    ? 'fixtures'
    : 'demo';
ensureBanner();
const fixtures = target === 'fixtures' ? await startFixtures() : null;
// `as`: assigned inside targetUrls(), which TypeScript's narrowing of a `let` does not see.
let demo = null as { url: string; server: { close(): Promise<unknown> } } | null;
const DEMO_PAGES = [
  '',
  'articles/trump-maduro-call',
  'articles/city-library-late-opening',
  'articles/rail-timetable-winter',
  'privacy',
];
/**
 * The pages to load. The demo is restarted for each measurement: its server rate-limits every
 * route (300 requests a minute per IP), and a scan of five pages makes about 150.
 */
const targetUrls = async (): Promise<string[]> => {
  if (target === 'urls') return process.env.BENCH_URLS!.split(/\s+|,/).filter(Boolean);
  if (fixtures)
    return ['/clean.html', '/leaky.html', '/other-cmp.html', '/long-consent.html'].map(
      (p) => fixtures.site + p,
    );
  await demo?.server.close();
  process.env.ASSENT_DEMO_DATA = mkdtempSync(join(tmpdir(), 'assent-bench-demo-'));
  const spec = '../demo/src/server.js';
  const { startDemo } = await import(spec);
  demo = await startDemo({ port: 0, host: '127.0.0.1', quiet: true });
  return DEMO_PAGES.map((p) => demo!.url + p);
};
let urls = await targetUrls();
const config = fixtures ? fixtureConfig(fixtures.hostResolverRules) : {};

// 1. The floor: a plain page load (fresh context, load, network idle), same browser flags.
// Every row in the browser scans run (Chromium's headless shell), and the old scanner and
// scan v2 now once more each in Chromium itself, the browser they ran in before.
const browserArgs = [
  fixtures?.hostResolverRules ?? null,
  fixtures ? ['--ignore-certificate-errors'] : [],
] as const;
const browser = await launch(...browserArgs, scanExecutable());
const fullBrowser = await launch(...browserArgs);
const browserNames = { scan: await describeBrowser(browser), full: await describeBrowser(fullBrowser) };
const plain: number[] = [];
let sample = sampler();
for (let r = 0; r < ROUNDS; r++) {
  for (const url of urls) {
    const t0 = Date.now();
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForLoadState('networkidle');
    await context.close();
    plain.push(Date.now() - t0);
  }
}
const plainRss = sample.stop();

// 2. The old scanner (three phases), scan v2 before the speed work and scan v2 now (four),
// alternating round by round so all see the same load on a shared machine; default settings.
const old = await scannerAt(OLD_REV);
const prev = await scannerAt(PREV_REV);
const four = await scannerAt(FOUR_REV);
type Runs = { perPage: number[]; wall: number[]; cpu: number[]; rss: number };
const none = (): Runs => ({ perPage: [], wall: [], cpu: [], rss: 0 });
const runs: Record<'old' | 'prev' | 'four' | 'now' | 'apart' | 'two' | 'oldFull' | 'nowFull', Runs> = {
  oldFull: none(),
  nowFull: none(),
  old: none(),
  prev: none(),
  four: none(),
  now: none(),
  apart: none(),
  two: none(),
};
const perPhase: Record<string, number[]> = { before: [], reject: [], accept: [], gpc: [] };
/** Milliseconds per step of each phase (scan v2 now), every page of every round. */
const perStep: Record<string, Record<string, number[]>> = { before: {}, reject: {}, accept: {}, gpc: {} };
let findings = 0;
const measure = async (
  which: keyof typeof runs,
  run: typeof scan,
  onProgress?: ScanOptions['onProgress'],
  inBrowser = browser,
) => {
  urls = await targetUrls();
  sample = sampler();
  const c0 = treeCpu();
  const t0 = Date.now();
  const { report } = await run(urls, {
    ...config,
    browser: inBrowser,
    ...(onProgress ? { onProgress } : {}),
  });
  runs[which].wall.push((Date.now() - t0) / urls.length);
  runs[which].cpu.push((treeCpu() - c0) / urls.length);
  runs[which].rss = Math.max(runs[which].rss, sample.stop());
  if (report.errors.length) throw new Error(report.errors.map((e) => e.message).join('; '));
  for (const p of report.pages) runs[which].perPage.push(p.durationMs);
  return report;
};
for (let r = 0; r < ROUNDS; r++) {
  await measure('old', old);
  await measure('prev', prev);
  await measure('four', four);
  // Scan v2 now, each page's visits all ended before the next page starts (as before).
  await measure('apart', (u, o) => scan(u, { ...o, overlap: false }));
  const report = await measure('now', scan, (e) => {
    if (e.type !== 'phase') return;
    const steps = perStep[e.phase]!;
    for (const [k, v] of Object.entries(e.steps)) (steps[k] ??= []).push(v);
  });
  findings = report.pages.reduce((n, p) => n + p.findings.length, 0);
  for (const p of report.pages)
    for (const x of [p.phases.before, p.phases.reject, p.phases.accept, p.phases.gpc])
      perPhase[x.name]!.push(x.durationMs);
  // Two pages busy at a time, for comparison.
  await measure('two', (u, o) => scan(u, { ...o, concurrency: 2 }));
  await measure('oldFull', old, undefined, fullBrowser);
  await measure('nowFull', scan, undefined, fullBrowser);
}
await browser.close();
await fullBrowser.close();
await fixtures?.close();
await demo?.server.close();

const stats = (r: Runs) => ({
  median: median(r.perPage),
  max: Math.max(...r.perPage),
  wallPerPage: median(r.wall),
  cpuPerPage: median(r.cpu),
});
const result = {
  date: new Date().toISOString(),
  machine: `${cpus().length} × ${cpus()[0]?.model.trim()}`,
  loadAtStart,
  load: loadavg()
    .map((x) => x.toFixed(2))
    .join(' '),
  realtime: process.env.BENCH_RT ?? null,
  node: process.version,
  target:
    target === 'demo'
      ? 'the demo news site (demo/)'
      : target === 'fixtures'
        ? 'the scanner fixture site'
        : urls.join(', '),
  pages: urls.length,
  rounds: ROUNDS,
  plainLoadMs: { median: median(plain), max: Math.max(...plain) },
  scanPerPageMs: stats(runs.now),
  prevScanPerPageMs: { rev: PREV_REV, ...stats(runs.prev) },
  apartScanPerPageMs: stats(runs.apart),
  fourScanPerPageMs: { rev: FOUR_REV, ...stats(runs.four) },
  twoScanPerPageMs: stats(runs.two),
  oldScanPerPageMs: { rev: OLD_REV, ...stats(runs.old) },
  browsers: browserNames,
  fullOldScanPerPageMs: stats(runs.oldFull),
  fullScanPerPageMs: stats(runs.nowFull),
  findingsLastRound: findings,
  phaseMs: Object.fromEntries(Object.entries(perPhase).map(([k, v]) => [k, median(v)])),
  stepMs: Object.fromEntries(
    Object.entries(perStep).map(([phase, steps]) => [
      phase,
      Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, median(v)])),
    ]),
  ),
  peakRssBytes: {
    plain: plainRss,
    oldScan: runs.old.rss,
    prevScan: runs.prev.rss,
    fourScan: runs.four.rss,
    scan: runs.now.rss,
    twoScan: runs.two.rss,
    fullOldScan: runs.oldFull.rss,
    fullScan: runs.nowFull.rss,
  },
};

const PHASES = ['before', 'reject', 'accept', 'gpc'] as const;
const stepNames = [...new Set(PHASES.flatMap((p) => Object.keys(result.stepMs[p] ?? {})))];
const stepTable = [
  `| step (median ms) | ${PHASES.join(' | ')} |`,
  `|---|${PHASES.map(() => '---:').join('|')}|`,
  ...stepNames.map((k) => `| ${k} | ${PHASES.map((p) => result.stepMs[p]?.[k] ?? '').join(' | ')} |`),
  `| **phase total** | ${PHASES.map((p) => `**${result.phaseMs[p]}**`).join(' | ')} |`,
].join('\n');

const md = `# Scanner benchmark

${result.date} · ${result.machine} · Node ${result.node} · ${result.target} · ${result.pages} pages × ${ROUNDS} rounds${result.realtime ? ` · run under \`${result.realtime}\`` : ''}

Browser: ${result.browsers.scan} (what scans run), except the last two rows: ${result.browsers.full}.

| measure (default settings) | **wall time ÷ pages** | CPU ÷ pages (Node + Chromium) | one page, start to end: median | max |
|---|---|---|---|---|
| plain page load (1 context: load + network idle) | | | ${s(result.plainLoadMs.median)} | ${s(result.plainLoadMs.max)} |
| old scanner (${OLD_REV}), 3 phases in parallel contexts | ${s(result.oldScanPerPageMs.wallPerPage)} | ${s(result.oldScanPerPageMs.cpuPerPage)} | ${s(result.oldScanPerPageMs.median)} | ${s(result.oldScanPerPageMs.max)} |
| scan v2 before the speed work (${PREV_REV}), 4 phases in 4 contexts | ${s(result.prevScanPerPageMs.wallPerPage)} | ${s(result.prevScanPerPageMs.cpuPerPage)} | ${s(result.prevScanPerPageMs.median)} | ${s(result.prevScanPerPageMs.max)} |
| scan v2 with 4 contexts per page (${FOUR_REV}) | ${s(result.fourScanPerPageMs.wallPerPage)} | ${s(result.fourScanPerPageMs.cpuPerPage)} | ${s(result.fourScanPerPageMs.median)} | ${s(result.fourScanPerPageMs.max)} |
| scan v2 now, pages one after the other (\`overlap: false\`) | ${s(result.apartScanPerPageMs.wallPerPage)} | ${s(result.apartScanPerPageMs.cpuPerPage)} | ${s(result.apartScanPerPageMs.median)} | ${s(result.apartScanPerPageMs.max)} |
| **scan v2 now, 4 phases in 3 contexts** (default: the next page starts while this one settles) | **${s(result.scanPerPageMs.wallPerPage)}** | ${s(result.scanPerPageMs.cpuPerPage)} | ${s(result.scanPerPageMs.median)} | ${s(result.scanPerPageMs.max)} |
| — phase before consent (the reject visit until its before record) | | | ${s(result.phaseMs.before!)} | |
| — phase after reject (the whole reject visit: before, click, reload, second page, scroll) | | | ${s(result.phaseMs.reject!)} | |
| — phase after accept (click, reload, held elements, scroll) | | | ${s(result.phaseMs.accept!)} | |
| — phase with GPC (Sec-GPC: 1, navigator.globalPrivacyControl) | | | ${s(result.phaseMs.gpc!)} | |
| scan v2 now, \`concurrency: 2\` | ${s(result.twoScanPerPageMs.wallPerPage)} | ${s(result.twoScanPerPageMs.cpuPerPage)} | ${s(result.twoScanPerPageMs.median)} | ${s(result.twoScanPerPageMs.max)} |
| old scanner (${OLD_REV}) in ${result.browsers.full} | ${s(result.fullOldScanPerPageMs.wallPerPage)} | ${s(result.fullOldScanPerPageMs.cpuPerPage)} | ${s(result.fullOldScanPerPageMs.median)} | ${s(result.fullOldScanPerPageMs.max)} |
| scan v2 now in ${result.browsers.full} | ${s(result.fullScanPerPageMs.wallPerPage)} | ${s(result.fullScanPerPageMs.cpuPerPage)} | ${s(result.fullScanPerPageMs.median)} | ${s(result.fullScanPerPageMs.max)} |

Scan v2 now starts the next page once the three visits of the current one only wait for late
requests, so its pages overlap: "start to end" of one page is longer than its share of the
wall time, and the wall time is the figure to compare. CPU counts every process of the run
(Node, the demo's server in it, Chromium's browser, GPU, network and renderer processes): on
two shared cores it is the steadier figure.

Where a phase's time goes (scan v2 now; every page of every round; steps in the order they run,
"quiet" = waiting until the network has been idle for a while; the reject column starts where
the before column ends, in the same visit):

${stepTable}

| peak memory, PSS (Node + every Chromium process) | |
|---|---|
| plain page loads | ${mb(result.peakRssBytes.plain)} |
| old scanner (3 contexts) | ${mb(result.peakRssBytes.oldScan)} |
| scan v2 before (4 contexts) | ${mb(result.peakRssBytes.prevScan)} |
| scan v2 with 4 contexts per page (8 while pages overlap) | ${mb(result.peakRssBytes.fourScan)} |
| scan v2 now (3 contexts, 6 while pages overlap) | ${mb(result.peakRssBytes.scan)} |
| scan v2 now, \`concurrency: 2\` (up to 12 contexts) | ${mb(result.peakRssBytes.twoScan)} |
| old scanner in ${result.browsers.full} | ${mb(result.peakRssBytes.fullOldScan)} |
| scan v2 now in ${result.browsers.full} | ${mb(result.peakRssBytes.fullScan)} |

Same run, rounds interleaved; in ${result.browsers.full}, scan v2 now takes ${(result.fullScanPerPageMs.wallPerPage / result.fullOldScanPerPageMs.wallPerPage).toFixed(2)}× the old scanner's wall time
per page, and the headless shell ${(result.scanPerPageMs.wallPerPage / result.fullScanPerPageMs.wallPerPage).toFixed(2)}× Chromium's for scan v2 now (CPU ${(result.scanPerPageMs.cpuPerPage / result.fullScanPerPageMs.cpuPerPage).toFixed(2)}×).
In the same browser, wall time per page: scan v2 now against the old
scanner ${(result.scanPerPageMs.wallPerPage / result.oldScanPerPageMs.wallPerPage).toFixed(2)}×, against scan v2 before the speed work
${(result.scanPerPageMs.wallPerPage / result.prevScanPerPageMs.wallPerPage).toFixed(2)}×, against four contexts per page ${(result.scanPerPageMs.wallPerPage / result.fourScanPerPageMs.wallPerPage).toFixed(2)}× (CPU ${(result.scanPerPageMs.cpuPerPage / result.fourScanPerPageMs.cpuPerPage).toFixed(2)}×).
Findings on the target (scan v2 now, last round): ${result.findingsLastRound}.

Target: < 6 s per page. Load average (1, 5, 15 min) at the start: ${result.loadAtStart}; when the run ended: ${result.load}
(2 cores, shared with other jobs). Rerun before comparing numbers across runs.
`;
writeFileSync(`${ROOT}bench/results/scanner.md`, md);
writeFileSync(`${ROOT}bench/results/scanner.json`, `${JSON.stringify(result, null, 2)}\n`);
console.log(md);
