import type { FastifyReply } from 'fastify';
import { type Context, normalizeOrigin } from '../context.js';
import { DATE_HINT, parseDateParam } from '../dates.js';
import { apiError } from '../errors.js';
import type { ExportFilter } from '../store/types.js';

/** The date and site filter every admin read takes (export, stats, the receipts table). */
export const filterQuery = {
  // Checked as real dates by filterOf (a pattern cannot refuse 2026-02-30).
  from: { type: 'string', maxLength: 40 },
  to: { type: 'string', maxLength: 40 },
  site: { type: 'string', maxLength: 200 },
} as const;

export interface FilterQuery {
  from?: string;
  to?: string;
  site?: string;
}

/**
 * The filter of an admin query: dates as the UTC ISO strings stored in `at`. A date that is
 * not a real one is a 400 naming the parameter (it was a 500, or silently the wrong day).
 */
export const filterOf = (q: FilterQuery): ExportFilter | { field: 'from' | 'to' } => {
  const from = q.from === undefined ? undefined : parseDateParam(q.from);
  if (from === null) return { field: 'from' };
  const to = q.to === undefined ? undefined : parseDateParam(q.to);
  if (to === null) return { field: 'to' };
  return {
    // One spelling rule for a site everywhere (the erasure route trimmed, this did not).
    ...(q.site ? { site: normalizeOrigin(q.site) } : {}),
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
  };
};

export const badDate = (reply: FastifyReply, field: string) =>
  reply.code(400).send(apiError('ASSENT_BAD_FIELD', field, DATE_HINT));

/** Whether the server serves `site` (maybe published a moment ago by another process). */
export const knownSite = async (ctx: Context, site: string): Promise<boolean> =>
  ctx.policies.has(site) || (await ctx.policies.refresh(site)) !== undefined;

/** A site filter naming no site of this server: said, not answered with an empty table. */
export const unknownSite = (reply: FastifyReply, site: string, why = '') =>
  reply
    .code(400)
    .send(apiError('ASSENT_UNKNOWN_SITE', 'site', `${site} is not a site this server serves${why}`));
