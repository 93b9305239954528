/**
 * Bounds on calls into a page. Playwright's `evaluate`, `$$eval` and `title()` take no timeout:
 * a page whose script never yields (`for (;;) {}`) never answers them, and the scan would wait
 * for ever. Every such call goes through `within`, and each visit has a deadline (phase.ts).
 */

/** Raised when a bounded call or a visit ran out of time. */
export class Timeout extends Error {}

/**
 * `p`, or `fallback` once `ms` have passed without an answer (a late rejection of `p` is
 * swallowed: nobody waits for it any more).
 */
export const within = <T>(p: Promise<T>, ms: number, fallback: T): Promise<T> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  p.catch(() => {});
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
};

/** How long one call into a page may take before its answer is given up (ms). */
export const PAGE_CALL_MS = 10_000;
