import { type Compilable, type Kysely, sql } from 'kysely';
import { grantedKeysOf } from './statements.js';
import type { ConsentLatestTable } from './types.js';

/** What a person may do in the admin console and API (see roles.ts). */
export type Role = 'owner' | 'editor' | 'auditor';
export const ROLES: readonly Role[] = ['owner', 'editor', 'auditor'];

/** People who sign in to the admin console. `email` is stored lower-case. */
export interface UsersTable {
  id: string;
  email: string;
  role: Role;
  /** `scrypt$N$r$p$salt$key` (passwords.ts). */
  password: string;
  /** The sites this user may see, a JSON array of origins; NULL: every site (users.ts). */
  sites: string | null;
  created_at: string;
  updated_at: string;
}

/**
 * Signed-in sessions. `id` is the SHA-256 of the cookie's token, never the token: whoever
 * reads the database (a backup, a replica) cannot act as anyone.
 */
export interface SessionsTable {
  id: string;
  user_id: string;
  created_at: string;
  expires_at: string;
}

/** What the audit log records: every admin action, and every attempt to sign in. */
export type AuditAction =
  | 'sign-in'
  | 'sign-in-failed'
  | 'sign-out'
  | 'user-add'
  | 'user-change'
  | 'user-remove'
  | 'policy-publish'
  | 'consent-erase'
  | 'export'
  | 'audit-export'
  | 'webhook-add'
  | 'webhook-change'
  | 'webhook-remove'
  | 'webhook-test';

/** The audit log (audit.ts): append-only, hash-chained, signed. `detail` is JSON. */
export interface AuditRow {
  seq: number;
  at: string;
  actor: string;
  role: string | null;
  action: string;
  target: string | null;
  detail: string;
  prev: string;
  kid: string;
  hash: string;
  sig: string;
}

/**
 * Another writer took the audit entry's place (its `seq`) first: what it was written with is
 * rolled back, and the entry is built again on the new head (AuditLog).
 */
export class AuditTaken extends Error {
  override readonly name = 'AuditTaken';
  constructor() {
    super("another writer took the audit entry's place");
  }
}

/**
 * What an audit entry was built to say no longer holds when its transaction runs (another
 * process changed the same thing meanwhile): both rolled back; read again and retry.
 */
export class AuditStale extends Error {
  override readonly name = 'AuditStale';
  constructor() {
    super('what the audit entry says changed before it was written');
  }
}

/**
 * Runs one write statement; resolves with the number of rows it changed. With `audit`, the
 * statement and the audit entry that records it commit together or not at all: when the
 * statement changes nothing, no entry is written (0); when the entry's place is taken, both roll
 * back (AuditTaken). So no admin action is ever left unaudited.
 */
export type Write = (q: Compilable, audit?: AuditRow) => Promise<number>;

/**
 * Appends an audit entry at its `seq`, changing no row when another writer took that place
 * first: the one statement every audit append runs, alone (AdminStore.addAudit) or inside the
 * transaction of what it records (an erasure, Store.erase).
 */
export const insertAudit = (db: Kysely<AdminDatabase>, row: AuditRow) =>
  db
    .insertInto('audit_log')
    .values(row)
    .onConflict((oc) => oc.column('seq').doNothing());

/** The receipts columns the console's table reads (the receipts table is store/types.ts's). */
interface ReceiptsRead {
  granted: string | null;
  mode: string | null;
  id: string;
  site: string;
  seq: number;
  at: string;
  consent_id: string | null;
  method: string | null;
  region: string | null;
  body: string | null;
  prev: string;
  hash: string;
  sig: string;
  kid: string;
  purged_at: string | null;
  policy: string | null;
}

/** What the console's receipts table filters on; every field optional. */
export interface ReceiptQuery {
  readonly site?: string;
  /** One of these sites (a user limited to some sites); never empty. */
  readonly sites?: readonly string[];
  /** Inclusive, ISO-8601. */
  readonly from?: string;
  /** Exclusive, ISO-8601. */
  readonly to?: string;
  readonly method?: string;
  /** Looked up exactly as the store's history of a consent is (`consent_id =`). */
  readonly consentId?: string;
}

/** Consents whose latest choice falls in one day, region, mode and method, granting the same keys (latestGroups). */
export interface LatestGroup {
  readonly day: string;
  readonly region: string;
  readonly mode: string;
  readonly method: string;
  /** The keys these consents' latest choices grant (`analytics`, `analytics:matomo` …). */
  readonly granted: readonly string[];
  readonly consents: number;
}

export type ReceiptListRow = Pick<
  ReceiptsRead,
  'id' | 'site' | 'seq' | 'at' | 'method' | 'region' | 'body' | 'purged_at'
>;

export interface AdminDatabase {
  receipts: ReceiptsRead;
  consent_latest: ConsentLatestTable;
  users: UsersTable;
  sessions: SessionsTable;
  audit_log: AuditRow;
}

/** A user as the console and the API see them: `sites` empty means every site. */
export type User = Omit<UsersTable, 'password' | 'sites'> & { readonly sites: readonly string[] };

/** The stored `sites` column as a list: NULL (or a list that is somehow empty) is every site. */
export const sitesOf = (stored: string | null): readonly string[] =>
  stored === null ? [] : (JSON.parse(stored) as string[]);

/** A list of sites as stored: every site is NULL, never `[]` (one spelling of "all"). */
export const storedSites = (sites: readonly string[]): string | null =>
  sites.length ? JSON.stringify([...new Set(sites)].sort()) : null;

const USER_COLUMNS = ['id', 'email', 'role', 'sites', 'created_at', 'updated_at'] as const;
const userOf = (r: Omit<UsersTable, 'password'>): User => ({ ...r, sites: sitesOf(r.sites) });

/**
 * Users and sessions. Reads run on the store's reading connection; every write goes through
 * `write`, which a SQLite file store runs on its writer thread (the only connection that
 * writes) and the others execute directly.
 */
export class AdminStore {
  constructor(
    /** Key lookups and keyset pages: users, sessions, the audit log, a receipt by ID. */
    private readonly db: Kysely<AdminDatabase>,
    /** Runs one write statement, with the audit entry that records it when there is one. */
    private readonly write: Write,
    /**
     * The receipts' queries that may read many rows (the overview's grouping, the receipts
     * table with its filters): on SQLite a reader thread's connection, so that they never hold
     * the request thread (store/sqlite-reader.ts); elsewhere the same as `db`.
     */
    private readonly scan: Kysely<AdminDatabase> = db,
  ) {}

  async countUsers(role?: Role): Promise<number> {
    let q = this.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n'));
    if (role) q = q.where('role', '=', role);
    return Number((await q.executeTakeFirstOrThrow()).n);
  }

  async users(): Promise<User[]> {
    return (await this.db.selectFrom('users').select(USER_COLUMNS).orderBy('email').execute()).map(userOf);
  }

  async userByEmail(email: string): Promise<UsersTable | null> {
    return (
      (await this.db
        .selectFrom('users')
        .selectAll()
        .where('email', '=', email.toLowerCase())
        .executeTakeFirst()) ?? null
    );
  }

  async user(id: string): Promise<User | null> {
    const r = await this.db.selectFrom('users').select(USER_COLUMNS).where('id', '=', id).executeTakeFirst();
    return r ? userOf(r) : null;
  }

  /** Adds a user (with its audit entry); false when the email is taken (nothing written). */
  async addUser(u: UsersTable, audit?: AuditRow): Promise<boolean> {
    const n = await this.write(
      this.db
        .insertInto('users')
        .values({ ...u, email: u.email.toLowerCase() })
        .onConflict((oc) => oc.column('email').doNothing()),
      audit,
    );
    return n === 1;
  }

  /**
   * Changes a user's role and/or password. One statement that refuses to demote the last
   * owner (a server nobody can administer): false when no row changed, i.e. no such user, or
   * it is the last owner and `role` is not owner.
   */
  async updateUser(
    id: string,
    set: { role?: Role; password?: string; sites?: string | null },
    now: string,
    audit?: AuditRow,
  ): Promise<boolean> {
    let q = this.db
      .updateTable('users')
      .set({ ...set, updated_at: now })
      .where('id', '=', id);
    if (set.role && set.role !== 'owner') q = q.where(lastOwnerGuard);
    return (await this.write(q, audit)) === 1;
  }

  /** Removes a user and their sessions; false when there is no such user or it is the last owner. */
  async removeUser(id: string, audit?: AuditRow): Promise<boolean> {
    const n = await this.write(this.db.deleteFrom('users').where('id', '=', id).where(lastOwnerGuard), audit);
    if (n) await this.removeSessionsOf(id);
    return n === 1;
  }

  /** Adds a session (with `audit`, the sign-in's entry in the same transaction). */
  async addSession(s: SessionsTable, audit?: AuditRow): Promise<void> {
    await this.write(this.db.insertInto('sessions').values(s), audit);
  }

  /** The live session with this id (token hash) and its user, or null (none, expired, user gone). */
  async session(id: string, now: string): Promise<{ session: SessionsTable; user: User } | null> {
    const r = await this.db
      .selectFrom('sessions as s')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .select([
        's.id as sid',
        's.user_id',
        's.created_at as s_created',
        's.expires_at',
        'u.email',
        'u.role',
        'u.sites',
        'u.created_at',
        'u.updated_at',
      ])
      .where('s.id', '=', id)
      .where('s.expires_at', '>', now)
      .executeTakeFirst();
    if (!r) return null;
    return {
      session: { id: r.sid, user_id: r.user_id, created_at: r.s_created, expires_at: r.expires_at },
      user: {
        id: r.user_id,
        email: r.email,
        role: r.role,
        sites: sitesOf(r.sites),
        created_at: r.created_at,
        updated_at: r.updated_at,
      },
    };
  }

  /** Ends a session (with `audit`, the sign-out's entry in the same transaction); whether it was live. */
  async removeSession(id: string, audit?: AuditRow): Promise<boolean> {
    return (await this.write(this.db.deleteFrom('sessions').where('id', '=', id), audit)) === 1;
  }

  /** Signs a user out everywhere (their role or password changed, or they were removed). */
  async removeSessionsOf(userId: string): Promise<void> {
    await this.write(this.db.deleteFrom('sessions').where('user_id', '=', userId));
  }

  async dropExpiredSessions(now: string): Promise<void> {
    await this.write(this.db.deleteFrom('sessions').where('expires_at', '<=', now));
  }

  /**
   * One page of receipts, newest first, after the keyset `before` (`at`, `id`): each page is
   * a seek on the (at) index, or on (consent_id, at, id) for a consent, never an OFFSET that
   * reads and drops every row before it.
   */
  receipts(
    q: ReceiptQuery,
    before: { at: string; id: string } | null,
    limit: number,
  ): Promise<ReceiptListRow[]> {
    let s = this.scan
      .selectFrom('receipts')
      .select(['id', 'site', 'seq', 'at', 'method', 'region', 'body', 'purged_at']);
    if (q.consentId !== undefined) s = s.where('consent_id', '=', q.consentId);
    if (q.site !== undefined) s = s.where('site', '=', q.site);
    if (q.sites !== undefined) s = s.where('site', 'in', q.sites);
    if (q.from !== undefined) s = s.where('at', '>=', q.from);
    if (q.to !== undefined) s = s.where('at', '<', q.to);
    if (q.method !== undefined) s = s.where('method', '=', q.method);
    if (before) s = s.where((eb) => eb(eb.refTuple('at', 'id'), '<', eb.tuple(before.at, before.id)));
    return s.orderBy('at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  }

  /**
   * Counted per consent, in one pass: each consent whose latest receipt (before `to`) is in the
   * range, grouped by day, region, mode, method and granted keys. Every chart of the console's
   * overview is a sum of these groups (routes/overview.ts).
   *
   * A range open at the end (no `to`, or one after `now`: no receipt is later) reads
   * `consent_latest`, one row per consent, in the order of its covering index. A range that
   * ends in the past asks, for each of its receipts, whether the same consent has a later one
   * before `to` (the (consent_id, at, id) index): the latest choice then is not today's. Both
   * give the same counts (admin-overview.test.ts).
   */
  async latestGroups(q: ReceiptQuery, now: string): Promise<LatestGroup[]> {
    const rows =
      q.to === undefined || q.to > now
        ? await (() => {
            let l = this.scan
              .selectFrom('consent_latest')
              .select([
                'day',
                'region',
                'mode',
                'method',
                'granted',
                (eb) => eb.fn.countAll<number>().as('n'),
              ]);
            if (q.site !== undefined) l = l.where('site', '=', q.site);
            if (q.sites !== undefined) l = l.where('site', 'in', q.sites);
            // The day first, so the index seeks to the range's first day.
            if (q.from !== undefined) l = l.where('day', '>=', q.from.slice(0, 10)).where('at', '>=', q.from);
            return l.groupBy(['day', 'region', 'mode', 'method', 'granted']).execute();
          })()
        : await latestBefore(this.scan, q as ReceiptQuery & { to: string }).execute();
    return rows.map((r) => ({
      day: String(r.day),
      region: r.region ?? 'unknown',
      mode: r.mode ?? 'unknown',
      method: String(r.method),
      granted: grantedKeysOf(r.granted),
      consents: Number(r.n),
    }));
  }

  /** A receipt's row by id, with its neighbours in its site's chain (by seq), or null. */
  async receipt(id: string): Promise<{
    row: ReceiptsRead;
    prevId: string | null;
    nextId: string | null;
    head: number;
  } | null> {
    const row = await this.db.selectFrom('receipts').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return null;
    const seq = Number(row.seq);
    const near = await this.db
      .selectFrom('receipts')
      .select(['id', 'seq'])
      .where('site', '=', row.site)
      .where('seq', 'in', [seq - 1, seq + 1])
      .execute();
    const head = await this.db
      .selectFrom('receipts')
      .select((eb) => eb.fn.max('seq').as('m'))
      .where('site', '=', row.site)
      .executeTakeFirstOrThrow();
    return {
      row: { ...row, seq },
      prevId: near.find((n) => Number(n.seq) === seq - 1)?.id ?? null,
      nextId: near.find((n) => Number(n.seq) === seq + 1)?.id ?? null,
      head: Number(head.m),
    };
  }

  /** The last entry of the audit log (its seq and hash), or null when it is empty. */
  async auditHead(): Promise<{ seq: number; hash: string } | null> {
    const r = await this.db
      .selectFrom('audit_log')
      .select(['seq', 'hash'])
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r ? { seq: Number(r.seq), hash: r.hash } : null;
  }

  /** Appends an entry at its `seq`; false when another writer took that place first. */
  async addAudit(row: AuditRow): Promise<boolean> {
    return (await this.write(insertAudit(this.db, row))) === 1;
  }

  /** Up to `limit` entries before `before` (exclusive), newest first: keyset pages on the key. */
  auditPage(before: number | null, limit: number): Promise<AuditRow[]> {
    let q = this.db.selectFrom('audit_log').selectAll();
    if (before !== null) q = q.where('seq', '<', before);
    return q.orderBy('seq', 'desc').limit(limit).execute();
  }

  /** Every entry of one action on one target, oldest first (who published a site's policies). */
  auditOf(action: string, target: string): Promise<AuditRow[]> {
    return this.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', action)
      .where('target', '=', target)
      .orderBy('seq')
      .execute();
  }

  /** Up to `limit` entries after `after`, oldest first (exports and verification). */
  auditAfter(after: number, limit: number): Promise<AuditRow[]> {
    return this.db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(limit)
      .execute();
  }
}

/** Rows that are not the only owner: `role <> 'owner'` or another owner exists. */
const lastOwnerGuard = sql<boolean>`(role <> 'owner' or (select count(*) from users where role = 'owner') > 1)`;

/**
 * The overview's groups for a range that ends in the past (AdminStore.latestGroups): each
 * receipt before `to` whose consent has no later one on its site before `to`, later in the
 * site's chain (`seq`, as consent_latest keeps it; not `at`, which a clock stepped back makes
 * earlier). The later one is found through the (consent_id, at, id) index: a test holds the
 * plan there (the site compared as an index-free expression; as a plain column SQLite walked
 * the site's receipts, 40× slower).
 */
export const latestBefore = (db: Kysely<AdminDatabase>, q: ReceiptQuery & { readonly to: string }) => {
  const day = sql<string>`substr(r.at, 1, 10)`;
  let r = db
    .selectFrom('receipts as r')
    .select([
      day.as('day'),
      'r.region',
      'r.mode',
      'r.method',
      'r.granted',
      (eb) => eb.fn.countAll<number>().as('n'),
    ])
    .where('r.body', 'is not', null)
    .where('r.at', '<', q.to)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('receipts as n')
            .select(sql`1`.as('one'))
            .whereRef('n.consent_id', '=', 'r.consent_id')
            .where(sql<string>`${sql.ref('n.site')} || ''`, '=', sql<string>`${sql.ref('r.site')}`)
            .whereRef('n.seq', '>', 'r.seq')
            .where('n.at', '<', q.to),
        ),
      ),
    );
  if (q.site !== undefined) r = r.where('r.site', '=', q.site);
  if (q.sites !== undefined) r = r.where('r.site', 'in', q.sites);
  if (q.from !== undefined) r = r.where('r.at', '>=', q.from);
  return r.groupBy([day, 'r.region', 'r.mode', 'r.method', 'r.granted']);
};
