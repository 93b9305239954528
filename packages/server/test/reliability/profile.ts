/**
 * How long the reliability suite runs. `npm test` runs the CI profile (well under three
 * minutes for the whole suite); `npm run soak` sets ASSENT_SOAK=1 for the long one. Both are
 * bounded in count, never in wall-clock time, so a slow machine runs the same proof, slower.
 *
 * ASSENT_SEED=<integer> replays a run: every random choice (fuzzed requests, kill moments,
 * which client sends what) derives from it, and each test prints the seed it used.
 */
export const SOAK = process.env.ASSENT_SOAK === '1';

export const PROFILE = SOAK
  ? {
      name: 'soak',
      /** Fuzzed requests per database (SQLite and PostgreSQL): 60,000 in all. */
      fuzzRuns: 30_000,
      /** SIGKILLs under load, per database. */
      kills: 20,
      /** PostgreSQL outages under load (stop, start, recover). */
      pgOutages: 5,
      /** Disk-full episodes under load (fill, refuse, free, recover). */
      diskFulls: 5,
      /** Receipts each of the four PostgreSQL processes must have acknowledged before they stop. */
      multiAcks: 10_000,
      /** Timeout of each file's tests: a guard against a hang, never a performance assertion. */
      timeoutMs: 60 * 60_000,
    }
  : {
      name: 'ci',
      fuzzRuns: 2_600,
      kills: 3,
      pgOutages: 1,
      diskFulls: 1,
      multiAcks: 600,
      timeoutMs: 600_000,
    };

const fromEnv = Number(process.env.ASSENT_SEED);
/** The seed of this run: ASSENT_SEED when given, else a fresh one (printed by each test). */
export const SEED = Number.isSafeInteger(fromEnv) && process.env.ASSENT_SEED ? fromEnv : Date.now() % 2 ** 31;

/** A small seeded PRNG (mulberry32): the same seed gives the same kill moments and load mix. */
export const rng = (seed: number) => {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return {
    next,
    /** An integer in [lo, hi]. */
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
  };
};
export type Rng = ReturnType<typeof rng>;
