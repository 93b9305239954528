/**
 * The systemd recipe (deploy/systemd/assent-server.service), tested as far as this machine can
 * without running systemd as PID 1: systemd's own checker accepts the unit (every directive
 * known, the command executable), and the server starts with exactly the environment the unit
 * gives it (the config schema refuses a mistyped variable with exit code 2), answers, and stops
 * cleanly on the unit's KillSignal.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort } from '../../test-support/ports.js';

const UNIT = join(import.meta.dirname, '../systemd/assent-server.service');
const BIN = join(import.meta.dirname, '../../packages/server/bin/assent-server.js');
const INSTALLED = '/opt/assent/node_modules/.bin/assent-server';
const unit = readFileSync(UNIT, 'utf8');
/** `Key=value` lines of the unit, in order (comments and sections left out). */
const directives = unit
  .split('\n')
  .filter((l) => /^[A-Za-z]+=/.test(l))
  .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const);
const one = (key: string) => directives.find(([k]) => k === key)?.[1];

describe('the systemd unit', () => {
  it('systemd-analyze verify accepts it (with the command at this checkout)', () => {
    assert.ok(unit.includes(INSTALLED), 'ExecStart runs the installed package');
    const dir = mkdtempSync(join(tmpdir(), 'assent-unit-'));
    const copy = join(dir, 'assent-server.service');
    writeFileSync(copy, unit.replace(INSTALLED, BIN));
    const r = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8', cwd: dir });
    assert.equal(r.error, undefined, 'systemd-analyze is installed (scripts/install-proxies.sh)');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.trim(), '', 'no warning (an unknown or misspelt directive is one)');
  });

  it("the server starts with the unit's environment and stops cleanly on its KillSignal", async () => {
    const env: Record<string, string> = {};
    for (const [k, v] of directives)
      if (k === 'Environment') env[v.slice(0, v.indexOf('='))] = v.slice(v.indexOf('=') + 1);
    assert.equal(env.ASSENT_TRUST_PROXY, '127.0.0.1', 'behind the local proxy only');
    assert.deepEqual(
      one('RestartPreventExitStatus')?.split(' '),
      ['2', '3'],
      'no restart loop on exit 2 or 3',
    );
    // The unit's paths exist only on a real install: a temp dir stands in for them.
    const dir = mkdtempSync(join(tmpdir(), 'assent-unit-run-'));
    const config = join(dir, 'assent-server.json');
    writeFileSync(
      config,
      JSON.stringify({ sites: { 'https://example.com': { policy: 'v1', categories: [] } } }),
    );
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, 'start'], {
      env: {
        PATH: process.env.PATH ?? '',
        ...env,
        ASSENT_CONFIG: config,
        ASSENT_DATA_DIR: join(dir, 'data'),
        ASSENT_PORT: String(port),
        ASSENT_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      for (let i = 0; ; i++) {
        const r = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
        if (r?.status === 200) break;
        assert.ok(i < 300 && child.exitCode === null, `the server did not start: ${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      child.kill(one('KillSignal') as NodeJS.Signals);
    }
    assert.equal(await exited, 0, stderr);
  });

  it('under its RestrictAddressFamilies (as systemd enforces them), the server starts on 0.0.0.0 too', async () => {
    // Listening on every address, Fastify logs each one, from os.networkInterfaces(), which asks
    // the kernel over a netlink socket: without AF_NETLINK that throws (EAFNOSUPPORT) and the
    // server exits, and systemd restarts it, again and again.
    const families = one('RestrictAddressFamilies');
    assert.ok(families, 'the unit restricts address families');
    const env: Record<string, string> = {};
    for (const [k, v] of directives)
      if (k === 'Environment') env[v.slice(0, v.indexOf('='))] = v.slice(v.indexOf('=') + 1);
    const dir = mkdtempSync(join(tmpdir(), 'assent-unit-families-'));
    const config = join(dir, 'assent-server.json');
    writeFileSync(
      config,
      JSON.stringify({ sites: { 'https://example.com': { policy: 'v1', categories: [] } } }),
    );
    const port = await freePort();
    const child = spawn(
      'python3',
      [join(import.meta.dirname, 'restrict-families.py'), families, process.execPath, BIN, 'start'],
      {
        env: {
          PATH: process.env.PATH ?? '',
          ...env,
          ASSENT_HOST: '0.0.0.0',
          ASSENT_CONFIG: config,
          ASSENT_DATA_DIR: join(dir, 'data'),
          ASSENT_PORT: String(port),
          ASSENT_LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      for (let i = 0; ; i++) {
        const r = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
        if (r?.status === 200) break;
        assert.ok(
          i < 300 && child.exitCode === null,
          `the server did not start under RestrictAddressFamilies=${families}: ${output}`,
        );
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(output, /Server listening at/);
    } finally {
      child.kill(one('KillSignal') as NodeJS.Signals);
    }
    assert.equal(await exited, 0, output);
  });
});
