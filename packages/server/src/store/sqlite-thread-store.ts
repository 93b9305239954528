import type { SignedReceipt } from '@assent/core';
import { Kysely, sql } from 'kysely';
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
import { KyselyStore } from './kysely-store.js';
import { readerDialect, type SqliteReader } from './sqlite-reader.js';
import type { SqliteWriter } from './sqlite-writer.js';
import type {
  CheckReads,
  CheckRow,
  Database,
  ExportFilter,
  ExportRow,
  History,
  HistoryPage,
  LatestCheckRow,
  NewReceipt,
  Publication,
  ReceiptLeaf,
  Sealer,
  StatRow,
  StatsBy,
  Store,
  StoredCheckpoint,
  StoredPolicy,
} from './types.js';

/**
 * SQLite on a file: every write goes to the writer thread (sqlite-writer.mjs), which owns its
 * own connection, so hashing, signing and each commit's fsync leave the request thread; it is
 * the only connection that writes once migrations are done. Reads run on the request thread's
 * connection (`reads`, a KyselyStore over it): WAL lets them run during the thread's commits.
 * The thread runs the same statements as KyselyStore (statements.ts).
 *
 * The console's receipt queries (the overview, the receipts table, `stats`) are the
 * exception: they run on a reader thread (sqlite-reader.mjs, through `console`, a
 * KyselyStore over it), because some read a million rows, and on this thread that query
 * would stop everything else until it finished. Key lookups (a session, a user, a receipt by
 * ID) stay here: cheaper than a round trip, and never queued behind a long query.
 */
/** What the writer thread answers for a transaction it rolled back (sqlite-writer.mjs Outcome). */
type Outcome = 'taken' | 'stale';

/** The writer thread's answer, or the error its rollback stands for (as KyselyStore throws it). */
const outcome = <T>(r: T | Outcome): T => {
  if (r === 'taken') throw new AuditTaken();
  if (r === 'stale') throw new AuditStale();
  return r as T;
};

export class SqliteThreadStore implements Store, CheckReads {
  readonly kind = 'sqlite' as const;
  /**
   * Several: the thread merges whatever batches wait for it into its next transaction, so the
   * request thread need not wait for a reply before sending more.
   */
  readonly writeConcurrency = 16;

  /** Its receipt queries on the reader thread, its key lookups here; its writes on the writer thread. */
  readonly admin: AdminStore;
  readonly cosignatures: CosignatureStore;
  readonly webhooks: WebhookStore;
  /** The console's receipt queries (`admin`'s, `stats`), on the reader thread. */
  private readonly console: KyselyStore;

  constructor(
    private readonly reads: KyselyStore,
    private readonly writer: SqliteWriter,
    /** The reader thread under the console's receipt queries (its worker is visible to tests). */
    readonly reader: SqliteReader,
  ) {
    // The same SQL as `reads`, run on the reader thread.
    this.console = new KyselyStore(new Kysely<Database>({ dialect: readerDialect(reader) }), 'sqlite');
    const write: Write = async (q, audit) => {
      const c = q.compile();
      if (!audit) return writer.run<number>('exec', [c.sql, c.parameters]);
      const a = insertAudit(reads.db as unknown as Kysely<AdminDatabase>, audit).compile();
      return outcome(
        await writer.run<number | Outcome>('execAudited', [c.sql, c.parameters, a.sql, a.parameters]),
      );
    };
    this.admin = new AdminStore(
      reads.db as unknown as Kysely<AdminDatabase>,
      write,
      this.console.db as unknown as Kysely<AdminDatabase>,
    );
    this.webhooks = new WebhookStore(
      reads.db as unknown as ConstructorParameters<typeof WebhookStore>[0],
      write,
    );
    this.cosignatures = new CosignatureStore(reads.db as unknown as Kysely<CosignatureDatabase>, write);
  }

  /** Migrations run on the request thread's connection, before the thread starts. */
  migrate(): Promise<string[]> {
    return this.reads.migrate();
  }

  /**
   * On the thread when the sealer is the standard one (it can seal there with its key);
   * otherwise here, through the reading connection (tests' custom sealers).
   */
  append(items: readonly NewReceipt[], seal: Sealer): Promise<SignedReceipt[]> {
    return seal.key ? this.writer.append(items, seal.key) : this.reads.append(items, seal);
  }

  async publish(
    site: string,
    policy: StoredPolicy,
    at: string,
    audit?: { readonly row: AuditRow; readonly changed: boolean },
  ): Promise<boolean> {
    const entry = entryText({ type: 'policy', site, policy: policy.sha256, at });
    const a = audit && insertAudit(this.reads.db as unknown as Kysely<AdminDatabase>, audit.row).compile();
    const r = await this.writer.run<boolean | Outcome>('publish', [
      site,
      policy.sha256,
      policy.doc,
      at,
      entry,
      entryData(entry),
      ...(audit && a ? [audit.changed, a.sql, a.parameters] : []),
    ]);
    return outcome(r);
  }

  purge(cutoff: string, now: string, limit: number): Promise<number> {
    return this.writer.run<number>('purge', [cutoff, now, limit]);
  }

  erasable(site: string, consentId: string): Promise<string[]> {
    return this.reads.erasable(site, consentId);
  }

  /** On the writer thread, with the audit entry's insert compiled here (AdminStore's SQL). */
  async erase(
    site: string,
    consentId: string,
    now: string,
    expect: readonly string[],
    audit: AuditRow,
  ): Promise<void> {
    const c = insertAudit(this.reads.db as unknown as Kysely<AdminDatabase>, audit).compile();
    outcome(
      await this.writer.run<'done' | Outcome>('erase', [
        now,
        site,
        consentId,
        [...expect],
        c.sql,
        c.parameters,
      ]),
    );
  }

  salt(day: string, fresh: string): Promise<string> {
    return this.writer.run<string>('salt', [day, fresh]);
  }

  dropSaltsBefore(day: string): Promise<void> {
    return this.writer.run<void>('dropSaltsBefore', [day]);
  }

  /** On the thread; with `room`, it also writes and removes a file that size beside the database. */
  probeWrite(at: string, room = 0): Promise<void> {
    return this.writer.run<void>('probeWrite', [at, room]);
  }

  /**
   * Null while the database's file and its WAL are the ones opened; otherwise the error that
   * says which was deleted or replaced (readiness's check; the writer thread refuses to commit).
   */
  fileProblem(): Error | null {
    return this.writer.fileProblem();
  }

  /** What each connection runs with: `pragma name` → value, on this thread and on the writer's. */
  async pragmas(
    names: readonly string[],
  ): Promise<{ reads: Record<string, unknown>; writer: Record<string, unknown> }> {
    const reads = Object.fromEntries(
      await Promise.all(
        names.map(async (n) => [
          n,
          Object.values((await sql.raw(`pragma ${n}`).execute(this.reads.db)).rows[0] ?? {})[0],
        ]),
      ),
    );
    return { reads, writer: await this.writer.run('pragmas', [names]) };
  }

  history(consentId: string, page: HistoryPage): Promise<History> {
    return this.reads.history(consentId, page);
  }

  latest(consentId: string, site?: string): Promise<SignedReceipt | null> {
    return this.reads.latest(consentId, site);
  }
  sitesOf(consentId: string): Promise<string[]> {
    return this.reads.sitesOf(consentId);
  }

  page(
    filter: ExportFilter,
    after: { site: string; seq: number } | null,
    limit: number,
  ): Promise<ExportRow[]> {
    return this.reads.page(filter, after, limit);
  }

  stats(filter: ExportFilter, by: StatsBy, categories: readonly string[]): Promise<StatRow[]> {
    return this.console.stats(filter, by, categories);
  }

  currentPolicies(): Promise<(StoredPolicy & { readonly site: string })[]> {
    return this.reads.currentPolicies();
  }

  policy(sha256: string): Promise<StoredPolicy | null> {
    return this.reads.policy(sha256);
  }

  publications(site: string): Promise<Publication[]> {
    return this.reads.publications(site);
  }

  policiesOf(filter: ExportFilter): Promise<StoredPolicy[]> {
    return this.reads.policiesOf(filter);
  }

  ping(): Promise<void> {
    return this.reads.ping();
  }

  logSites(): Promise<string[]> {
    return this.reads.logSites();
  }

  logLeaves(site: string, from: number, limit: number): Promise<{ idx: number; data: string }[]> {
    return this.reads.logLeaves(site, from, limit);
  }

  logLevel(
    site: string,
    level: number,
    from: number,
    limit: number,
  ): Promise<{ idx: number; hash: string }[]> {
    return this.reads.logLevel(site, level, from, limit);
  }

  logLeaf(site: string, idx: number): Promise<string | null> {
    return this.reads.logLeaf(site, idx);
  }

  logNodes(site: string, ids: readonly { level: number; index: number }[]): Promise<Map<string, string>> {
    return this.reads.logNodes(site, ids);
  }

  /** On the thread, in one transaction: subtree hashes flat (level, index, hash, …), then the checkpoint. */
  logSave(
    site: string,
    nodes: readonly { level: number; index: number; hash: string }[],
    c: StoredCheckpoint,
  ): Promise<void> {
    const flat: (string | number)[] = [];
    for (const n of nodes) flat.push(n.level, n.index, n.hash);
    return this.writer.run<void>('logSave', [site, flat, c.size, c.root, c.note, c.at]);
  }

  logAppend(site: string, entries: readonly string[]): Promise<number[]> {
    return this.writer.run<number[]>('logAppend', [site, entries, entries.map(entryData)]);
  }

  logEntries(site: string, limit: number): Promise<{ idx: number; entry: string }[]> {
    return this.reads.logEntries(site, limit);
  }

  logCheckpoint(site: string, size?: number): Promise<StoredCheckpoint | null> {
    return this.reads.logCheckpoint(site, size);
  }

  receiptLeaf(id: string): Promise<ReceiptLeaf | null> {
    return this.reads.receiptLeaf(id);
  }

  // verify-db's keyset pages: on this thread's connection (a page is a few thousand rows).
  checkRows(after: { site: string; seq: number } | null, limit: number): Promise<CheckRow[]> {
    return this.reads.checkRows(after, limit);
  }

  checkLatestRows(
    after: { site: string; consentId: string } | null,
    limit: number,
  ): Promise<LatestCheckRow[]> {
    return this.reads.checkLatestRows(after, limit);
  }

  chainHeads(): Promise<{ site: string; seq: number; hash: string }[]> {
    return this.reads.chainHeads();
  }

  latestReceipt(
    site: string,
    consentId: string,
  ): Promise<{ id: string; seq: number; at: string; expires_at: string } | null> {
    return this.reads.latestReceipt(site, consentId);
  }

  async close(): Promise<void> {
    await this.writer.close();
    await this.console.close();
    await this.reads.close();
  }
}
