/**
 * The banner's localStorage keys: written by the banner (sync.ts, discover.ts), read as the
 * consent record by the scanner (which must not call them a tracker's storage). One place,
 * so the two cannot drift apart. Each is written only with or after a choice.
 */
/** When the stored choice was last checked with the receipt server (sync.ts). */
export const CHECKED_KEY = 'assent-checked';
/** The categories that held elements named, in first-seen order: their cookie bits (discover.ts). */
export const CATEGORIES_KEY = 'assent-categories';
/** Both, for whoever reads them all. */
export const STORAGE_KEYS: readonly string[] = [CHECKED_KEY, CATEGORIES_KEY];
