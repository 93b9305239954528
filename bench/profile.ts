/**
 * `npm run bench:profile`: where Assent's start-up spends the main thread, against
 * vanilla-cookieconsent (the best peer on scripting in bench/results/banner.md), in one
 * interleaved run, in both embeddings (`defer`, and without `defer` as owners paste snippets).
 *
 * Debian's Chromium (playwright-core, the project's CHROMIUM_ARGS), 4× CPU throttling, the
 * bench page of bench/banner.ts. Two passes per load, interleaved with every page:
 * - **CPU profile** (CDP Profiler, sampling every PROFILE_INTERVAL µs, default 100) from before
 *   navigation until the Accept button is visible and `load` has fired: self and total time
 *   per function. Assent is profiled twice: the shipped `assent.min.js`, and a build of the
 *   same source with names (esbuild, `dropInOptions(true)` with `minify: false`, the same
 *   property mangling; no Closure/UglifyJS) served in its place, for attribution to source
 *   functions and modules (esbuild's `// src/x.ts` markers).
 * - **Trace** (CDP Tracing, devtools.timeline + v8 compile) of a separate load: script
 *   compile/evaluate per file, callbacks, style recalcs and layouts (and which were forced
 *   from script), the page's first paint; plus Performance.getMetrics (ScriptDuration,
 *   LayoutDuration, RecalcStyleDuration, TaskDuration).
 *
 * Writes bench/results/profile.md. Env: BENCH_RUNS (default 9), PROFILE_INTERVAL (µs),
 * BENCH_NO_BUILD=1 (use packages/banner/dist as it is).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BuildOptions, build } from 'esbuild';
import { type Browser, type CDPSession, chromium, type Page } from 'playwright-core';
import { BANNER_DIST, CHROMIUM, CHROMIUM_ARGS, ROOT } from '../test-support/browser.js';
import { VANILLA_CC_CONFIG } from './notice-config.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const INTERVAL = Number(process.env.PROFILE_INTERVAL ?? 100);
const THROTTLE = 4;
const RESULTS = join(ROOT, 'bench/results');
const PEER_MODULES = join(ROOT, 'bench/peers/node_modules');
const t0 = Date.now();
const loadBefore = loadavg()[0]!;
const log = (...a: unknown[]) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);

if (!existsSync(join(PEER_MODULES, 'vanilla-cookieconsent')))
  throw new Error('bench/peers is not installed: run `npm run bench:banner` once (it installs the peers)');

// ---------------------------------------------------------------------------------------------
// 1. The builds: the shipped file, and the same source with names.

if (!process.env.BENCH_NO_BUILD) {
  log('node packages/banner/build.mjs');
  execFileSync('node', [join(ROOT, 'packages/banner/build.mjs')], { cwd: ROOT, stdio: 'inherit' });
}
const { dropInOptions } = (await import(
  pathToFileURL(join(ROOT, 'packages/banner/build-options.mjs')).href
)) as {
  dropInOptions: (lite: boolean) => BuildOptions;
};
const named = await build({ ...dropInOptions(true), minify: false, mangleCache: {}, write: false });
const NAMED = named.outputFiles![0]!.text;
/** Line (1-based) → the source module, from esbuild's `// src/x.ts` markers. */
const moduleAt: string[] = [];
{
  let current = '(bundle)';
  NAMED.split('\n').forEach((line, i) => {
    const m = /^\s*\/\/ ((?:\.\.\/)*[\w./-]+\.ts)$/.exec(line);
    if (m) current = m[1]!.replace(/^(\.\.\/)+/, '').replace(/^core\//, 'core/');
    moduleAt[i + 1] = current;
  });
}
// Read once: others may rebuild dist/ during the run.
const SHIPPED = readFileSync(join(BANNER_DIST, 'assent.min.js'));
const PREFS = readFileSync(join(BANNER_DIST, 'assent.prefs.min.js'));

// ---------------------------------------------------------------------------------------------
// 2. The pages (bench/banner.ts's article and configs).

const PARAGRAPH =
  'The council met on Tuesday to discuss the new cycle lanes along the river. Residents asked for ' +
  'safer crossings near the school, and the plans will be shown at the library next month. ';
const pageHtml = (head: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Bench page</title><style>body{margin:0 auto;max-width:44rem;padding:1rem;font:17px/1.6 Georgia,serif;color:#222}h1{font:700 2rem/1.2 system-ui,sans-serif}</style>${head}</head><body><main><h1>Cycle lanes for the river path</h1>${Array.from({ length: 8 }, () => `<p>${PARAGRAPH.repeat(3)}</p>`).join('')}</main></body></html>`;

interface P {
  id: string;
  /** The library, for the tables. */
  lib: 'none' | 'assent' | 'assent-named' | 'vanilla-cc';
  embed: 'defer' | 'nodefer' | '';
  head: string;
  accept: string;
  trace: boolean;
}
const ASSENT_ACCEPT = '#assent-banner [data-assent-action=accept]';
const VCC_ACCEPT = '#cc-main [data-role="all"]';
const tag = (src: string, defer: boolean, attrs = '') =>
  `<script src="${src}"${defer ? ' defer' : ''}${attrs}></script>`;
const SHORTCODE = ' data-assent="buttons=(Accept !) days=(20) href=(/privacy)"';
const PAGES: P[] = [{ id: 'none', lib: 'none', embed: '', head: '', accept: '', trace: true }];
for (const defer of [true, false]) {
  const embed = defer ? 'defer' : 'nodefer';
  PAGES.push(
    {
      id: `assent-${embed}`,
      lib: 'assent',
      embed,
      head: tag('/assent.min.js', defer, SHORTCODE),
      accept: ASSENT_ACCEPT,
      trace: true,
    },
    {
      id: `assent-named-${embed}`,
      lib: 'assent-named',
      embed,
      head: tag('/named/assent.min.js', defer, SHORTCODE),
      accept: ASSENT_ACCEPT,
      trace: false,
    },
    {
      id: `vanilla-cc-${embed}`,
      lib: 'vanilla-cc',
      embed,
      head:
        '<link rel="stylesheet" href="/p/vanilla-cookieconsent/dist/cookieconsent.css">' +
        tag('/p/vanilla-cookieconsent/dist/cookieconsent.umd.js', defer) +
        tag(defer ? '/cfg/vanilla-cc.js' : '/cfg/nd-vanilla-cc.js', defer),
      accept: VCC_ACCEPT,
      trace: true,
    },
  );
}

const server = createServer((req, res) => {
  const p = new URL(req.url ?? '/', 'http://x').pathname;
  const send = (type: string, body: string | Buffer) => {
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(body);
  };
  const page = PAGES.find((x) => p === `/${x.id}`);
  if (page) return send('text/html; charset=utf-8', pageHtml(page.head));
  if (p === '/favicon.ico') return res.writeHead(204).end();
  if (p === '/assent.min.js') return send('text/javascript', SHIPPED);
  if (p === '/named/assent.min.js') return send('text/javascript', NAMED);
  if (p === '/assent.prefs.min.js' || p === '/named/assent.prefs.min.js')
    return send('text/javascript', PREFS);
  if (p === '/cfg/vanilla-cc.js') return send('text/javascript', VANILLA_CC_CONFIG);
  // Without `defer` its run() throws in <head> (it appends to document.body): it waits for the
  // body, as in bench/banner.ts; the library file itself still blocks the parser.
  if (p === '/cfg/nd-vanilla-cc.js')
    return send(
      'text/javascript',
      `(() => {\nconst go = () => {\n${VANILLA_CC_CONFIG}\n};\nif (document.body) go();\nelse document.addEventListener('DOMContentLoaded', go);\n})();`,
    );
  if (p.startsWith('/p/vanilla-cookieconsent/dist/') && !p.includes('..')) {
    const f = join(PEER_MODULES, p.slice(3));
    if (existsSync(f)) return send(p.endsWith('.css') ? 'text/css' : 'text/javascript', readFileSync(f));
  }
  res.writeHead(404).end();
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const ORIGIN = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

/** The probe of bench/banner.ts, reduced: the frame with Accept (or the <h1>) visible, paints. */
const probe = (accept: string) => `(() => {
  const out = (window.__bench = { visible: null, ref: null, fp: null, fcp: null, loaded: false });
  try { new PerformanceObserver((l) => l.getEntries().forEach((e) => { out[e.name === 'first-paint' ? 'fp' : 'fcp'] = e.startTime; })).observe({ type: 'paint', buffered: true }); } catch {}
  addEventListener('load', () => { out.loaded = true; });
  const visible = (el) => {
    if (!el) return false;
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) return false;
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) return false;
    let o = 1;
    for (let n = el; n && n.nodeType === 1; n = n.parentElement) o *= parseFloat(getComputedStyle(n).opacity);
    if (o < 0.5 || getComputedStyle(el).visibility !== 'visible') return false;
    const hit = document.elementFromPoint(x, y);
    return !!hit && (hit === el || el.contains(hit));
  };
  const ACCEPT = ${JSON.stringify(accept)};
  const tick = (t) => {
    if (out.ref === null && visible(document.querySelector('h1'))) out.ref = t;
    if (ACCEPT && out.visible === null && visible(document.querySelector(ACCEPT))) out.visible = t;
    if (out.ref === null || (ACCEPT && out.visible === null)) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();`;

// ---------------------------------------------------------------------------------------------
// 3. One load, profiled or traced.

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
  /** Samples per source line (1-based) while this node was on top of the stack. */
  positionTicks?: { line: number; ticks: number }[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}
interface TraceEvent {
  name: string;
  cat: string;
  ph: string;
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: { name?: string; data?: Record<string, unknown>; beginData?: Record<string, unknown> };
}
interface Metrics {
  script: number;
  layout: number;
  style: number;
  task: number;
}
interface InPage {
  visible: number | null;
  ref: number | null;
  fp: number | null;
  fcp: number | null;
}
interface Load {
  page: InPage;
  metrics: Metrics;
  profile?: Profile;
  trace?: TraceEvent[];
  error?: string;
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const poll = async (page: Page, fn: string, timeout: number) => {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    if (await page.evaluate(fn)) return true;
    await wait(20);
  }
  return false;
};
const getMetrics = async (cdp: CDPSession): Promise<Metrics> => {
  const ms = (await cdp.send('Performance.getMetrics')).metrics;
  const m = (n: string) => (ms.find((x) => x.name === n)?.value ?? Number.NaN) * 1000;
  return {
    script: m('ScriptDuration'),
    layout: m('LayoutDuration'),
    style: m('RecalcStyleDuration'),
    task: m('TaskDuration'),
  };
};

const load = async (browser: Browser, p: P, mode: 'profile' | 'trace'): Promise<Load> => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  await context.route('**/*', (route) =>
    route.request().url().startsWith(ORIGIN) ? route.continue() : route.abort('blockedbyclient'),
  );
  await context.addInitScript({ content: probe(p.accept) });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  const out: Load = { page: { visible: null, ref: null, fp: null, fcp: null }, metrics: {} as Metrics };
  let tracing: CDPSession | undefined;
  const events: TraceEvent[] = [];
  try {
    await cdp.send('Performance.enable');
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: THROTTLE });
    if (mode === 'profile') {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: INTERVAL });
      await cdp.send('Profiler.start');
    } else {
      tracing = await browser.newBrowserCDPSession();
      tracing.on('Tracing.dataCollected', (e) => {
        for (const x of e.value) events.push(x as unknown as TraceEvent);
      });
      await tracing.send('Tracing.start', {
        transferMode: 'ReportEvents',
        traceConfig: {
          includedCategories: [
            'devtools.timeline',
            'disabled-by-default-devtools.timeline',
            'v8.execute',
            'v8',
            'disabled-by-default-v8.compile',
            'blink.user_timing',
            'loading',
            '__metadata',
          ],
        },
      });
    }
    await page.goto(`${ORIGIN}/${p.id}`, { waitUntil: 'load', timeout: 60_000 });
    const target = p.accept ? 'window.__bench.visible !== null' : 'window.__bench.ref !== null';
    if (!(await poll(page, target, 30_000))) throw new Error('never visible');
    if (mode === 'profile') out.profile = (await cdp.send('Profiler.stop')).profile as Profile;
    out.metrics = await getMetrics(cdp);
    out.page = (await page.evaluate('window.__bench')) as InPage;
    if (tracing) {
      const done = new Promise<void>((r) => tracing!.once('Tracing.tracingComplete', () => r()));
      await tracing.send('Tracing.end');
      await done;
      out.trace = events;
    }
  } catch (e) {
    out.error = String(e instanceof Error ? e.message : e).split('\n')[0];
  } finally {
    await tracing?.detach().catch(() => {});
    await context.close();
  }
  return out;
};

// ---------------------------------------------------------------------------------------------
// 4. Reading a profile: self and total time per function, per script.

const shortUrl = (u: string) =>
  u ? new URL(u).pathname.replace(/^\/p\/vanilla-cookieconsent\/dist\//, 'vcc:') : '';
const fnKey = (f: ProfileNode['callFrame'], named: boolean) => {
  const name = f.functionName || '(anonymous)';
  if (!f.url) return name;
  const where = `${shortUrl(f.url)}:${f.lineNumber + 1}:${f.columnNumber + 1}`;
  return named && f.url.includes('/named/')
    ? `${name} [${moduleAt[f.lineNumber + 1] ?? '?'}:${f.lineNumber + 1}]`
    : `${name} ${where}`;
};
/** Which part of the page a frame is: the banner's file, the peer's, the probe, or V8's own. */
const scriptOf = (f: ProfileNode['callFrame']) => {
  if (!f.url) return /^\(/.test(f.functionName) ? f.functionName : 'bench probe / inline';
  return shortUrl(f.url);
};
interface FnTimes {
  self: Map<string, number>;
  total: Map<string, number>;
  byScript: Map<string, number>;
  /** Self time by source module (the named build only). */
  byModule: Map<string, number>;
  /** Self time by line of the named build (from positionTicks). */
  byLine: Map<string, number>;
  span: number;
}
const readProfile = (prof: Profile, named: boolean): FnTimes => {
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const r: FnTimes = {
    self: new Map(),
    total: new Map(),
    byScript: new Map(),
    byModule: new Map(),
    byLine: new Map(),
    span: 0,
  };
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  let t = prof.startTime;
  const times = prof.timeDeltas.map((d) => (t += d));
  for (let i = 0; i < prof.samples.length; i++) {
    const dur = ((times[i + 1] ?? prof.endTime) - times[i]!) / 1000; // µs → ms
    if (dur <= 0) continue;
    const leaf = byId.get(prof.samples[i]!)!;
    add(r.self, fnKey(leaf.callFrame, named), dur);
    add(r.byScript, scriptOf(leaf.callFrame), dur);
    if (named && leaf.callFrame.url.includes('/named/'))
      add(r.byModule, moduleAt[leaf.callFrame.lineNumber + 1] ?? '?', dur);
    const seen = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const k = fnKey(byId.get(id)!.callFrame, named);
      if (!seen.has(k)) {
        seen.add(k);
        add(r.total, k, dur);
      }
    }
    r.span += dur;
  }
  // Line ticks: each tick is one sample; spread the node's self time over its lines.
  if (named) {
    const ticks = new Map<string, number>();
    const mine = prof.nodes.filter((n) => n.callFrame.url.includes('/named/') && n.positionTicks?.length);
    for (const n of mine)
      add(
        ticks,
        fnKey(n.callFrame, true),
        n.positionTicks!.reduce((b, t) => b + t.ticks, 0),
      );
    for (const n of mine) {
      const k = fnKey(n.callFrame, true);
      for (const t of n.positionTicks!)
        add(r.byLine, `${t.line}`, ((r.self.get(k) ?? 0) * t.ticks) / ticks.get(k)!);
    }
  }
  return r;
};

// ---------------------------------------------------------------------------------------------
// 5. Reading a trace: the page's renderer main thread, by event.

interface TraceSummary {
  /** EvaluateScript (compile + top-level run) per script, ms. */
  evaluate: Map<string, number>;
  /** v8.compile per script, ms. */
  compile: Map<string, number>;
  /** FunctionCall (callbacks: DOMContentLoaded, rAF, timers, events) per script, ms. */
  call: Map<string, number>;
  /** Style recalcs and layouts: all, and those run synchronously inside a script (forced). */
  style: number;
  layout: number;
  forcedStyle: Map<string, number>;
  forcedLayout: Map<string, number>;
  parseHtml: number;
  paint: number;
  firstPaint: number | null;
}
const readTrace = (events: TraceEvent[], pageId: string): TraceSummary | undefined => {
  // The renderer main thread that parsed this page.
  const parse = events.find(
    (e) => e.name === 'ParseHTML' && String(e.args?.beginData?.url ?? '').endsWith(`/${pageId}`),
  );
  if (!parse) return undefined;
  const main = events
    .filter(
      (e) =>
        e.pid === parse.pid &&
        e.tid === parse.tid &&
        (e.ph === 'X' || e.ph === 'I' || e.ph === 'R' || e.ph === 'b' || e.ph === 'n'),
    )
    .sort((a, b) => a.ts - b.ts);
  const nav = events.find(
    (e) =>
      e.name === 'navigationStart' &&
      e.pid === parse.pid &&
      String(e.args?.data?.documentLoaderURL ?? '').endsWith(`/${pageId}`),
  );
  const s: TraceSummary = {
    evaluate: new Map(),
    compile: new Map(),
    call: new Map(),
    style: 0,
    layout: 0,
    forcedStyle: new Map(),
    forcedLayout: new Map(),
    parseHtml: 0,
    paint: 0,
    firstPaint: null,
  };
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  const urlOf = (e: TraceEvent) => {
    const d = e.args?.data ?? {};
    const u = String(d.url ?? d.scriptName ?? '');
    return u.startsWith('http') ? shortUrl(u) : u || 'bench probe / inline';
  };
  // Open script events, to attribute forced style/layout to the script that forced it.
  const scripts = main.filter(
    (e) =>
      e.ph === 'X' &&
      (e.name === 'EvaluateScript' || e.name === 'FunctionCall' || e.name === 'v8.callFunction'),
  );
  const inScript = (e: TraceEvent) => {
    let hit: TraceEvent | undefined;
    for (const x of scripts) {
      if (x.ts > e.ts) break;
      if (x.ts + (x.dur ?? 0) >= e.ts + (e.dur ?? 0) && (x.name !== 'v8.callFunction' || !hit)) hit = x;
    }
    return hit;
  };
  for (const e of main) {
    const d = (e.dur ?? 0) / 1000;
    if (e.ph !== 'X') continue;
    if (e.name === 'EvaluateScript') add(s.evaluate, urlOf(e), d);
    else if (e.name === 'v8.compile' || e.name === 'V8.CompileCode' || e.name === 'v8.compileModule')
      add(s.compile, urlOf(e), d);
    else if (e.name === 'FunctionCall') add(s.call, urlOf(e), d);
    else if (e.name === 'ParseHTML') s.parseHtml += d;
    else if (e.name === 'Paint' || e.name === 'PaintImage') s.paint += d;
    else if (e.name === 'UpdateLayoutTree' || e.name === 'RecalculateStyles' || e.name === 'Layout') {
      const style = e.name !== 'Layout';
      if (style) s.style += d;
      else s.layout += d;
      const by = inScript(e);
      if (by && by.name !== 'v8.callFunction') add(style ? s.forcedStyle : s.forcedLayout, urlOf(by), d);
    }
  }
  const fp = events.find((e) => e.name === 'firstPaint' && e.pid === parse.pid);
  if (fp && nav) s.firstPaint = (fp.ts - nav.ts) / 1000;
  return s;
};

// ---------------------------------------------------------------------------------------------
// 6. The run: every page in both passes, the order rotating every run.

const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });
const chromiumVersion = browser.version();
const profiles: Record<string, FnTimes[]> = {};
const traces: Record<string, TraceSummary[]> = {};
const metrics: Record<string, { profile: Metrics[]; trace: Metrics[] }> = {};
const inPage: Record<string, InPage[]> = {};
const errors: string[] = [];
log(
  `Chromium ${chromiumVersion}; ${RUNS} runs × ${PAGES.length} pages (profile) + ${PAGES.filter((p) => p.trace).length} (trace), ${THROTTLE}× throttling, sampling ${INTERVAL} µs`,
);
// One unmeasured load first (the browser's own first-use costs).
await load(browser, PAGES[1]!, 'profile');
for (let run = 0; run < RUNS; run++) {
  const jobs = PAGES.flatMap((p) => [
    { p, mode: 'profile' as const },
    ...(p.trace ? [{ p, mode: 'trace' as const }] : []),
  ]);
  const order = jobs.map((_, i) => jobs[(i + run * 3) % jobs.length]!);
  for (const { p, mode } of order) {
    const l = await load(browser, p, mode);
    if (l.error) {
      errors.push(`${p.id} ${mode}: ${l.error}`);
      log(`run ${run + 1} ${p.id} ${mode}: ERROR ${l.error}`);
      continue;
    }
    (metrics[p.id] ??= { profile: [], trace: [] })[mode].push(l.metrics);
    if (mode === 'trace') {
      (inPage[p.id] ??= []).push(l.page);
      const t = readTrace(l.trace ?? [], p.id);
      if (t) (traces[p.id] ??= []).push(t);
      else errors.push(`${p.id}: no main thread found in the trace`);
    } else if (l.profile) {
      (profiles[p.id] ??= []).push(readProfile(l.profile, p.lib === 'assent-named'));
      if (!p.trace) (inPage[p.id] ??= []).push(l.page);
    }
  }
  log(`run ${run + 1}/${RUNS} done`);
}
await browser.close();
server.close();

// ---------------------------------------------------------------------------------------------
// 7. Tables.

const quantile = (xs: number[], q: number) => {
  const a = xs.filter((x) => Number.isFinite(x)).sort((x, y) => x - y);
  if (a.length === 0) return Number.NaN;
  const i = (a.length - 1) * q;
  return a[Math.floor(i)]! + (a[Math.ceil(i)]! - a[Math.floor(i)]!) * (i - Math.floor(i));
};
const median = (xs: number[]) => quantile(xs, 0.5);
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const f0 = (x: number) => (Number.isFinite(x) ? `${Math.round(x)}` : 'n/a');
/** Mean per load of a map's entries over runs (a function absent from a run counts 0). */
const meanMap = (ms: Map<string, number>[]) => {
  const out = new Map<string, number>();
  for (const m of ms) for (const [k, v] of m) out.set(k, (out.get(k) ?? 0) + v / ms.length);
  return out;
};
const table = (header: string[], rows: string[][], left = 1) =>
  [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i < left ? '---' : '---:')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');

const base = metrics.none?.trace ?? [];
const baseM = (k: keyof Metrics) => median(base.map((m) => m[k]));
const metricRows = PAGES.filter((p) => p.trace).map((p) => {
  const ms = metrics[p.id]?.trace ?? [];
  const med = (k: keyof Metrics) => median(ms.map((m) => m[k]));
  const dm = (k: keyof Metrics) =>
    p.id === 'none' ? f0(med(k)) : `${f0(med(k))} (+${f0(med(k) - baseM(k))})`;
  const ip = inPage[p.id] ?? [];
  const tr = traces[p.id] ?? [];
  const mine = (m: Map<string, number>) =>
    [...m].filter(([k]) => k !== 'bench probe / inline').reduce((a, [, v]) => a + v, 0);
  return [
    p.id,
    dm('script'),
    dm('style'),
    dm('layout'),
    dm('task'),
    f0(median(tr.map((t) => mine(t.evaluate)))),
    f0(median(tr.map((t) => mine(t.compile)))),
    f0(median(tr.map((t) => mine(t.call)))),
    f1(median(tr.map((t) => mine(t.forcedStyle) + mine(t.forcedLayout)))),
    f0(median(ip.map((x) => x.fp ?? Number.NaN))),
    f0(median(ip.map((x) => x.visible ?? x.ref ?? Number.NaN))),
  ];
});
const metricsTable = table(
  [
    'page',
    'ScriptDuration ms (Δ page alone)',
    'RecalcStyleDuration',
    'LayoutDuration',
    'TaskDuration',
    'EvaluateScript (compile + top level), its files',
    'v8.compile, its files',
    'FunctionCall (callbacks), its files',
    'style + layout forced from its scripts',
    'first paint',
    'Accept visible',
  ],
  metricRows,
);

/** Per-script self time (profile), mean per load. */
const scriptRows = PAGES.filter((p) => p.id !== 'none').map((p) => {
  const m = meanMap((profiles[p.id] ?? []).map((x) => x.byScript));
  const get = (k: string) => m.get(k) ?? 0;
  const own = [...m].filter(([k]) => k.endsWith('.js')).reduce((a, [, v]) => a + v, 0);
  return [
    p.id,
    f1(own),
    f1(get('(program)')),
    f1(get('(garbage collector)')),
    f1(get('bench probe / inline')),
    f1(get('(idle)')),
  ];
});
const scriptTable = table(
  [
    'page',
    "its scripts' JS (self)",
    '(program): native, parse/compile, style, layout, paint',
    '(garbage collector)',
    'bench probe',
    '(idle)',
  ],
  scriptRows,
);

const top = (id: string, n: number) => {
  const ps = profiles[id] ?? [];
  const self = meanMap(ps.map((x) => x.self));
  const total = meanMap(ps.map((x) => x.total));
  return [...self]
    .filter(
      ([k]) =>
        !/^\((idle|root|program|garbage collector)\)/.test(k) && (k.includes('.js') || k.includes('.ts')),
    )
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v], i) => [`${i + 1}`, `\`${k}\``, f1(v), f1(total.get(k) ?? 0)]);
};
const modules = (id: string) =>
  [...meanMap((profiles[id] ?? []).map((x) => x.byModule))]
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => [k, f1(v)] as const);
const NAMED_LINES = NAMED.split('\n');
const lines = (id: string, n: number) =>
  [...meanMap((profiles[id] ?? []).map((x) => x.byLine))]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([l, v]) => [
      `${moduleAt[+l] ?? '?'}:${l}`,
      `\`${(NAMED_LINES[+l - 1] ?? '').trim().slice(0, 110).replace(/\|/g, '\\|').replace(/`/g, "'")}\``,
      f1(v),
    ]);
const ownTotals = (id: string) => {
  // The heaviest entries by total time, which show where the self time sits in the call tree.
  const total = meanMap((profiles[id] ?? []).map((x) => x.total));
  return [...total]
    .filter(([k]) => k.includes('/named/') || k.includes('.ts'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, 20)
    .map(([k, v]) => [`\`${k}\``, f1(v)]);
};

const load1 = loadavg()[0]!;
const md = `# Start-up profile: Assent against vanilla-cookieconsent

Generated by \`npm run bench:profile\` (\`bench/profile.ts\`) on ${new Date().toISOString()}; Chromium ${chromiumVersion} (Debian, headless), ${THROTTLE}× CPU throttling, ${RUNS} runs, every page profiled and traced in separate loads, the order rotating every run; sampling interval ${INTERVAL} µs; ${cpus().length} cores, 1-minute load average ${loadBefore.toFixed(1)} at the start and ${load1.toFixed(1)} at the end (other work shares the cores: compare rows within this file). Whole run ${((Date.now() - t0) / 1000).toFixed(0)} s.${errors.length ? `\n\nFailed loads: ${errors.length} (${[...new Set(errors)].slice(0, 5).join('; ')}).` : ''}

Pages: bench/banner.ts's article; \`assent-*\` loads the shipped \`assent.min.js\` (${SHIPPED.length} B), \`assent-named-*\` the same source built by esbuild with names (\`dropInOptions(true)\`, \`minify: false\`, the same property mangling; no Closure/UglifyJS, ${NAMED.length} B), \`vanilla-cc-*\` vanilla-cookieconsent's UMD file + its config file + its CSS. \`-defer\`: \`<script defer>\` as the README writes it; \`-nodefer\`: the same tags without \`defer\`, as owners paste snippets.

## Main thread, from the trace loads (medians, ms)

${metricsTable}

\`Performance.getMetrics\` at the moment the Accept button was first seen visible (the page alone: its \`<h1>\`). Trace columns count only the page's own files (the bench's probe excluded); "forced" is a \`UpdateLayoutTree\`/\`Layout\` event that ran synchronously inside one of its \`EvaluateScript\`/\`FunctionCall\` events (a style or layout read from script: \`getComputedStyle\`, \`getBoundingClientRect\`, \`offsetHeight\` …). First paint and Accept visible are ms after navigation start (Paint Timing; the probe's rAF check).

## Where the CPU profile's samples fall (mean per load, ms)

${scriptTable}

## Assent's start-up by function (named build; mean per load, ms)

Self time: samples with the function on top of the stack (a DOM call such as \`getComputedStyle\` counts as its caller's self time, with the style recalc it forces). Total: samples with the function anywhere on the stack.

### \`defer\`

${table(['#', 'function [module:line]', 'self', 'total'], top('assent-named-defer', 15))}

### without \`defer\`

${table(['#', 'function [module:line]', 'self', 'total'], top('assent-named-nodefer', 15))}

### By source module (self time)

| module | \`defer\` | no \`defer\` |
|---|---:|---:|
${(() => {
  const a = new Map(modules('assent-named-defer'));
  const b = new Map(modules('assent-named-nodefer'));
  return [...new Set([...a.keys(), ...b.keys()])]
    .map((k) => `| ${k} | ${a.get(k) ?? '0'} | ${b.get(k) ?? '0'} |`)
    .join('\n');
})()}

### Hottest lines (self time, from the profiles' line ticks)

\`defer\`:

${table(['module:line of the named build', 'code', 'self'], lines('assent-named-defer', 15))}

without \`defer\`:

${table(['module:line of the named build', 'code', 'self'], lines('assent-named-nodefer', 15))}

### Heaviest by total time (\`defer\`)

${table(['function [module:line]', 'total'], ownTotals('assent-named-defer'))}

## vanilla-cookieconsent's start-up by function (mean per load, ms)

### \`defer\`

${table(['#', 'function url:line:col', 'self', 'total'], top('vanilla-cc-defer', 15))}

### without \`defer\`

${table(['#', 'function url:line:col', 'self', 'total'], top('vanilla-cc-nodefer', 15))}

## The shipped file (minified names; mean per load, ms)

${table(['#', 'function url:line:col', 'self', 'total'], top('assent-defer', 10))}
`;

mkdirSync(RESULTS, { recursive: true });
writeFileSync(join(RESULTS, 'profile.md'), md);
console.log(md);
log('wrote bench/results/profile.md');
