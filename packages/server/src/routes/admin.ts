import { createHash, timingSafeEqual } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { type Context, isOrigin, normalizeOrigin } from '../context.js';
import { apiError, errorResponses } from '../errors.js';
import { type ExportFormat, exportChunks } from '../export.js';
import { publishable } from '../policies.js';
import type { ExportFilter, StatsBy } from '../store/types.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Constant-time token check: both sides are hashed first so the comparison takes the same
 * time whatever the length or content of the guess.
 */
export const tokenMatches = (sent: string | undefined, token: string | undefined): boolean => {
  if (!token || sent === undefined) return false;
  const m = /^Bearer (.+)$/.exec(sent);
  return timingSafeEqual(digest(m?.[1] ?? ''), digest(token)) && m !== null;
};

const ISO = '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,3})?)?(Z|[+-]\\d{2}:\\d{2})?)?$';

const filterQuery = {
  from: { type: 'string', pattern: ISO },
  to: { type: 'string', pattern: ISO },
  site: { type: 'string', maxLength: 200 },
} as const;

interface FilterQuery {
  from?: string;
  to?: string;
  site?: string;
}

/** A date or date-time, as the UTC ISO string stored in `at`. */
const toFilter = (q: FilterQuery): ExportFilter => ({
  ...(q.site ? { site: q.site.replace(/\/+$/, '').toLowerCase() } : {}),
  ...(q.from ? { from: new Date(q.from).toISOString() } : {}),
  ...(q.to ? { to: new Date(q.to).toISOString() } : {}),
});

/** Admin API: bearer token, export and aggregates. */
export const adminRoutes = (ctx: Context) => async (app: FastifyInstance) => {
  app.addHook('onRequest', async (req, reply) => {
    if (!tokenMatches(req.headers.authorization, ctx.adminToken)) {
      reply.header('www-authenticate', 'Bearer');
      return reply
        .code(401)
        .send(
          apiError(
            'ASSENT_UNAUTHORIZED',
            'authorization',
            ctx.adminToken
              ? 'a valid "Bearer <token>" is required'
              : 'the admin API is off: no admin token is configured',
          ),
        );
    }
  });

  app.get<{ Querystring: FilterQuery & { format?: ExportFormat } }>(
    '/v1/admin/receipts',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { ...filterQuery, format: { type: 'string', enum: ['ndjson', 'csv'] } },
        },
        response: errorResponses,
      },
    },
    async (req, reply) => {
      const format = req.query.format ?? 'ndjson';
      // Streamed page by page with back-pressure: a million rows never sit in memory.
      const body = Readable.from(exportChunks(ctx.store, toFilter(req.query), format));
      const day = new Date().toISOString().slice(0, 10);
      return reply
        .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson')
        .header('content-disposition', `attachment; filename="receipts-${day}.${format}"`)
        .header('cache-control', 'no-store')
        .send(body);
    },
  );

  app.get<{ Querystring: FilterQuery & { by?: StatsBy } }>(
    '/v1/admin/stats',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...filterQuery,
            by: { type: 'string', enum: ['day', 'category', 'region', 'method'] },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              by: { type: 'string' },
              from: { type: ['string', 'null'] },
              to: { type: ['string', 'null'] },
              site: { type: ['string', 'null'] },
              rows: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    key: { type: 'string' },
                    total: { type: 'integer' },
                    accepted: { type: 'integer' },
                  },
                },
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const by = req.query.by ?? 'day';
      const filter = toFilter(req.query);
      const sites = filter.site ? [filter.site] : [...ctx.policies.sites()];
      const categories = [
        ...new Set(sites.flatMap((s) => ctx.policies.site(s)?.policy.categories.map((c) => c.id) ?? [])),
      ];
      const rows = await ctx.store.stats(filter, by, categories);
      return { by, from: filter.from ?? null, to: filter.to ?? null, site: filter.site ?? null, rows };
    },
  );

  // Publishing a policy: the admin API's way (the config file's `sites` is the other).
  app.post<{ Body: { site: string; config: unknown } }>(
    '/v1/admin/policies',
    {
      bodyLimit: 256 * 1024,
      schema: {
        body: {
          type: 'object',
          required: ['site', 'config'],
          additionalProperties: false,
          properties: { site: { type: 'string', maxLength: 200 }, config: { type: 'object' } },
        },
        response: {
          201: {
            type: 'object',
            properties: {
              site: { type: 'string' },
              sha256: { type: 'string' },
              version: { type: 'string' },
              changed: { type: 'boolean' },
              url: { type: 'string' },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const site = normalizeOrigin(req.body.site);
      if (!isOrigin(site))
        return reply
          .code(400)
          .send(apiError('ASSENT_BAD_FIELD', 'site', 'must be an origin such as https://example.com'));
      const r = publishable(req.body.config);
      if (!r.ok) return reply.code(400).send(apiError('ASSENT_BAD_FIELD', 'config', r.errors.join('; ')));
      const changed = await ctx.policies.publish(site, r.version);
      req.log.info({ site, sha256: r.version.sha256, changed }, 'policy published');
      return reply.code(201).send({
        site,
        sha256: r.version.sha256,
        version: r.version.config.policy,
        changed,
        url: `/v1/policies/${r.version.sha256}`,
      });
    },
  );

  app.get<{ Querystring: { site: string } }>(
    '/v1/admin/policies',
    {
      schema: {
        querystring: {
          type: 'object',
          required: ['site'],
          additionalProperties: false,
          properties: { site: { type: 'string', maxLength: 200 } },
        },
        response: errorResponses,
      },
    },
    async (req) => {
      const site = normalizeOrigin(req.query.site);
      return { site, publications: await ctx.store.publications(site) };
    },
  );
};
