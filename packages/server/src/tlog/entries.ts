import { stableStringify } from '@assent/core';
import { commitment } from './commitment.js';

/**
 * The log records the mechanism too (CNIL deliberation 2020-092 suggests a timestamped hash of
 * the consent-collection code): each publication of a site's policy and each banner build the
 * server hands out become entries of the site's log, beside its receipts, so the log proves
 * which wording and which code collected consent when. They are public: the entry (canonical
 * JSON) is kept in full and its leaf data is its SHA-256 (a commitment with an empty salt).
 */
export type LogEntry =
  | { readonly type: 'policy'; readonly site: string; readonly policy: string; readonly at: string }
  | { readonly type: 'banner'; readonly file: string; readonly sha256: string; readonly at: string };

/** The entry's canonical JSON, as stored and hashed. */
export const entryText = (e: LogEntry): string => stableStringify(e);

/** The leaf data of a public entry (hex). */
export const entryData = (text: string): string => commitment('', text);
