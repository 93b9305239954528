import type { ExpressionBuilder, Kysely } from 'kysely';
import type { AuditAction, AuditRow, Write } from '../store/admin-store.js';

/**
 * What a webhook receives: every new receipt, every withdrawal (a receipt whose method is
 * `withdraw`), every erasure request carried out (the receipts an owner erased: GDPR Art. 19
 * asks that whoever got them be told).
 */
export type WebhookEvent = 'receipt.created' | 'consent.withdrawn' | 'consent.erased';
export const WEBHOOK_EVENTS: readonly WebhookEvent[] = [
  'receipt.created',
  'consent.withdrawn',
  'consent.erased',
];

/**
 * `active` delivers; `paused` was paused by a person; `failed` gave up after the last retry
 * (the cursor stays where it was: resuming delivers from the receipt that failed, nothing is
 * skipped).
 */
export const WEBHOOK_STATES = ['active', 'paused', 'failed'] as const;
export type WebhookState = (typeof WEBHOOK_STATES)[number];

export interface WebhooksTable {
  id: string;
  site: string;
  url: string;
  /** The HMAC-SHA256 key, shown once when the webhook is made (base64url). */
  secret: string;
  /** Comma-separated WebhookEvents. */
  events: string;
  state: WebhookState;
  /** The last `seq` of the site's chain the receiver acknowledged (2xx). */
  cursor: number;
  /** The last audit-log `seq` of the site's erasures the receiver acknowledged (or passed over). */
  erase_cursor: number;
  /** Failed attempts at the batch after a cursor, since the last success. */
  attempts: number;
  /** No attempt before this time (backoff); null: due now. */
  next_at: string | null;
  last_error: string | null;
  lease_owner: string | null;
  lease_until: string | null;
  created_at: string;
  created_by: string;
}

export const DELIVERY_OUTCOMES = ['delivered', 'retry', 'failed', 'test-ok', 'test-failed'] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];
/** What a delivery carried: receipts (their chain's seqs), erasures (the audit log's), a test event. */
export const DELIVERY_KINDS = ['receipts', 'erasures', 'test'] as const;
export type DeliveryKind = (typeof DELIVERY_KINDS)[number];

/** One attempt to deliver: never a consent ID, never an IP (the error is a code, not a message). */
export interface DeliveriesTable {
  id: string;
  webhook_id: string;
  at: string;
  kind: DeliveryKind;
  /** 1 for the first attempt at a batch, then 2, 3, … */
  attempt: number;
  /** The batch's first and last `seq`: of the site's chain (receipts), of the audit log (erasures). */
  first_seq: number | null;
  last_seq: number | null;
  events: number;
  /** The receiver's HTTP status, or null when none came (network error, timeout). */
  status: number | null;
  error: string | null;
  duration_ms: number;
  outcome: DeliveryOutcome;
}

/** The receipts columns the dispatcher reads (the table is store/types.ts's). */
interface ReceiptsRead {
  id: string;
  site: string;
  seq: number;
  at: string;
  method: string | null;
  body: string | null;
  prev: string;
  hash: string;
  sig: string;
  kid: string;
}

interface WebhookDatabase {
  webhooks: WebhooksTable;
  webhook_deliveries: DeliveriesTable;
  receipts: ReceiptsRead;
  chain_heads: { site: string; seq: number };
  audit_log: { seq: number; at: string; action: string; target: string | null; detail: string };
}

/** An erasure request carried out, as its audit entry records it. */
export interface ErasureRow {
  /** The audit entry's `seq`. */
  readonly seq: number;
  readonly at: string;
  /** The receipts erased. */
  readonly receipts: readonly string[];
}

/** The audit action an erasure is recorded under (the audit log is its one record). */
const ERASE: AuditAction = 'consent-erase';

/** A webhook as listed: everything but its secret and lease, with its site's chain head. */
export type WebhookInfo = Omit<WebhooksTable, 'secret' | 'lease_owner' | 'lease_until' | 'erase_cursor'> & {
  /** The site's last seq: `head − cursor` receipts wait to be delivered. */
  readonly head: number;
  /** Erasures of the site after its erasures' cursor: waiting to be delivered (or passed over). */
  readonly erasures_pending: number;
};

/** An erasure's audit entry the dispatcher cannot read: it is not sent (and not skipped). */
export class BadErasureEntry extends Error {
  override readonly name = 'BadErasureEntry';
  constructor(readonly seq: number) {
    super(`audit entry ${seq} (consent-erase) names no receipt IDs`);
  }
}

export type ReceiptRow = ReceiptsRead;

const INFO = [
  'w.id',
  'w.site',
  'w.url',
  'w.events',
  'w.state',
  'w.cursor',
  'w.attempts',
  'w.next_at',
  'w.last_error',
  'w.created_at',
  'w.created_by',
] as const;

/**
 * Webhooks, their cursors and their delivery log. Reads run on the store's reading
 * connection; every write is one statement through `write` (on SQLite files, the writer
 * thread), each safe on its own — the lease and the cursor's advance are conditional
 * updates, so two processes on one PostgreSQL cannot both take a batch or move a cursor twice.
 */
export class WebhookStore {
  constructor(
    private readonly db: Kysely<WebhookDatabase>,
    /** Runs one write statement, with the audit entry that records it when there is one. */
    private readonly write: Write,
  ) {}

  /** The last seq of a site's chain (0 when it has no receipt yet). */
  async head(site: string): Promise<number> {
    const r = await this.db
      .selectFrom('chain_heads')
      .select('seq')
      .where('site', '=', site)
      .executeTakeFirst();
    return r ? Number(r.seq) : 0;
  }

  /** The count of the webhook's site's erasures after its cursor, as a column of `webhooks as w`. */
  private pendingErasures(eb: ExpressionBuilder<WebhookDatabase & { w: WebhooksTable }, 'w'>) {
    return eb
      .selectFrom('audit_log as a')
      .select((e) => e.fn.countAll<number>().as('n'))
      .where('a.action', '=', ERASE)
      .whereRef('a.target', '=', 'w.site')
      .whereRef('a.seq', '>', 'w.erase_cursor')
      .as('erasures_pending');
  }

  /** Adds a webhook, and (with `audit`) its audit entry in the same transaction. */
  async add(row: WebhooksTable, audit?: AuditRow): Promise<void> {
    await this.write(this.db.insertInto('webhooks').values(row), audit);
  }

  async list(site?: string): Promise<WebhookInfo[]> {
    let q = this.db
      .selectFrom('webhooks as w')
      .leftJoin('chain_heads as h', 'h.site', 'w.site')
      .select([...INFO, 'h.seq as head', (eb) => this.pendingErasures(eb)]);
    if (site !== undefined) q = q.where('w.site', '=', site);
    const rows = await q.orderBy('w.created_at').orderBy('w.id').execute();
    return rows.map(info);
  }

  async info(id: string): Promise<WebhookInfo | null> {
    const r = await this.db
      .selectFrom('webhooks as w')
      .leftJoin('chain_heads as h', 'h.site', 'w.site')
      .select([...INFO, 'h.seq as head', (eb) => this.pendingErasures(eb)])
      .where('w.id', '=', id)
      .executeTakeFirst();
    return r ? info(r) : null;
  }

  /** A webhook with its secret (the dispatcher's and the test event's). */
  async get(id: string): Promise<WebhooksTable | null> {
    const r = await this.db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? num(r) : null;
  }

  /** Active webhooks with receipts or erasures after their cursors and no backoff pending at `now`. */
  async due(now: string): Promise<WebhooksTable[]> {
    return (await this.dueQuery(now).execute()).map(num);
  }

  /** `due`'s query (a test checks its plan: the erasures through their index). */
  dueQuery(now: string) {
    return this.db
      .selectFrom('webhooks as w')
      .innerJoin('chain_heads as h', 'h.site', 'w.site')
      .selectAll('w')
      .where('w.state', '=', 'active')
      .where((eb) =>
        eb.or([
          eb('h.seq', '>', eb.ref('w.cursor')),
          eb.exists(
            eb
              .selectFrom('audit_log as a')
              .select('a.seq')
              .where('a.action', '=', ERASE)
              .whereRef('a.target', '=', 'w.site')
              .whereRef('a.seq', '>', 'w.erase_cursor'),
          ),
        ]),
      )
      .where((eb) => eb.or([eb('w.next_at', 'is', null), eb('w.next_at', '<=', now)]))
      .where((eb) => eb.or([eb('w.lease_until', 'is', null), eb('w.lease_until', '<', now)]));
  }

  /**
   * Pauses or resumes it, and/or changes what it receives (with `audit`, in one transaction with
   * its audit entry). Resuming (also a `failed` one) starts its retries afresh, from the
   * cursors. False when there is no such webhook.
   */
  async update(
    id: string,
    change: { state?: 'active' | 'paused'; events?: readonly WebhookEvent[] },
    audit?: AuditRow,
  ): Promise<boolean> {
    const set = {
      ...(change.state === 'active'
        ? { state: change.state, attempts: 0, next_at: null, last_error: null }
        : {}),
      ...(change.state === 'paused' ? { state: change.state } : {}),
      ...(change.events ? { events: change.events.join(',') } : {}),
    };
    return (await this.write(this.db.updateTable('webhooks').set(set).where('id', '=', id), audit)) === 1;
  }

  /** Removes a webhook (with `audit`, recorded in the same transaction) and its delivery log; false when there is none. */
  async remove(id: string, audit?: AuditRow): Promise<boolean> {
    const n = await this.write(this.db.deleteFrom('webhooks').where('id', '=', id), audit);
    await this.write(this.db.deleteFrom('webhook_deliveries').where('webhook_id', '=', id));
    return n === 1;
  }

  /**
   * Takes (or renews) the webhook's lease until `until`: one conditional UPDATE, so of two
   * processes asking at once exactly one gets it. False when another holder's lease is live
   * or the webhook is no longer active.
   */
  async lease(id: string, owner: string, now: string, until: string): Promise<boolean> {
    return (
      (await this.write(
        this.db
          .updateTable('webhooks')
          .set({ lease_owner: owner, lease_until: until })
          .where('id', '=', id)
          .where('state', '=', 'active')
          .where((eb) =>
            eb.or([
              eb('lease_owner', 'is', null),
              eb('lease_owner', '=', owner),
              eb('lease_until', '<', now),
            ]),
          ),
      )) === 1
    );
  }

  /** Gives up the leases `owner` holds (or, with no owner, every lease: SQLite at start). */
  async release(owner: string | null, id?: string): Promise<void> {
    let q = this.db.updateTable('webhooks').set({ lease_owner: null, lease_until: null });
    if (owner !== null) q = q.where('lease_owner', '=', owner);
    else q = q.where('lease_owner', 'is not', null);
    if (id !== undefined) q = q.where('id', '=', id);
    await this.write(q);
  }

  /** Up to `limit` receipts of `site` after `seq`, in chain order. */
  receiptsAfter(site: string, seq: number, limit: number): Promise<ReceiptRow[]> {
    return this.db
      .selectFrom('receipts')
      .select(['id', 'site', 'seq', 'at', 'method', 'body', 'prev', 'hash', 'sig', 'kid'])
      .where('site', '=', site)
      .where('seq', '>', seq)
      .orderBy('seq')
      .limit(limit)
      .execute()
      .then((rows) => rows.map((r) => ({ ...r, seq: Number(r.seq) })));
  }

  /**
   * Up to `limit` erasures carried out on `site` after the audit log's `seq`, in order. The
   * audit log's primary key bounds the read to the entries after the cursor.
   */
  async erasuresAfter(site: string, seq: number, limit: number): Promise<ErasureRow[]> {
    const rows = await this.erasuresQuery(site, seq, limit).execute();
    return rows.map((r) => {
      let ids: unknown;
      try {
        ids = (JSON.parse(r.detail) as { ids?: unknown }).ids;
      } catch {}
      // Every erasure names at least one receipt: anything else is an entry altered in the
      // database (the audit log's chain would say so), never sent as an erasure of nothing.
      if (typeof ids !== 'string' || !/^\S+( \S+)*$/.test(ids)) throw new BadErasureEntry(Number(r.seq));
      return { seq: Number(r.seq), at: r.at, receipts: ids.split(' ') };
    });
  }

  /** `erasuresAfter`'s query (a test checks its plan). */
  erasuresQuery(site: string, seq: number, limit: number) {
    return this.db
      .selectFrom('audit_log')
      .select(['seq', 'at', 'detail'])
      .where('action', '=', ERASE)
      .where('target', '=', site)
      .where('seq', '>', seq)
      .orderBy('seq')
      .limit(limit);
  }

  /**
   * As `advance`, for the erasures' cursor. `delivered`: the receiver took them (its retry state
   * is cleared, as after receipts); otherwise the webhook does not want them and passes over
   * them, its retry state untouched.
   */
  async advanceErasures(
    id: string,
    owner: string,
    from: number,
    to: number,
    delivered: boolean,
  ): Promise<boolean> {
    return (
      (await this.write(
        this.db
          .updateTable('webhooks')
          .set(
            delivered
              ? { erase_cursor: to, attempts: 0, next_at: null, last_error: null }
              : { erase_cursor: to },
          )
          .where('id', '=', id)
          .where('lease_owner', '=', owner)
          .where('erase_cursor', '=', from),
      )) === 1
    );
  }

  /**
   * Moves the cursor from `from` to `to` after the receiver's 2xx, clearing the retry state.
   * Only while `owner` holds the lease and the cursor is still `from`: false otherwise (the
   * lease expired and another process took over; it redelivers, at least once).
   */
  async advance(id: string, owner: string, from: number, to: number): Promise<boolean> {
    return (
      (await this.write(
        this.db
          .updateTable('webhooks')
          .set({ cursor: to, attempts: 0, next_at: null, last_error: null })
          .where('id', '=', id)
          .where('lease_owner', '=', owner)
          .where('cursor', '=', from),
      )) === 1
    );
  }

  /** Records a failed attempt: when to try again, or (`failed`) that it gave up. */
  async failed(
    id: string,
    owner: string,
    set: { attempts: number; next_at: string | null; last_error: string; state: 'active' | 'failed' },
  ): Promise<void> {
    await this.write(
      this.db
        .updateTable('webhooks')
        .set(set)
        .where('id', '=', id)
        .where('lease_owner', '=', owner)
        // A person may have paused it meanwhile: that stays.
        .where('state', '=', 'active'),
    );
  }

  async logDelivery(row: DeliveriesTable): Promise<void> {
    await this.write(this.db.insertInto('webhook_deliveries').values(row));
  }

  /** A webhook's attempts, newest first, before the keyset (`at`, `id`). */
  async deliveries(
    webhookId: string,
    before: { at: string; id: string } | null,
    limit: number,
  ): Promise<DeliveriesTable[]> {
    let q = this.db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId);
    if (before) q = q.where((eb) => eb(eb.refTuple('at', 'id'), '<', eb.tuple(before.at, before.id)));
    const rows = await q.orderBy('at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    return rows.map((r) => ({
      ...r,
      attempt: Number(r.attempt),
      first_seq: r.first_seq === null ? null : Number(r.first_seq),
      last_seq: r.last_seq === null ? null : Number(r.last_seq),
      events: Number(r.events),
      status: r.status === null ? null : Number(r.status),
      duration_ms: Number(r.duration_ms),
    }));
  }

  /**
   * Drops attempts logged before `cutoff` (the log is for recent deliveries, not an archive),
   * and those of removed webhooks (an attempt in flight when its webhook was removed).
   */
  async pruneDeliveries(cutoff: string): Promise<void> {
    await this.write(
      this.db
        .deleteFrom('webhook_deliveries')
        .where((eb) =>
          eb.or([eb('at', '<', cutoff), eb('webhook_id', 'not in', eb.selectFrom('webhooks').select('id'))]),
        ),
    );
  }
}

/** PostgreSQL's int8 and SQLite's integers both arrive as numbers here, but maybe as strings. */
const num = (r: WebhooksTable): WebhooksTable => ({
  ...r,
  cursor: Number(r.cursor),
  erase_cursor: Number(r.erase_cursor),
  attempts: Number(r.attempts),
});

const info = (
  r: Omit<WebhookInfo, 'head' | 'erasures_pending'> & {
    head: number | string | null;
    erasures_pending: number | string | null;
    cursor: number;
    attempts: number;
  },
): WebhookInfo => ({
  ...r,
  cursor: Number(r.cursor),
  attempts: Number(r.attempts),
  head: r.head === null ? 0 : Number(r.head),
  erasures_pending: Number(r.erasures_pending ?? 0),
});
