import {
  type Controller,
  configOf,
  createPolicy,
  decidedKeys,
  iso27560Record,
  kantaraReceipt,
  type PolicyDoc,
  type SignedReceipt,
} from '@assent/core';
import type { ExportFilter, ExportRow, Store, StoredPolicy } from './store/types.js';

/**
 * `ndjson` (the signed receipts, verifiable), `csv` (spreadsheets), and the two standard shapes
 * other tools read, one JSON record per line: `iso27560` (ISO/IEC TS 27560:2023 consent
 * records) and `kantara` (Kantara Consent Receipt v1.1). The standard shapes are views of the
 * signed receipts (core's standard-records.ts), need the site's controller, and leave out
 * purged receipts (no consent is left to describe; their place in the chain is in `ndjson`).
 */
export type ExportFormat = 'ndjson' | 'csv' | 'iso27560' | 'kantara';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['ndjson', 'csv', 'iso27560', 'kantara'];
/** The formats that describe consent to other tools and so name the site's controller. */
export const needsController = (f: ExportFormat): boolean => f === 'iso27560' || f === 'kantara';

/** Rows read per query: keyset pagination keeps memory flat whatever the export's size. */
const PAGE = 2000;

/** All rows matching `filter`, in chain order (site, seq), one page in memory at a time. */
export async function* exportRows(store: Store, filter: ExportFilter): AsyncGenerator<ExportRow[]> {
  let after: { site: string; seq: number } | null = null;
  for (;;) {
    const rows = await store.page(filter, after, PAGE);
    if (!rows.length) return;
    yield rows;
    const last = rows.at(-1)!;
    after = { site: last.site, seq: last.seq };
    if (rows.length < PAGE) return;
  }
}

/**
 * What a purged receipt's line keeps: its place in the chain and its signature. `verify`
 * refuses any other field on a purged line (an altered receipt marked purged); the line below
 * is type-checked against this list, so the two cannot drift.
 */
export const PURGED_FIELDS = [
  'v',
  'id',
  'site',
  'seq',
  'at',
  'prev',
  'kid',
  'hash',
  'sig',
  'purged',
] as const;

/**
 * One NDJSON line: the signed body as stored (already canonical JSON) with hash and sig
 * spliced in, so exporting never parses or re-serialises a receipt. A purged receipt keeps
 * only {@link PURGED_FIELDS}.
 */
export const ndjsonLine = (r: Omit<ExportRow, 'policy'>): string =>
  r.body === null
    ? `${JSON.stringify({ v: 1, id: r.id, site: r.site, seq: r.seq, at: r.at, prev: r.prev, kid: r.kid, hash: r.hash, sig: r.sig, purged: true } satisfies Record<(typeof PURGED_FIELDS)[number], unknown>)}\n`
    : `{"hash":"${r.hash}","sig":"${r.sig}",${r.body.slice(1)}\n`;

export const CSV_COLUMNS = [
  'id',
  'site',
  'seq',
  'at',
  'consentId',
  'policyVersion',
  'policySha256',
  'mode',
  'method',
  'source',
  'gpc',
  'granted',
  'refused',
  'region',
  'ua',
  'lang',
  'pagePath',
  'expiresAt',
  'ipHash',
  'prev',
  'hash',
  'sig',
  'purged',
] as const;

/**
 * A CSV cell: quoted when needed, and prefixed with `'` when it starts like a formula, so a
 * spreadsheet never executes a value a visitor controlled (CSV injection).
 */
const cell = (v: unknown): string => {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export const csvHeader = `${CSV_COLUMNS.join(',')}\n`;

/**
 * One CSV row. `granted` and `refused` are what the consent page and the standard exports say
 * the visitor chose (core's `decidedKeys`, i.e. `allowed`): over `keys`, the categories and
 * services of the policy the receipt names (a key the receipt leaves out is refused, a granted
 * category grants its services), or the receipt's own keys when that policy is not known (a
 * schema-1 receipt).
 */
export const csvLine = (r: Omit<ExportRow, 'policy'>, keys?: readonly string[]): string => {
  if (r.body === null)
    return `${[r.id, r.site, r.seq, r.at, ...Array(15).fill(''), r.prev, r.hash, r.sig, 'true'].map(cell).join(',')}\n`;
  const b = JSON.parse(r.body) as SignedReceipt;
  const { granted, refused } = decidedKeys(b.choices, keys ?? Object.keys(b.choices));
  return `${[
    r.id,
    r.site,
    r.seq,
    r.at,
    b.consentId,
    b.policy.version,
    // Receipts of schema v1 named a 32-bit fingerprint, not a published policy.
    b.policy.sha256 ?? '',
    b.mode,
    b.method,
    b.source,
    b.signals.gpc,
    granted.join(' '),
    refused.join(' '),
    b.region,
    b.ua,
    b.lang,
    b.page.path,
    b.expiresAt,
    b.ipHash,
    r.prev,
    r.hash,
    r.sig,
    'false',
  ]
    .map(cell)
    .join(',')}\n`;
};

/** The category and service keys of a stored policy document, in the policy's order. */
const keysOf = (doc: string): readonly string[] => createPolicy(configOf(JSON.parse(doc) as PolicyDoc)).keys;

/**
 * A policy line of the NDJSON export: `{"type":"policy","sha256":…,"doc":…}`, the document as
 * the registry keeps it (its canonical JSON), so `verify` can hash it and check every receipt
 * that names it. They come first, before the receipts.
 */
export const policyLine = (p: StoredPolicy): string =>
  `{"type":"policy","sha256":"${p.sha256}","doc":${p.doc}}\n`;

/**
 * The export as text chunks (one per page of rows), for a stream or a file. NDJSON carries
 * every policy its receipts name first (the proof of what each visitor was shown travels with
 * it); CSV, for spreadsheets, names each receipt's policy by SHA-256.
 */
export async function* exportChunks(
  store: Store,
  filter: ExportFilter,
  format: ExportFormat,
  controller?: Controller,
): AsyncGenerator<string> {
  if (needsController(format)) {
    if (!controller) throw new Error(`export: format ${format} needs the site's controller`);
    yield* standardChunks(store, filter, format === 'kantara' ? kantaraReceipt : iso27560Record, controller);
    return;
  }
  const carried = new Set<string>();
  // CSV: each policy's keys, to say what each receipt refused (`csvLine`), read once per policy.
  const keys = new Map<string, readonly string[] | undefined>();
  if (format === 'csv') {
    yield csvHeader;
    for (const p of await store.policiesOf(filter)) keys.set(p.sha256, keysOf(p.doc));
  } else {
    let chunk = '';
    for (const p of await store.policiesOf(filter)) {
      carried.add(p.sha256);
      chunk += policyLine(p);
    }
    if (chunk) yield chunk;
  }
  for await (const rows of exportRows(store, filter)) {
    let chunk = '';
    for (const r of rows) {
      if (format === 'csv') {
        // A policy published while the export streams (as below).
        if (r.policy && !keys.has(r.policy)) {
          const p = await store.policy(r.policy);
          keys.set(r.policy, p ? keysOf(p.doc) : undefined);
        }
        chunk += csvLine(r, r.policy ? keys.get(r.policy) : undefined);
        continue;
      }
      // Receipts keep coming while an export streams, and a policy published meanwhile is
      // named by some of them: its line goes before the first (verify reads policies wherever
      // they come before their receipts). Without it, such an export failed `verify`.
      if (r.policy && !carried.has(r.policy)) {
        carried.add(r.policy);
        const p = await store.policy(r.policy);
        if (p) chunk += policyLine(p);
      }
      chunk += ndjsonLine(r);
    }
    yield chunk;
  }
}

/** One standard record per line, each from a receipt and the policy it names. */
async function* standardChunks(
  store: Store,
  filter: ExportFilter,
  shape: (r: SignedReceipt, doc: PolicyDoc | null, c: Controller) => object,
  controller: Controller,
): AsyncGenerator<string> {
  const docs = new Map<string, PolicyDoc>();
  for (const p of await store.policiesOf(filter)) docs.set(p.sha256, JSON.parse(p.doc) as PolicyDoc);
  for await (const rows of exportRows(store, filter)) {
    let chunk = '';
    for (const row of rows) {
      if (row.body === null) continue;
      const r = { ...(JSON.parse(row.body) as SignedReceipt), hash: row.hash, sig: row.sig };
      // A policy published while the export streams (see exportChunks).
      const sha = r.policy?.sha256;
      if (sha && !docs.has(sha)) {
        const p = await store.policy(sha);
        if (p) docs.set(sha, JSON.parse(p.doc) as PolicyDoc);
      }
      chunk += `${JSON.stringify(shape(r, (sha && docs.get(sha)) || null, controller))}\n`;
    }
    if (chunk) yield chunk;
  }
}
