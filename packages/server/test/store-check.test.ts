import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import pg from 'pg';
import { createServer, publishable, purgeExpired } from '../src/index.js';
import { sqliteUri } from '../src/store/sqlite-file.js';
import type { CheckRow } from '../src/store/types.js';
import { type CheckResult, checkStore, openForCheck } from '../src/store-check.js';
import {
  databaseFaults,
  freshPgDatabase,
  newReceipt,
  ORIGIN,
  OTHER,
  receiptBody,
  SITE_CONFIG,
  SITES,
  tempDir,
} from './helpers.js';

const BIN = fileURLToPath(new URL('../bin/assent-server.js', import.meta.url));
const TOKEN = 'store-check-admin-token';
const DAY = 86_400_000;
/** The retention the checks assume (the receipts stored 600 days ago and purged are past it). */
const RETENTION_DAYS = 30;

/** The CLI as a child process (with the retention the database was purged with). */
const cli = (
  args: string[],
  env: Record<string, string> = { ASSENT_RETENTION_DAYS: String(RETENTION_DAYS) },
) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, ASSENT_LOG_LEVEL: 'silent', ...env }, timeout: 120_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });

/** A database under test: its URL, SQL run on it as an operator with a shell would, a copy. */
interface Db {
  readonly url: string;
  exec(text: string): Promise<void>;
  copy(): Promise<Db>;
  drop(): Promise<void>;
}

const sqliteDb = (file: string): Db => ({
  url: `sqlite:${file}`,
  async exec(text) {
    const db = new SQLite(sqliteUri(file));
    try {
      db.exec(text);
    } finally {
      db.close();
    }
  },
  async copy() {
    const to = join(tempDir('assent-check-'), 'receipts.db');
    cpSync(file, to);
    if (existsSync(`${file}-wal`)) cpSync(`${file}-wal`, `${to}-wal`);
    return sqliteDb(to);
  },
  async drop() {},
});

/** The server's `postgres` database: where databases are made and dropped. */
const adminUrl = (url: string) => {
  const u = new URL(url);
  u.pathname = '/postgres';
  return u.toString();
};

const pgDb = async (fresh: { url: string; drop(): Promise<void> }): Promise<Db> => ({
  url: fresh.url,
  async exec(text) {
    const c = new pg.Client({ connectionString: fresh.url });
    await c.connect();
    try {
      await c.query(text);
    } finally {
      await c.end();
    }
  },
  async copy() {
    // A copy through CREATE DATABASE … TEMPLATE (nothing may be connected to the original).
    const name = `assent_check_${Math.random().toString(36).slice(2, 10)}`;
    const u = new URL(fresh.url);
    const original = u.pathname.slice(1);
    const admin = new pg.Client({ connectionString: adminUrl(fresh.url) });
    await admin.connect();
    await admin.query(`create database ${name} template ${original}`);
    await admin.end();
    u.pathname = `/${name}`;
    const url = u.toString();
    return pgDb({
      url,
      async drop() {
        const c = new pg.Client({ connectionString: adminUrl(fresh.url) });
        await c.connect();
        await c.query(`drop database if exists ${name} with (force)`);
        await c.end();
      },
    });
  },
  drop: () => fresh.drop(),
});

const q = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** Every receipts row, in chain order (the check's own read). */
const rowsOf = async (db: Db): Promise<CheckRow[]> => {
  const store = openForCheck(db.url);
  try {
    return await store.checkRows(null, 100_000);
  } finally {
    await store.close();
  }
};

const check = async (db: Db, key: KeyObject, opts: { maxProblems?: number; pageSize?: number } = {}) => {
  const store = openForCheck(db.url);
  try {
    return await checkStore(store, { publicKeys: [key], retentionDays: RETENTION_DAYS, ...opts });
  } finally {
    await store.close();
  }
};

const said = (r: CheckResult) => r.problems.map((p) => `${p.where}: ${p.reason}`).join('\n');

/**
 * A database as a server leaves it: three receipts stored 400 days ago on ORIGIN and purged by
 * retention, then receipts on both sites (a consent accepted then withdrawn, several others),
 * and one consent erased by its owner (an erasure the audit log records).
 */
const build = async (url: string, privateKey: KeyObject) => {
  const s = await createServer({
    db: url,
    sites: SITES,
    adminToken: TOKEN,
    signingKey: privateKey,
    logger: false,
    retention: false,
    rateLimit: false,
    log: false,
    webhooks: false,
  });
  try {
    // Past retention by any retentionDays up to 418: the CLI's default (365) included.
    const t0 = Date.now() - 600 * DAY;
    const old = [0, 1, 2].map((i) =>
      newReceipt(s.signer.kid, {
        at: new Date(t0 + i).toISOString(),
        expiresAt: new Date(t0 + i + 182 * DAY).toISOString(),
      }),
    );
    // A consent accepted 100 days ago, withdrawn a day later under a policy of shorter days (59,
    // held in the policies table as a publication leaves it): the withdrawal is past retention,
    // the acceptance is not. Retention drops the consent's latest row and keeps both receipts
    // (purging the withdrawal would bring the acceptance back).
    const shorter = publishable({ ...SITE_CONFIG, days: 59 });
    assert.ok(shorter.ok);
    await databaseFaults(s.store, url).exec(
      `insert into policies (sha256, doc, created_at) values (${q(shorter.version.sha256)}, ${q(shorter.version.canonical)}, ${q(new Date().toISOString())})`,
    );
    const accepted = receiptBody({ method: 'accept-all', choices: { analytics: true, marketing: true } });
    const a = Date.now() - 100 * DAY;
    const aw = [
      newReceipt(
        s.signer.kid,
        { at: new Date(a).toISOString(), expiresAt: new Date(a + 182 * DAY).toISOString() },
        accepted,
      ),
      newReceipt(
        s.signer.kid,
        { at: new Date(a + DAY).toISOString(), expiresAt: new Date(a + DAY + 59 * DAY).toISOString() },
        receiptBody({
          consentId: accepted.consentId,
          method: 'withdraw',
          choices: {},
          policy: { version: 'v3', sha256: shorter.version.sha256 },
        }),
      ),
    ];
    await s.store.append([...old, ...aw], s.signer);
    assert.equal(await purgeExpired({ store: s.store }, RETENTION_DAYS), 3);
    const post = async (body: ReturnType<typeof receiptBody>) => {
      const res = await s.app.inject({
        method: 'POST',
        url: '/v1/receipts',
        payload: body,
        headers: { origin: body.page.origin },
      });
      assert.equal(res.statusCode, 201, res.body);
    };
    // Every key granted (accept-all), in sorted order: the `granted` column keeps the request's
    // order while verify-db derives it from the canonical (sorted) body.
    const withdrawn = receiptBody({
      method: 'accept-all',
      choices: { ad_tech: true, analytics: true, 'analytics:matomo': true, marketing: true },
    });
    await post(withdrawn);
    for (let i = 0; i < 6; i++)
      await post(
        receiptBody(
          i % 3 === 2
            ? { page: { origin: OTHER, path: '/' } }
            : i % 3 === 1
              ? { method: 'reject-all', choices: { analytics: false, marketing: false } }
              : {},
        ),
      );
    const w = await s.app.inject({ method: 'POST', url: `/v1/consents/${withdrawn.consentId}/withdraw` });
    assert.equal(w.statusCode, 201, w.body);
    const erased = receiptBody();
    await post(erased);
    await post(
      receiptBody({ consentId: erased.consentId, method: 'reject-all', choices: { analytics: false } }),
    );
    const e = await s.app.inject({
      method: 'POST',
      url: '/v1/admin/erasures',
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: { site: ORIGIN, consentId: erased.consentId },
    });
    assert.equal(e.statusCode, 200, e.body);
    await post(receiptBody());
    return { withdrawn: withdrawn.consentId, erased: erased.consentId };
  } finally {
    await s.close();
  }
};

const KINDS = ['sqlite', 'postgres'] as const;

for (const kind of KINDS) {
  describe(`assent-server verify-db on ${kind}: the database's columns against the signed receipts`, () => {
    const keys = generateKeyPairSync('ed25519');
    const dir = tempDir('assent-check-');
    const pubFile = join(dir, 'signing-key.pub.pem');
    writeFileSync(pubFile, keys.publicKey.export({ type: 'spki', format: 'pem' }));
    let base: Db;
    let rows: CheckRow[];
    let consents: { withdrawn: string; erased: string };
    /** A fresh copy of the database with `edit` applied, and what verify-db says of it. */
    const edited = async (edit: string, opts?: { maxProblems?: number }) => {
      const db = await base.copy();
      try {
        await db.exec(edit);
        return await check(db, keys.publicKey, opts);
      } finally {
        await db.drop();
      }
    };
    /** The first receipt of `site` with a body whose predicate holds. */
    const pick = (f: (r: CheckRow) => boolean) => {
      const r = rows.find((x) => x.body !== null && f(x));
      assert.ok(r, 'a receipt to edit');
      return r;
    };
    const at = (r: CheckRow) => `${r.site} seq ${r.seq} receipt ${r.id}`;

    before(async () => {
      base = kind === 'sqlite' ? sqliteDb(join(dir, 'receipts.db')) : await pgDb(await freshPgDatabase());
      consents = await build(base.url, keys.privateKey);
      rows = await rowsOf(base);
    });
    after(() => base?.drop());

    it('passes a database as the server left it: purged receipts (retention, erasure) included', async () => {
      const r = await check(base, keys.publicKey);
      assert.deepEqual(r.problems, []);
      assert.equal(r.stopped, false);
      assert.equal(r.receipts, rows.length);
      assert.equal(r.receipts, 3 + 2 + 1 + 6 + 1 + 2 + 1);
      assert.equal(r.purged, 5, 'three by retention, two by the erasure');
      assert.equal(r.erased, 2);
      assert.equal(r.sites, 2);
      assert.equal(r.policies, 2, "the sites' policy and the withdrawal's shorter one");
      assert.equal(
        r.consents,
        1 + 6 + 1,
        'one row per consent left: the old, the withdrawn past retention and the erased are gone',
      );
      // Keyset pages of three rows: the same answer.
      assert.deepEqual(await check(base, keys.publicKey, { pageSize: 3 }), r);
    });

    it('opens the database read-only', async () => {
      const store = openForCheck(base.url);
      try {
        await assert.rejects(
          sql`insert into probes (name, at) values ('x', 'y')`.execute(store.db),
          /read-?only/i,
        );
      } finally {
        await store.close();
      }
    });

    it('names each column edited by hand: consent_id, expires_at, method, site, at, prev, seq', async () => {
      const some = pick((r) => r.site === ORIGIN && r.method === 'custom');
      const last = rows.filter((r) => r.site === ORIGIN).at(-1)!;
      assert.ok(
        last.body !== null && last.seq > Math.max(...rows.filter((r) => r.site === OTHER).map((r) => r.seq)),
      );
      const body = JSON.parse(some.body!) as Record<string, unknown>;
      const cases: [edit: string, where: string, reason: RegExp][] = [
        [
          `update receipts set consent_id = 'AAAAAAAAAAAAAAAAAAAAAA' where id = ${q(some.id)}`,
          at(some),
          new RegExp(
            `^column consent_id is "AAAAAAAAAAAAAAAAAAAAAA", the signed body says "${body.consentId}"$`,
          ),
        ],
        [
          `update receipts set expires_at = '2000-01-01T00:00:00.000Z' where id = ${q(some.id)}`,
          at(some),
          new RegExp(
            `^column expires_at is "2000-01-01T00:00:00.000Z", the signed body says "${body.expiresAt}"$`,
          ),
        ],
        [
          `update receipts set method = 'accept-all', granted = ',analytics,marketing,', accepted = 1 where id = ${q(some.id)}`,
          at(some),
          /^column method is "accept-all", the signed body says "custom"$/,
        ],
        [
          `update receipts set site = ${q(OTHER)} where id = ${q(last.id)}`,
          `${OTHER} seq ${last.seq} receipt ${last.id}`,
          new RegExp(`^column site is "${OTHER}", the signed body says "${ORIGIN}"$`),
        ],
        [
          `update receipts set at = '2020-01-01T00:00:00.000Z' where id = ${q(some.id)}`,
          at(some),
          new RegExp(`^column at is "2020-01-01T00:00:00.000Z", the signed body says "${body.at}"$`),
        ],
        [
          `update receipts set prev = '00' || substr(prev, 3) where id = ${q(some.id)}`,
          at(some),
          /^column prev is "00[0-9a-f]{62}", the signed body says "[0-9a-f]{64}"$/,
        ],
        [
          `update receipts set seq = 99 where id = ${q(last.id)}`,
          `${ORIGIN} seq 99 receipt ${last.id}`,
          new RegExp(`^column seq is 99, the signed body says ${last.seq}$`),
        ],
      ];
      for (const [edit, where, reason] of cases) {
        const r = await edited(edit);
        assert.ok(
          r.problems.some((p) => p.where === where && reason.test(p.reason)),
          `${edit}:\n${said(r)}`,
        );
      }
    });

    it("names consent_latest pointing at an older receipt, or holding a column its receipt's body does not", async () => {
      const [older, newer] = rows.filter((r) => r.consent_id === consents.withdrawn);
      assert.ok(older && newer && newer.method === 'withdraw' && newer.latest_receipt_id === newer.id);
      const back = await edited(
        `update consent_latest set receipt_id = ${q(older.id)}, seq = ${older.seq}, at = ${q(older.at)}, method = ${q(older.method!)}, granted = ${q(older.granted!)} where receipt_id = ${q(newer.id)}`,
      );
      assert.ok(
        back.problems.some(
          (p) =>
            p.where === at(newer) &&
            p.reason.startsWith(
              `consent_latest's row of its consent names receipt ${older.id} (seq ${older.seq}`,
            ) &&
            p.reason.includes('but this receipt is later'),
        ),
        said(back),
      );
      const method = await edited(
        `update consent_latest set method = 'accept-all' where receipt_id = ${q(newer.id)}`,
      );
      assert.ok(
        method.problems.some(
          (p) =>
            p.where === at(newer) &&
            p.reason ===
              `consent_latest's row of its consent: column method is "accept-all", the signed body says "withdraw"`,
        ),
        said(method),
      );
      const gone = await edited(`delete from consent_latest where receipt_id = ${q(newer.id)}`);
      assert.ok(
        gone.problems.some(
          (p) => p.where === at(newer) && p.reason.startsWith('consent_latest has no row for its consent'),
        ),
        said(gone),
      );
    });

    it('names a body nulled and marked purged by hand: no erasure names it and retention could not purge it yet', async () => {
      const victim = pick((r) => r.site === ORIGIN && r.latest_receipt_id === r.id);
      // As the reviewer's script did: the payload's columns cleared (not mode or accepted), now.
      const now = new Date().toISOString();
      const r = await edited(
        `update receipts set body = null, consent_id = null, method = null, granted = null, region = null, salt = null, purged_at = ${q(now)} where id = ${q(victim.id)}`,
      );
      const reasons = r.problems.filter((p) => p.where === at(victim)).map((p) => p.reason);
      assert.ok(
        reasons.includes(
          `purged at ${now}, before retention could purge it (its expires_at ${victim.expires_at} + retentionDays ${RETENTION_DAYS}), and no erasure in the audit log names it: its proof was destroyed without a reason the database records`,
        ),
        said(r),
      );
      assert.ok(
        reasons.includes('its body is gone, but column mode still holds "opt-in": purging clears it'),
        said(r),
      );
      assert.ok(
        r.problems.some(
          (p) =>
            p.where === `consent_latest ${ORIGIN} consent ${victim.consent_id}` &&
            /which is purged/.test(p.reason),
        ),
        said(r),
      );
      // Without purged_at, and everything cleared as a purge clears it.
      const bare = await edited(
        `update receipts set body = null, consent_id = null, method = null, granted = null, accepted = null, mode = null, region = null, salt = null where id = ${q(victim.id)}`,
      );
      assert.ok(
        bare.problems.some(
          (p) =>
            p.where === at(victim) &&
            p.reason ===
              'its body is gone, but purged_at is empty: neither retention nor an erasure removed it',
        ),
        said(bare),
      );
      // A receipt purged by retention whose expires_at was moved: no longer its at + its policy's days.
      const purged = rows.find((x) => x.body === null && x.consent_id === null && x.seq === 1)!;
      const moved = await edited(
        `update receipts set expires_at = '2001-01-01T00:00:00.000Z' where id = ${q(purged.id)}`,
      );
      assert.ok(
        moved.problems.some(
          (p) =>
            p.where === at(purged) &&
            /^its expires_at 2001-01-01T00:00:00.000Z is not its at plus the 182 days/.test(p.reason),
        ),
        said(moved),
      );
    });

    it('names an altered body, and receipts deleted at the end of a chain (which no export can show)', async () => {
      const some = pick((r) => r.site === ORIGIN && r.method === 'custom');
      const body = await edited(
        `update receipts set body = replace(body, '"marketing":false', '"marketing":true') where id = ${q(some.id)}`,
      );
      assert.ok(
        body.problems.some(
          (p) =>
            p.where === at(some) &&
            p.reason === 'the receipt was altered: its content does not match its hash',
        ),
        said(body),
      );
      const last = rows.filter((r) => r.site === ORIGIN).at(-1)!;
      const cut = await edited(`delete from receipts where id = ${q(last.id)}`);
      assert.ok(
        cut.problems.some(
          (p) =>
            p.where === `chain_heads ${ORIGIN}` &&
            p.reason ===
              `its head is seq ${last.seq}, but the chain ends at seq ${last.seq - 1}: the receipts after it are missing`,
        ),
        said(cut),
      );
    });

    it('stops after 20 problems', async () => {
      // Three columns of each of the nine receipts with a body: 27 problems.
      const r = await edited(
        `update receipts set kid = 'abc', region = 'ZZ', mode = 'notice' where body is not null`,
      );
      assert.equal(r.problems.length, 20, said(r));
      assert.equal(r.stopped, true);
      assert.ok(r.receipts < rows.length, 'stopped at the 20th');
    });

    it('the CLI: ok and exit 0 on the database as left, BROKEN naming the column and exit 1 once edited', async () => {
      const ok = await cli(['verify-db', '--db', base.url, '--public-key', pubFile]);
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      assert.equal(
        ok.stdout,
        `ok: ${rows.length} receipts (5 purged, 2 of them by an erasure the audit log records) in 2 site chain(s) verify, with the 2 policies they name; columns agree with the signed receipts, consent_latest (8 consents) with their latest receipts, chain_heads with the chains\n`,
      );
      const some = pick((r) => r.site === ORIGIN && r.method === 'custom');
      const db = await base.copy();
      try {
        await db.exec(`update receipts set consent_id = 'AAAAAAAAAAAAAAAAAAAAAA' where id = ${q(some.id)}`);
        const bad = await cli(['verify-db', '--db', db.url, '--public-key', pubFile]);
        assert.equal(bad.code, 1, bad.stdout + bad.stderr);
        assert.match(
          bad.stdout,
          new RegExp(
            `^BROKEN ${ORIGIN} seq ${some.seq} receipt ${some.id}: column consent_id is "AAAAAAAAAAAAAAAAAAAAAA", the signed body says "${JSON.parse(some.body!).consentId}"\n`,
          ),
        );
        assert.match(bad.stdout, /\nFAILED: \d+ problem\(s\) in \d+ receipts\n$/);
      } finally {
        await db.drop();
      }
    });
  });
}

describe('assent-server verify-db: the CLI', () => {
  it("checks with the data dir's own key when no --public-key is given", async () => {
    const dir = tempDir('assent-check-');
    const keys = generateKeyPairSync('ed25519');
    writeFileSync(join(dir, 'signing-key.pem'), keys.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await build(`sqlite:${join(dir, 'receipts.db')}`, keys.privateKey);
    const r = await cli(['verify-db', '--data-dir', dir]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ok: 16 receipts \(5 purged/);
    // With the default retentionDays (365), the consent whose latest row retention dropped 40
    // days past its expiry is named: a server keeping receipts 365 days could not have dropped it.
    const strict = await cli(['verify-db', '--data-dir', dir], {});
    assert.equal(strict.code, 1, strict.stdout + strict.stderr);
    assert.match(
      strict.stdout,
      /^BROKEN http:\/\/127\.0\.0\.1:3000 seq 5 receipt \S+: consent_latest has no row for its consent/,
    );
    // Another key: every receipt is named (up to 20), exit 1.
    const other = join(dir, 'other.pub.pem');
    writeFileSync(other, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
    const wrong = await cli(['verify-db', '--data-dir', dir, '--public-key', other]);
    assert.equal(wrong.code, 1, wrong.stdout + wrong.stderr);
    assert.match(wrong.stdout, /which is not among the public keys given/);
  });

  it('a SQLite file a running server holds is exit 3, saying what to do instead', async () => {
    const dir = tempDir('assent-check-');
    const db = `sqlite:${join(dir, 'receipts.db')}`;
    const pub = join(dir, 'key.pub.pem');
    writeFileSync(pub, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
    const server = await createServer({ db, sites: SITES, logger: false, log: false, webhooks: false });
    try {
      const r = await cli(['verify-db', '--db', db, '--public-key', pub]);
      assert.equal(r.code, 3, r.stdout + r.stderr);
      assert.match(r.stderr, new RegExp(`the database ${db} is held by a running assent-server`));
      assert.match(
        r.stderr,
        /verify-db reads the file itself.*GET \/v1\/admin\/receipts, then assent-server verify/,
      );
    } finally {
      await server.close();
    }
  });

  it('refuses what it does not take (exit 2), before opening anything', async () => {
    const dir = tempDir('assent-check-');
    const db = `sqlite:${join(dir, 'receipts.db')}`;
    const cases: [args: string[], stderr: RegExp][] = [
      [['verify-db', '--db', db, '--site', ORIGIN], /--site is not an option of verify-db/],
      [
        ['verify-db', '--db', db, '--key', 'k.pem'],
        /--key is not an option of verify-db: did you mean --public-key\?/,
      ],
      [['verify-db', 'export.ndjson'], /unexpected argument "export.ndjson"/],
      [
        ['verify', 'x.ndjson', '--db', db],
        /--db is not an option of verify \(it is an option of .*verify-db; verify takes --public-key\)/,
      ],
      [['verify-db', '--db', db, '--data-dir', dir], /--db: no SQLite database at/],
      [['verify-db', '--db', 'sqlite::memory:'], /--db: verify-db reads an existing database/],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(args)));
    for (const [i, r] of results.entries()) {
      assert.equal(r.code, 2, `${cases[i]![0].join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, cases[i]![1]);
    }
    // No key anywhere: --public-key is asked for.
    writeFileSync(join(dir, 'receipts.db'), '');
    const nokey = await cli(['verify-db', '--db', db, '--data-dir', dir]);
    assert.equal(nokey.code, 2, nokey.stdout + nokey.stderr);
    assert.match(nokey.stderr, /verify-db: --public-key is required: the data dir .* holds no signing key/);
    // A database this version has not migrated (here: none of it) is refused, and left as it is.
    const pub = join(dir, 'key.pub.pem');
    writeFileSync(pub, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
    const old = await cli(['verify-db', '--db', db, '--public-key', pub]);
    assert.equal(old.code, 2, old.stdout + old.stderr);
    assert.match(
      old.stderr,
      /--db: the database is not migrated to this version \(pending: 0001_receipts, .*\): run assent-server migrate first/,
    );
    assert.equal(readFileSync(join(dir, 'receipts.db'), 'utf8'), '', 'nothing written');
  });
});
