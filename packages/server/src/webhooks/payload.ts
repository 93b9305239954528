import { ndjsonLine } from '../export.js';
import type { ErasureRow, ReceiptRow, WebhookEvent } from './store.js';

/** A withdrawal is a receipt like any other, whose method is core's `withdraw`. */
export const eventOf = (r: Pick<ReceiptRow, 'method'>): WebhookEvent =>
  r.method === 'withdraw' ? 'consent.withdrawn' : 'receipt.created';

/**
 * One delivery's body: `{"webhook","site","events":[{"id","type","seq","receipt"}]}`, each
 * `receipt` exactly as `GET /v1/admin/receipts` exports it (the signed canonical JSON with its
 * hash and sig; a purged receipt keeps its place and signature only), spliced in as text,
 * never re-serialised. `id` is the receipt's ID: the idempotency key a receiver dedupes on
 * (delivery is at least once).
 */
export const deliveryBody = (webhook: string, site: string, rows: readonly ReceiptRow[]): string => {
  const events = rows.map(
    (r) =>
      `{"id":${JSON.stringify(r.id)},"type":"${eventOf(r)}","seq":${r.seq},"receipt":${ndjsonLine(r).trimEnd()}}`,
  );
  return `{"webhook":${JSON.stringify(webhook)},"site":${JSON.stringify(site)},"events":[${events.join(',')}]}`;
};

/**
 * One delivery of erasures: `{"webhook","site","events":[{"id","type":"consent.erased","seq":null,
 * "erasure":{"audit","at","receipts"}}]}`. `receipts` are the IDs of the receipts erased, the
 * `id`s of the events that carried them (the receiver deletes what it kept of them); `audit`
 * is the erasure's entry in the audit log, and the event's `id` (`erasure_<audit>`) its
 * idempotency key. Never the consent ID: the server no longer has it.
 */
export const erasureBody = (webhook: string, site: string, rows: readonly ErasureRow[]): string =>
  JSON.stringify({
    webhook,
    site,
    events: rows.map((r) => ({
      id: `erasure_${r.seq}`,
      type: 'consent.erased',
      seq: null,
      erasure: { audit: r.seq, at: r.at, receipts: r.receipts },
    })),
  });

/** The body of a test event: no receipt, nothing a receiver would store. */
export const testBody = (webhook: string, site: string, id: string): string =>
  JSON.stringify({ webhook, site, events: [{ id, type: 'webhook.test', seq: null, receipt: null }] });
