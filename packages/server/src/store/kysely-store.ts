import type { SignedReceipt } from '@assent/core';
import { type Compilable, CompiledQuery, type Kysely, Migrator, sql } from 'kysely';
import { commitment, newSalt } from '../tlog/commitment.js';
import { entryData, entryText } from '../tlog/entries.js';
import { WebhookStore } from '../webhooks/store.js';
import {
  type AdminDatabase,
  AdminStore,
  type AuditRow,
  AuditStale,
  AuditTaken,
  insertAudit,
  type Write,
} from './admin-store.js';
import { type CosignatureDatabase, CosignatureStore } from './cosignatures.js';
import { migrationProvider } from './migrations.js';
import { latestRow, receiptRow, writes } from './statements.js';
import {
  type CheckReads,
  type CheckRow,
  type Database,
  type ExportFilter,
  type ExportRow,
  HISTORY_MAX_LIMIT,
  type History,
  type HistoryPage,
  type LatestCheckRow,
  type NewReceipt,
  type Publication,
  type ReceiptLeaf,
  type ReceiptsTable,
  type Sealer,
  type StatRow,
  type StatsBy,
  type Store,
  type StoredCheckpoint,
  type StoredPolicy,
  type TlogLeavesTable,
} from './types.js';

/** Rows per INSERT: 20 columns × 1000 stays far below SQLite's 32766 bound parameters. */
const INSERT_CHUNK = 1000;

const num = (v: unknown): number => Number(v ?? 0);
/** A nullable number column (PostgreSQL may answer text for a bigint). */
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** Whether two lists hold the same IDs (each at most once), in any order. */
const sameIds = (a: readonly string[], b: readonly string[]) => {
  const set = new Set(b);
  return a.length === b.length && a.every((id) => set.has(id));
};

/**
 * The stored subtrees `ids` of `site`'s tree. A proof names at most 2·log₂ n of them: one query
 * for all, each term a point lookup on the (site, level, idx) key. With `site = ?` outside the
 * OR, SQLite read every node of the site (O(n) per proof: 89 proofs/s at 15,000 leaves); inside
 * each term it looks each one up (MULTI-INDEX OR; tlog.test.ts checks the plan), and
 * PostgreSQL ORs index scans.
 */
/**
 * A site's public entries, newest first. They are a handful among the receipts' leaves, so the
 * query is answered by the partial index `tlog_leaves_entries` (migration tlog_0003_entries;
 * tlog.test.ts checks the plan): through the primary key it read every leaf of the site
 * back to the first entry, 181 ms at 1,000,000 receipts, on the request thread.
 */
export const entriesQuery = (db: Kysely<Database>, site: string, limit: number) =>
  db
    .selectFrom('tlog_leaves')
    .select(['idx', 'entry'])
    .where('site', '=', site)
    .where('entry', 'is not', null)
    .orderBy('idx', 'desc')
    .limit(limit);

export const nodesQuery = (
  db: Kysely<Database>,
  site: string,
  ids: readonly { level: number; index: number }[],
) =>
  db
    .selectFrom('tlog_nodes')
    .select(['level', 'idx', 'hash'])
    .where((eb) =>
      eb.or(
        ids.map((i) => eb.and([eb('site', '=', site), eb('level', '=', i.level), eb('idx', '=', i.index)])),
      ),
    );

/**
 * A consent's receipts, newest first, `limit` from `offset`: its history's page, and with
 * `limit` 1 its latest receipt on any site (the cookie, the consent page's "what applies now").
 * Within one site by `seq`, the order the chain committed them, whatever `at` says: a
 * withdrawal taken after the clock stepped back (NTP, a VM snapshot restored, two processes on
 * one PostgreSQL) is later than the acceptance it withdrew. Across sites (one consent ID on
 * apex and www sharing the cookie) chains share no sequence, so `at` decides: each receipt is
 * sorted by `chain_at`, the earliest `at` from it to its site's last receipt, which never
 * decreases along a site's chain (so a site's receipts keep their seq order) and is a site's
 * last receipt's own `at` (so the first row is, of each site's last receipt, the one with the
 * latest `at`, ties by seq). One window over all of the consent's rows, found by its index
 * (about 5 ms for 5,000 receipts: a page of the old order by `at` read only that page's rows),
 * then the page's bodies by ID.
 */
export const newestFirst = (db: Kysely<Database>, consentId: string, limit: number, offset: number) => {
  const ranked = db
    .selectFrom('receipts')
    .select((eb) => [
      'id',
      'site',
      'seq',
      eb.fn
        .min<string>('at')
        .over((ob) => ob.partitionBy('site').orderBy('seq', 'desc'))
        .as('chain_at'),
    ])
    .where('consent_id', '=', consentId);
  const page = db
    .selectFrom(ranked.as('k'))
    .select(['k.id', 'k.site', 'k.seq', 'k.chain_at'])
    .orderBy('k.chain_at', 'desc')
    .orderBy('k.seq', 'desc')
    .orderBy('k.site', 'desc')
    .limit(limit)
    .offset(offset);
  return db
    .selectFrom(page.as('p'))
    .innerJoin('receipts as r', 'r.id', 'p.id')
    .select(['r.body', 'r.hash', 'r.sig'])
    .orderBy('p.chain_at', 'desc')
    .orderBy('p.seq', 'desc')
    .orderBy('p.site', 'desc');
};

/** `_` and `%` are LIKE wildcards; category ids may contain `_`. */
const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Appends public entries to a site's log under its chain head's lock (statements.ts readHead). */
const appendEntries = async (
  w: ReturnType<typeof writes>,
  site: string,
  entries: readonly string[],
): Promise<number[]> => {
  const h = await w.readHead(site).executeTakeFirstOrThrow();
  const first = num(h.leaves);
  const idx = entries.map((_, i) => first + i);
  await w
    .insertLeaves(entries.map((entry, i) => ({ site, idx: idx[i]!, data: entryData(entry), entry })))
    .execute();
  await w.writeHead(num(h.seq), h.hash, first + entries.length, site).execute();
  return idx;
};

/**
 * The store over any Kysely dialect: PostgreSQL, and SQLite in memory. Its writes are the
 * statements of statements.ts, which the SQLite writer thread runs too (SqliteThreadStore).
 */
export class KyselyStore implements Store, CheckReads {
  private readonly w: ReturnType<typeof writes>;
  /** SQL of the proof path's queries by key (see `once`). */
  private readonly compiled = new Map<string, string>();
  readonly admin: AdminStore;
  readonly cosignatures: CosignatureStore;
  readonly webhooks: WebhookStore;

  constructor(
    readonly db: Kysely<Database>,
    readonly kind: 'sqlite' | 'postgres',
  ) {
    this.w = writes(db);
    const adminDb = db as unknown as Kysely<AdminDatabase>;
    const write: Write = async (q, audit) => {
      if (!audit) return Number((await adminDb.executeQuery(q.compile())).numAffectedRows ?? 0);
      return adminDb.transaction().execute(async (trx) => {
        const n = Number((await trx.executeQuery(q.compile())).numAffectedRows ?? 0);
        if (!n) return 0;
        const added = await insertAudit(trx, audit).executeTakeFirst();
        if (Number(added.numInsertedOrUpdatedRows) !== 1) throw new AuditTaken();
        return n;
      });
    };
    this.admin = new AdminStore(adminDb, write);
    this.webhooks = new WebhookStore(db as unknown as ConstructorParameters<typeof WebhookStore>[0], write);
    this.cosignatures = new CosignatureStore(db as unknown as Kysely<CosignatureDatabase>, write);
  }

  /**
   * PostgreSQL: 2, so the next batch already waits on the chain-head lock while the previous
   * one commits. SQLite on this thread: 1 (one writer anyway).
   */
  get writeConcurrency(): number {
    return this.kind === 'postgres' ? 2 : 1;
  }

  async migrate(): Promise<string[]> {
    const { error, results } = await new Migrator({
      db: this.db,
      provider: migrationProvider,
      // Features add their own series (admin_…, tlog_…, …): a database that already ran
      // tlog_0001 must still get a later admin_0003. Each migration touches only its own
      // feature's tables and columns, so their relative order never matters.
      allowUnorderedMigrations: true,
    }).migrateToLatest();
    if (error) throw error;
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  }

  append(items: readonly NewReceipt[], seal: Sealer): Promise<SignedReceipt[]> {
    return this.db.transaction().execute(async (trx) => {
      const w = writes(trx);
      // Lock and read each site's chain head (statements.ts readHead), sites in a fixed order
      // so two writers never deadlock.
      const heads = new Map<string, { seq: number; hash: string; leaves: number }>();
      for (const site of [...new Set(items.map((i) => i.site))].sort()) {
        const h = await w.readHead(site).executeTakeFirstOrThrow();
        heads.set(site, { seq: num(h.seq), hash: h.hash, leaves: num(h.leaves) });
      }
      // Hashes in chain order (each `prev` is the hash before it), then all signatures at once.
      const digests = items.map((item) => {
        const head = heads.get(item.site)!;
        const r = { ...item, seq: head.seq + 1, prev: head.hash };
        const d = seal.digest(r);
        head.seq = r.seq;
        head.hash = d.hash;
        return { r, ...d };
      });
      const sigs = await seal.sign(digests.map((d) => d.hash));
      const rows: ReceiptsTable[] = [];
      const leaves: TlogLeavesTable[] = [];
      const out = digests.map(({ r, hash, body }, i) => {
        const signed = { ...r, hash, sig: sigs[i]! };
        // Its leaf in the site's consent log: the next index, a salted commitment to the body.
        const head = heads.get(r.site)!;
        const salt = newSalt();
        const leaf = head.leaves++;
        rows.push(receiptRow(signed, { ...signed, salt, leaf }, body));
        leaves.push({ site: r.site, idx: leaf, data: commitment(salt, body), entry: null });
        return signed;
      });
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        await w.insertReceipts(rows.slice(i, i + INSERT_CHUNK)).execute();
        await w.insertLeaves(leaves.slice(i, i + INSERT_CHUNK)).execute();
      }
      // Each consent's latest receipt of the batch on each site, by the order upsertLatest
      // compares (`seq`, whatever `at` says), as the writer thread's row-by-row upserts leave it.
      const byConsent = new Map<string, ReceiptsTable>();
      for (const row of rows) {
        const key = `${row.site} ${row.consent_id}`;
        const had = byConsent.get(key);
        if (!had || row.seq > had.seq) byConsent.set(key, row);
      }
      const latest = [...byConsent.values()].map(latestRow);
      for (let i = 0; i < latest.length; i += INSERT_CHUNK)
        await w.upsertLatest(latest.slice(i, i + INSERT_CHUNK)).execute();
      for (const [site, h] of heads) await w.writeHead(h.seq, h.hash, h.leaves, site).execute();
      return out;
    });
  }

  async history(consentId: string, page: HistoryPage): Promise<History> {
    const limit = Math.min(Math.max(1, Math.trunc(page.limit)), HISTORY_MAX_LIMIT);
    // Purging clears consent_id, so these rows all have a body; the (consent_id, at, id) index
    // answers the count without reading the receipts' rows.
    const [count, rows] = await Promise.all([
      this.db
        .selectFrom('receipts')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('consent_id', '=', consentId)
        .executeTakeFirstOrThrow(),
      newestFirst(this.db, consentId, limit, Math.max(0, Math.trunc(page.offset))).execute(),
    ]);
    return {
      total: num(count.n),
      receipts: rows
        .filter((r) => r.body !== null)
        .map((r) => ({ ...(JSON.parse(r.body!) as SignedReceipt), hash: r.hash, sig: r.sig })),
    };
  }

  async latest(consentId: string, site?: string): Promise<SignedReceipt | null> {
    // On one site: the last of its chain. Across sites: the first of the history (newestFirst).
    const r =
      site === undefined
        ? await newestFirst(this.db, consentId, 1, 0).executeTakeFirst()
        : await this.db
            .selectFrom('receipts')
            .select(['body', 'hash', 'sig'])
            .where('consent_id', '=', consentId)
            // `site || ''`: through the consent ID's index, not the site's (statements.ts siteByConsent).
            .where(sql<string>`${sql.ref('site')} || ''`, '=', site)
            .orderBy('seq', 'desc')
            .limit(1)
            .executeTakeFirst();
    return r ? { ...(JSON.parse(r.body!) as SignedReceipt), hash: r.hash, sig: r.sig } : null;
  }

  async sitesOf(consentId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('receipts')
      .select('site')
      .distinct()
      .where('consent_id', '=', consentId)
      .orderBy('site')
      .execute();
    return rows.map((r) => r.site);
  }

  async page(
    filter: ExportFilter,
    after: { site: string; seq: number } | null,
    limit: number,
  ): Promise<ExportRow[]> {
    let q = this.db
      .selectFrom('receipts')
      .select(['id', 'site', 'seq', 'at', 'body', 'prev', 'hash', 'sig', 'kid', 'policy']);
    if (filter.site !== undefined) q = q.where('site', '=', filter.site);
    if (filter.sites !== undefined) q = q.where('site', 'in', filter.sites);
    if (filter.from !== undefined) q = q.where('at', '>=', filter.from);
    if (filter.to !== undefined) q = q.where('at', '<', filter.to);
    // A row-value comparison, not `site > ? OR (site = ? AND seq > ?)`: both databases seek
    // the (site, seq) index with it, where the OR form rescans from the start on every page.
    if (after) q = q.where((eb) => eb(eb.refTuple('site', 'seq'), '>', eb.tuple(after.site, after.seq)));
    const rows = await q.orderBy('site').orderBy('seq').limit(limit).execute();
    return rows.map((r) => ({ ...r, seq: num(r.seq) }));
  }

  async stats(filter: ExportFilter, by: StatsBy, categories: readonly string[]): Promise<StatRow[]> {
    // Not purged: a purge clears `method` with the body (statements.ts PURGED), and `method`
    // is in the (site, at, id, method, accepted) index, so counting by method reads no row.
    let q = this.db.selectFrom('receipts').where('method', 'is not', null);
    if (filter.site !== undefined) q = q.where('site', '=', filter.site);
    if (filter.sites !== undefined) q = q.where('site', 'in', filter.sites);
    if (filter.from !== undefined) q = q.where('at', '>=', filter.from);
    if (filter.to !== undefined) q = q.where('at', '<', filter.to);
    if (by === 'category') {
      if (!categories.length) return [];
      const row = await q
        .select((eb) => [
          eb.fn.countAll<number>().as('total'),
          ...categories.map((c, i) =>
            sql<number>`sum(case when granted like ${`%,${likeEscape(c)},%`} escape '\\' then 1 else 0 end)`.as(
              `c${i}`,
            ),
          ),
        ])
        .executeTakeFirstOrThrow();
      const r = row as Record<string, unknown>;
      return categories.map((c, i) => ({ key: c, total: num(r.total), accepted: num(r[`c${i}`]) }));
    }
    const key =
      by === 'day'
        ? sql<string>`substr(at, 1, 10)`
        : by === 'region'
          ? sql<string>`coalesce(region, 'unknown')`
          : sql<string>`method`;
    const rows = await q
      .select((eb) => [
        key.as('key'),
        eb.fn.countAll<number>().as('total'),
        eb.fn.sum<number>('accepted').as('accepted'),
      ])
      .groupBy(key)
      .orderBy(key)
      .execute();
    return rows.map((r) => ({ key: String(r.key), total: num(r.total), accepted: num(r.accepted) }));
  }

  async publish(
    site: string,
    policy: StoredPolicy,
    at: string,
    audit?: { readonly row: AuditRow; readonly changed: boolean },
  ): Promise<boolean> {
    // Thrown inside, AuditTaken and AuditStale roll the transaction back.
    return await this.db.transaction().execute(async (trx) => {
      if (audit) {
        const added = await insertAudit(
          trx as unknown as Kysely<AdminDatabase>,
          audit.row,
        ).executeTakeFirst();
        if (Number(added.numInsertedOrUpdatedRows) !== 1) throw new AuditTaken();
      }
      const w = writes(trx);
      await w.addPolicy(policy.sha256, policy.doc, at).execute();
      const last = await w.lastPublication(site).executeTakeFirst();
      const changed = last?.sha256 !== policy.sha256;
      if (audit && changed !== audit.changed) throw new AuditStale();
      if (!changed) return false;
      await w.addPublication(site, num(last?.seq) + 1, policy.sha256, at).execute();
      await appendEntries(w, site, [entryText({ type: 'policy', site, policy: policy.sha256, at })]);
      return true;
    });
  }

  async currentPolicies(): Promise<(StoredPolicy & { site: string })[]> {
    // The highest seq of each site, joined to its policy.
    return this.db
      .selectFrom('publications as p')
      .innerJoin('policies as d', 'd.sha256', 'p.sha256')
      .select(['p.site', 'p.sha256', 'd.doc'])
      .where(({ eb, selectFrom }) =>
        eb(
          'p.seq',
          '=',
          selectFrom('publications as q')
            .select((e) => e.fn.max('q.seq').as('m'))
            .whereRef('q.site', '=', 'p.site'),
        ),
      )
      .execute();
  }

  async policy(sha256: string): Promise<StoredPolicy | null> {
    const row = await this.db
      .selectFrom('policies')
      .select(['sha256', 'doc'])
      .where('sha256', '=', sha256)
      .executeTakeFirst();
    return row ?? null;
  }

  async publications(site: string): Promise<Publication[]> {
    const rows = await this.db
      .selectFrom('publications')
      .select(['site', 'seq', 'sha256', 'at'])
      .where('site', '=', site)
      .orderBy('seq', 'desc')
      .execute();
    return rows.map((r) => ({ ...r, seq: num(r.seq) }));
  }

  async policiesOf(filter: ExportFilter): Promise<StoredPolicy[]> {
    let named = this.db.selectFrom('receipts').select('policy').distinct().where('policy', 'is not', null);
    if (filter.site !== undefined) named = named.where('site', '=', filter.site);
    if (filter.sites !== undefined) named = named.where('site', 'in', filter.sites);
    if (filter.from !== undefined) named = named.where('at', '>=', filter.from);
    if (filter.to !== undefined) named = named.where('at', '<', filter.to);
    return this.db
      .selectFrom('policies')
      .select(['sha256', 'doc'])
      .where('sha256', 'in', named.$narrowType<{ policy: string }>())
      .orderBy('sha256')
      .execute();
  }

  async purge(cutoff: string, now: string, limit: number): Promise<number> {
    // One transaction: the overview's latest rows and the receipts they stand for go together.
    return this.db.transaction().execute(async (trx) => {
      const w = writes(trx);
      await w.purgeLatest(cutoff).execute();
      const res = await w.purge(now, cutoff, limit).executeTakeFirst();
      return Number(res.numUpdatedRows);
    });
  }

  async erasable(site: string, consentId: string): Promise<string[]> {
    return (await this.w.erasable(site, consentId).execute()).map((r) => r.id);
  }

  async erase(
    site: string,
    consentId: string,
    now: string,
    expect: readonly string[],
    audit: AuditRow,
  ): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const added = await insertAudit(trx as unknown as Kysely<AdminDatabase>, audit).executeTakeFirst();
      if (Number(added.numInsertedOrUpdatedRows) !== 1) throw new AuditTaken();
      const w = writes(trx);
      await w.eraseLatest(site, consentId).execute();
      const ids = (await w.erase(now, site, consentId).execute()).map((r) => r.id);
      if (!sameIds(ids, expect)) throw new AuditStale();
    });
  }

  async salt(day: string, fresh: string): Promise<string> {
    await this.w.addSalt(day, fresh).execute();
    return (await this.w.getSalt(day).executeTakeFirstOrThrow()).salt;
  }

  async dropSaltsBefore(day: string): Promise<void> {
    await this.w.dropSalts(day).execute();
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async probeWrite(at: string, _room?: number): Promise<void> {
    await this.w.probe(at).execute();
  }

  async logSites(): Promise<string[]> {
    const rows = await this.db.selectFrom('chain_heads').select('site').orderBy('site').execute();
    return rows.map((r) => r.site);
  }

  async logLeaves(site: string, from: number, limit: number): Promise<{ idx: number; data: string }[]> {
    const rows = await this.db
      .selectFrom('tlog_leaves')
      .select(['idx', 'data'])
      .where('site', '=', site)
      .where('idx', '>=', from)
      .orderBy('idx')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ idx: num(r.idx), data: r.data }));
  }

  async logNodes(
    site: string,
    ids: readonly { level: number; index: number }[],
  ): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (!ids.length) return out;
    const rows = await this.once(
      `nodes/${ids.length}`,
      ids.flatMap((i) => [site, i.level, i.index]),
      () => nodesQuery(this.db, site, ids),
    );
    for (const r of rows) out.set(`${num(r.level)}/${num(r.idx)}`, r.hash);
    return out;
  }

  async logSave(
    site: string,
    nodes: readonly { level: number; index: number; hash: string }[],
    c: StoredCheckpoint,
  ): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const w = writes(trx);
      const rows = nodes.map((n) => ({ site, level: n.level, idx: n.index, hash: n.hash }));
      for (let i = 0; i < rows.length; i += INSERT_CHUNK)
        await w.insertNodes(rows.slice(i, i + INSERT_CHUNK)).execute();
      await w.insertCheckpoint({ ...c }).execute();
    });
  }

  logAppend(site: string, entries: readonly string[]): Promise<number[]> {
    return this.db.transaction().execute((trx) => appendEntries(writes(trx), site, entries));
  }

  async logEntries(site: string, limit: number): Promise<{ idx: number; entry: string }[]> {
    const rows = await entriesQuery(this.db, site, limit).execute();
    return rows.map((r) => ({ idx: num(r.idx), entry: r.entry! }));
  }

  async logCheckpoint(site: string, size?: number): Promise<StoredCheckpoint | null> {
    const q = this.db
      .selectFrom('tlog_checkpoints')
      .select(['site', 'size', 'root', 'note', 'at'])
      .where('site', '=', site);
    const [r] =
      size === undefined
        ? await this.once('checkpoint/latest', [site, 1], () => q.orderBy('size', 'desc').limit(1))
        : await this.once('checkpoint/size', [site, size], () => q.where('size', '=', size));
    return r ? { ...r, size: num(r.size) } : null;
  }

  async logLevel(
    site: string,
    level: number,
    from: number,
    limit: number,
  ): Promise<{ idx: number; hash: string }[]> {
    const rows = await this.db
      .selectFrom('tlog_nodes')
      .select(['idx', 'hash'])
      .where('site', '=', site)
      .where('level', '=', level)
      .where('idx', '>=', from)
      .orderBy('idx')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ idx: num(r.idx), hash: r.hash }));
  }

  async logLeaf(site: string, idx: number): Promise<string | null> {
    const [r] = await this.once('leaf', [site, idx], () =>
      this.db.selectFrom('tlog_leaves').select('data').where('site', '=', site).where('idx', '=', idx),
    );
    return r?.data ?? null;
  }

  /**
   * The rows of the query `build` makes, built and compiled once per `key`; later calls bind
   * `params` to the same SQL. The proof path's queries: building and compiling them cost a
   * proof more than SQLite spent running them. The first call checks that `params` are the
   * values the builder bound, in its order, so a key cannot run with its parameters swapped.
   */
  private async once<R>(key: string, params: readonly unknown[], build: () => Compilable<R>): Promise<R[]> {
    let text = this.compiled.get(key);
    if (text === undefined) {
      const c = build().compile();
      if (c.parameters.length !== params.length || c.parameters.some((p, i) => p !== params[i]))
        throw new Error(`query ${key}: its parameters are not [${params.join(', ')}]`);
      this.compiled.set(key, (text = c.sql));
    }
    return (await this.db.executeQuery<R>(CompiledQuery.raw(text, [...params]))).rows;
  }

  async receiptLeaf(id: string): Promise<ReceiptLeaf | null> {
    const r = await this.db
      .selectFrom('receipts')
      .select(['id', 'site', 'consent_id', 'leaf', 'salt', 'body', 'hash', 'sig'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!r) return null;
    return {
      id: r.id,
      site: r.site,
      consentId: r.consent_id,
      leaf: r.leaf === null ? null : num(r.leaf),
      salt: r.salt,
      body: r.body,
      hash: r.hash,
      sig: r.sig,
    };
  }

  // verify-db's reads (store-check.ts): keyset pages on the primary keys, never a write.

  async checkRows(after: { site: string; seq: number } | null, limit: number): Promise<CheckRow[]> {
    let q = this.db
      .selectFrom('receipts as r')
      // Through consent_latest's primary key, one lookup per receipt.
      .leftJoin('consent_latest as l', (j) =>
        j.onRef('l.site', '=', 'r.site').onRef('l.consent_id', '=', 'r.consent_id'),
      )
      .selectAll('r')
      .select([
        'l.receipt_id as latest_receipt_id',
        'l.seq as latest_seq',
        'l.at as latest_at',
        'l.day as latest_day',
        'l.expires_at as latest_expires_at',
        'l.method as latest_method',
        'l.region as latest_region',
        'l.mode as latest_mode',
        'l.granted as latest_granted',
      ]);
    // The row-value form seeks the (site, seq) index on both databases (see `page`).
    if (after) q = q.where((eb) => eb(eb.refTuple('r.site', 'r.seq'), '>', eb.tuple(after.site, after.seq)));
    const rows = await q.orderBy('r.site').orderBy('r.seq').limit(limit).execute();
    return rows.map((r) => ({
      ...r,
      seq: num(r.seq),
      accepted: numOrNull(r.accepted),
      leaf: numOrNull(r.leaf),
      latest_seq: numOrNull(r.latest_seq),
    }));
  }

  async checkLatestRows(
    after: { site: string; consentId: string } | null,
    limit: number,
  ): Promise<LatestCheckRow[]> {
    let q = this.db
      .selectFrom('consent_latest as l')
      .leftJoin('receipts as r', 'r.id', 'l.receipt_id')
      .selectAll('l')
      .select([
        'r.site as receipt_site',
        'r.consent_id as receipt_consent_id',
        'r.seq as receipt_seq',
        'r.at as receipt_at',
        sql<number | null>`case when r.id is null then null when r.body is null then 1 else 0 end`.as(
          'receipt_purged',
        ),
      ]);
    if (after)
      q = q.where((eb) =>
        eb(eb.refTuple('l.site', 'l.consent_id'), '>', eb.tuple(after.site, after.consentId)),
      );
    const rows = await q.orderBy('l.site').orderBy('l.consent_id').limit(limit).execute();
    return rows.map((r) => ({
      ...r,
      seq: num(r.seq),
      receipt_seq: numOrNull(r.receipt_seq),
      receipt_purged: r.receipt_purged === null ? null : Number(r.receipt_purged) === 1,
    }));
  }

  async chainHeads(): Promise<{ site: string; seq: number; hash: string }[]> {
    const rows = await this.db
      .selectFrom('chain_heads')
      .select(['site', 'seq', 'hash'])
      .orderBy('site')
      .execute();
    return rows.map((r) => ({ ...r, seq: num(r.seq) }));
  }

  async latestReceipt(
    site: string,
    consentId: string,
  ): Promise<{ id: string; seq: number; at: string; expires_at: string } | null> {
    const r = await this.db
      .selectFrom('receipts')
      .select(['id', 'seq', 'at', 'expires_at'])
      .where('consent_id', '=', consentId)
      // `site || ''`: through the consent ID's index, not the site's (statements.ts siteByConsent).
      .where(sql<string>`${sql.ref('site')} || ''`, '=', site)
      .where('body', 'is not', null)
      // The last of the site's chain, as consent_latest keeps it (statements.ts upsertLatest).
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r ? { ...r, seq: num(r.seq) } : null;
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
