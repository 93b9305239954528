import { createHash, type KeyObject } from 'node:crypto';
import { resolve } from 'node:path';
import type { PolicyDoc } from '@assent/core';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { type AuditEntry, canonicalAudit, entryOf } from './audit.js';
import { ndjsonLine } from './export.js';
import { verifyHashSignature } from './signer.js';
import type { AdminStore } from './store/admin-store.js';
import { KyselyStore } from './store/kysely-store.js';
import { migrationProvider } from './store/migrations.js';
import { isPostgresUrl } from './store/open.js';
import { sqliteUri } from './store/sqlite-file.js';
import { latestRow, PURGED, type RowBase, receiptRow } from './store/statements.js';
import type { CheckReads, CheckRow, Database, ReceiptsTable, Store } from './store/types.js';
// AT_SLACK: how far a purged receipt's `at` (no longer signed) may lie outside the signed times of
// the receipts around it in its chain, the slack `verify` allows between signed ones (one constant).
import {
  AT_SLACK,
  ChainVerifier,
  daysOfPolicy,
  expiryFrom,
  type KnownPolicies,
  type Line,
  policySha256,
} from './verify.js';

/**
 * `assent-server verify-db`: the database itself, checked as `verify` checks an export, and
 * more. `verify` reads the NDJSON lines `export` builds from each receipt's signed body; the
 * server acts on other columns of the same rows (`consent_id` for a consent's history and its
 * erasure, `expires_at` for retention, `method` and `granted` for the stats, `site` for a
 * site's export …) and on `consent_latest` (the overview, a consent's latest choice). A column
 * edited by hand passed `verify` while it changed what the server does. Here every receipt is
 * verified as `verify` does (the same code: verify.ts ChainVerifier, over the line `export`
 * would write), and then every column the store derives from the signed body is compared with
 * the body, by the function that writes them (statements.ts receiptRow), as are each consent's
 * latest row and each site's chain head. A purged receipt has no body left: what can still be
 * checked of it is checked (below, `purged`), and what cannot is said in the README.
 *
 * Read-only (SQLite opened read-only, PostgreSQL connections in read-only transactions), in
 * keyset pages like the export: memory stays flat whatever the database's size.
 */

/** Rows per query. */
const PAGE = 2000;
/** Problems reported before stopping. */
const MAX_PROBLEMS = 20;
const DAY = 86_400_000;

/** The columns the store derives from a receipt's signed body (statements.ts receiptRow). */
const DERIVED = [
  'id',
  'site',
  'seq',
  'at',
  'prev',
  'kid',
  'consent_id',
  'method',
  'granted',
  'accepted',
  'region',
  'mode',
  'expires_at',
  'policy',
] as const satisfies readonly (keyof ReceiptsTable)[];

/** The columns of `consent_latest` its receipt's row gives it (statements.ts latestRow). */
const LATEST = ['seq', 'at', 'day', 'expires_at', 'method', 'region', 'mode', 'granted'] as const;

/** What purging clears with the body: statements.ts PURGED's columns. */
const CLEARED = (Object.keys(PURGED) as (keyof typeof PURGED)[]).filter((c) => c !== 'body');

/** What verify-db reads: its own queries, the policies, the audit log's erasures. */
export type CheckStore = CheckReads & Pick<Store, 'policy'> & { readonly admin: Pick<AdminStore, 'auditOf'> };

export interface CheckOptions {
  /** The keys the receipts (and the erasures' audit entries) are signed with. */
  readonly publicKeys: readonly KeyObject[];
  /**
   * The server's `retentionDays`: retention purges a receipt once its `expires_at` is more
   * than this many days past, so a receipt purged earlier needs an erasure that names it.
   */
  readonly retentionDays: number;
  /** Now, in ms (tests). */
  readonly now?: number;
  readonly maxProblems?: number;
  readonly pageSize?: number;
}

export interface CheckProblem {
  /**
   * Where: `<site> seq <n> receipt <id>` (the row's own columns), `consent_latest <site>
   * consent <id>`, `policy <sha256>`, `chain_heads <site>`, `audit entry <seq>`.
   */
  readonly where: string;
  readonly reason: string;
}

export interface CheckResult {
  /** Up to `maxProblems`, in the order found. */
  readonly problems: readonly CheckProblem[];
  /** Whether the check stopped at `maxProblems` before reading everything. */
  readonly stopped: boolean;
  readonly receipts: number;
  readonly purged: number;
  /** Purged receipts that retention could not have purged yet, each named by a signed erasure. */
  readonly erased: number;
  /** Site chains. */
  readonly sites: number;
  /** Policies the receipts name, each held intact. */
  readonly policies: number;
  /** Receipts of schema v1 (no published policy). */
  readonly legacy: number;
  /** `consent_latest` rows. */
  readonly consents: number;
}

/** Thrown to stop once enough problems are found. */
const STOP = Symbol('enough problems');

const show = (v: unknown): string => (v === undefined ? 'null' : JSON.stringify(v));
/** A column's value as compared: numbers as numbers (PostgreSQL and SQLite agree), undefined as null. */
const norm = (v: unknown): unknown =>
  v === undefined || v === null ? null : typeof v === 'bigint' ? Number(v) : v;

/**
 * Whether a receipt comes after another of the same consent on the same site: its place in the
 * site's chain alone (`at` is a clock's, which may step back; migration 0006_latest_by_seq).
 */
const later = (seq: number, seq2: number) => seq > seq2;

/**
 * Checks the database: every receipt (hash, signature, chain), every derived column against
 * its signed body, purged receipts as far as they can be, `consent_latest` and `chain_heads`.
 */
export const checkStore = async (store: CheckStore, o: CheckOptions): Promise<CheckResult> => {
  const max = o.maxProblems ?? MAX_PROBLEMS;
  const pageSize = o.pageSize ?? PAGE;
  const now = o.now ?? Date.now();
  const retention = o.retentionDays * DAY;
  const problems: CheckProblem[] = [];
  const reported = new Set<string>();
  const problem = (where: string, reason: string) => {
    const key = `${where}\n${reason}`;
    if (reported.has(key)) return;
    reported.add(key);
    problems.push({ where, reason });
    if (problems.length >= max) throw STOP;
  };
  const chain = new ChainVerifier(o.publicKeys, 'the database');
  let receipts = 0;
  let purged = 0;
  let erased = 0;
  let legacy = 0;
  let consents = 0;

  // Policies by SHA-256: their `days`, or null when the table lacks one, its text was altered or
  // it gives no days (said once, not for every receipt naming it).
  const policies = new Map<string, number | null>();
  const policyDays = async (sha: string, by: string): Promise<number | null> => {
    if (policies.has(sha)) return policies.get(sha)!;
    const p = await store.policy(sha);
    let doc: PolicyDoc | null = null;
    try {
      doc = p ? (JSON.parse(p.doc) as PolicyDoc) : null;
    } catch {}
    const intact = doc !== null && policySha256(doc) === sha;
    const days = daysOfPolicy(doc);
    policies.set(sha, intact && days !== undefined ? days : null);
    if (!p) problem(`policy ${sha}`, `${by} names it, but the policies table does not hold it`);
    else if (!intact)
      problem(
        `policy ${sha}`,
        'the text the policies table holds does not match its SHA-256: it was altered',
      );
    else if (days === undefined)
      problem(
        `policy ${sha}`,
        'it gives no days (a whole number): the expiry of the receipts naming it cannot be checked',
      );
    return policies.get(sha)!;
  };
  // What ChainVerifier checks receipts against: a policy looked up is given, even one missing or
  // altered (reported once, above), and its days are known only when it is intact.
  const carried: KnownPolicies = {
    has: (sha) => policies.has(sha),
    days: (sha) => policies.get(sha) ?? undefined,
  };

  // Each site's erasures, as its signed audit entries record them: receipt ID → the erasure's
  // time (the purged_at it gave them). Read for a site with a receipt purged before retention
  // could have purged it, and again when one is not found (an erasure made while this runs, on
  // a PostgreSQL a server writes to).
  const erasures = new Map<string, Map<string, string>>();
  const erasuresOf = async (site: string, again = false): Promise<Map<string, string>> => {
    let ids = erasures.get(site);
    if (ids && !again) return ids;
    erasures.set(site, (ids = new Map()));
    for (const row of await store.admin.auditOf('consent-erase', site)) {
      let e: AuditEntry;
      try {
        e = entryOf(row);
      } catch {
        problem(`audit entry ${row.seq}`, 'its detail is not JSON: run verify-audit');
        continue;
      }
      const { hash, sig, ...body } = e;
      const key = chain.key(e.kid);
      if (
        createHash('sha256').update(canonicalAudit(body)).digest('hex') !== hash ||
        !key ||
        !verifyHashSignature(key, hash, sig)
      ) {
        problem(
          `audit entry ${e.seq}`,
          `this erasure of ${site} does not verify (altered, or signed by a key not given): run verify-audit`,
        );
        continue;
      }
      const named = e.detail.ids;
      if (typeof named === 'string') for (const id of named.split(' ')) if (id) ids.set(id, e.at);
    }
    return ids;
  };

  // Per site (as the rows name it), for the purged receipts' unsigned times: the signed `at` of
  // the last receipt with a body, and the latest `at` among the purged ones since.
  const times = new Map<
    string,
    { signed: { at: string; seq: number } | null; purged: { at: string; where: string } | null }
  >();
  const timesOf = (site: string) => {
    let t = times.get(site);
    if (!t) times.set(site, (t = { signed: null, purged: null }));
    return t;
  };

  // The heads as they were before reading: receipts a running server (PostgreSQL) appends
  // meanwhile come after them, and the receipt at each head's seq must have its hash.
  const heads = new Map((await store.chainHeads()).map((h) => [h.site, h]));
  const headsSeen = new Set<string>();

  /** A receipt with its body: its columns, and its consent's latest row. */
  const withBody = (row: CheckRow, b: Line, where: string, noLatest: Set<string>) => {
    let want: ReceiptsTable;
    try {
      want = receiptRow(
        b as unknown as RowBase,
        {
          seq: b.seq as number,
          prev: b.prev as string,
          hash: row.hash,
          sig: row.sig,
          leaf: 0,
          salt: '',
        },
        row.body!,
      );
    } catch {
      problem(where, 'its signed body is not a receipt the store can hold');
      return;
    }
    let agree = true;
    for (const col of DERIVED) {
      const have = norm(row[col]);
      const says = norm(want[col]);
      if (have !== says) {
        agree = false;
        problem(where, `column ${col} is ${show(have)}, the signed body says ${show(says)}`);
      }
    }
    if (row.purged_at !== null) {
      agree = false;
      problem(where, `purged_at is ${show(row.purged_at)}, but the receipt has its body: it is not purged`);
    }
    const t = timesOf(row.site);
    if (t.purged && Date.parse(t.purged.at) > Date.parse(want.at) + AT_SLACK)
      problem(
        t.purged.where,
        `its at ${t.purged.at} is later than the signed at ${want.at} of seq ${want.seq}, after it in the chain (a purged receipt's at is no longer signed: edited?)`,
      );
    t.signed = { at: want.at, seq: want.seq };
    t.purged = null;
    // The consent's latest row (the overview, `latest`): a row named differently already says
    // what is wrong with it.
    if (!agree || want.consent_id === null) return;
    if (row.latest_receipt_id === null) {
      // Retention removes a consent's row once its latest receipt expired: a receipt expired
      // too may be without one; an unexpired one is looked into after the page.
      if (Date.parse(want.expires_at) >= now - retention) noLatest.add(`${row.site}\n${want.consent_id}`);
      return;
    }
    if (row.latest_receipt_id === row.id) {
      const l = latestRow(want);
      const says: Record<(typeof LATEST)[number], unknown> = { ...l, day: want.at.slice(0, 10) };
      for (const col of LATEST) {
        const have = norm(row[`latest_${col}`]);
        if (have !== norm(says[col]))
          problem(
            where,
            `consent_latest's row of its consent: column ${col} is ${show(have)}, the signed body says ${show(norm(says[col]))}`,
          );
      }
      return;
    }
    const lat = row.latest_at ?? '';
    const lseq = row.latest_seq ?? 0;
    if (!later(lseq, want.seq))
      problem(
        where,
        `consent_latest's row of its consent names receipt ${row.latest_receipt_id} (seq ${lseq}, at ${lat}), but this receipt is later in the chain (seq ${want.seq}, at ${want.at}): the overview and the consent's latest choice are an older one`,
      );
  };

  /** A purged receipt: what purging keeps, and whether retention or an erasure explains it. */
  const withoutBody = async (row: CheckRow, where: string) => {
    for (const col of CLEARED)
      if (row[col] !== null)
        problem(
          where,
          `its body is gone, but column ${col} still holds ${show(norm(row[col]))}: purging clears it`,
        );
    const t = timesOf(row.site);
    const at = Date.parse(row.at);
    if (Number.isNaN(at)) {
      problem(where, `its at ${show(row.at)} is not a time`);
      return;
    }
    if (t.signed && at < Date.parse(t.signed.at) - AT_SLACK)
      problem(
        where,
        `its at ${row.at} is earlier than the signed at ${t.signed.at} of seq ${t.signed.seq}, before it in the chain (a purged receipt's at is no longer signed: edited?)`,
      );
    if (!t.purged || row.at > t.purged.at) t.purged = { at: row.at, where };
    if (row.purged_at === null) {
      problem(where, 'its body is gone, but purged_at is empty: neither retention nor an erasure removed it');
      return;
    }
    const purgedAt = Date.parse(row.purged_at);
    const expires = Date.parse(row.expires_at);
    if (Number.isNaN(purgedAt)) {
      problem(where, `purged_at ${show(row.purged_at)} is not a time`);
      return;
    }
    if (purgedAt < at) problem(where, `purged_at ${row.purged_at} is before its at ${row.at}`);
    // What `expires_at` must be: `at` plus the days of the policy it names (both kept on purge).
    if (row.policy !== null) {
      const days = await policyDays(row.policy, where);
      if (days !== null && new Date(expiryFrom(at, days)).toISOString() !== row.expires_at)
        problem(
          where,
          `its expires_at ${row.expires_at} is not its at plus the ${days} days of the policy it names (${new Date(expiryFrom(at, days)).toISOString()}): edited?`,
        );
    }
    // Retention purges once expires_at < purged_at − retentionDays; anything sooner needs an
    // erasure, whose signed audit entry names the receipt and gave it its purged_at.
    if (!Number.isNaN(expires) && expires < purgedAt - retention) return;
    const erasedAt =
      (await erasuresOf(row.site)).get(row.id) ?? (await erasuresOf(row.site, true)).get(row.id);
    if (erasedAt === row.purged_at) {
      erased++;
      return;
    }
    problem(
      where,
      erasedAt
        ? `an erasure at ${erasedAt} names it, but its purged_at is ${row.purged_at}`
        : `purged at ${row.purged_at}, before retention could purge it (its expires_at ${row.expires_at} + retentionDays ${o.retentionDays}), and no erasure in the audit log names it: its proof was destroyed without a reason the database records`,
    );
  };

  let stopped = false;
  try {
    let after: { site: string; seq: number } | null = null;
    for (;;) {
      const rows = await store.checkRows(after, pageSize);
      // Unexpired receipts' consents without a latest row, `site\nconsent ID`: looked into per page.
      const noLatest = new Set<string>();
      for (const row of rows) {
        receipts++;
        const where = `${row.site} seq ${row.seq} receipt ${row.id}`;
        // The line `export` writes for the row, checked as `verify` checks it.
        let r: Line;
        try {
          r = JSON.parse(ndjsonLine(row)) as Line;
          if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new Error();
        } catch {
          problem(where, 'its body is not a JSON object');
          continue;
        }
        if (row.body === null) purged++;
        else if (r.v === 1) legacy++;
        else {
          const named = (r.policy as { sha256?: unknown } | undefined)?.sha256;
          if (typeof named === 'string') await policyDays(named, `receipt ${row.id}`);
        }
        const partial = chain.partial.length;
        const c = chain.check(r, carried);
        if (!c.ok) problem(where, c.reason);
        if (chain.partial.length > partial)
          problem(
            where,
            `the chain of ${String(r.site)} starts here: receipts 1 to ${Number(r.seq) - 1} are missing`,
          );
        if (typeof r.site === 'string' && typeof r.seq === 'number') {
          const h = heads.get(r.site);
          if (h && h.seq === r.seq) {
            headsSeen.add(r.site);
            if (h.hash !== r.hash)
              problem(
                `chain_heads ${r.site}`,
                `its head is seq ${h.seq} with hash ${h.hash}, but that receipt's hash is ${String(r.hash)}`,
              );
          }
        }
        if (row.body === null) await withoutBody(row, where);
        // Columns are compared with a body known to be the one signed: not after `shape`,
        // `hash` or `signature`.
        else if (c.ok || c.stage === 'policy' || c.stage === 'chain' || c.stage === 'time')
          withBody(row, r, where, noLatest);
      }
      for (const key of noLatest) {
        const [site, consentId] = key.split('\n') as [string, string];
        const latest = await store.latestReceipt(site, consentId);
        if (latest && Date.parse(latest.expires_at) >= now - retention)
          problem(
            `${site} seq ${latest.seq} receipt ${latest.id}`,
            `consent_latest has no row for its consent ${consentId}, though this, its latest receipt, expires ${latest.expires_at}: the overview leaves the consent out`,
          );
      }
      if (rows.length < pageSize) break;
      const last = rows.at(-1)!;
      after = { site: last.site, seq: last.seq };
    }
    // Each chain as far as it was read against its head: receipts missing at the end (which an
    // export cannot show), or a head behind its chain (the next receipt would take a seq that is
    // taken). Heads read again now: a running server may have appended meanwhile.
    const end = new Map((await store.chainHeads()).map((h) => [h.site, h]));
    for (const [site, h] of heads) {
      const last = chain.heads.get(site);
      if (h.seq === 0) {
        if (last) problem(`chain_heads ${site}`, `its head is seq 0, but the chain goes to seq ${last.seq}`);
      } else if (!headsSeen.has(site))
        problem(
          `chain_heads ${site}`,
          last && last.seq < h.seq
            ? `its head is seq ${h.seq}, but the chain ends at seq ${last.seq}: the receipts after it are missing`
            : `its head is seq ${h.seq}, but no receipt of ${site} has that seq`,
        );
    }
    for (const [site, last] of chain.heads) {
      const h = end.get(site);
      if (!h) problem(`chain_heads ${site}`, `the site has receipts (to seq ${last.seq}) but no chain head`);
      else if (h.seq < last.seq)
        problem(
          `chain_heads ${site}`,
          `its head is seq ${h.seq}, behind its chain's last receipt, seq ${last.seq}: the next receipt would take a seq that is taken`,
        );
    }
    // Each latest row names a receipt of its consent and site that is not purged, at its place.
    let from: { site: string; consentId: string } | null = null;
    for (;;) {
      const rows = await store.checkLatestRows(from, pageSize);
      for (const l of rows) {
        consents++;
        const where = `consent_latest ${l.site} consent ${l.consent_id}`;
        if (l.receipt_site === null)
          problem(where, `names receipt ${l.receipt_id}, which the receipts table does not hold`);
        else if (l.receipt_purged)
          problem(
            where,
            `names receipt ${l.receipt_id} (seq ${l.receipt_seq}), which is purged: the overview counts a consent whose data is gone`,
          );
        else if (l.receipt_site !== l.site || l.receipt_consent_id !== l.consent_id)
          problem(
            where,
            `names receipt ${l.receipt_id}, which is ${l.receipt_site} consent ${l.receipt_consent_id}'s`,
          );
        else if (l.receipt_seq !== l.seq || l.receipt_at !== l.at)
          problem(
            where,
            `says receipt ${l.receipt_id} is seq ${l.seq} at ${l.at}; the receipts table says seq ${l.receipt_seq} at ${l.receipt_at}`,
          );
      }
      if (rows.length < pageSize) break;
      const last = rows.at(-1)!;
      from = { site: last.site, consentId: last.consent_id };
    }
  } catch (e) {
    if (e !== STOP) throw e;
    stopped = true;
  }
  return {
    problems,
    stopped,
    receipts,
    purged,
    erased,
    sites: chain.heads.size,
    policies: [...policies.values()].filter((d) => d !== null).length,
    legacy,
    consents,
  };
};

/**
 * A read-only connection for `verify-db`: SQLite opened read-only (through the same VFS as the
 * server's, so a running server's exclusive hold is SQLITE_BUSY, which the CLI says, exit 3),
 * PostgreSQL with every transaction read-only (a standby answers too). No migration: a database
 * this version has not migrated is refused by `pendingMigrations`, not changed.
 */
export const openForCheck = (url: string): KyselyStore => {
  if (isPostgresUrl(url)) {
    // int8 as a JS number, as openStore does.
    pg.types.setTypeParser(20, (v) => Number(v));
    const pool = new pg.Pool({
      connectionString: url,
      max: 2,
      // No parallel workers either, as openStore: a server may be taking receipts meanwhile.
      options: '-c default_transaction_read_only=on -c max_parallel_workers_per_gather=0',
    });
    pool.on('error', () => {});
    return new KyselyStore(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), 'postgres');
  }
  if (!url.startsWith('sqlite:')) throw new Error(`unsupported database URL "${url}"`);
  const db = new SQLite(sqliteUri(resolve(url.slice('sqlite:'.length))), {
    readonly: true,
    fileMustExist: true,
  });
  // As the server's connections: wait for a lock rather than fail at once (a held file is
  // SQLITE_BUSY after it).
  db.pragma('busy_timeout = 5000');
  return new KyselyStore(new Kysely<Database>({ dialect: new SqliteDialect({ database: db }) }), 'sqlite');
};

/** The migrations this version has that the database has not run (read only: nothing is run). */
export const pendingMigrations = async (store: KyselyStore): Promise<string[]> =>
  (
    await new Migrator({
      db: store.db,
      provider: migrationProvider,
      allowUnorderedMigrations: true,
    }).getMigrations()
  )
    .filter((m) => !m.executedAt)
    .map((m) => m.name);
