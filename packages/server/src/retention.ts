import type { FastifyBaseLogger } from 'fastify';
import type { Context } from './context.js';

const DAY = 86_400_000;
const BATCH = 1000;

/**
 * Retention: once a consent has been expired for `days`, its receipts lose their payload
 * (consent ID, choices, page, IP hash …) but keep their row: id, site, seq, time, prev,
 * hash and signature. The signature covers the hash, and the next receipt's `prev` names
 * it, so the chain still verifies end to end with the personal data gone.
 */
export const purgeExpired = async (
  ctx: Pick<Context, 'store'>,
  days: number,
  now = Date.now(),
): Promise<number> => {
  const cutoff = new Date(now - days * DAY).toISOString();
  const at = new Date(now).toISOString();
  let total = 0;
  for (;;) {
    // Small batches: short transactions never hold up receipts for long.
    const n = await ctx.store.purge(cutoff, at, BATCH);
    total += n;
    if (n < BATCH) return total;
  }
};

/**
 * Runs the purge and the salt rotation now and then every `intervalMs` (default hourly). With
 * `days` null (retention off) the salts still go after two days: the IP hash's promise does not
 * depend on how long receipts are kept.
 */
export const startRetention = (
  ctx: Context,
  log: FastifyBaseLogger,
  days: number | null,
  intervalMs = 3_600_000,
  /** Told of each run: the receipts purged, or null when it failed (metrics). */
  onRun?: (purged: number | null) => void,
): { stop(): void } => {
  const run = async () => {
    try {
      const purged = days === null ? null : await purgeExpired(ctx, days);
      await ctx.hasher.rotate();
      if (purged === null) return;
      if (purged) log.info({ purged }, 'retention: purged expired receipts');
      onRun?.(purged);
    } catch (err) {
      log.error({ err }, 'retention job failed');
      onRun?.(null);
    }
  };
  const timer = setInterval(run, intervalMs);
  timer.unref();
  const first = setTimeout(run, 1000);
  first.unref();
  return {
    stop() {
      clearInterval(timer);
      clearTimeout(first);
    },
  };
};
