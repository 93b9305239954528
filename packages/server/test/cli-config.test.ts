import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { KEYS, resolveConfig } from '../src/cli-config.js';
import { createServer, type ServerOptions } from '../src/index.js';
import { freePort, SITES, tempDir } from './helpers.js';

const CONTROLLER = {
  name: 'A',
  contact: 'DPO',
  email: 'dpo@a.example',
  address: '1 Street',
  phone: '+1 555 0100',
};
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
    [
      'two spellings of one site in apiKeys',
      {
        apiKeys: {
          'https://a.example': 'key-one-for-a-example',
          'https://A.example:443/': 'key-two-for-a-example',
        },
      },
      {},
      {},
      /^conf\.json: apiKeys: "https:\/\/a\.example" and "https:\/\/A\.example:443\/" are the same site/,
    ],
    [
      'a short API key, without repeating it',
      { apiKeys: { 'https://a.example': 'short' } },
      {},
      {},
      /^conf\.json: apiKeys: \["https:\/\/a\.example"\] must be at least 16 characters .*got 5$/,
    ],
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
    [
      'an admin token a guesser could find',
      { adminToken: 'secret' },
      {},
      {},
      /^conf\.json: adminToken: must be at least 16 characters .*got 6$/,
    ],
    [
      'a short metrics token in the environment',
      {},
      { ASSENT_METRICS_TOKEN: 'metrics' },
      {},
      /^ASSENT_METRICS_TOKEN: must be at least 16 characters .*got 7$/,
    ],
  ];
  for (const [name, file, env, flags, re] of mistakes)
    it(`refuses ${name}, naming the key`, () => {
      const errors = errorsOf(file, env, flags);
      assert.equal(errors.length, 1, errors.join('\n'));
      assert.match(errors[0]!, re);
    });

  it('takes trustProxy as true/false, hops, or addresses and CIDR ranges, and refuses anything else', () => {
    const tp = (v: string) => resolveConfig({}, { ASSENT_TRUST_PROXY: v }, {});
    assert.equal(tp('2').config.trustProxy, 2);
    assert.equal(tp('false').config.trustProxy, false);
    assert.deepEqual(tp('127.0.0.1, 10.0.0.0/8,fd00::/8').config.trustProxy, [
      '127.0.0.1',
      '10.0.0.0/8',
      'fd00::/8',
    ]);
    assert.deepEqual(tp('loopback').config.trustProxy, ['loopback']);
    for (const bad of ['yes', '10.0.0.0/33', '127.0.0.1,,10.0.0.1', '127.0.0.1 10.0.0.1', '500']) {
      const errors = tp(bad).errors;
      assert.equal(errors.length, 1, bad);
      assert.match(errors[0]!, /^ASSENT_TRUST_PROXY: must be true, false, a number of hops/, bad);
    }
    assert.match(
      errorsOf({ trustProxy: 'nonsense' })[0]!,
      /^conf\.json: trustProxy: .*"nonsense" is not an IP address/,
    );
    assert.match(errorsOf({ trustProxy: ['127.0.0.1', 7] })[0]!, /^conf\.json: trustProxy: /);
  });

  it('refuses two spellings of one site, naming both', () => {
    const errors = errorsOf({ sites: { 'https://news.example': {}, 'https://NEWS.example/': {} } });
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(errors[0]!, /"https:\/\/news\.example" and "https:\/\/NEWS\.example\/" are the same site/);
  });

  it('takes adminOrigin (ASSENT_ADMIN_ORIGIN) as an origin, normalised, and refuses anything else naming it', () => {
    assert.equal(resolveConfig({}, {}, {}).config.adminOrigin, undefined);
    assert.equal(
      resolveConfig({ adminOrigin: 'https://Admin.News.example/' }, {}, {}).config.adminOrigin,
      'https://admin.news.example',
    );
    assert.equal(
      resolveConfig({}, { ASSENT_ADMIN_ORIGIN: 'http://127.0.0.1:8788' }, {}).config.adminOrigin,
      'http://127.0.0.1:8788',
    );
    for (const bad of ['admin.example', 'https://admin.example/console', 'ftp://admin.example', '']) {
      const errors = errorsOf({}, { ASSENT_ADMIN_ORIGIN: bad });
      assert.equal(errors.length, 1, bad);
      assert.match(
        errors[0]!,
        /^ASSENT_ADMIN_ORIGIN: must be an origin such as https:\/\/admin\.example/,
        bad,
      );
    }
    assert.match(errorsOf({ adminOrigin: 42 })[0]!, /^conf\.json: adminOrigin: must be an origin/);
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

describe('assent-server refuses bad input before it opens anything', () => {
  const run = (args: string[], env: Record<string, string> = {}, input?: string) =>
    spawnSync(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 60_000,
      ...(input === undefined ? {} : { input }),
    });
  const ls = (dir: string) => readdirSync(dir).sort();

  it('an IP secret under 32 bytes and a signing key that is not Ed25519: exit 2 naming the file, no database', () => {
    const dir = tempDir();
    const k = run(['keygen', '--data-dir', dir]);
    assert.equal(k.status, 0, k.stderr);
    for (const secret of ['', 'short']) {
      writeFileSync(join(dir, 'ip-secret'), secret);
      const r = run(['start', '--data-dir', dir, '--port', '0']);
      assert.equal(r.status, 2, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `${join(dir, 'ip-secret')}: the IP secret must be at least 32 random bytes, it has ${secret.length}`,
        ),
      );
    }
    writeFileSync(join(dir, 'ip-secret'), randomBytes(32));
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    for (const [pem, why] of [
      [rsa, /must be an Ed25519 private key, got rsa/],
      ['garbage', /is not a PEM private key/],
    ] as const) {
      writeFileSync(join(dir, 'signing-key.pem'), pem);
      const r = run(['start', '--data-dir', dir, '--port', '0']);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`${join(dir, 'signing-key.pem')}: the signing key `));
      assert.match(r.stderr, why);
    }
    assert.deepEqual(ls(dir), ['ip-secret', 'signing-key.pem', 'signing-key.pub.pem'], 'nothing migrated');
  });

  it('a trustProxy that is no address: exit 2 naming it, before the database is opened', () => {
    const dir = tempDir();
    const r = run(['start', '--data-dir', dir, '--port', '0'], { ASSENT_TRUST_PROXY: 'yes' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /ASSENT_TRUST_PROXY: must be true, false, a number of hops .*"yes"/);
    assert.deepEqual(ls(dir), []);
  });

  it('arguments a command does not take, and a blank --sites', () => {
    const dir = tempDir();
    for (const args of [
      ['migrate', 'extra'],
      ['export', 'receipts.ndjson'],
      ['user', 'list', 'x'],
      ['keygen', 'k.pem'],
    ]) {
      const r = run([...args, '--data-dir', dir]);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`unexpected argument "${args.at(-1)!.replace('.', '\\.')}"`));
    }
    for (const sites of ['', ' ,,']) {
      const r = run(
        ['user', 'add', '--email', 'a@b.example', '--role', 'editor', '--sites', sites, '--data-dir', dir],
        {},
        'a-long-password-here\n',
      );
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /user add: --sites names no site, got .* \(leave --sites out for every site\)/);
    }
    assert.deepEqual(ls(dir), [], 'no database, no keys');
  });

  it('read-only commands refuse a SQLite file that does not exist; export checks --site and the dates', () => {
    const dir = tempDir();
    const typo = join(dir, 'typo.db');
    for (const args of [['export'], ['user', 'list']]) {
      const r = run([...args, '--db', `sqlite:${typo}`]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`--db: no SQLite database at ${typo}`));
    }
    assert.deepEqual(ls(dir), [], 'not created');
    const db = `sqlite:${join(dir, 'receipts.db')}`;
    assert.equal(run(['migrate', '--db', db]).status, 0);
    const conf = join(dir, 'conf.json');
    writeFileSync(conf, JSON.stringify({ sites: SITES }));
    const ok = run(['export', '--db', db, '--config', conf, '--site', 'HTTP://127.0.0.1:3000/']);
    assert.equal(ok.status, 0, ok.stderr);
    const unknown = run(['export', '--db', db, '--config', conf, '--site', 'https://typo.example']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /--site: https:\/\/typo\.example is not a site of this server/);
    const reversed = run(['export', '--db', db, '--from', '2026-12-01', '--to', '2026-11-01']);
    assert.equal(reversed.status, 2);
    assert.match(reversed.stderr, /--from: 2026-12-01 is later than --to 2026-11-01/);
  });

  it('--help and the README name every environment variable', () => {
    const r = run(['--help']);
    assert.equal(r.status, 0);
    const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
    for (const { env } of Object.values(KEYS))
      if (env) {
        assert.ok(r.stdout.includes(env), `--help: ${env}`);
        assert.ok(readme.includes(`\`${env}\``), `packages/server/README.md: ${env}`);
      }
  });
});

describe('createServer checks its options before it opens or migrates the store', () => {
  const cases: [string, Partial<ServerOptions>, RegExp][] = [
    [
      'a negative retention',
      { retention: { days: -400 } },
      /^Error: retention\.days: must be a whole number from 1 to 36500, got -400/,
    ],
    [
      'retention days that are text',
      { retention: { days: 'abc' as unknown as number } },
      /^Error: retention\.days: /,
    ],
    [
      'a retention interval of 0',
      { retention: { days: 30, intervalMs: 0 } },
      /^Error: retention\.intervalMs: /,
    ],
    ['maxBatch 0', { maxBatch: 0 }, /^Error: maxBatch: must be a whole number from 1/],
    ['poolSize 0', { poolSize: 0 }, /^Error: poolSize: /],
    ['rateLimit.max 0', { rateLimit: { max: 0, timeWindow: 60_000 } }, /^Error: rateLimit\.max: /],
    ['rateLimit.timeWindow 0', { rateLimit: { max: 10, timeWindow: 0 } }, /^Error: rateLimit\.timeWindow: /],
    [
      'log.intervalMs 0',
      { log: { intervalMs: 0 } },
      /^Error: log\.intervalMs: must be a whole number from 1000/,
    ],
    ['authFailures.max 0', { authFailures: { max: 0, timeWindow: 1000 } }, /^Error: authFailures\.max: /],
    ['webhooks.batch 0', { webhooks: { batch: 0 } }, /^Error: webhooks\.batch: /],
    [
      'a private network that is no address',
      { webhooks: { privateNetworks: ['nonsense'] } },
      /^Error: webhooks\.privateNetworks: .*nonsense/,
    ],
    [
      'a trustProxy that is no address',
      { trustProxy: 'nonsense' },
      /^Error: trustProxy: .*"nonsense" is not an IP address/,
    ],
    [
      'an unknown log level',
      { logger: { level: 'bogus' } },
      /^Error: logger\.level: must be one of fatal, error/,
    ],
    ['an empty IP secret', { ipSecret: '' }, /^Error: ipSecret: must be at least 32 bytes \(random\), got 0/],
    ['a short IP secret', { ipSecret: Buffer.alloc(16) }, /^Error: ipSecret: must be at least 32 bytes/],
    [
      'a short API key',
      { apiKeys: { 'https://a.example': 'k1' } },
      /^Error: apiKeys\["https:\/\/a\.example"\]: must be at least 16 characters .*got 2$/,
    ],
    [
      'a one-letter admin token',
      { adminToken: 't' },
      /^Error: adminToken: must be at least 16 characters .*got 1$/,
    ],
    [
      'a short metrics token',
      { metricsToken: 'metrics-token' },
      /^Error: metricsToken: must be at least 16 characters .*got 13$/,
    ],
    [
      'an RSA signing key',
      { signingKey: generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey },
      /^Error: signingKey: must be an Ed25519 private key, got rsa/,
    ],
    ['a bad witness key', { witnesses: ['garbage'] }, /^Error: witnesses\[0\]: /],
    [
      'an adminOrigin with a path',
      { adminOrigin: 'https://admin.example/console' },
      /^Error: adminOrigin: must be an origin such as https:\/\/admin\.example/,
    ],
    ['an adminOrigin that is a bare host', { adminOrigin: 'admin.example' }, /^Error: adminOrigin: /],
    [
      'a region header that is no header name',
      { regionHeader: 'CF IPCountry' },
      /^Error: regionHeader: must be an HTTP header name/,
    ],
    [
      'two spellings of one site in apiKeys',
      {
        apiKeys: {
          'https://a.example': 'key-one-for-a-example',
          'https://A.example/': 'key-two-for-a-example',
        },
      },
      /^Error: apiKeys: "https:\/\/a\.example" and "https:\/\/A\.example\/" are the same site/,
    ],
    [
      'two spellings of one site in controllers',
      {
        controllers: {
          'https://a.example': { ...CONTROLLER, name: 'A' },
          'https://a.example/': { ...CONTROLLER, name: 'B' },
        },
      },
      /^Error: controllers: "https:\/\/a\.example" and "https:\/\/a\.example\/" are the same site/,
    ],
  ];
  for (const [name, opts, re] of cases)
    it(`throws on ${name}, naming the option, and creates no database`, async () => {
      const dir = tempDir();
      const db = join(dir, 'receipts.db');
      await assert.rejects(
        createServer({
          db: `sqlite:${db}`,
          sites: SITES,
          logger: false,
          log: false,
          webhooks: false,
          ...opts,
        }),
        re,
      );
      assert.deepEqual(readdirSync(dir), [], 'nothing opened');
    });

  it('starts with good values (trustProxy as hops, a list, or text)', async () => {
    for (const trustProxy of [1, ['127.0.0.1', '10.0.0.0/8'], '127.0.0.1, ::1', 'loopback'] as const) {
      const s = await createServer({
        db: 'sqlite::memory:',
        logger: false,
        log: false,
        webhooks: false,
        retention: { days: 30, intervalMs: 60_000 },
        ipSecret: randomBytes(32),
        trustProxy,
      });
      await s.close();
    }
  });
});
