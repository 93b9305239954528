import type { KeyObject } from 'node:crypto';
import type { PurgedReceipt, Receipt, SignedReceipt } from '@assent/core';
import type { WebhookStore } from '../webhooks/store.js';
import type { AdminStore, AuditRow } from './admin-store.js';
import type { CosignatureStore } from './cosignatures.js';

/** The tables, as Kysely sees them. Times are ISO-8601 UTC text: sortable and the same on both dialects. */
export interface Database {
  receipts: ReceiptsTable;
  chain_heads: ChainHeadsTable;
  probes: ProbesTable;
  salts: SaltsTable;
  policies: PoliciesTable;
  publications: PublicationsTable;
  tlog_leaves: TlogLeavesTable;
  tlog_nodes: TlogNodesTable;
  tlog_checkpoints: TlogCheckpointsTable;
  consent_latest: ConsentLatestTable;
}

/**
 * The largest PostgreSQL `integer`, the type of the stores' sequence, size and index columns
 * (migrations.ts): a number a request may name is capped by it before it reaches a database.
 */
export const PG_INT_MAX = 2 ** 31 - 1;

/**
 * Each consent's latest receipt on each site (the last of its chain, by `seq`), kept by every append in the receipt's own transaction: what the
 * console's overview counts ("a visitor's latest choice") without finding, for each of a
 * million receipts, whether a later one of the same consent exists. Its columns are the
 * receipt row's (statements.ts latestRow). A purge deletes the rows of expired receipts.
 */
export interface ConsentLatestTable {
  site: string;
  consent_id: string;
  /** The receipt's place in its site's chain: after `at`, what orders a consent's receipts. */
  seq: number;
  receipt_id: string;
  at: string;
  /** `at`'s UTC day (YYYY-MM-DD): the overview's first grouping, in its index. */
  day: string;
  expires_at: string;
  method: string | null;
  region: string | null;
  mode: string | null;
  granted: string | null;
}

/** The consent log's leaves, per site in order: `data` is the leaf's 32 bytes (hex). */
export interface TlogLeavesTable {
  site: string;
  idx: number;
  data: string;
  /** The entry itself when it is public (a published policy, a banner build); null for a receipt. */
  entry: string | null;
}

/** Each complete perfect subtree of a site's tree: leaves [idx·2^level, (idx+1)·2^level). */
export interface TlogNodesTable {
  site: string;
  level: number;
  idx: number;
  hash: string;
}

/** Signed checkpoints (C2SP tlog-checkpoint), by site and tree size. */
export interface TlogCheckpointsTable {
  site: string;
  size: number;
  /** Root hash, hex. */
  root: string;
  /** The signed note as served. */
  note: string;
  at: string;
}

/** A checkpoint as stored. */
export interface StoredCheckpoint {
  readonly site: string;
  readonly size: number;
  readonly root: string;
  readonly note: string;
  readonly at: string;
}

/** What a visitor's proof needs of a receipt: where its leaf is and what it commits to. */
export interface ReceiptLeaf {
  readonly id: string;
  readonly site: string;
  readonly consentId: string | null;
  readonly leaf: number | null;
  readonly salt: string | null;
  readonly body: string | null;
  readonly hash: string;
  readonly sig: string;
}

/** Every policy ever published, by the SHA-256 of its canonical JSON (`doc`). Never deleted. */
export interface PoliciesTable {
  sha256: string;
  doc: string;
  created_at: string;
}

/** Each site's publications in order; the highest `seq` is the site's current policy. */
export interface PublicationsTable {
  site: string;
  seq: number;
  sha256: string;
  at: string;
}

/** A policy as stored: its SHA-256 and canonical JSON. */
export interface StoredPolicy {
  readonly sha256: string;
  readonly doc: string;
}

/** One publication of a site: which policy became current, when. */
export interface Publication {
  readonly site: string;
  readonly seq: number;
  readonly sha256: string;
  readonly at: string;
}

export interface ReceiptsTable {
  id: string;
  site: string;
  seq: number;
  at: string;
  expires_at: string;
  /** Everything below down to `body` is null once the receipt is purged. */
  consent_id: string | null;
  method: string | null;
  region: string | null;
  /** The receipt's mode (opt-in, opt-out, notice); null on receipts stored before 0004 without a body. */
  mode: string | null;
  /** `,analytics,marketing,`: granted keys between commas, for stats by category in plain SQL. */
  granted: string | null;
  /** 1 when any non-essential key was granted. */
  accepted: number | null;
  /** The canonical JSON that was hashed and signed. */
  body: string | null;
  prev: string;
  hash: string;
  sig: string;
  kid: string;
  purged_at: string | null;
  /** SHA-256 of the published policy the receipt names (null on receipts of schema v1). Kept on purge. */
  policy: string | null;
  /** The salt of the receipt's leaf in the consent log (hex); null once purged. */
  salt: string | null;
  /** The receipt's leaf index in its site's consent log. */
  leaf: number | null;
}

/** One row per site: the last link of its chain. Locked (`FOR UPDATE`) by every writer. */
export interface ChainHeadsTable {
  site: string;
  seq: number;
  hash: string;
  /** The size of the site's consent log (its next leaf's index). */
  leaves: number;
}

/** One row readiness rewrites to learn whether writes succeed (after they failed). */
export interface ProbesTable {
  name: string;
  at: string;
}

/** The random part of each day's IP-hash key; deleted after two days so old hashes cannot be linked. */
export interface SaltsTable {
  day: string;
  salt: string;
}

/** A receipt before the store gives it its place in the chain. */
export type NewReceipt = Omit<Receipt, 'seq' | 'prev'>;

/**
 * Seals receipts inside the transaction, once their `seq` and `prev` are known: `digest`
 * (synchronous, in chain order) gives the canonical JSON, which the store keeps as `body`, and
 * its SHA-256; `sign` signs a batch of hashes (possibly on another thread).
 */
export interface Sealer {
  digest(r: Receipt): { readonly hash: string; readonly body: string };
  sign(hashes: readonly string[]): Promise<string[]>;
  /**
   * The Ed25519 private key, when this sealer is the standard one (`digest` = SHA-256 of the
   * canonical JSON, `sign` = Ed25519 over the 32 hash bytes): a store may then seal on its own
   * writer thread (SQLite does). Without it the store calls `digest` and `sign`.
   */
  readonly key?: KeyObject;
}

export type StoredReceipt = SignedReceipt | PurgedReceipt;

export interface ExportFilter {
  readonly site?: string;
  /** One of these sites (a user limited to some sites, asking for all of theirs); never empty. */
  readonly sites?: readonly string[];
  /** Inclusive, ISO-8601. */
  readonly from?: string;
  /** Exclusive, ISO-8601. */
  readonly to?: string;
}

/** Which page of a consent's history: `limit` receipts after skipping `offset`, newest first. */
export interface HistoryPage {
  readonly offset: number;
  readonly limit: number;
}

export interface History {
  /** The consent's receipts in all (not purged). */
  readonly total: number;
  /** This page's receipts, newest first. */
  readonly receipts: SignedReceipt[];
}

/** Most receipts one history page may hold. */
export const HISTORY_MAX_LIMIT = 100;

export type StatsBy = 'day' | 'category' | 'region' | 'method';

export interface StatRow {
  readonly key: string;
  /** Receipts in the range (for `category`: all receipts, so `accepted / total` is the rate). */
  readonly total: number;
  /** Receipts granting any non-essential key (for `category`: granting that category). */
  readonly accepted: number;
}

/** A raw row as the export reads it: enough to write NDJSON or CSV without parsing JSON. */
export type ExportRow = Pick<
  ReceiptsTable,
  'id' | 'site' | 'seq' | 'at' | 'body' | 'prev' | 'hash' | 'sig' | 'kid' | 'policy'
>;

/**
 * A receipts row as `assent-server verify-db` reads it (store-check.ts): every column, and the
 * `consent_latest` row of its (site, consent ID), if any (`latest_*`, null when there is none).
 */
export type CheckRow = ReceiptsTable & {
  readonly latest_receipt_id: string | null;
  readonly latest_seq: number | null;
  readonly latest_at: string | null;
  readonly latest_day: string | null;
  readonly latest_expires_at: string | null;
  readonly latest_method: string | null;
  readonly latest_region: string | null;
  readonly latest_mode: string | null;
  readonly latest_granted: string | null;
};

/**
 * A `consent_latest` row as `verify-db` reads it, with the receipt it names (`receipt_*`, null
 * when no receipt has that ID): its site, consent ID, place and time, and whether it is purged.
 */
export type LatestCheckRow = ConsentLatestTable & {
  readonly receipt_site: string | null;
  readonly receipt_consent_id: string | null;
  readonly receipt_seq: number | null;
  readonly receipt_at: string | null;
  readonly receipt_purged: boolean | null;
};

/**
 * The read-only queries of `assent-server verify-db` (store-check.ts): keyset pages over the
 * receipts and `consent_latest`, the chains' heads, one consent's latest receipt. None writes.
 */
export interface CheckReads {
  /** Up to `limit` receipts rows after (`site`, `seq`) in that order, each with its consent's latest row. */
  checkRows(after: { site: string; seq: number } | null, limit: number): Promise<CheckRow[]>;
  /** Up to `limit` `consent_latest` rows after (`site`, `consent_id`) in that order, each with the receipt it names. */
  checkLatestRows(
    after: { site: string; consentId: string } | null,
    limit: number,
  ): Promise<LatestCheckRow[]>;
  /** Every site's chain head: its last `seq` and that receipt's hash. */
  chainHeads(): Promise<{ site: string; seq: number; hash: string }[]>;
  /** The latest receipt (the last of the site's chain, by `seq`) of a consent on a site that is not purged, or null. */
  latestReceipt(
    site: string,
    consentId: string,
  ): Promise<{ id: string; seq: number; at: string; expires_at: string } | null>;
}

/**
 * Everything the server asks of a database. One implementation over Kysely serves
 * SQLite and PostgreSQL; the same test suite runs against both.
 */
export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** How many `append` transactions are worth having in flight at once (group commit). */
  readonly writeConcurrency: number;
  /** The admin console's users and sessions (store/admin-store.ts). */
  readonly admin: AdminStore;
  /** Witnesses' cosignatures of the log's checkpoints (store/cosignatures.ts). */
  readonly cosignatures: CosignatureStore;
  /** Webhooks: their cursors over the chains, leases and delivery log (webhooks/store.ts). */
  readonly webhooks: WebhookStore;
  /** Runs pending versioned migrations; returns the names applied. */
  migrate(): Promise<string[]>;
  /**
   * Appends receipts in one transaction: each gets the next `seq` of its site's chain and the
   * previous receipt's hash, then is sealed and inserted. All or nothing; resolves after commit.
   */
  append(items: readonly NewReceipt[], seal: Sealer): Promise<SignedReceipt[]>;
  /**
   * One page of a consent's receipts, newest first, and how many it has in all (purged ones
   * no longer name the consent). Newest first as `latest` decides (kysely-store.ts
   * newestFirst): a site's receipts by `seq`, several sites' by `at`. The order is worked out
   * over all of the consent's rows (about 5 ms for 5,000), one page's bodies returned.
   */
  history(consentId: string, page: HistoryPage): Promise<History>;
  /**
   * A consent's latest receipt (what applies now), or null; with `site`, its latest there: the
   * last of the site's chain (`seq`), whatever `at` says. Without, of each site's latest, the
   * one with the latest `at` (chains share no sequence): the first of `history`.
   */
  latest(consentId: string, site?: string): Promise<SignedReceipt | null>;
  /** The sites a consent ID has receipts on (apex and www sharing one cookie domain: two). */
  sitesOf(consentId: string): Promise<string[]>;
  /** Up to `limit` rows after (`site`, `seq`) in chain order: keyset pagination for exports. */
  page(
    filter: ExportFilter,
    after: { site: string; seq: number } | null,
    limit: number,
  ): Promise<ExportRow[]>;
  stats(filter: ExportFilter, by: StatsBy, categories: readonly string[]): Promise<StatRow[]>;
  /**
   * Publishes a policy for a site: stores it (once, by SHA-256) and makes it the site's current
   * one unless it already is, appending the publication to the site's consent log
   * (tlog/entries.ts). One transaction; returns whether the current policy changed.
   */
  publish(
    site: string,
    policy: StoredPolicy,
    at: string,
    /**
     * The audit entry that records the publication, written in the same transaction, and
     * whether it says the current policy changed: when that no longer holds, both roll back
     * (AuditStale); when the entry's place is taken, AuditTaken.
     */
    audit?: { readonly row: AuditRow; readonly changed: boolean },
  ): Promise<boolean>;
  /** Each site's current policy. */
  currentPolicies(): Promise<(StoredPolicy & { readonly site: string })[]>;
  /** A policy by SHA-256, or null. */
  policy(sha256: string): Promise<StoredPolicy | null>;
  /** A site's publications, newest first. */
  publications(site: string): Promise<Publication[]>;
  /** The policies named by the receipts `filter` selects (what an export must carry). */
  policiesOf(filter: ExportFilter): Promise<StoredPolicy[]>;
  /** Drops the payload of up to `limit` receipts that expired before `cutoff`; returns how many. */
  purge(cutoff: string, now: string, limit: number): Promise<number>;
  /** The IDs of the receipts `erase` would purge now: `consentId`'s on `site`, not purged yet. */
  erasable(site: string, consentId: string): Promise<string[]>;
  /**
   * An erasure request and its audit entry, in one transaction: appends `audit` (the entry
   * that names the receipts), purges every receipt of `consentId` on `site` (their payload and
   * leaf salts; the chain's links stay) and drops the consent from the overview. So no erasure
   * is ever left unaudited, nor an entry without its erasure. Commits only when the receipts
   * purged are exactly `expect` (read by `erasable`): AuditStale when they changed meanwhile,
   * AuditTaken when another writer took the entry's place in the audit log; both roll back
   * (as Store.publish).
   */
  erase(
    site: string,
    consentId: string,
    now: string,
    expect: readonly string[],
    audit: AuditRow,
  ): Promise<void>;
  /** The salt of `day`, stored as `fresh` if the day has none yet (first writer wins). */
  salt(day: string, fresh: string): Promise<string>;
  dropSaltsBefore(day: string): Promise<void>;
  /** Answers when the database answers a read. */
  ping(): Promise<void>;
  /**
   * Commits a one-row write: resolves when writes succeed (readiness after write failures).
   * With `room` (bytes), a SQLite file store also proves its file system can grow that much
   * (a full disk still takes a one-page write into space SQLite holds, not a receipt batch);
   * PostgreSQL's disk is the database server's, and only the row is written.
   */
  probeWrite(at: string, room?: number): Promise<void>;
  /** The sites that have a consent log (a chain head). */
  logSites(): Promise<string[]>;
  /** Up to `limit` leaves of a site's log from index `from`, in order. */
  logLeaves(site: string, from: number, limit: number): Promise<{ idx: number; data: string }[]>;
  /** Up to `limit` stored subtree hashes of `level` of a site's log from index `from`, as `{ idx, hash }` in order. */
  logLevel(
    site: string,
    level: number,
    from: number,
    limit: number,
  ): Promise<{ idx: number; hash: string }[]>;
  /** The data of leaf `idx` of a site's log, or null when there is none (yet). */
  logLeaf(site: string, idx: number): Promise<string | null>;
  /** Stored subtree hashes of a site's log by `level/idx` key (missing ones are absent). */
  logNodes(site: string, ids: readonly { level: number; index: number }[]): Promise<Map<string, string>>;
  /** Stores new subtree hashes (idempotent) and a checkpoint, in one transaction. */
  logSave(
    site: string,
    nodes: readonly { level: number; index: number; hash: string }[],
    checkpoint: StoredCheckpoint,
  ): Promise<void>;
  /**
   * Appends public entries (canonical JSON: a banner build) to a site's log, under the chain
   * head's lock; returns their leaf indexes. (A policy's entry is appended by `publish`.)
   */
  logAppend(site: string, entries: readonly string[]): Promise<number[]>;
  /** The public entries of a site's log (policies, banner builds), newest first, at most `limit`. */
  logEntries(site: string, limit: number): Promise<{ idx: number; entry: string }[]>;
  /** The latest checkpoint of a site, or the one of `size`; null when there is none. */
  logCheckpoint(site: string, size?: number): Promise<StoredCheckpoint | null>;
  /** A receipt's leaf, salt and signed body, by receipt ID. */
  receiptLeaf(id: string): Promise<ReceiptLeaf | null>;
  close(): Promise<void>;
}
