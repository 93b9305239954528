import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createServer } from '../src/index.js';
import { SITES, tempDir } from './helpers.js';

const BIN = fileURLToPath(new URL('../bin/assent-server.js', import.meta.url));
const PASSWORD = 'a-long-password-for-tests';

/** The CLI as a child process (asynchronous: several run at once, and a server may run here). */
const cli = (args: string[], input?: string) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, ASSENT_LOG_LEVEL: 'silent' }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input ?? '');
  });

const ls = (dir: string) => readdirSync(dir).sort();

describe('assent-server: each command takes its own options only (exit 2 naming the one that does not belong)', () => {
  it('user add --site (the option is --sites) is refused naming --sites, and adds no user with every site', async () => {
    const dir = tempDir();
    const conf = join(dir, 'conf.json');
    writeFileSync(conf, JSON.stringify({ sites: SITES }));
    const r = await cli(
      [
        'user',
        'add',
        '--email',
        'ed3@news.example',
        '--role',
        'editor',
        '--site',
        'https://shop.example',
        '--config',
        conf,
        '--data-dir',
        dir,
      ],
      `${PASSWORD}\n`,
    );
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /--site is not an option of user add: did you mean --sites\?/);
    assert.match(r.stderr, /user add takes --config, --db, --data-dir, --email, --role, --sites/);
    assert.deepEqual(ls(dir), ['conf.json'], 'no key, no database, no user');
  });

  it('every command refuses an option of another, before anything is read or written', async () => {
    const dir = tempDir();
    const db = `sqlite:${join(dir, 'receipts.db')}`;
    const file = join(dir, 'in.ndjson');
    writeFileSync(file, '');
    const cases: [args: string[], option: string, command: string, meant?: string][] = [
      [['start', '--data-dir', dir, '--port', '0', '--email', 'a@b.example'], 'email', 'start'],
      [['start', '--data-dir', dir, '--port', '0', '--out', 'x'], 'out', 'start'],
      [['migrate', '--db', db, '--port', '8000'], 'port', 'migrate'],
      [['migrate', '--db', db, '--site', 'https://a.example'], 'site', 'migrate'],
      [['keygen', '--data-dir', dir, '--out', join(dir, 'keys')], 'out', 'keygen', 'data-dir'],
      [['keygen', '--data-dir', dir, '--db', db], 'db', 'keygen'],
      [['verify', file, '--public-key', file, '--site', 'https://a.example'], 'site', 'verify'],
      [['verify', file, '--public-key', file, '--format', 'csv'], 'format', 'verify'],
      [['verify', file, '--key', file], 'key', 'verify', 'public-key'],
      [['verify', file, '--public-key', file, '--config', file], 'config', 'verify'],
      [['export', '--db', db, '--sites', 'https://a.example'], 'sites', 'export', 'site'],
      [['export', '--db', db, '--host', '0.0.0.0'], 'host', 'export'],
      [['export', '--db', db, '--public-key', file], 'public-key', 'export'],
      [
        ['user', 'add', '--email', 'a@b.example', '--role', 'owner', '--db', db, '--out', 'x'],
        'out',
        'user add',
      ],
      [
        ['user', 'add', '--email', 'a@b.example', '--role', 'owner', '--db', db, '--port', '1'],
        'port',
        'user add',
      ],
      [['user', 'list', '--db', db, '--email', 'a@b.example'], 'email', 'user list'],
      [['user', 'list', '--db', db, '--site', 'https://a.example'], 'site', 'user list'],
      [['verify-audit', file, '--public-key', file, '--db', db], 'db', 'verify-audit'],
      [['verify-audit', file, '--public-key', file, '--from', '2026-01-01'], 'from', 'verify-audit'],
    ];
    // A few at a time (each is a Node process starting TypeScript).
    const results: Awaited<ReturnType<typeof cli>>[] = [];
    for (let i = 0; i < cases.length; i += 4)
      results.push(...(await Promise.all(cases.slice(i, i + 4).map(([args]) => cli(args, `${PASSWORD}\n`)))));
    for (const [i, [args, option, command, meant]] of cases.entries()) {
      const r = results[i]!;
      const what = `${args.join(' ')}: ${r.stdout}${r.stderr}`;
      assert.equal(r.code, 2, what);
      assert.match(r.stderr, new RegExp(`--${option} is not an option of ${command}`), what);
      if (meant) assert.match(r.stderr, new RegExp(`did you mean --${meant}\\?`), what);
      assert.equal(r.stdout, '', what);
    }
    assert.deepEqual(ls(dir), ['in.ndjson'], 'nothing written: no keys, no database');
  });

  it('each command still takes every option of its own', async () => {
    const dir = tempDir();
    const conf = join(dir, 'conf.json');
    writeFileSync(conf, JSON.stringify({ sites: SITES }));
    const db = `sqlite:${join(dir, 'receipts.db')}`;
    const common = ['--config', conf, '--db', db, '--data-dir', dir];
    const keygen = await cli(['keygen', '--config', conf, '--data-dir', dir]);
    assert.equal(keygen.code, 0, keygen.stderr);
    const migrate = await cli(['migrate', ...common]);
    assert.equal(migrate.code, 0, migrate.stderr);
    const add = await cli(
      [
        'user',
        'add',
        '--email',
        'ed@a.example',
        '--role',
        'editor',
        '--sites',
        'http://127.0.0.1:3000',
        ...common,
      ],
      `${PASSWORD}\n`,
    );
    assert.equal(add.code, 0, add.stderr);
    const list = await cli(['user', 'list', ...common]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^ed@a\.example\teditor\t.*\thttp:\/\/127\.0\.0\.1:3000\n$/);
    const out = join(dir, 'export.csv');
    const exp = await cli([
      'export',
      ...common,
      '--site',
      'http://127.0.0.1:3000',
      '--from',
      '2026-01-01',
      '--to',
      '2027-01-01',
      '--format',
      'csv',
      '--out',
      out,
    ]);
    assert.equal(exp.code, 0, exp.stderr);
    assert.match(readFileSync(out, 'utf8'), /^id,/);
    // verify, verify-audit, verify-receipt, witness and witness-key with theirs: chain.test.ts,
    // admin-audit.test.ts and tlog-cli.test.ts.
  });

  it("the README's CLI block and --help show each command's options exactly", async () => {
    // Imported here: the other tests run the CLI as it is, whatever this module exports.
    const { COMMAND_OPTIONS } = await import('../src/cli-config.js');
    const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
    const block = /## CLI\n\n```\n([\s\S]*?)\n```/.exec(readme)?.[1];
    assert.ok(block, 'a ``` block under ## CLI');
    const help = await cli(['--help']);
    assert.equal(help.code, 0);
    for (const [where, text] of [
      ['README', block],
      ['--help', help.stdout.split('\n\nEnvironment:')[0]!],
    ] as const) {
      // Each command's line and the lines under it (indented) that go on with it.
      const shown = new Map<string, Set<string>>();
      let current: Set<string> | undefined;
      for (const line of text.split('\n')) {
        const m = /^\s*assent-server (user \w+|[\w-]+)/.exec(line);
        if (m) shown.set(m[1]!, (current = new Set()));
        else if (!/^\s/.test(line)) current = undefined;
        for (const [, o] of line.matchAll(/--([a-z][\w-]*)/g)) current?.add(o!);
      }
      assert.deepEqual(
        [...shown.keys()].sort(),
        Object.keys(COMMAND_OPTIONS).sort(),
        `${where}: the commands`,
      );
      for (const [cmd, options] of Object.entries(COMMAND_OPTIONS))
        assert.deepEqual([...shown.get(cmd)!].sort(), [...options].sort(), `${where}: ${cmd}'s options`);
    }
  });
});

describe('assent-server: a SQLite file a running server holds is exit 3 for every command', () => {
  it('migrate, export, user add and user list exit 3, naming the file and what to do instead', async () => {
    const dir = tempDir();
    const file = join(dir, 'receipts.db');
    const db = `sqlite:${file}`;
    // A running server: it holds its SQLite file exclusively (store/sqlite-file.ts).
    const server = await createServer({ db, sites: SITES, logger: false, log: false, webhooks: false });
    try {
      const cases: [args: string[], instead: RegExp][] = [
        [['migrate', '--db', db], /stop it first \(it migrated the database when it started\)/],
        [['export', '--db', db], /export through it \(GET \/v1\/admin\/receipts\)/],
        [
          ['user', 'add', '--email', 'a@b.example', '--role', 'owner', '--db', db, '--data-dir', dir],
          /add the user through it \(the console's Users page, or POST \/v1\/admin\/users\)/,
        ],
        [['user', 'list', '--db', db], /list the users through it .*GET \/v1\/admin\/users/],
      ];
      // At once: each waits out SQLite's busy timeout.
      const results = await Promise.all(cases.map(([args]) => cli(args, `${PASSWORD}\n`)));
      for (const [i, r] of results.entries()) {
        const [args, instead] = cases[i]!;
        const what = `${args.join(' ')}: ${r.stdout}${r.stderr}`;
        assert.equal(r.code, 3, what);
        assert.match(
          r.stderr,
          new RegExp(`the database sqlite:${file} is held by a running assent-server`),
          what,
        );
        assert.match(r.stderr, instead, what);
      }
    } finally {
      await server.close();
    }
    // Once the server is gone, the same commands work.
    const list = await cli(['user', 'list', '--db', db]);
    assert.equal(list.code, 0, list.stderr);
  });
});
