import { GENESIS, grantedKeys, type SignedReceipt } from '@assent/core';
import { type Kysely, Migrator, sql } from 'kysely';
import { migrationProvider } from './migrations.js';
import type { SqliteWriter } from './sqlite-writer.js';
import {
  type Database,
  type ExportFilter,
  type ExportRow,
  HISTORY_MAX_LIMIT,
  type History,
  type HistoryPage,
  type NewReceipt,
  type Publication,
  type ReceiptsTable,
  type Sealer,
  type StatRow,
  type StatsBy,
  type Store,
  type StoredPolicy,
} from './types.js';

/** Rows per INSERT: 16 columns × 1000 stays far below SQLite's 32766 bound parameters. */
const INSERT_CHUNK = 1000;

/**
 * The stats columns derived from a receipt's choices, the same for every way a receipt is
 * written (this store and the SQLite writer thread): `,a,b,` for LIKE, and whether any was granted.
 */
export const grantedColumns = (choices: SignedReceipt['choices']): { granted: string; accepted: 0 | 1 } => {
  const keys = grantedKeys(choices);
  return { granted: `,${keys.join(',')},`, accepted: keys.length > 0 ? 1 : 0 };
};

const toRow = (r: SignedReceipt, body: string): ReceiptsTable => {
  const { granted, accepted } = grantedColumns(r.choices);
  return {
    id: r.id,
    site: r.site,
    seq: r.seq,
    at: r.at,
    expires_at: r.expiresAt,
    consent_id: r.consentId,
    method: r.method,
    region: r.region,
    granted,
    accepted,
    body,
    prev: r.prev,
    hash: r.hash,
    sig: r.sig,
    kid: r.kid,
    purged_at: null,
    policy: r.policy.sha256,
  };
};

const num = (v: unknown): number => Number(v ?? 0);

/** `_` and `%` are LIKE wildcards; category ids may contain `_`. */
const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * The store over any Kysely dialect. The differences between SQLite and PostgreSQL are
 * confined to `FOR UPDATE` (SQLite has one writer at a time anyway) and driver set-up.
 */
export class KyselyStore implements Store {
  /**
   * @param writer SQLite on a file: the thread that appends receipts (sqlite-writer.mjs) with
   *   its own connection, so hashing, signing and the commit's fsync leave the request thread.
   *   The other writes (retention's purge, salts) go there too, so that connection is the only
   *   one that writes once migrations are done; reads stay on `db`.
   */
  constructor(
    readonly db: Kysely<Database>,
    readonly kind: 'sqlite' | 'postgres',
    private readonly writer?: SqliteWriter,
  ) {}

  /**
   * PostgreSQL: 2, so the next batch already waits on the chain-head lock while the previous
   * one commits. SQLite with the writer thread: several, because the thread merges whatever
   * batches wait for it into its next transaction (the request thread need not wait for a
   * reply before sending more). SQLite on this thread: 1 (one writer anyway).
   */
  get writeConcurrency(): number {
    return this.writer ? 16 : this.kind === 'postgres' ? 2 : 1;
  }

  async migrate(): Promise<string[]> {
    const { error, results } = await new Migrator({
      db: this.db,
      provider: migrationProvider,
    }).migrateToLatest();
    if (error) throw error;
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  }

  append(items: readonly NewReceipt[], seal: Sealer): Promise<SignedReceipt[]> {
    if (this.writer && seal.key) return this.writer.append(items, seal.key);
    return this.db.transaction().execute(async (trx) => {
      // Lock and read each site's chain head in one statement, sites in a fixed order so two
      // writers never deadlock. The no-op upsert creates the row on a site's first receipt and
      // otherwise takes its row lock (PostgreSQL: like SELECT … FOR UPDATE; SQLite: the write
      // statement takes the database's write lock before anything is read); RETURNING gives
      // the head as committed by the previous writer.
      const heads = new Map<string, { seq: number; hash: string }>();
      for (const site of [...new Set(items.map((i) => i.site))].sort()) {
        const h = await trx
          .insertInto('chain_heads')
          .values({ site, seq: 0, hash: GENESIS })
          .onConflict((oc) => oc.column('site').doUpdateSet((eb) => ({ site: eb.ref('excluded.site') })))
          .returning(['seq', 'hash'])
          .executeTakeFirstOrThrow();
        heads.set(site, { seq: num(h.seq), hash: h.hash });
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
      const out = digests.map(({ r, hash, body }, i) => {
        const signed = { ...r, hash, sig: sigs[i]! };
        rows.push(toRow(signed, body));
        return signed;
      });
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        await trx
          .insertInto('receipts')
          .values(rows.slice(i, i + INSERT_CHUNK))
          .execute();
      }
      for (const [site, h] of heads) {
        await trx
          .updateTable('chain_heads')
          .set({ seq: h.seq, hash: h.hash })
          .where('site', '=', site)
          .execute();
      }
      return out;
    });
  }

  async history(consentId: string, page: HistoryPage): Promise<History> {
    const limit = Math.min(Math.max(1, Math.trunc(page.limit)), HISTORY_MAX_LIMIT);
    // Purging clears consent_id, so these rows all have a body; the (consent_id, at, id) index
    // answers both the count and the page without reading the other receipts' rows.
    const [count, rows] = await Promise.all([
      this.db
        .selectFrom('receipts')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('consent_id', '=', consentId)
        .executeTakeFirstOrThrow(),
      this.db
        .selectFrom('receipts')
        .select(['body', 'hash', 'sig'])
        .where('consent_id', '=', consentId)
        .orderBy('at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .offset(Math.max(0, Math.trunc(page.offset)))
        .execute(),
    ]);
    return {
      total: num(count.n),
      receipts: rows
        .filter((r) => r.body !== null)
        .map((r) => ({ ...(JSON.parse(r.body!) as SignedReceipt), hash: r.hash, sig: r.sig })),
    };
  }

  async latest(consentId: string): Promise<SignedReceipt | null> {
    const r = await this.db
      .selectFrom('receipts')
      .select(['body', 'hash', 'sig'])
      .where('consent_id', '=', consentId)
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r ? { ...(JSON.parse(r.body!) as SignedReceipt), hash: r.hash, sig: r.sig } : null;
  }

  async page(
    filter: ExportFilter,
    after: { site: string; seq: number } | null,
    limit: number,
  ): Promise<ExportRow[]> {
    let q = this.db
      .selectFrom('receipts')
      .select(['id', 'site', 'seq', 'at', 'body', 'prev', 'hash', 'sig', 'kid']);
    if (filter.site !== undefined) q = q.where('site', '=', filter.site);
    if (filter.from !== undefined) q = q.where('at', '>=', filter.from);
    if (filter.to !== undefined) q = q.where('at', '<', filter.to);
    // A row-value comparison, not `site > ? OR (site = ? AND seq > ?)`: both databases seek
    // the (site, seq) index with it, where the OR form rescans from the start on every page.
    if (after) q = q.where((eb) => eb(eb.refTuple('site', 'seq'), '>', eb.tuple(after.site, after.seq)));
    const rows = await q.orderBy('site').orderBy('seq').limit(limit).execute();
    return rows.map((r) => ({ ...r, seq: num(r.seq) }));
  }

  async stats(filter: ExportFilter, by: StatsBy, categories: readonly string[]): Promise<StatRow[]> {
    let q = this.db.selectFrom('receipts').where('body', 'is not', null);
    if (filter.site !== undefined) q = q.where('site', '=', filter.site);
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

  async publish(site: string, policy: StoredPolicy, at: string): Promise<boolean> {
    if (this.writer) return this.writer.run<boolean>('publish', [site, policy.sha256, policy.doc, at]);
    return this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('policies')
        .values({ sha256: policy.sha256, doc: policy.doc, created_at: at })
        .onConflict((oc) => oc.column('sha256').doNothing())
        .execute();
      // Two processes publishing at once: the (site, seq) primary key lets only one take seq N;
      // the other's transaction fails and it publishes again on its next start.
      const last = await trx
        .selectFrom('publications')
        .select(['seq', 'sha256'])
        .where('site', '=', site)
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (last?.sha256 === policy.sha256) return false;
      await trx
        .insertInto('publications')
        .values({ site, seq: num(last?.seq) + 1, sha256: policy.sha256, at })
        .execute();
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
    if (this.writer) return this.writer.run<number>('purge', [cutoff, now, limit]);
    const ids = this.db
      .selectFrom('receipts')
      .select('id')
      .where('expires_at', '<', cutoff)
      .where('body', 'is not', null)
      .limit(limit);
    const res = await this.db
      .updateTable('receipts')
      .set({
        body: null,
        consent_id: null,
        method: null,
        region: null,
        granted: null,
        accepted: null,
        purged_at: now,
      })
      .where('id', 'in', ids)
      .executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  async salt(day: string, fresh: string): Promise<string> {
    if (this.writer) return this.writer.run<string>('salt', [day, fresh]);
    await this.db
      .insertInto('salts')
      .values({ day, salt: fresh })
      .onConflict((oc) => oc.column('day').doNothing())
      .execute();
    const row = await this.db
      .selectFrom('salts')
      .select('salt')
      .where('day', '=', day)
      .executeTakeFirstOrThrow();
    return row.salt;
  }

  async dropSaltsBefore(day: string): Promise<void> {
    if (this.writer) return this.writer.run<void>('dropSaltsBefore', [day]);
    await this.db.deleteFrom('salts').where('day', '<', day).execute();
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async probeWrite(at: string): Promise<void> {
    if (this.writer) return this.writer.run<void>('probeWrite', [at]);
    await this.db
      .insertInto('probes')
      .values({ name: 'readiness', at })
      .onConflict((oc) => oc.column('name').doUpdateSet({ at }))
      .execute();
  }

  async close(): Promise<void> {
    await this.writer?.close();
    await this.db.destroy();
  }
}
