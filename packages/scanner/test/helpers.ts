import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Finding, PageResult } from '../src/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The fixtures embed the real banner: build it once if this checkout has no dist yet. */
export const ensureBanner = (): void => {
  if (existsSync(join(root, 'packages/banner/dist/assent.min.js'))) return;
  const r = spawnSync('npm', ['run', 'build', '-w', '@assent/banner'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('building @assent/banner failed');
};

/** Findings as `rule phase subject` lines, sorted, with the fixture's ports removed. */
export const summarise = (findings: readonly Finding[]): string[] =>
  findings.map((f) => `${f.rule} ${f.phase} ${f.subject.name.replace(/:\d+\//, ':PORT/')}`).sort();

export const page = (pages: readonly PageResult[], path: string): PageResult => {
  const p = pages.find((x) => new URL(x.url).pathname === path);
  if (!p) throw new Error(`${path} was not scanned`);
  return p;
};

/**
 * The config the fixtures need: the home-made banner's selectors, the mapping of real tracker
 * hosts to loopback, and trust in the HTTPS third party's self-signed certificate (an extra
 * Chromium flag, as a staging site would need).
 */
export const fixtureConfig = (hostResolverRules: string) => ({
  hostResolverRules,
  chromiumArgs: ['--ignore-certificate-errors'],
  selectors: { banner: '#consent-box', accept: '.consent-yes', reject: '.consent-no' },
});
