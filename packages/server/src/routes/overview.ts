import { MODES } from '@assent/core';
import type { FastifyInstance } from 'fastify';
import { allowedSites, scopedFilter } from '../admin-auth.js';
import type { Context } from '../context.js';
import { errorResponses } from '../errors.js';
import { errorReply, jsonReply } from '../schemas.js';
import { badDate, type FilterQuery, filterOf, filterQuery, knownSite, unknownSite } from './admin-filter.js';

/** The outcomes the overview counts, by the method of a consent's latest choice. */
export const OUTCOMES = [
  ['accept-all', 'Accept all'],
  ['reject-all', 'Reject all'],
  ['custom', 'Custom'],
  ['withdraw', 'Withdrawn'],
  ['gpc', 'GPC'],
  ['notice-ack', 'Notice acknowledged'],
] as const;

const zero = () => Object.fromEntries(OUTCOMES.map(([m]) => [m, 0])) as Record<string, number>;

/**
 * `GET /v1/admin/overview`: consent outcomes for a date range, counted per consent (each
 * visitor's latest choice in the range; a withdrawal after an acceptance counts once, as
 * withdrawn), with the number of receipts beside; over time (the day of each latest choice),
 * per region, per mode (opt-in, opt-out, notice: the one the visitor got) and per category.
 * Every role may read it.
 */
export const overviewRoutes = (ctx: Context) => async (app: FastifyInstance) => {
  app.get<{ Querystring: FilterQuery }>(
    '/v1/admin/overview',
    {
      config: { allow: ['owner', 'editor', 'auditor'], scope: 'site' },
      schema: {
        summary: "The console's overview",
        description:
          'Consents by outcome, by day, by region and by category over a period (default the last 30 days), for one site or all.',
        tags: ['admin'],

        querystring: { type: 'object', additionalProperties: false, properties: filterQuery },
        response: {
          200: jsonReply('`{ from, to, site, consents, outcomes, days, regions, categories }`.', {
            consents: { type: 'integer' },
          }),
          ...errorResponses,
          400: errorReply(
            'A date is not valid (ASSENT_BAD_FIELD), or the site is not served here (ASSENT_UNKNOWN_SITE).',
          ),
        },
      },
    },
    async (req, reply) => {
      const asked = filterOf(req.query);
      if ('field' in asked) return badDate(reply, asked.field);
      const filter = scopedFilter(req, asked);
      if (filter.site !== undefined && !(await knownSite(ctx, filter.site)))
        return unknownSite(reply, filter.site);
      const sites = filter.site ? [filter.site] : (allowedSites(req) ?? [...ctx.policies.sites()]);
      const categories = new Map<string, string>();
      for (const s of sites)
        for (const c of ctx.policies.site(s)?.policy.categories ?? [])
          if (!categories.has(c.id)) categories.set(c.id, c.title);
      const [all, days, regions, modes, granting, receipts] = await Promise.all([
        ctx.store.admin.latestChoices(filter, 'all'),
        ctx.store.admin.latestChoices(filter, 'day'),
        ctx.store.admin.latestChoices(filter, 'region'),
        ctx.store.admin.latestChoices(filter, 'mode'),
        ctx.store.admin.latestGranting(filter, [...categories.keys()]),
        ctx.store.stats(filter, 'method', []),
      ]);
      const grouped = (rows: { key: string; method: string; consents: number }[]) => {
        const out = new Map<string, Record<string, number>>();
        for (const r of rows) {
          const c = out.get(r.key) ?? zero();
          c[r.method] = (c[r.method] ?? 0) + r.consents;
          out.set(r.key, c);
        }
        return [...out].sort(([a], [b]) => a.localeCompare(b));
      };
      const byMode = new Map(grouped(modes));
      const consents = all.reduce((n, r) => n + r.consents, 0);
      reply.header('cache-control', 'no-store');
      return {
        from: filter.from ?? null,
        to: filter.to ?? null,
        site: filter.site ?? null,
        consents,
        outcomes: OUTCOMES.map(([method, label]) => ({
          method,
          label,
          consents: all.find((r) => r.method === method)?.consents ?? 0,
          receipts: receipts.find((r) => r.key === method)?.total ?? 0,
        })),
        days: grouped(days).map(([day, counts]) => ({ day, counts })),
        regions: grouped(regions).map(([region, counts]) => ({ region, counts })),
        // Every mode in core's order, even one nobody got ("no opt-out visitor" is an answer).
        modes: MODES.map((mode) => ({ mode, counts: byMode.get(mode) ?? zero() })),
        categories: [...categories].map(([id, title]) => ({
          id,
          title,
          granting: granting[id] ?? 0,
          consents,
        })),
      };
    },
  );
};
