import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../test-support/ports.js';

// `npm start` runs demo/src/server.ts (scripts/start.sh): spawned here the same way, twice, so
// the second meets what a newcomer's second `npm start` meets.
const ROOT = join(import.meta.dirname, '../..');
const SERVER = join(ROOT, 'demo/src/server.ts');
const ARGS = ['--conditions=@assent/source', '--import', 'tsx', SERVER];

const demoEnv = (vars: Record<string, string>): NodeJS.ProcessEnv => {
  const env = { ...process.env, ...vars };
  for (const k of ['HOST', 'ASSENT_ADMIN_TOKEN']) if (!(k in vars)) delete env[k];
  return env;
};

/** A demo that must not start: its exit code and output, or a failure after a minute. */
const refused = (vars: Record<string, string>) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const p = spawn(process.execPath, ARGS, {
      cwd: ROOT,
      env: demoEnv(vars),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`still running after 60 s: ${stdout}${stderr}`));
    }, 60_000);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });

/** One line, `demo: …`, and nothing that looks like a stack trace. */
const oneLine = (r: { stdout: string; stderr: string }, expected: string) => {
  assert.equal(r.stderr, `demo: ${expected}\n`);
  assert.doesNotMatch(r.stderr, /\n\s+at |Error:/);
  assert.equal(r.stdout, '');
};

describe('npm start when the demo cannot start: one line that says what to do', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'assent-demo-start-'));
    dirs.push(d);
    return d;
  };
  let first: ChildProcess | undefined;
  let port: number;
  let data: string;
  before(async () => {
    port = await freePort();
    data = tmp();
    first = spawn(process.execPath, ARGS, {
      cwd: ROOT,
      env: demoEnv({ PORT: String(port), ASSENT_DEMO_DATA: data }),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    first.stdout!.on('data', (d) => (out += d));
    first.stderr!.on('data', (d) => (out += d));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the first demo did not start in 90 s: ${out}`)),
        90_000,
      );
      const check = () => {
        if (out.includes('Stop with Ctrl+C.')) {
          clearTimeout(timer);
          resolve();
        }
      };
      first!.stdout!.on('data', check);
      first!.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the first demo exited (${code}): ${out}`));
      });
    });
  });
  after(() => {
    if (first?.exitCode === null) process.kill(-first.pid!, 'SIGTERM');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('a second demo on the same data directory: its database is held (exit 1)', async () => {
    const other = await freePort();
    const r = await refused({ PORT: String(other), ASSENT_DEMO_DATA: data });
    assert.equal(r.code, 1, r.stderr);
    oneLine(
      r,
      `the demo's database (${join(data, 'demo.db')}) is held by another demo process: stop it, or ASSENT_DEMO_DATA=/tmp/assent-demo-2 PORT=${other + 1} npm start`,
    );
  });

  it('a demo on a busy port (exit 1)', async () => {
    const r = await refused({ PORT: String(port), ASSENT_DEMO_DATA: tmp() });
    assert.equal(r.code, 1, r.stderr);
    oneLine(r, `port ${port} is in use: PORT=${port + 1} npm start`);
  });

  it('a bad PORT or ASSENT_ADMIN_TOKEN (exit 2)', async () => {
    const [badPort, badToken] = await Promise.all([
      refused({ PORT: '3000x', ASSENT_DEMO_DATA: tmp() }),
      refused({ PORT: '0', ASSENT_DEMO_DATA: tmp(), ASSENT_ADMIN_TOKEN: 'short' }),
    ]);
    assert.equal(badPort.code, 2, badPort.stderr);
    oneLine(badPort, 'PORT must be a whole number from 0 to 65535 (0: any free port), got "3000x"');
    assert.equal(badToken.code, 2, badToken.stderr);
    oneLine(
      badToken,
      'ASSENT_ADMIN_TOKEN must be at least 16 characters (openssl rand -base64 24 makes one), got 5',
    );
  });
});
