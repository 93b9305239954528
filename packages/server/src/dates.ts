/**
 * Dates given by an operator (admin query strings, the CLI's `--from`/`--to`): a date
 * (`2026-11-01`, midnight UTC) or a date-time with an optional offset. Checked field by field,
 * not through `new Date()`, which throws on `2026-13-45` and silently rolls `2026-02-30` over
 * to 2 March: an export for "February" must never quietly include March.
 */
const DATE_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-](\d{2}):(\d{2}))?)?$/;

const daysIn = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate();

/** The instant as the UTC ISO string stored in `at`, or null when `s` is not a real date. */
export const parseDateParam = (s: string): string | null => {
  const m = DATE_RE.exec(s);
  if (!m) return null;
  const [y, mo, d, h = 0, mi = 0, sec = 0] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((v) =>
    v === undefined ? undefined : Number(v),
  ) as number[];
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > daysIn(y!, mo!)) return null;
  if (h > 23 || mi > 59 || sec > 59) return null;
  if (m[9] !== undefined && (Number(m[9]) > 23 || Number(m[10]) > 59)) return null;
  // A date-time without an offset is UTC, as a date alone is (never the server's local time).
  const iso = m[4] === undefined ? `${m[1]}-${m[2]}-${m[3]}T00:00:00Z` : m[8] ? s : `${s}Z`;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
};

/** What a refused date is told: the accepted forms. */
export const DATE_HINT =
  'must be a real date (2026-11-01) or date-time (2026-11-01T12:00:00Z), in UTC unless an offset is given';
