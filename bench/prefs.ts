/**
 * `npm run bench:prefs`: what fetching the preferences dialog on demand costs the visitor who
 * opens it. Side by side in one interleaved run, in Debian's Chromium at 4× CPU throttling:
 * the shipped lite drop-in (`assent.min.js`, which fetches `assent.prefs.min.js` on the first
 * open) against the same source built as one file (the dialog inside, as before the split).
 * Measured in the page: the Preferences click (the event's timestamp) → the first frame with
 * the dialog open; and Accept visible after navigation, for both. Cold cache every run (a fresh
 * context); files served from 127.0.0.1 without compression. Writes bench/results/prefs.md.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { dropInOptions, lite, squeeze } from '../packages/banner/build-options.mjs';
import { BANNER_DIST, CHROMIUM, CHROMIUM_ARGS, ROOT } from '../test-support/browser.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const THROTTLE = 4;

// The one-file variant: the same options, with the dialog (and its styles) inside.
const one = await build({ ...dropInOptions(true), ...lite(true, false), mangleCache: {} });
const files: Record<string, Buffer | string> = {
  '/split/assent.min.js': readFileSync(join(BANNER_DIST, 'assent.min.js')),
  '/split/assent.prefs.min.js': readFileSync(join(BANNER_DIST, 'assent.prefs.min.js')),
  '/one/assent.min.js': squeeze(one.outputFiles![0]!.text).code,
};
const PAGE = (dir: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>prefs</title><script src="/${dir}/assent.min.js" data-assent="buttons=(Accept !) days=(20) categories=(analytics,marketing)" defer></script></head><body><main><h1>Article</h1>${'<p>Text of the article. </p>'.repeat(40)}</main></body></html>`;

const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  const body = files[path];
  if (body) res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' }).end(body);
  else if (path === '/split' || path === '/one')
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE(path.slice(1)));
  else res.writeHead(404).end();
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: Record<string, { accept: number[]; dialog: number[] }> = {
  split: { accept: [], dialog: [] },
  one: { accept: [], dialog: [] },
};
for (let i = 0; i < RUNS; i++)
  for (const v of i % 2 ? ['one', 'split'] : ['split', 'one']) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: THROTTLE });
    await page.goto(`${origin}/${v}`);
    await page.locator('[data-assent-action="accept"]').waitFor();
    results[v]!.accept.push(await page.evaluate(() => performance.now()));
    // The click's own timestamp, then the first frame after the dialog is open.
    await page.evaluate(() => {
      const w = window as unknown as { clicked: number; shown: number };
      document.addEventListener('click', (e) => (w.clicked = e.timeStamp), { capture: true, once: true });
      new MutationObserver((_, o) => {
        if (document.querySelector('dialog[open]')) {
          o.disconnect();
          requestAnimationFrame(() => setTimeout(() => (w.shown = performance.now())));
        }
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    await page.locator('[data-assent-action="preferences"]').click();
    await page.waitForFunction(() => (window as unknown as { shown?: number }).shown);
    results[v]!.dialog.push(
      await page.evaluate(() => {
        const w = window as unknown as { clicked: number; shown: number };
        return w.shown - w.clicked;
      }),
    );
    await ctx.close();
  }
await browser.close();
server.close();

const gz = async (b: Buffer | string) => (await import('node:zlib')).gzipSync(b, { level: 9 }).length;
const md = `# The preferences dialog on demand

\`npm run bench:prefs\` — ${new Date().toISOString().slice(0, 10)}, Debian's Chromium, ${THROTTLE}× CPU throttling, ${RUNS} interleaved runs, cold cache, medians (load average ${loadavg()[0]!.toFixed(1)} at the end: other work shared the cores).

| lite drop-in | first file gzip B | Accept visible ms | Preferences click → dialog painted ms |
|---|---:|---:|---:|
| split (shipped): \`assent.min.js\` + \`assent.prefs.min.js\` on first open | ${await gz(files['/split/assent.min.js']!)} (+ ${await gz(files['/split/assent.prefs.min.js']!)}) | ${Math.round(median(results.split!.accept))} | ${Math.round(median(results.split!.dialog))} |
| one file (the dialog inside) | ${await gz(files['/one/assent.min.js']!)} | ${Math.round(median(results.one!.accept))} | ${Math.round(median(results.one!.dialog))} |
`;
writeFileSync(join(ROOT, 'bench/results/prefs.md'), md);
console.log(md);
