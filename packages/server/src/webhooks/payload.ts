import { ndjsonLine } from '../export.js';
import type { ReceiptRow, WebhookEvent } from './store.js';

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

/** The body of a test event: no receipt, nothing a receiver would store. */
export const testBody = (webhook: string, site: string, id: string): string =>
  JSON.stringify({ webhook, site, events: [{ id, type: 'webhook.test', seq: null, receipt: null }] });
