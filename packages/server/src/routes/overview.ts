import { MODES } from '@assent/core';
import type { FastifyInstance } from 'fastify';
import { allowedSites, scopedFilter } from '../admin-auth.js';
import type { Context } from '../context.js';
import { errorResponses } from '../errors.js';
import { errorReply, jsonReply } from '../schemas.js';
import type { LatestGroup } from '../store/admin-store.js';
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
      const [groups, receipts] = await Promise.all([
        ctx.store.admin.latestGroups(filter, new Date().toISOString()),
        ctx.store.stats(filter, 'method', []),
      ]);
      // Every chart is a sum of the same groups, so they cannot disagree with each other.
      const grouped = (key: (g: LatestGroup) => string) => {
        const out = new Map<string, Record<string, number>>();
        for (const g of groups) {
          const c = out.get(key(g)) ?? zero();
          c[g.method] = (c[g.method] ?? 0) + g.consents;
          out.set(key(g), c);
        }
        return [...out].sort(([a], [b]) => a.localeCompare(b));
      };
      const all = new Map(grouped(() => 'all')).get('all') ?? zero();
      const byMode = new Map(grouped((g) => g.mode));
      const granting = new Map<string, number>();
      for (const g of groups) for (const k of g.granted) granting.set(k, (granting.get(k) ?? 0) + g.consents);
      const consents = groups.reduce((n, g) => n + g.consents, 0);
      reply.header('cache-control', 'no-store');
      return {
        from: filter.from ?? null,
        to: filter.to ?? null,
        site: filter.site ?? null,
        consents,
        outcomes: OUTCOMES.map(([method, label]) => ({
          method,
          label,
          consents: all[method] ?? 0,
          receipts: receipts.find((r) => r.key === method)?.total ?? 0,
        })),
        days: grouped((g) => g.day).map(([day, counts]) => ({ day, counts })),
        regions: grouped((g) => g.region).map(([region, counts]) => ({ region, counts })),
        // Every mode in core's order, even one nobody got ("no opt-out visitor" is an answer).
        modes: MODES.map((mode) => ({ mode, counts: byMode.get(mode) ?? zero() })),
        categories: [...categories].map(([id, title]) => ({
          id,
          title,
          granting: granting.get(id) ?? 0,
          consents,
        })),
      };
    },
  );
};
