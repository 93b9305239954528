import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type FixtureSite, startFixtures } from './fixtures/server.js';
import { ensureBanner, fixtureConfig } from './helpers.js';

const bin = join(dirname(fileURLToPath(import.meta.url)), '../bin/assent-scan.js');

/** Spawns the real CLI, as CI would. */
const run = (args: string[]) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const p = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });

/** A port nothing listens on: the "site is down" case. */
const deadPort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

let site: FixtureSite;
let dir: string;
let config: string;

before(async () => {
  ensureBanner();
  site = await startFixtures();
  dir = await mkdtemp(join(tmpdir(), 'assent-scan-'));
  config = join(dir, 'scan.json');
  await writeFile(config, JSON.stringify(fixtureConfig(site.hostResolverRules)));
});
after(async () => {
  await site?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('assent-scan, the CLI', () => {
  it('exits 0 on a clean page and writes every report with its screenshots', async () => {
    const out = join(dir, 'clean');
    const r = await run([`${site.site}/clean.html`, '--config', config, '--out', out, '--progress']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /\[1\] before +http:\/\/127\.0\.0\.1:\d+\/clean\.html \(\d+\.\d s\)/);
    assert.match(r.stderr, /\[1\] reject/);
    assert.match(r.stderr, /\[1\] accept/);
    assert.match(r.stderr, /\[1\] ✓ .*0 violation\(s\)/);
    assert.deepEqual((await readdir(out)).sort(), [
      'junit.xml',
      'report.html',
      'report.json',
      'report.md',
      'screenshots',
    ]);
    assert.deepEqual((await readdir(join(out, 'screenshots'))).sort(), [
      '1-accept.jpg',
      '1-before.jpg',
      '1-reject.jpg',
    ]);
    const json = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    assert.equal(json.summary.exitCode, 0);
  });

  it('exits 1 on violations and prints the JSON report on stdout', async () => {
    const r = await run([`${site.site}/leaky.html`, '--config', config, '--format', 'json', '--quiet']);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, '');
    const json = JSON.parse(r.stdout);
    assert.equal(json.summary.violations, 10);
    assert.equal(json.summary.exitCode, 1);
  });

  it('exits 0 when --fail-on leaves out the rules that were broken', async () => {
    const r = await run([
      `${site.site}/long-consent.html`,
      '--config',
      config,
      '--fail-on',
      'banner-missing,reject-missing',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^# Assent scan: ✅ clean/);
    assert.match(r.stdout, /`consent-cookie-too-long`/);
  });

  it('exits 2 with a clear message when the site is down, never a stack trace', async () => {
    const r = await run([`http://127.0.0.1:${await deadPort()}/`, '--quiet']);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /cannot load http:\/\/127\.0\.0\.1:\d+\/: the connection was refused \(is the site running\?\)/,
    );
    assert.doesNotMatch(r.stderr, /\bat .*\.ts:\d+/);
  });

  it('exits 2 on a bad URL, a bad option or a bad config, naming the problem', async () => {
    const badUrl = await run(['ftp://example.com']);
    assert.equal(badUrl.code, 2);
    assert.equal(badUrl.stderr, 'assent-scan: not an http(s) URL: ftp://example.com\n');
    const noUrl = await run([]);
    assert.equal(noUrl.code, 2);
    assert.match(noUrl.stderr, /give at least one URL/);
    const badRule = await run(['http://127.0.0.1/', '--fail-on', 'cookies']);
    assert.equal(badRule.code, 2);
    assert.match(badRule.stderr, /unknown rule in --fail-on: cookies/);
    const badConfig = join(dir, 'bad.json');
    await writeFile(badConfig, JSON.stringify({ allow: [{ rule: 'banner-missing' }], colour: 'red' }));
    const r = await run(['http://127.0.0.1/', '--config', badConfig]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /allow\[0\]\.reason: every allowed finding needs a reason/);
    assert.match(r.stderr, /colour: is not a known field/);
  });

  it('prints usage with --help', async () => {
    const r = await run(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Exit codes: 0 clean, 1 violations, 2 scanner error/);
  });
});
