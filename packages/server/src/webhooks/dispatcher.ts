import { type KeyObject, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { hostname } from 'node:os';
import type { Store } from '../store/types.js';
import { DeliveryRule, type PrivateNetworks, privateAddressError } from './address.js';
import { deliveryBody, erasureBody, eventOf, testBody } from './payload.js';
import { SIGNATURE_HEADER, signatureHeader } from './signature.js';
import { BadErasureEntry, type DeliveriesTable, type ErasureRow, type WebhooksTable } from './store.js';

export interface WebhookOptions {
  /**
   * How often (ms) the dispatcher looks for receipts other processes committed and for
   * retries that fell due. Default 1000.
   */
  readonly pollMs?: number;
  /**
   * How often (ms) it checks this process's commit counter, an in-memory number: a receipt
   * committed here is picked up within this time without any work on the write path. Default 20.
   */
  readonly wakeMs?: number;
  /** Most receipts in one delivery. Default 100. */
  readonly batch?: number;
  /** A receiver that has not answered in this time (ms) failed this attempt. Default 10 s. */
  readonly timeoutMs?: number;
  /** A process's hold on a webhook (ms), renewed per batch; a crashed holder's lapses after it. Default 30 s. */
  readonly leaseMs?: number;
  /**
   * Retries: attempt n waits min(capMs, baseMs·2^(n−1)), jittered to between half and all of
   * it; after `maxAttempts` failures the webhook is `failed` until resumed. Defaults 1 s, 1 h, 10
   * (about 4 hours in all before it gives up).
   */
  readonly backoff?: { readonly baseMs?: number; readonly capMs?: number; readonly maxAttempts?: number };
  /** Days the delivery log keeps an attempt. Default 30. */
  readonly keepDays?: number;
  /**
   * Receivers on addresses that are not public (loopback, private, link-local…): refused
   * (false, the default), all allowed (true), or those in a list of addresses and CIDR ranges.
   * See address.ts.
   */
  readonly privateNetworks?: PrivateNetworks;
}

/** The wait before attempt `attempt + 1` after `attempt` failures: exponential, capped, with jitter. */
export const backoffDelay = (
  attempt: number,
  baseMs: number,
  capMs: number,
  random = Math.random,
): number => {
  const d = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  // "Equal jitter": never less than half the delay (a receiver that is down gets real rest),
  // never in lockstep with the other webhooks that failed at the same moment.
  return Math.round(d / 2 + (random() * d) / 2);
};

/** What an attempt came to: a status, or an error code (never a message: those can name addresses). */
export interface AttemptResult {
  readonly status: number | null;
  readonly error: string | null;
  readonly ms: number;
}

const errorCode = (e: unknown): string => {
  const c = (e as { code?: unknown } | null)?.code;
  // Node's codes (ECONNREFUSED, ENOTFOUND, ECONNRESET, …) and ours carry no address.
  return typeof c === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(c) ? c : 'network error';
};

const iso = (ms: number) => new Date(ms).toISOString();
const newId = () => randomBytes(12).toString('base64url');

/**
 * Delivers each site's receipts to its webhooks, in chain order, at least once; and the
 * erasures carried out on the site, in the audit log's order, through a second cursor over it.
 *
 * Why a cursor and a poller rather than a hook in the write path: receipts are group-committed
 * (group-commit.ts, the SQLite writer thread) against a throughput target, and a webhook's
 * receiver may be slow or down for hours. So nothing is added to a receipt's transaction;
 * each webhook keeps a durable cursor (the last `seq` of its site's hash chain a receiver
 * acknowledged), and this loop reads the receipts after it, posts them, and moves the cursor
 * only after a 2xx. A crash or restart at any point re-sends from the cursor: an acknowledged
 * receipt is never lost, at worst delivered twice (receivers dedupe on the receipt ID).
 * It learns of this process's commits by watching the group commit's counter (a number in
 * memory, every `wakeMs`), and of other processes' commits and due retries every `pollMs`.
 */
export class WebhookDispatcher {
  /** This process's name on the leases it takes. */
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly o: Required<Omit<WebhookOptions, 'backoff'>> & {
    readonly baseMs: number;
    readonly capMs: number;
    readonly maxAttempts: number;
  };
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private seen = -1;
  private nextPoll = 0;
  private nextPrune = 0;
  /** Whether any webhook is active (checked on each poll): none, and commits wake nothing. */
  private any = true;
  private readonly stopping = new AbortController();
  /** Where deliveries may go, and the resolver each connects through (address.ts). */
  readonly rule: DeliveryRule;

  constructor(
    private readonly store: Store,
    private readonly signer: { readonly kid: string; readonly key: KeyObject },
    /** Receipts committed by this process so far (GroupCommit's counter). */
    private readonly committed: () => number,
    opts: WebhookOptions,
    private readonly onError: (err: unknown) => void,
  ) {
    this.o = {
      pollMs: opts.pollMs ?? 1000,
      wakeMs: opts.wakeMs ?? 20,
      batch: opts.batch ?? 100,
      timeoutMs: opts.timeoutMs ?? 10_000,
      leaseMs: opts.leaseMs ?? 30_000,
      keepDays: opts.keepDays ?? 30,
      baseMs: opts.backoff?.baseMs ?? 1000,
      capMs: opts.backoff?.capMs ?? 3_600_000,
      maxAttempts: opts.backoff?.maxAttempts ?? 10,
      privateNetworks: opts.privateNetworks ?? false,
    };
    this.rule = new DeliveryRule(this.o.privateNetworks);
    if (this.o.leaseMs <= this.o.timeoutMs)
      throw new Error('webhooks: leaseMs must be longer than timeoutMs (a lease must outlive an attempt)');
  }

  async start(): Promise<void> {
    // A SQLite file has one server process (it holds the file exclusively): a lease left by
    // one that crashed is stale, and waiting out leaseMs would only delay the redelivery.
    if (this.store.kind === 'sqlite') await this.store.webhooks.release(null);
    this.timer = setInterval(() => this.check(), this.o.wakeMs);
    this.timer.unref();
  }

  /** Look now (a webhook was added or resumed). */
  nudge(): void {
    this.any = true;
    this.nextPoll = 0;
  }

  /** Stops: aborts attempts in flight (their batches stay after the cursor) and gives up its leases. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.stopping.abort();
    await this.running;
    if (this.timer) await this.store.webhooks.release(this.owner).catch(this.onError);
  }

  private check(): void {
    if (this.running || this.stopped) return;
    const now = Date.now();
    const c = this.committed();
    const poll = now >= this.nextPoll;
    if (!poll && (c === this.seen || !this.any)) return;
    this.seen = c;
    if (poll) this.nextPoll = now + this.o.pollMs;
    this.running = this.tick(poll)
      .catch(this.onError)
      .finally(() => {
        this.running = null;
      });
  }

  private async tick(poll: boolean): Promise<void> {
    const now = Date.now();
    if (poll) {
      this.any = (await this.store.webhooks.list()).some((w) => w.state === 'active');
      if (now >= this.nextPrune) {
        this.nextPrune = now + 3_600_000;
        await this.store.webhooks.pruneDeliveries(iso(now - this.o.keepDays * 86_400_000));
      }
    }
    if (!this.any) return;
    const due = await this.store.webhooks.due(iso(now));
    // Webhooks are independent: a slow receiver does not hold up another's.
    await Promise.all(due.map((h) => this.run(h.id).catch(this.onError)));
  }

  /** Delivers a webhook's backlog batch by batch while it succeeds, under its lease. */
  private async run(id: string): Promise<void> {
    const { webhooks } = this.store;
    let held = false;
    try {
      for (;;) {
        if (this.stopped) return;
        const now = Date.now();
        if (!(await webhooks.lease(id, this.owner, iso(now), iso(now + this.o.leaseMs)))) return;
        held = true;
        // Read again under the lease: another process may have moved the cursor meanwhile.
        const h = await webhooks.get(id);
        if (h?.state !== 'active' || (h.next_at !== null && h.next_at > iso(now))) return;
        const wanted = new Set(h.events.split(','));
        // Erasures first: a receiver is told of one as soon as it can be (Art. 19).
        let erasures: ErasureRow[];
        try {
          erasures = await webhooks.erasuresAfter(h.site, h.erase_cursor, this.o.batch);
        } catch (e) {
          if (!(e instanceof BadErasureEntry)) throw e;
          // Not sent, not skipped: on the webhook's page as its last error, retried with
          // backoff like any failure, and in the server's log.
          this.onError(e);
          const r = { status: null, error: 'ASSENT_BAD_AUDIT_ENTRY', ms: 0 };
          await this.record(h, 'erasures', e.seq, e.seq, 0, iso(Date.now()), r);
          return;
        }
        if (erasures.length) {
          const last = erasures.at(-1)!.seq;
          if (
            wanted.has('consent.erased') &&
            !(await this.deliver(
              h,
              'erasures',
              erasureBody(h.id, h.site, erasures),
              erasures[0]!.seq,
              last,
              erasures.length,
            ))
          )
            return;
          // A webhook that does not want them passes over them.
          if (
            !(await webhooks.advanceErasures(
              h.id,
              this.owner,
              h.erase_cursor,
              last,
              wanted.has('consent.erased'),
            ))
          )
            return;
          continue;
        }
        const rows = await webhooks.receiptsAfter(h.site, h.cursor, this.o.batch);
        if (!rows.length) return;
        const send = rows.filter((r) => wanted.has(eventOf(r)));
        const last = rows.at(-1)!.seq;
        if (
          send.length &&
          !(await this.deliver(
            h,
            'receipts',
            deliveryBody(h.id, h.site, send),
            send[0]!.seq,
            send.at(-1)!.seq,
            send.length,
          ))
        )
          return;
        // Receipts this webhook does not want are passed over with the ones it got.
        if (!(await webhooks.advance(h.id, this.owner, h.cursor, last))) return;
        if (rows.length < this.o.batch) return;
      }
    } finally {
      if (held) await webhooks.release(this.owner, id).catch(this.onError);
    }
  }

  /**
   * One attempt at a batch, logged; on failure, the webhook's retry state (its backoff, or
   * `failed` after the last attempt). Whether the receiver took it (a 2xx): only then may the
   * caller move the batch's cursor.
   */
  private async deliver(
    h: WebhooksTable,
    kind: 'receipts' | 'erasures',
    body: string,
    first: number,
    last: number,
    events: number,
  ): Promise<boolean> {
    const at = iso(Date.now());
    const r = await this.post(h, body);
    // Stopping: the batch stays after the cursor and goes out again after the restart.
    if (this.stopped && r.error === 'aborted') return false;
    return this.record(h, kind, first, last, events, at, r);
  }

  /**
   * Logs an attempt and, when it failed, sets the webhook's retry state: `attempts` counts the
   * receiver's failures in a row, whatever the batch, and the backoff grows with it.
   */
  private async record(
    h: WebhooksTable,
    kind: 'receipts' | 'erasures',
    first: number,
    last: number,
    events: number,
    at: string,
    r: AttemptResult,
  ): Promise<boolean> {
    const { webhooks } = this.store;
    const attempt = h.attempts + 1;
    const ok = r.status !== null && r.status >= 200 && r.status < 300;
    const outcome = ok ? 'delivered' : attempt >= this.o.maxAttempts ? 'failed' : 'retry';
    await webhooks.logDelivery({
      id: newId(),
      webhook_id: h.id,
      at,
      kind,
      attempt,
      first_seq: first,
      last_seq: last,
      events,
      status: r.status,
      error: r.error,
      duration_ms: r.ms,
      outcome,
    });
    if (!ok)
      await webhooks.failed(h.id, this.owner, {
        attempts: attempt,
        next_at:
          outcome === 'failed' ? null : iso(Date.now() + backoffDelay(attempt, this.o.baseMs, this.o.capMs)),
        last_error: r.error ?? `HTTP ${r.status}`,
        state: outcome === 'failed' ? 'failed' : 'active',
      });
    return ok;
  }

  /**
   * One POST, signed; a 3xx is not followed (it is a failure: the receiver's URL is the one
   * registered). Through node:http(s) rather than fetch, for its `lookup`: the addresses a
   * name resolves to are checked in the lookup the connection uses (address.ts).
   */
  async post(h: Pick<WebhooksTable, 'id' | 'url' | 'secret'>, body: string): Promise<AttemptResult> {
    const t0 = performance.now();
    const ms = () => Math.round(performance.now() - t0);
    const timeout = AbortSignal.timeout(this.o.timeoutMs);
    try {
      const url = new URL(h.url);
      // An address written in the URL is connected to without a lookup: checked here.
      if (this.rule.refusesAddressIn(url)) throw privateAddressError();
      const status = await new Promise<number>((resolve, reject) => {
        const req = (url.protocol === 'https:' ? https : http).request(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'user-agent': 'Assent-Webhooks/1',
            'assent-webhook-id': h.id,
            [SIGNATURE_HEADER]: signatureHeader(body, Math.floor(Date.now() / 1000), h.secret, this.signer),
          },
          lookup: this.rule.lookup,
          signal: AbortSignal.any([timeout, this.stopping.signal]),
        });
        req.once('response', (res) => {
          // The answer's body is not read: a receiver cannot make the server hold megabytes.
          res.destroy();
          resolve(res.statusCode ?? 0);
        });
        req.once('error', reject);
        req.end(body);
      });
      return { status, error: null, ms: ms() };
    } catch (e) {
      const error = timeout.aborted ? 'timeout' : this.stopping.signal.aborted ? 'aborted' : errorCode(e);
      return { status: null, error, ms: ms() };
    }
  }

  /** Sends a `webhook.test` event now, once (no retry, the cursor untouched), and logs it. */
  async test(h: WebhooksTable): Promise<DeliveriesTable> {
    const at = iso(Date.now());
    const r = await this.post(h, testBody(h.id, h.site, `test_${newId()}`));
    const ok = r.status !== null && r.status >= 200 && r.status < 300;
    const row: DeliveriesTable = {
      id: newId(),
      webhook_id: h.id,
      at,
      kind: 'test',
      attempt: 1,
      first_seq: null,
      last_seq: null,
      events: 1,
      status: r.status,
      error: r.error,
      duration_ms: r.ms,
      outcome: ok ? 'test-ok' : 'test-failed',
    };
    await this.store.webhooks.logDelivery(row);
    return row;
  }
}
