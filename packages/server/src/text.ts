/**
 * Stored strings a visitor controls (a receipt's page path, a policy's texts) end up on the
 * consent page, in exports opened in spreadsheets and in terminals. Characters that are
 * invisible or reorder what is shown are refused, not stored: C0/C1 control characters
 * (NUL first of all), bidirectional marks, embeddings, overrides and isolates (a path that
 * displays as another one; the Arabic letter mark too), zero-width characters outside prose
 * (prose needs the joiners of Persian, Indic scripts and emoji), and lone UTF-16 surrogates (not text at all: they turn into U+FFFD or
 * fail on the way into PostgreSQL).
 */
// With the `u` flag a surrogate range only matches surrogates that are not part of a pair.
const UNSAFE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
  /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff\ud800-\udfff]/u;
// Prose (a policy's texts) may break lines and hold the bidi marks right-to-left languages use.
const UNSAFE_PROSE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\ud800-\udfff]/u;

/** Why `s` may not be stored, or null when it may. */
export const unsafeText = (s: string, prose = false): string | null => {
  const m = (prose ? UNSAFE_PROSE : UNSAFE).exec(s);
  if (!m) return null;
  const c = m[0].codePointAt(0)!;
  const hex = `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
  if (c >= 0xd800 && c <= 0xdfff) return `must not contain a lone surrogate (${hex})`;
  // Zero-width spaces and joiners, the word joiner, the BOM: a path that looks like another.
  if ((c >= 0x200b && c <= 0x200d) || c === 0x2060 || c === 0xfeff)
    return `must not contain invisible characters (${hex})`;
  if (c >= 0x200e || c === 0x061c) return `must not contain bidirectional control characters (${hex})`;
  return `must not contain control characters (${hex})`;
};

/**
 * The first unsafe string anywhere in a JSON value, as `[path, reason]` (`texts.en.message`),
 * or null. Object keys are checked too: they are stored as well. A loop over a stack, not
 * recursion: a body of 5,000 nested arrays (under 8 KiB) overflowed the call stack (a 500).
 */
export const unsafeIn = (v: unknown, path = ''): [string, string] | null => {
  // Each entry: a value, its path, and the object key it sits under (checked when reached, so
  // the first problem in document order is the one reported).
  const todo: [unknown, string, string | null][] = [[v, path, null]];
  for (let next = todo.pop(); next; next = todo.pop()) {
    const [x, at, key] = next;
    const badKey = key === null ? null : unsafeText(key);
    if (badKey) return [at, `key ${badKey}`];
    if (typeof x === 'string') {
      const r = unsafeText(x, true);
      if (r) return [at, r];
    } else if (Array.isArray(x)) {
      for (let i = x.length - 1; i >= 0; i--) todo.push([x[i], `${at}[${i}]`, null]);
    } else if (x && typeof x === 'object') {
      const entries = Object.entries(x);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, y] = entries[i]!;
        todo.push([y, at ? `${at}.${k}` : k, k]);
      }
    }
  }
  return null;
};

/**
 * The first query or path parameter (`{ site: '\0' }`) holding characters no parameter of
 * this API may hold, as `[name, reason]`, or null. Checked for every route before its own
 * validation: a NUL in `?site=` was a 500 from PostgreSQL ("invalid byte sequence"), not the
 * 400 naming the parameter that SQLite's "unknown site" gave.
 */
export const unsafeParam = (params: unknown): [string, string] | null => {
  if (!params || typeof params !== 'object') return null;
  for (const [k, v] of Object.entries(params)) {
    const badKey = unsafeText(k);
    if (badKey) return [k, `key ${badKey}`];
    // A repeated parameter (`?site=a&site=b`) is an array of its values.
    for (const x of Array.isArray(v) ? v : [v]) {
      const r = typeof x === 'string' ? unsafeText(x) : null;
      if (r) return [k, r];
    }
  }
  return null;
};
