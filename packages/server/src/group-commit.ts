import type { SignedReceipt } from '@assent/core';
import type { NewReceipt, Sealer, Store } from './store/types.js';

interface Waiter {
  readonly item: NewReceipt;
  readonly resolve: (r: SignedReceipt) => void;
  readonly reject: (e: unknown) => void;
}

/**
 * Group commit: receipts that arrive while a transaction is committing wait in a queue and
 * go into the next transaction together, so a hundred concurrent requests cost one fsync,
 * not a hundred. One transaction at a time per process; each `submit` resolves only after
 * the transaction holding its receipt has committed (never before: that is the 201's promise).
 */
export class GroupCommit {
  private queue: Waiter[] = [];
  private inFlight = 0;
  private scheduled = false;
  private idle: (() => void)[] = [];
  /** Transactions and receipts committed, for logs and benchmarks. */
  readonly counts = { batches: 0, receipts: 0 };
  /**
   * Set when a transaction failed and none has committed since (disk full, database read-only
   * or down): readiness reports it until a write succeeds again.
   */
  failing: { readonly since: number; readonly error: unknown } | null = null;
  /** Told of every batch once it committed or failed (metrics): its size and duration. */
  onBatch: ((size: number, seconds: number, error?: unknown) => void) | null = null;

  /**
   * @param concurrency batches in flight at once: the store's `writeConcurrency` (see
   *   KyselyStore: 2 on PostgreSQL, several for the SQLite writer thread, which merges them).
   */
  constructor(
    private readonly store: Store,
    private readonly seal: Sealer,
    private readonly maxBatch = 1000,
    private readonly concurrency = 1,
  ) {}

  /** Receipts waiting for a batch. */
  get depth(): number {
    return this.queue.length;
  }

  /** Batches handed to the store and not yet settled. */
  get batchesInFlight(): number {
    return this.inFlight;
  }

  submit(item: NewReceipt): Promise<SignedReceipt> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.scheduled && this.inFlight < this.concurrency) {
        this.scheduled = true;
        // Let the requests already read from the sockets join this batch.
        setImmediate(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  private pump(): void {
    while (this.queue.length && this.inFlight < this.concurrency) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight++;
      void this.commit(batch).finally(() => {
        this.inFlight--;
        if (this.queue.length) this.pump();
        else if (!this.inFlight) for (const f of this.idle.splice(0)) f();
      });
    }
  }

  private async commit(batch: Waiter[]): Promise<void> {
    const t0 = this.onBatch ? performance.now() : 0;
    try {
      const out = await this.store.append(
        batch.map((w) => w.item),
        this.seal,
      );
      this.failing = null;
      this.counts.batches++;
      this.counts.receipts += out.length;
      this.onBatch?.(batch.length, (performance.now() - t0) / 1000);
      for (const [i, w] of batch.entries()) w.resolve(out[i]!);
    } catch (e) {
      // Nothing of a failed transaction was written: every waiter hears so.
      this.failing ??= { since: Date.now(), error: e };
      this.onBatch?.(batch.length, (performance.now() - t0) / 1000, e);
      for (const w of batch) w.reject(e);
    }
  }

  /** A write succeeded outside the queue (readiness's probe): receipts may be written again. */
  recovered(): void {
    this.failing = null;
  }

  /** Resolves once every receipt submitted so far is committed or failed. */
  drain(): Promise<void> {
    if (!this.inFlight && !this.queue.length && !this.scheduled) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }
}
