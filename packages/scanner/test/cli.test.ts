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

/** Spawns the real CLI, as CI would (in `cwd` when given). */
const run = (args: string[], cwd?: string) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const p = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd });
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
    assert.match(r.stderr, /\[1\] gpc/);
    assert.match(r.stderr, /\[1\] ok .*0 violation\(s\)/);
    assert.deepEqual((await readdir(out)).sort(), [
      'junit.xml',
      'manifest.json',
      'report.html',
      'report.json',
      'report.md',
      'screenshots',
    ]);
    assert.deepEqual((await readdir(join(out, 'screenshots'))).sort(), [
      '1-accept.jpg',
      '1-before.jpg',
      '1-gpc.jpg',
      '1-reject.jpg',
    ]);
    const json = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    assert.equal(json.summary.exitCode, 0);
  });

  it('writes a signed evidence pack with HARs and the cookie declaration; verify checks it', async () => {
    const out = join(dir, 'evidence');
    const keyPrefix = join(dir, 'owner');
    const kg = await run(['keygen', keyPrefix]);
    assert.equal(kg.code, 0, kg.stderr);
    const again = await run(['keygen', keyPrefix]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /owner\.key\.pem exists; not overwritten/);
    const r = await run([
      `${site.site}/clean.html`,
      '--config',
      config,
      '--out',
      out,
      '--har',
      '--declaration',
      '--sign-key',
      `${keyPrefix}.key.pem`,
      '--quiet',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const files = (await readdir(out)).sort();
    for (const f of [
      'declaration.html',
      'declaration.md',
      'declaration.json',
      'assent-config.suggested.json',
      'manifest.json',
      'manifest.sig',
      'har',
    ])
      assert.ok(files.includes(f), `${f} in ${files.join(', ')}`);
    assert.deepEqual((await readdir(join(out, 'har'))).sort(), [
      '1-accept.har',
      '1-before.har',
      '1-gpc.har',
      '1-reject.har',
    ]);
    // The HAR holds the receipt-free accept visit's requests, the tracker among them.
    const har = JSON.parse(await readFile(join(out, 'har', '1-accept.har'), 'utf8'));
    assert.ok(
      har.log.entries.some((e: { request: { url: string } }) => e.request.url.endsWith('/tracker.js')),
    );
    // The before phase is the first part of the reject visit: its HAR is that visit's cut
    // where the before record was taken, so it is a strict prefix of the reject HAR.
    type Entry = { startedDateTime: string; request: { url: string } };
    const entries = async (phase: string): Promise<string[]> =>
      (JSON.parse(await readFile(join(out, 'har', `1-${phase}.har`), 'utf8')).log.entries as Entry[]).map(
        (e) => `${e.startedDateTime} ${e.request.url}`,
      );
    // No cookie value in any HAR: the accept visit's reload sends _hjid and assent, and the
    // README promises values are never recorded.
    for (const phase of ['before', 'reject', 'accept', 'gpc']) {
      const log = JSON.parse(await readFile(join(out, 'har', `1-${phase}.har`), 'utf8')).log;
      for (const e of log.entries as {
        request: { headers: { name: string; value: string }[]; cookies: { value: string }[] };
        response: { headers: { name: string; value: string }[]; cookies: { value: string }[] };
      }[]) {
        for (const c of [...e.request.cookies, ...e.response.cookies]) assert.equal(c.value, '', phase);
        for (const h of e.request.headers.filter((x) => x.name.toLowerCase() === 'cookie'))
          assert.match(h.value, /^([^=;\s]+=(; )?)+$/, `${phase}: ${h.value}`);
      }
    }
    const acceptHar = await readFile(join(out, 'har', '1-accept.har'), 'utf8');
    assert.match(acceptHar, /"name": "cookie",\s*"value": "[^"]*_hjid=/i, 'the cookie names are kept');
    const [beforeHar, rejectHar] = [await entries('before'), await entries('reject')];
    assert.ok(
      beforeHar.length > 0 && beforeHar.length < rejectHar.length,
      `${beforeHar.length} of ${rejectHar.length}`,
    );
    for (const e of beforeHar) assert.ok(rejectHar.includes(e), `${e} in the reject HAR`);
    const cut = beforeHar
      .map((e) => e.split(' ')[0]!)
      .sort()
      .at(-1)!;
    for (const e of rejectHar.filter((x) => !beforeHar.includes(x)))
      assert.ok(e.split(' ')[0]! >= cut, `${e}: after the before phase's last entry (${cut})`);
    const decl = JSON.parse(await readFile(join(out, 'declaration.json'), 'utf8'));
    assert.deepEqual(
      decl.rows.map((x: { name: string; category: string; provider: string }) => [
        x.name,
        x.category,
        x.provider,
      ]),
      [
        ['_hjid', 'analytics', 'Hotjar'],
        ['assent', 'necessary', 'this site (consent record)'],
      ],
    );
    assert.deepEqual(JSON.parse(await readFile(join(out, 'assent-config.suggested.json'), 'utf8')), {
      categories: [{ id: 'analytics', services: [{ id: 'hotjar', title: 'Hotjar', cookies: ['_hjid'] }] }],
    });
    const ok = await run(['verify', out, '--public-key', `${keyPrefix}.pub.pem`]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /intact/);
    await writeFile(join(out, 'report.md'), 'edited\n');
    const bad = await run(['verify', out, '--public-key', `${keyPrefix}.pub.pem`]);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, 'assent-scan verify: report.md: changed since the scan (SHA-256 differs)\n');
    const noOut = await run([`${site.site}/clean.html`, '--declaration']);
    assert.equal(noOut.code, 2);
    assert.equal(noOut.stderr, 'assent-scan: --declaration needs --out DIR: the files go there\n');
  });

  it('writes a relative --out under the working directory, evidence manifest included', async () => {
    const r = await run([`${site.site}/clean.html`, '--config', config, '--out', 'r1', '--quiet'], dir);
    assert.equal(r.code, 0, r.stderr);
    const manifest = JSON.parse(await readFile(join(dir, 'r1', 'manifest.json'), 'utf8'));
    const listed = manifest.files.map((f: { path: string }) => f.path);
    for (const f of ['junit.xml', 'report.json', 'screenshots/1-before.jpg'])
      assert.ok(listed.includes(f), `${f} in ${listed.join(', ')}`);
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
    assert.match(r.stdout, /^# Assent scan: clean/);
    assert.match(r.stdout, /`consent-cookie-too-long`/);
    // Reported, but outside --fail-on: a warning, never labelled as failing a clean scan.
    assert.match(r.stdout, /\| \*\*WARN\*\* \| `consent-cookie-too-long`/);
    assert.doesNotMatch(r.stdout, /FAIL/);
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
    // Beside a keyword too: a typo never passes silently.
    const mixed = await run(['http://127.0.0.1/', '--fail-on', 'errors,cookies']);
    assert.equal(mixed.code, 2);
    assert.match(mixed.stderr, /unknown rule in --fail-on: cookies/);
    const alone = await run(['http://127.0.0.1/', '--fail-on', 'none,banner-missing']);
    assert.equal(alone.code, 2);
    assert.equal(alone.stderr, 'assent-scan: --fail-on none stands alone, got none,banner-missing\n');
    const emptyFailOn = await run(['http://127.0.0.1/', '--fail-on=']);
    assert.equal(emptyFailOn.code, 2);
    assert.equal(emptyFailOn.stderr, 'assent-scan: --fail-on is empty: name rules, or errors, all or none\n');
    // --out is checked before the scan: a file there fails at once, naming the option.
    const file = join(dir, 'a-file');
    await writeFile(file, 'not a directory\n');
    const badOut = await run([`http://127.0.0.1:${await deadPort()}/`, '--out', file, '--quiet']);
    assert.equal(badOut.code, 2);
    assert.equal(badOut.stderr, `assent-scan: --out ${file} exists and is not a directory\n`);
    const badMode = await run(['http://127.0.0.1/', '--mode', 'gdpr']);
    assert.equal(badMode.code, 2);
    assert.equal(badMode.stderr, 'assent-scan: --mode must be one of opt-in, opt-out, notice, got "gdpr"\n');
    const badFlag = await run(['http://127.0.0.1/', '--chromium-arg=--user-data-dir=/tmp/x']);
    assert.equal(badFlag.code, 2);
    assert.equal(
      badFlag.stderr,
      'assent-scan: --chromium-arg: --user-data-dir is set by the scanner itself\n',
    );
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
    // The rule list comes from the registry, with each rule's severity.
    assert.match(r.stdout, /accept-ineffective +error +Accept does not release what was held/);
    assert.match(r.stdout, /gpc-not-shown +error/);
    // The form that works: a flag after a space is read as one of assent-scan's own options.
    assert.match(r.stdout, /--chromium-arg=--ignore-certificate-errors/);
  });
});
