import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { newKeyPair } from '../src/evidence.js';

// The CLI's options per command, spawned as a user runs it. No site and no browser: every case
// here is refused (or answered) before a scan would start.
const bin = join(dirname(fileURLToPath(import.meta.url)), '../bin/assent-scan.js');

const run = (args: string[], cwd: string) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const p = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'assent-scan-options-'));
  const keys = newKeyPair();
  await writeFile(join(dir, 'scan-key.pub.pem'), keys.publicPem);
  await writeFile(join(dir, 'scan-key.key.pem'), keys.privatePem);
});
after(() => rm(dir, { recursive: true, force: true }));

describe('assent-scan: each command takes its own options and refuses the others', () => {
  it('a scan given --public-key (verify’s) exits 2 naming it, before scanning or writing', async () => {
    // The user meant to sign the pack: before, this scanned, exited 0 and wrote no manifest.sig.
    const r = await run(['http://127.0.0.1:9/', '--out', 'ev', '--public-key', 'scan-key.pub.pem'], dir);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(
      r.stderr,
      'assent-scan: a scan does not take --public-key (an option of verify); to sign the evidence pack, give --sign-key FILE (the private key)\n',
    );
    assert.deepEqual((await readdir(dir)).sort(), ['scan-key.key.pem', 'scan-key.pub.pem']);
  });

  it('keygen given a scan’s options exits 2 naming each, and writes no key', async () => {
    const r = await run(['keygen', 'k', '--out', 'x', '--har', '--pages', '3', '--sign-key', 'z'], dir);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(
      r.stderr,
      'assent-scan: keygen takes no options, not --out, --har, --pages, --sign-key (options of a scan)\n',
    );
    const oneVerify = await run(['keygen', 'k', '--public-key', 'scan-key.pub.pem'], dir);
    assert.equal(oneVerify.code, 2);
    assert.equal(
      oneVerify.stderr,
      'assent-scan: keygen takes no options, not --public-key (an option of verify)\n',
    );
    assert.deepEqual((await readdir(dir)).sort(), ['scan-key.key.pem', 'scan-key.pub.pem']);
  });

  it('verify given a scan’s options exits 2 naming them', async () => {
    const r = await run(
      ['verify', 'ev', '--public-key', 'scan-key.pub.pem', '--quiet', '--format=json'],
      dir,
    );
    assert.equal(r.code, 2, r.stderr);
    assert.equal(
      r.stderr,
      'assent-scan: verify takes only --public-key FILE, not --quiet, --format (options of a scan)\n',
    );
  });

  it('every command still takes its own options, and --help and --version', async () => {
    const kg = await run(['keygen', 'fresh'], dir);
    assert.equal(kg.code, 0, kg.stderr);
    const version = await run(['keygen', 'other', '--version'], dir);
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
    const short = await run(['-v'], dir);
    assert.equal(short.stdout, version.stdout);
    const help = await run(['verify', '--help'], dir);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^ {2}-v, --version +print the version$/m);
    assert.match(help.stdout, /^ {7}assent-scan --version +print the version$/m);
    assert.match(
      help.stdout,
      /verify takes only --public-key, keygen none: another command's option exits 2/,
    );
  });
});

describe('assent-scan verify names what is missing from a pack', () => {
  it('a pack with manifest.json but no manifest.sig is unsigned, not "no manifest.json"', async () => {
    const pack = join(dir, 'unsigned');
    await mkdir(pack);
    await writeFile(join(pack, 'manifest.json'), '{"files":[]}\n');
    const r = await run(['verify', 'unsigned', '--public-key', 'scan-key.pub.pem'], dir);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(
      r.stderr,
      'assent-scan verify: unsigned has no manifest.sig (unsigned): there is no signature to check; a scan signs its pack with --sign-key FILE\n',
    );
    const none = await run(['verify', 'nothing', '--public-key', 'scan-key.pub.pem'], dir);
    assert.equal(none.code, 1, none.stderr);
    assert.equal(
      none.stderr,
      'assent-scan verify: nothing has no manifest.json: it is not an evidence pack (written by assent-scan --out DIR)\n',
    );
  });
});
