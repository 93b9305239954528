/**
 * `npm run bench:activation`: what held elements cost, in Debian's Chromium. For N held
 * inline scripts (declared category, lite build, `defer`), side by side in one run:
 * - load: navigation start → `assent:ready`, with the banner, against the same page without it
 *   (its `load` event): what holding N elements adds to the page;
 * - activation: Accept clicked → all N have run, in document order;
 * - runs per N must grow linearly: the last column divides by N.
 * Median of BENCH_RUNS (default 5). Writes bench/results/activation.md.
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { BANNER_DIST, launch, ROOT } from '../test-support/browser.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
/** As owners paste it (no `defer`): the banner starts while the parser still adds held scripts. */
const DEFER = process.env.BENCH_DEFER !== '0';
const SIZES = (process.env.BENCH_SIZES ?? '200,2000,20000').split(',').map(Number);
const banner = (await import('node:fs')).readFileSync(join(BANNER_DIST, 'assent.min.js'));

const page = (n: number, withBanner: boolean) => {
  const held = Array.from(
    { length: n },
    (_, i) =>
      `<script type="text/plain" data-assent-category="analytics">window.ran=(window.ran||0)+1;window.last=${i};</script>`,
  ).join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>held ${n}</title>${
    withBanner
      ? `<script src="/assent.min.js" data-assent="categories=(analytics)"${DEFER ? ' defer' : ''}></script>`
      : ''
  }</head><body><main><h1>Held scripts: ${n}</h1>${held}</main></body></html>`;
};

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/assent.min.js') {
    res.writeHead(200, { 'content-type': 'text/javascript' }).end(banner);
    return;
  }
  const n = Number(url.searchParams.get('n'));
  res
    .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
    .end(page(n, url.pathname === '/with'));
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const browser = await launch();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Row {
  n: number;
  pageAlone: number;
  withBanner: number;
  longest: number;
  activation: number;
}
const rows: Row[] = [];
for (const n of SIZES) {
  const alone: number[] = [];
  const withB: number[] = [];
  const act: number[] = [];
  const long: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    await p.goto(`${origin}/alone?n=${n}`, { waitUntil: 'load', timeout: 120_000 });
    alone.push(await p.evaluate(() => performance.getEntriesByType('navigation')[0]!.duration));
    await p.addInitScript(() => {
      document.addEventListener('assent:ready', () => {
        (window as unknown as { readyAt: number }).readyAt = performance.now();
      });
      // The longest main-thread task after Accept: how long the page cannot answer a click.
      const w = window as unknown as { t0?: number; longest: number };
      w.longest = 0;
      new PerformanceObserver((l) => {
        for (const e of l.getEntries())
          if (w.t0 !== undefined && e.startTime >= w.t0) w.longest = Math.max(w.longest, e.duration);
      }).observe({ type: 'longtask' });
    });
    await p.goto(`${origin}/with?n=${n}`, { waitUntil: 'load', timeout: 120_000 });
    await p.waitForFunction(() => (window as unknown as { readyAt?: number }).readyAt, undefined, {
      timeout: 120_000,
    });
    withB.push(await p.evaluate(() => (window as unknown as { readyAt: number }).readyAt));
    const t = await p.evaluate(() => {
      (window as unknown as { t0: number }).t0 = performance.now();
      return 0;
    });
    void t;
    await p.getByRole('button', { name: 'Accept' }).click();
    await p.waitForFunction((k) => (window as unknown as { ran?: number }).ran === k, n, {
      timeout: 300_000,
    });
    act.push(await p.evaluate(() => performance.now() - (window as unknown as { t0: number }).t0));
    await p.waitForTimeout(100);
    long.push(await p.evaluate(() => (window as unknown as { longest: number }).longest));
    const last = await p.evaluate(() => (window as unknown as { last: number }).last);
    if (last !== n - 1) throw new Error(`held scripts ran out of order: last was ${last}`);
    await ctx.close();
  }
  rows.push({
    n,
    pageAlone: median(alone),
    withBanner: median(withB),
    activation: median(act),
    longest: median(long),
  });
  console.log(rows.at(-1));
}
await browser.close();
server.close();

const fmt = (x: number) => Math.round(x).toLocaleString('en');
const md = `# Held scripts: load and activation

\`npm run bench:activation\` — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, Debian's Chromium, no throttling, median of ${RUNS}.
N held inline scripts of a declared category, lite build ${DEFER ? 'with `defer`' : 'without `defer`'}. "Page alone": the same page without the banner, navigation → load. "With the banner": navigation → \`assent:ready\`. "Activation": Accept clicked → all N ran, in document order.

The activation yields to the page every 50 ms: "longest task" is the longest main-thread task after Accept (the page cannot answer a click meanwhile).

| held scripts | page alone ms | with the banner ms | activation ms | activation µs per script | longest task ms |
|---:|---:|---:|---:|---:|---:|
${rows.map((r) => `| ${fmt(r.n)} | ${fmt(r.pageAlone)} | ${fmt(r.withBanner)} | ${fmt(r.activation)} | ${((r.activation * 1000) / r.n).toFixed(0)} | ${fmt(r.longest)} |`).join('\n')}
`;
writeFileSync(join(ROOT, `bench/results/activation${DEFER ? '' : '-no-defer'}.md`), md);
console.log(md);
