import { GENESIS, grantedKeys, type Receipt, type SignedReceipt } from '@assent/core';
import {
  DummyDriver,
  type Kysely,
  Kysely as KyselyClass,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  sql,
} from 'kysely';
import type {
  Database,
  ReceiptsTable,
  TlogCheckpointsTable,
  TlogLeavesTable,
  TlogNodesTable,
} from './types.js';

/**
 * The one definition of how receipts, chain heads, policies, salts and probes are written:
 * the receipts row (`receiptRow`) and every write statement, as Kysely queries. KyselyStore
 * executes them (SQLite on this thread, PostgreSQL); the SQLite writer thread runs the very
 * same statements, compiled here to SQL (`threadStatements`) and handed to it when it starts,
 * so its file holds no SQL and no row layout of its own.
 */

/**
 * The stats columns derived from a receipt's choices: `,a,b,` for LIKE, and whether any was granted.
 */
export const grantedColumns = (choices: SignedReceipt['choices']): { granted: string; accepted: 0 | 1 } => {
  const keys = grantedKeys(choices);
  return { granted: `,${keys.join(',')},`, accepted: keys.length > 0 ? 1 : 0 };
};

/** The keys a `granted` column holds (`,a,b,` → a, b): grantedColumns read back. */
export const grantedKeysOf = (granted: string | null): string[] => (granted ?? '').split(',').filter(Boolean);

/** What a receipt row needs besides its place in the chain (which only the writer knows). */
export type RowBase = Pick<
  Receipt,
  | 'id'
  | 'site'
  | 'at'
  | 'expiresAt'
  | 'consentId'
  | 'method'
  | 'region'
  | 'mode'
  | 'choices'
  | 'kid'
  | 'policy'
>;

/** The row of a sealed receipt: `body` is its canonical JSON, hashed and signed. */
export const receiptRow = (
  r: RowBase,
  chain: {
    readonly seq: number;
    readonly prev: string;
    readonly hash: string;
    readonly sig: string;
    /** The receipt's leaf in the consent log: its index and its commitment's salt. */
    readonly leaf: number;
    readonly salt: string;
  },
  body: string,
): ReceiptsTable => {
  const { granted, accepted } = grantedColumns(r.choices);
  return {
    id: r.id,
    site: r.site,
    seq: chain.seq,
    at: r.at,
    expires_at: r.expiresAt,
    consent_id: r.consentId,
    method: r.method,
    region: r.region,
    mode: r.mode,
    granted,
    accepted,
    body,
    prev: chain.prev,
    hash: chain.hash,
    sig: chain.sig,
    kid: r.kid,
    purged_at: null,
    policy: r.policy.sha256,
    salt: chain.salt,
    leaf: chain.leaf,
  };
};

/**
 * The site column where the consent ID's index must find the rows: `site || ''`, not `site`.
 * SQLite (without statistics) otherwise reads them through the (site, seq) index, every receipt
 * of the site (380 ms at 1,000,000 receipts), where the consent ID's index finds the few at
 * once. The same SQL on PostgreSQL.
 */
const siteByConsent = () => sql<string>`${sql.ref('site')} || ''`;

/** The columns a purge clears: everything personal; the chain's links and signature stay. */
/** What a purge clears: the body and every column derived from it but its place in the chain. */
export const PURGED = {
  body: null,
  // Without its salt the receipt's leaf in the consent log links to nothing (tlog/commitment.ts).
  salt: null,
  consent_id: null,
  method: null,
  region: null,
  mode: null,
  granted: null,
  accepted: null,
} as const;

/**
 * A consent's latest-receipt row, from its receipt's row: every column is one of the row's, or
 * (`day`) computed from one in SQL, so the writer thread runs it with the row's own arguments.
 */
export const latestRow = (r: ReceiptsTable) => ({
  site: r.site,
  consent_id: r.consent_id!,
  seq: r.seq,
  receipt_id: r.id,
  at: r.at,
  day: sql<string>`substr(${r.at}, 1, 10)`,
  expires_at: r.expires_at,
  method: r.method,
  region: r.region,
  mode: r.mode,
  granted: r.granted,
});

/**
 * Every write, as a query over `db`. Arguments are the statement's parameters; the thread
 * compiles each once with placeholders (see `threadStatements`).
 */
export const writes = (db: Kysely<Database>) => ({
  /**
   * Locks and reads a site's chain head in one statement: the no-op upsert creates the row
   * on the site's first receipt and otherwise takes its row lock (PostgreSQL: as SELECT … FOR
   * UPDATE; SQLite: inside BEGIN IMMEDIATE the write lock is already held), and RETURNING
   * gives the head as the previous writer committed it.
   */
  readHead: (site: string, genesis: string = GENESIS) =>
    db
      .insertInto('chain_heads')
      .values({ site, seq: 0, hash: genesis, leaves: 0 })
      .onConflict((oc) => oc.column('site').doUpdateSet((eb) => ({ site: eb.ref('excluded.site') })))
      .returning(['seq', 'hash', 'leaves']),
  insertReceipts: (rows: readonly ReceiptsTable[]) => db.insertInto('receipts').values(rows),
  /**
   * Makes each row its consent's latest on its site unless a later receipt of the site's chain
   * (a higher `seq`) is there already. `seq` alone, not `at`: the chain is the order the
   * server committed them, where `at` is a clock's reading, and a clock stepped back (NTP, a
   * VM snapshot restored, two processes on one PostgreSQL) made a withdrawal taken after it
   * lose to the acceptance before it (migration 0006_latest_by_seq). The order `latest()`,
   * `history()` and the overview use within a site. Rows of one statement must name distinct
   * consents (PostgreSQL refuses to update a row twice in one statement): KyselyStore passes
   * each consent's latest row of a batch.
   */
  upsertLatest: (rows: readonly ReturnType<typeof latestRow>[]) =>
    db
      .insertInto('consent_latest')
      .values(rows)
      .onConflict((oc) =>
        oc
          .columns(['site', 'consent_id'])
          .doUpdateSet((eb) => ({
            seq: eb.ref('excluded.seq'),
            receipt_id: eb.ref('excluded.receipt_id'),
            at: eb.ref('excluded.at'),
            day: eb.ref('excluded.day'),
            expires_at: eb.ref('excluded.expires_at'),
            method: eb.ref('excluded.method'),
            region: eb.ref('excluded.region'),
            mode: eb.ref('excluded.mode'),
            granted: eb.ref('excluded.granted'),
          }))
          .whereRef('excluded.seq', '>', 'consent_latest.seq'),
      ),
  /** A consent whose latest receipt expired is no longer counted (its receipts are purged). */
  purgeLatest: (cutoff: string) => db.deleteFrom('consent_latest').where('expires_at', '<', cutoff),
  writeHead: (seq: number, hash: string, leaves: number, site: string) =>
    db.updateTable('chain_heads').set({ seq, hash, leaves }).where('site', '=', site),
  /** Leaves of the consent log: a receipt's (`entry` null) or a public entry's. */
  insertLeaves: (rows: readonly TlogLeavesTable[]) => db.insertInto('tlog_leaves').values(rows),
  /** Subtree hashes: deterministic, so a second writer storing the same ones changes nothing. */
  insertNodes: (rows: readonly TlogNodesTable[]) =>
    db
      .insertInto('tlog_nodes')
      .values(rows)
      .onConflict((oc) => oc.columns(['site', 'level', 'idx']).doNothing()),
  insertCheckpoint: (c: TlogCheckpointsTable) =>
    db
      .insertInto('tlog_checkpoints')
      .values(c)
      .onConflict((oc) => oc.columns(['site', 'size']).doNothing()),
  purge: (now: string, cutoff: string, limit: number) =>
    db
      .updateTable('receipts')
      .set({ ...PURGED, purged_at: now })
      .where(
        'id',
        'in',
        db
          .selectFrom('receipts as r')
          .select('r.id')
          .where('r.expires_at', '<', cutoff)
          .where('r.body', 'is not', null)
          // Not while an earlier receipt of the same consent is still kept: purging a
          // withdrawal (under a policy with shorter `days`) before the acceptance it withdrew
          // would make that acceptance the consent's latest again, a consent brought back. On
          // any site (`latest` and the cookie route read a consent across sites: apex and www
          // sharing the cookie): on its own site earlier in the chain (`seq`, whatever `at`
          // says: a withdrawal taken after the clock stepped back), on another site earlier by
          // `at` (chains share no sequence; `seq` only breaks ties, as before). Found through
          // the (consent_id, at, id) index: the site compared as `site || ''`, since as a plain
          // column SQLite walked the site's whole chain per candidate through (site, seq)
          // (14 s per batch at 1,000,000 receipts); a query-plan test holds it.
          .where(({ not, exists, selectFrom }) =>
            not(
              exists(
                selectFrom('receipts as e')
                  .select('e.id')
                  .whereRef('e.consent_id', '=', 'r.consent_id')
                  .where((eb) =>
                    eb.or([
                      eb.and([
                        eb(sql<string>`${sql.ref('e.site')} || ''`, '=', eb.ref('r.site')),
                        eb('e.seq', '<', eb.ref('r.seq')),
                      ]),
                      eb.and([
                        eb(sql<string>`${sql.ref('e.site')} || ''`, '<>', eb.ref('r.site')),
                        eb(eb.refTuple('e.at', 'e.seq'), '<', eb.refTuple('r.at', 'r.seq')),
                      ]),
                    ]),
                  )
                  .where('e.expires_at', '>=', cutoff),
              ),
            ),
          )
          .limit(limit),
      ),
  /**
   * An erasure request: every receipt of one consent on one site loses its payload and its
   * leaf's salt now, as a purge does; the chain's links and signatures stay. Returns their IDs.
   */
  erase: (now: string, site: string, consentId: string) =>
    db
      .updateTable('receipts')
      .set({ ...PURGED, purged_at: now })
      .where('consent_id', '=', consentId)
      .where(siteByConsent(), '=', site)
      .returning('id'),
  /** What `erase` would purge now (a purged receipt has no consent ID left). */
  erasable: (site: string, consentId: string) =>
    db
      .selectFrom('receipts')
      .select('id')
      .where('consent_id', '=', consentId)
      .where(siteByConsent(), '=', site),
  /** The erased consent is no longer counted by the console's overview. */
  eraseLatest: (site: string, consentId: string) =>
    db.deleteFrom('consent_latest').where('site', '=', site).where('consent_id', '=', consentId),
  addSalt: (day: string, salt: string) =>
    db
      .insertInto('salts')
      .values({ day, salt })
      .onConflict((oc) => oc.column('day').doNothing()),
  getSalt: (day: string) => db.selectFrom('salts').select('salt').where('day', '=', day),
  dropSalts: (day: string) => db.deleteFrom('salts').where('day', '<', day),
  addPolicy: (sha256: string, doc: string, at: string) =>
    db
      .insertInto('policies')
      .values({ sha256, doc, created_at: at })
      .onConflict((oc) => oc.column('sha256').doNothing()),
  /**
   * Two processes publishing at once: the (site, seq) primary key lets only one take seq N;
   * the other's transaction fails and it publishes again on its next start.
   */
  lastPublication: (site: string) =>
    db
      .selectFrom('publications')
      .select(['seq', 'sha256'])
      .where('site', '=', site)
      .orderBy('seq', 'desc')
      .limit(1),
  addPublication: (site: string, seq: number, sha256: string, at: string) =>
    db.insertInto('publications').values({ site, seq, sha256, at }),
  probe: (at: string) =>
    db
      .insertInto('probes')
      .values({ name: 'readiness', at })
      .onConflict((oc) => oc.column('name').doUpdateSet({ at })),
});

/** A statement compiled for the writer thread: its SQL and what goes in each `?`. */
export interface ThreadStatement {
  readonly sql: string;
  /**
   * For each `?` in order: the index of the caller's argument, or a constant of the statement
   * itself (the no-op upsert's `seq 0`, the probe's row name, a `limit 1`).
   */
  readonly params: readonly (number | { readonly value: unknown })[];
}

/** The receipts row's columns in insert order: what the thread's insert takes, in this order. */
export const RECEIPT_COLUMNS = Object.keys(
  receiptRow(
    {
      id: '',
      site: '',
      at: '',
      expiresAt: '',
      consentId: '' as Receipt['consentId'],
      method: 'custom',
      region: null,
      mode: 'opt-in',
      choices: {},
      kid: '',
      policy: { version: '', sha256: '' },
    },
    { seq: 0, prev: '', hash: '', sig: '', leaf: 0, salt: '' },
    '',
  ),
) as (keyof ReceiptsTable)[];

/**
 * The statements of `writes`, compiled to SQLite SQL for the writer thread. Each is built with
 * marker arguments and the markers found again among the compiled parameters, so the thread
 * knows which of its arguments goes where without a second copy of the SQL.
 */
export const threadStatements = () => {
  const db = new KyselyClass<Database>({
    dialect: {
      createAdapter: () => new SqliteAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (k) => new SqliteIntrospector(k),
      createQueryCompiler: () => new SqliteQueryCompiler(),
    },
  });
  const w = writes(db);
  // Markers: strings where the argument is text, numbers far from any real value otherwise.
  const m = (i: number) => `\u0000arg${i}`;
  const n = (i: number) => -1_000_000 - i;
  const compile = (
    q: { compile(): { sql: string; parameters: readonly unknown[] } },
    count: number,
  ): ThreadStatement => {
    const c = q.compile();
    return {
      sql: c.sql,
      params: c.parameters.map((p) => {
        for (let i = 0; i < count; i++) if (p === m(i) || p === n(i)) return i;
        return { value: p };
      }),
    };
  };
  // One receipt row: its columns, in RECEIPT_COLUMNS order, are the arguments.
  const row = Object.fromEntries(
    RECEIPT_COLUMNS.map((col, i) => [
      col,
      col === 'seq' || col === 'accepted' || col === 'leaf' ? n(i) : m(i),
    ]),
  ) as unknown as ReceiptsTable;
  return {
    readHead: compile(w.readHead(m(0), m(1)), 2),
    insertReceipt: compile(w.insertReceipts([row]), RECEIPT_COLUMNS.length),
    // Its arguments are the receipt row's, as for insertReceipt: each latest column names one.
    upsertLatest: compile(w.upsertLatest([latestRow(row)]), RECEIPT_COLUMNS.length),
    purgeLatest: compile(w.purgeLatest(m(0)), 1),
    writeHead: compile(w.writeHead(n(0), m(1), n(2), m(3)), 4),
    insertLeaf: compile(w.insertLeaves([{ site: m(0), idx: n(1), data: m(2), entry: null }]), 3),
    insertEntry: compile(w.insertLeaves([{ site: m(0), idx: n(1), data: m(2), entry: m(3) }]), 4),
    insertNode: compile(w.insertNodes([{ site: m(0), level: n(1), idx: n(2), hash: m(3) }]), 4),
    insertCheckpoint: compile(
      w.insertCheckpoint({ site: m(0), size: n(1), root: m(2), note: m(3), at: m(4) }),
      5,
    ),
    purge: compile(w.purge(m(0), m(1), n(2)), 3),
    erase: compile(w.erase(m(0), m(1), m(2)), 3),
    eraseLatest: compile(w.eraseLatest(m(0), m(1)), 2),
    addSalt: compile(w.addSalt(m(0), m(1)), 2),
    getSalt: compile(w.getSalt(m(0)), 1),
    dropSalts: compile(w.dropSalts(m(0)), 1),
    addPolicy: compile(w.addPolicy(m(0), m(1), m(2)), 3),
    lastPublication: compile(w.lastPublication(m(0)), 1),
    addPublication: compile(w.addPublication(m(0), n(1), m(2), m(3)), 4),
    probe: compile(w.probe(m(0)), 1),
  };
};
