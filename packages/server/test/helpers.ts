import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { freePort } from '../../../test-support/ports.js';
import { publishable } from '../src/policies.js';
import type { NewReceipt, Store } from '../src/store/types.js';

export const ORIGIN = 'http://127.0.0.1:3000';
export const OTHER = 'https://shop.example';

export const SITE_CONFIG = {
  policy: 'v3',
  categories: [
    { id: 'analytics', title: 'Audience measurement', services: [{ id: 'matomo', title: 'Matomo' }] },
    { id: 'marketing' },
    { id: 'ad_tech' },
  ],
};
export const SITES = { [ORIGIN]: SITE_CONFIG, [OTHER]: SITE_CONFIG };

/** The policy the server publishes for SITE_CONFIG: what a banner rendering it names. */
export const PUBLISHED = (() => {
  const r = publishable(SITE_CONFIG);
  if (!r.ok) throw new Error(r.errors.join('; '));
  return r.version;
})();

export const consentId = () => randomBytes(16).toString('base64url').slice(0, 22);

/** A receipt as the banner sends it. */
export const receiptBody = (over: Record<string, unknown> = {}) => ({
  consentId: consentId(),
  policy: { version: 'v3', sha256: PUBLISHED.sha256 },
  mode: 'opt-in',
  choices: { analytics: true, 'analytics:matomo': true, marketing: false, ad_tech: false },
  method: 'custom',
  source: 'preferences',
  signals: { gpc: false },
  page: { origin: ORIGIN, path: '/articles/x' },
  lang: 'en',
  ...over,
});

/**
 * A receipt as the server hands it to a store (before chaining and signing), signed under `kid`.
 * Its `expiresAt` is its `at` plus the 182 days of PUBLISHED, from one reading of the clock, as
 * the server writes it (`verify` checks it), unless `over` gives one.
 */
export const newReceipt = (kid: string, over: Partial<NewReceipt> = {}, body = receiptBody()): NewReceipt => {
  const at = over.at ?? new Date().toISOString();
  return {
    ...(body as unknown as NewReceipt),
    v: 2,
    id: Math.random().toString(36).slice(2),
    expiresAt: new Date(Date.parse(at) + PUBLISHED.config.days * 86_400_000).toISOString(),
    site: body.page.origin,
    at,
    region: null,
    ua: 'Firefox',
    ipHash: 'hash',
    kid,
    ...over,
  };
};

export const tempDir = (prefix = 'assent-server-') => mkdtempSync(join(tmpdir(), prefix));

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

let pgBase: Promise<string> | undefined;

/**
 * The PostgreSQL the tests run against. `npm test` (scripts/test.sh) starts one and sets
 * ASSENT_TEST_PG_URL. Run by hand without it, the tests start their own with the same script;
 * if that is impossible they fail with the reason. They never skip.
 */
const basePgUrl = (): Promise<string> =>
  (pgBase ??= (async () => {
    const url = process.env.ASSENT_TEST_PG_URL;
    if (url) return url;
    let out: string;
    try {
      out = execFileSync('bash', [join(ROOT, 'scripts/postgres.sh'), 'start'], { encoding: 'utf8' });
    } catch (e) {
      throw new Error(
        `PostgreSQL tests need ASSENT_TEST_PG_URL (npm test sets it via scripts/postgres.sh), and starting one failed: ${String(e)}`,
      );
    }
    const env = Object.fromEntries([...out.matchAll(/export (\w+)=(\S+)/g)].map((m) => [m[1], m[2]]));
    process.once('exit', () => {
      execFileSync('bash', [join(ROOT, 'scripts/postgres.sh'), 'stop', env.ASSENT_TEST_PG_DIR!]);
    });
    return env.ASSENT_TEST_PG_URL!;
  })());

/** A fresh, empty database on the test PostgreSQL; `drop()` removes it. */
export const freshPgDatabase = async (): Promise<{ url: string; drop(): Promise<void> }> => {
  const base = await basePgUrl();
  const name = `assent_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  // template0 accepts no connections, so concurrent CREATE DATABASEs never collide on template1.
  await admin.query(`create database ${name} template template0`);
  await admin.end();
  const u = new URL(base);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
};

export { freePort };

/**
 * Faults injected in a running server's own database, as an operator with a shell could: `exec`
 * runs SQL on a SQLite file through the writer thread's connection (the only one that writes
 * while the server runs), on PostgreSQL through a connection of its own; `refuseAudit` makes
 * the database refuse every audit entry (a trigger) until `acceptAudit`.
 */
export const databaseFaults = (store: Store, url: string) => {
  const sqlite = store.kind === 'sqlite';
  const exec = async (text: string) => {
    if (sqlite) {
      const { writer } = store as unknown as {
        writer: { run(op: string, args: unknown[]): Promise<unknown> };
      };
      await writer.run('exec', [text, []]);
      return;
    }
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(text);
    await c.end();
  };
  return {
    exec,
    refuseAudit: () =>
      exec(
        sqlite
          ? "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit log refused'); END"
          : "CREATE OR REPLACE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit log refused'; END $$; CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
      ),
    acceptAudit: () => exec(sqlite ? 'DROP TRIGGER refuse_audit' : 'DROP TRIGGER refuse_audit ON audit_log'),
  };
};

export interface Child {
  readonly proc: ChildProcess;
  readonly url: string;
  readonly output: () => string;
}

/**
 * Starts `assent-server start` as a real child process and waits until /readyz answers.
 * `bin`: the CLI module to run (default bin/assent-server.js; the reliability suite passes its
 * compiled build, see reliability/server-build.ts).
 */
export const startChild = async (opts: {
  db: string;
  dataDir: string;
  env?: Record<string, string>;
  bin?: string;
}): Promise<Child> => {
  const port = await freePort();
  const config = join(opts.dataDir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({ sites: SITES, adminToken: 'the-test-admin-token', rateLimit: false }),
  );
  const proc = spawn(
    process.execPath,
    [
      opts.bin ?? join(ROOT, 'packages/server/bin/assent-server.js'),
      'start',
      '--config',
      config,
      '--db',
      opts.db,
      '--data-dir',
      opts.dataDir,
      '--port',
      String(port),
    ],
    { env: { ...process.env, ASSENT_LOG_LEVEL: 'warn', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) throw new Error(`server exited: ${out}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return { proc, url, output: () => out };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill('SIGKILL');
  throw new Error(`server did not become ready: ${out}`);
};

/** POSTs a receipt as the site's page would: with the Origin of the page it names. */
export const post = (url: string, body: { page: { origin: string } } | Record<string, unknown>) =>
  fetch(`${url}/v1/receipts`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      origin: (body as { page?: { origin?: string } }).page?.origin ?? ORIGIN,
    },
    body: JSON.stringify(body),
  });

export const exited = (p: ChildProcess) =>
  new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));
