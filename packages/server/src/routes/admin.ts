import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { allowedSites, audit, guardAdmin, scopedFilter, whileStale } from '../admin-auth.js';
import { type Context, isOrigin, normalizeOrigin } from '../context.js';
import { apiError, errorResponses } from '../errors.js';
import { EXPORT_FORMATS, type ExportFormat, exportChunks, needsController } from '../export.js';
import { publishable } from '../policies.js';
import { errorReply, jsonReply, POLICY_BODY_LIMIT } from '../schemas.js';
import type { StatsBy } from '../store/types.js';
import { unsafeText } from '../text.js';
import { badDate, type FilterQuery, filterOf, filterQuery, knownSite, unknownSite } from './admin-filter.js';
import { adminPolicyRoutes } from './admin-policies.js';
import { auditRoutes } from './audit.js';
import { erasureRoutes } from './erasures.js';
import { logAdminRoutes } from './log.js';
import { overviewRoutes } from './overview.js';
import { retiredMessage } from './policies.js';
import { receiptBrowserRoutes } from './receipt-browser.js';
import { sessionRoutes } from './session.js';
import { siteRoutes } from './sites.js';
import { userRoutes } from './users.js';
import { webhookRoutes } from './webhooks.js';

/**
 * Admin API: every route behind a session cookie or the bearer token (admin-auth.ts), each
 * saying which roles may call it. Export, aggregates, policies here; the session, users and
 * the rest of the console in their own files, registered inside (so under the same guard).
 */
export const adminRoutes = (ctx: Context) => async (app: FastifyInstance) => {
  guardAdmin(ctx, app, ctx.adminRoutes);
  await app.register(sessionRoutes(ctx));
  await app.register(userRoutes(ctx));
  await app.register(auditRoutes(ctx));
  await app.register(logAdminRoutes(ctx));
  await app.register(receiptBrowserRoutes(ctx));
  await app.register(overviewRoutes(ctx));
  await app.register(webhookRoutes(ctx));
  await app.register(adminPolicyRoutes(ctx));
  await app.register(siteRoutes(ctx));
  await app.register(erasureRoutes(ctx));

  app.get<{ Querystring: FilterQuery & { format?: ExportFormat } }>(
    '/v1/admin/receipts',
    {
      config: { allow: ['owner', 'auditor'], scope: 'site' },
      schema: {
        summary: 'Export receipts',
        description:
          'Every receipt matching the filter, streamed as NDJSON (default) or CSV, with back-pressure. Audited.',
        tags: ['admin'],

        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { ...filterQuery, format: { type: 'string', enum: [...EXPORT_FORMATS] } },
        },
        response: {
          200: {
            description: 'The receipts, one per line (NDJSON) or row (CSV).',
            content: {
              'application/x-ndjson': { schema: { type: 'string' } },
              'text/csv': { schema: { type: 'string' } },
            },
          },
          ...errorResponses,
          400: errorReply(
            'A filter is not valid (ASSENT_BAD_FIELD), or the site is not served here (ASSENT_UNKNOWN_SITE).',
          ),
        },
      },
    },
    async (req, reply) => {
      const format = req.query.format ?? 'ndjson';
      const asked = filterOf(req.query);
      if ('field' in asked) return badDate(reply, asked.field);
      const filter = scopedFilter(req, asked);
      // A site the server does not serve is said (as stats and the console say it), not
      // answered with an empty export, and nothing is audited.
      if (filter.site !== undefined && !(await knownSite(ctx, filter.site)))
        return unknownSite(reply, filter.site);
      // The standard shapes name one controller: one site per export, and its controller known.
      const controller = filter.site ? ctx.controllers.get(filter.site) : undefined;
      if (needsController(format)) {
        if (!filter.site)
          return reply
            .code(400)
            .send(
              apiError('ASSENT_BAD_FIELD', 'site', `format ${format} exports one site: add ?site=<origin>`),
            );
        if (!controller)
          return reply
            .code(409)
            .send(
              apiError(
                'ASSENT_BAD_FIELD',
                'controllers',
                `format ${format} names the site's controller, and the server config has none for ${filter.site} (controllers)`,
              ),
            );
      }
      await audit(ctx, req, 'export', filter.site ?? null, {
        format,
        ...(filter.sites ? { sites: filter.sites.join(',') } : {}),
        from: filter.from ?? null,
        to: filter.to ?? null,
      });
      // Streamed page by page with back-pressure: a million rows never sit in memory.
      const body = Readable.from(exportChunks(ctx.store, filter, format, controller));
      const day = new Date().toISOString().slice(0, 10);
      return reply
        .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson')
        .header(
          'content-disposition',
          `attachment; filename="receipts-${day}${format === 'iso27560' || format === 'kantara' ? `.${format}.ndjson` : `.${format}`}"`,
        )
        .header('cache-control', 'no-store')
        .send(body);
    },
  );

  app.get<{ Querystring: FilterQuery & { by?: StatsBy } }>(
    '/v1/admin/stats',
    {
      config: { allow: ['owner', 'editor', 'auditor'], scope: 'site' },
      schema: {
        summary: 'Aggregates',
        description:
          'Receipts and acceptances by day, category, region or method over a period, for one site or all.',
        tags: ['admin'],

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
            description: 'The rows, with the period and site they cover.',
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
          400: errorReply(
            'A filter is not valid (ASSENT_BAD_FIELD), or the site is not served here (ASSENT_UNKNOWN_SITE).',
          ),
        },
      },
    },
    async (req, reply) => {
      const by = req.query.by ?? 'day';
      const asked = filterOf(req.query);
      if ('field' in asked) return badDate(reply, asked.field);
      const filter = scopedFilter(req, asked);
      if (filter.site !== undefined && !(await knownSite(ctx, filter.site)))
        return unknownSite(reply, filter.site);
      const sites = filter.site ? [filter.site] : (allowedSites(req) ?? [...ctx.policies.sites()]);
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
      config: { allow: ['owner', 'editor'], scope: 'site' },
      bodyLimit: POLICY_BODY_LIMIT,
      schema: {
        summary: 'Publish a policy',
        description:
          "Publishes a site's policy (a new version only when it changed): it is served at once and logged in the site's consent log. A signed-in person publishes for the server's sites only; the admin token may add a site. Audited.",
        tags: ['admin'],

        body: {
          type: 'object',
          required: ['site', 'config'],
          additionalProperties: false,
          properties: { site: { type: 'string', maxLength: 200 }, config: { type: 'object' } },
        },
        response: {
          201: {
            description: "Published (or unchanged): the policy's SHA-256, version and URL.",
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
          400: errorReply(
            '`site` is not an origin, or `config` is not a valid policy (ASSENT_BAD_FIELD; the message lists every problem); for a signed-in person, `site` is not a site this server serves already (ASSENT_UNKNOWN_SITE): only the config file or the admin token add a site.',
          ),
        },
      },
    },
    async (req, reply) => {
      const site = normalizeOrigin(req.body.site);
      if (!isOrigin(site) || unsafeText(site))
        return reply
          .code(400)
          .send(apiError('ASSENT_BAD_FIELD', 'site', 'must be an origin such as https://example.com'));
      // Which sites exist is the operator's: the config file's `sites`, or the admin token.
      // A session (a person, or whoever holds their cookie) publishes for those sites only.
      if (req.assentAdmin!.kind !== 'token' && !(await knownSite(ctx, site)))
        return unknownSite(reply, site, "; a new site is added in the server's config file (sites)");
      if (ctx.policies.retired(site))
        return reply.code(400).send(apiError('ASSENT_UNKNOWN_SITE', 'site', retiredMessage(site)));
      const r = publishable(req.body.config);
      // The first bad field by its path (`config.categories[1].id`), every message in the text.
      if (!r.ok)
        return reply
          .code(400)
          .send(apiError('ASSENT_BAD_FIELD', `config.${r.problems[0]!.field}`, r.errors.join('; ')));
      // The entry says whether the current policy changed, so that is read first; the
      // publication commits with its entry only if it still holds (another process may publish
      // for the site meanwhile: then it reads again).
      const changed = await whileStale(async () => {
        const changed = (await ctx.store.publications(site))[0]?.sha256 !== r.version.sha256;
        const detail = { sha256: r.version.sha256, version: r.version.config.policy, changed };
        await audit(ctx, req, 'policy-publish', site, detail, async (row) => {
          await ctx.policies.publish(site, r.version, row.at, { row, changed });
        });
        return changed;
      });
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
      config: { allow: ['owner', 'editor', 'auditor'], scope: 'site' },
      schema: {
        summary: "A site's publications",
        description: 'Every policy version the site published, newest first.',
        tags: ['admin'],

        querystring: {
          type: 'object',
          required: ['site'],
          additionalProperties: false,
          properties: { site: { type: 'string', maxLength: 200 } },
        },
        response: {
          200: jsonReply('`{ site, publications }`.', { site: { type: 'string' } }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const site = normalizeOrigin(req.query.site);
      return { site, publications: await ctx.store.publications(site) };
    },
  );
};
