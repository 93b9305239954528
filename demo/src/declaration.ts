/**
 * Generates the demo's cookie declaration from a scan: `npm run -w demo declaration` starts
 * the demo on a free port (its own temporary data directory), scans every page with
 * assent-scan, and writes declaration.json, site-relative so it does not depend on the port.
 * `--check` writes nothing and exits 1 when the committed file differs from the scan.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDeclaration, type Declaration, scan, siteRelative } from '@assent/scanner';
import { DECLARATION_FILE, readDeclaration } from './cookie-declaration.js';

/** More than the demo has (home, three articles, privacy): the crawl reaches every page. */
export const DECLARATION_PAGES = 6;

/** Scans the running demo at `url` and builds its declaration, site-relative. */
export const scanDeclaration = async (url: string): Promise<Declaration> => {
  const { report } = await scan([url], { pages: DECLARATION_PAGES });
  if (report.errors.length) throw new Error(report.errors.map((e) => e.message).join('; '));
  return siteRelative(buildDeclaration(report));
};

/** What the committed file and a scan must agree on: everything but the date it was made. */
export const comparable = (d: Declaration): Omit<Declaration, 'generatedAt'> => {
  const { generatedAt: _, ...rest } = d;
  return rest;
};

if (process.argv[1] === import.meta.filename) {
  process.env.ASSENT_DEMO_DATA ??= mkdtempSync(join(tmpdir(), 'assent-demo-declaration-'));
  const { startDemo } = await import('./server.js');
  const demo = await startDemo({ port: 0, host: '127.0.0.1', quiet: true });
  try {
    const d = await scanDeclaration(demo.url);
    if (process.argv.includes('--check')) {
      const same = JSON.stringify(comparable(d)) === JSON.stringify(comparable(readDeclaration()));
      console.log(same ? 'declaration.json matches the scan' : 'declaration.json differs from the scan');
      process.exitCode = same ? 0 : 1;
    } else {
      writeFileSync(DECLARATION_FILE, `${JSON.stringify(d, null, 2)}\n`);
      // In the repository's own JSON style, so `biome check` passes on the committed file.
      const f = spawnSync('npx', ['biome', 'format', '--write', DECLARATION_FILE], { encoding: 'utf8' });
      if (f.status !== 0) console.error(`biome could not format ${DECLARATION_FILE}: ${f.stderr}`);
      console.log(`${DECLARATION_FILE}: ${d.rows.map((r) => `${r.name} (${r.category})`).join(', ')}`);
    }
  } finally {
    await demo.server.close();
  }
}
