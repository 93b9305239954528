import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { resolveConfig } from '../src/cli-config.js';
import { freePort, SITES, tempDir } from './helpers.js';

const BIN = fileURLToPath(new URL('../bin/assent-server.js', import.meta.url));

const errorsOf = (file: unknown, env: Record<string, string> = {}, flags: Record<string, string> = {}) =>
  resolveConfig(file, env, flags, 'conf.json').errors;

describe('operator configuration: one schema for file, environment and flags', () => {
  it('takes flags over the environment over the file, with defaults for the rest', () => {
    const { config, errors } = resolveConfig(
      { port: 1000, retentionDays: 30, logLevel: 'warn', rateLimit: false },
      { ASSENT_PORT: '2000', ASSENT_RATE_LIMIT: '120' },
      { port: '3000' },
    );
    assert.deepEqual(errors, []);
    assert.equal(config.port, 3000);
    assert.equal(config.retentionDays, 30);
    assert.equal(config.logLevel, 'warn');
    assert.deepEqual(config.rateLimit, { max: 120, timeWindow: 60_000 });
    assert.equal(config.host, '127.0.0.1');
    assert.match(config.db, /^sqlite:.*receipts\.db$/);
    assert.equal(resolveConfig({}, { ASSENT_RATE_LIMIT: 'off' }, {}).config.rateLimit, false);
    assert.equal(resolveConfig({}, { ASSENT_TRUST_PROXY: 'true' }, {}).config.trustProxy, true);
    assert.equal(config.webhookPrivateNetworks, false);
    assert.deepEqual(
      resolveConfig({}, { ASSENT_WEBHOOK_PRIVATE_NETWORKS: '10.0.0.0/8, fd00::/8' }, {}).config
        .webhookPrivateNetworks,
      ['10.0.0.0/8', 'fd00::/8'],
    );
    assert.equal(resolveConfig({ webhookPrivateNetworks: true }, {}, {}).config.webhookPrivateNetworks, true);
  });

  const mistakes: [string, unknown, Record<string, string>, Record<string, string>, RegExp][] = [
    [
      'retention days that are not a number',
      {},
      { ASSENT_RETENTION_DAYS: 'abc' },
      {},
      /^ASSENT_RETENTION_DAYS: /,
    ],
    [
      'a rate limit that is not a number',
      {},
      { ASSENT_RATE_LIMIT: 'abc' },
      {},
      /^ASSENT_RATE_LIMIT: .*"abc"/,
    ],
    ['a port out of range', {}, {}, { port: '70000' }, /^--port: must be a port number from 0 to 65535/],
    ['a fractional port', { port: 80.5 }, {}, {}, /^conf\.json: port: /],
    ['a misspelt key', { retentionDay: 30 }, {}, {}, /^conf\.json: retentionDay: is not a known key/],
    ['a string where a number goes', { retentionDays: '30' }, {}, {}, /^conf\.json: retentionDays: /],
    ['zero retention days', { retentionDays: 0 }, {}, {}, /^conf\.json: retentionDays: .* from 1 to 36500/],
    ['an unknown log level', {}, { ASSENT_LOG_LEVEL: 'verbose' }, {}, /^ASSENT_LOG_LEVEL: must be one of/],
    [
      'a rate limit object with a typo',
      { rateLimit: { max: 10, window: 1 } },
      {},
      {},
      /^conf\.json: rateLimit: /,
    ],
    ['a database URL of no known kind', {}, { ASSENT_DB: 'mysql://x' }, {}, /^ASSENT_DB: must be sqlite:/],
    ['a short API key', { apiKeys: { 'https://a.example': 'short' } }, {}, {}, /^conf\.json: apiKeys: /],
    ['a site config core refuses', { sites: { 'https://a.example': { days: 'abc' } } }, {}, {}, /days/],
    ['a site that is not an origin', { sites: { 'a.example': {} } }, {}, {}, /is not an origin/],
    ['a file that is not an object', [1, 2], {}, {}, /^conf\.json: must be a JSON object/],
    [
      'a private network that is no address',
      { webhookPrivateNetworks: ['10.0.0.0/8', 'intranet'] },
      {},
      {},
      /^conf\.json: webhookPrivateNetworks: "intranet" is not an IP address or CIDR range/,
    ],
    [
      'a private network prefix out of range',
      {},
      { ASSENT_WEBHOOK_PRIVATE_NETWORKS: '10.0.0.0/33' },
      {},
      /^ASSENT_WEBHOOK_PRIVATE_NETWORKS: "10\.0\.0\.0\/33" has a prefix length out of range/,
    ],
  ];
  for (const [name, file, env, flags, re] of mistakes)
    it(`refuses ${name}, naming the key`, () => {
      const errors = errorsOf(file, env, flags);
      assert.equal(errors.length, 1, errors.join('\n'));
      assert.match(errors[0]!, re);
    });

  it('reports every mistake at once', () => {
    assert.equal(errorsOf({ bogus: 1 }, { ASSENT_RETENTION_DAYS: 'x', ASSENT_PORT: 'y' }).length, 3);
  });
});

describe('assent-server exits 2 naming the key, before anything opens or listens', () => {
  const run = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });

  it('ASSENT_RETENTION_DAYS=abc and ASSENT_RATE_LIMIT=abc', async () => {
    const dir = tempDir();
    const port = await freePort();
    const r = run(['start', '--data-dir', dir, '--port', String(port)], {
      ASSENT_RETENTION_DAYS: 'abc',
      ASSENT_RATE_LIMIT: 'abc',
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(
      r.stderr,
      /ASSENT_RETENTION_DAYS: must be a whole number of days from 1 to 36500, got "abc"/,
    );
    assert.match(r.stderr, /ASSENT_RATE_LIMIT: must be off or requests per minute/);
    // Nothing was created: no keys, no database.
    assert.deepEqual(execFileSync('ls', [dir], { encoding: 'utf8' }), '');
  });

  it('a misspelt key in the config file, and an unknown flag', () => {
    const dir = tempDir();
    const conf = join(dir, 'conf.json');
    writeFileSync(conf, JSON.stringify({ sites: SITES, retentionDay: 30 }));
    const r = run(['start', '--config', conf, '--data-dir', dir]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /conf\.json: retentionDay: is not a known key/);
    const flag = run(['start', '--prot', '8000']);
    assert.equal(flag.status, 2);
    assert.match(flag.stderr, /--prot/);
  });

  it('export with a date that does not exist', () => {
    const dir = tempDir();
    const r = run(['export', '--data-dir', dir, '--from', '2026-02-30']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--from: must be a real date/);
    const t = run(['export', '--data-dir', dir, '--to', '2026-11-01T25:00']);
    assert.equal(t.status, 2);
    assert.match(t.stderr, /--to: /);
  });
});
