import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { allowedSites } from '../admin-auth.js';
import type { Context } from '../context.js';
import { errorResponses } from '../errors.js';

/**
 * What identifies an API key without revealing it: the first 8 hex digits of its SHA-256,
 * enough to tell which key a deployment holds (compare with `printf %s "$KEY" | sha256sum`),
 * far too little to find the key from.
 */
export const keyFingerprint = (key: string): string =>
  createHash('sha256').update(key).digest('hex').slice(0, 8);

const nullable = (type: string, description: string) => ({ type: [type, 'null'], description }) as const;

const siteSchema = {
  type: 'object',
  required: ['site', 'policy', 'apiKey', 'consents', 'receipts', 'log', 'links'],
  properties: {
    site: { type: 'string', description: 'The origin the site is served under' },
    retired: {
      type: 'boolean',
      description:
        'The config file retired it ("origin": false): its banner and receipts are no longer served; its history stays',
    },
    policy: {
      type: 'object',
      description: 'The policy visitors are shown now, and how many versions were published',
      properties: {
        version: nullable('string', "The current policy's own version label (config `policy`)"),
        sha256: nullable('string', "The current policy's SHA-256 (GET /v1/policies/:sha256)"),
        versions: {
          type: 'integer',
          description: 'Versions published for this site, the current one included',
        },
        publishedAt: nullable('string', 'When the current version was published (ISO-8601)'),
      },
    },
    apiKey: {
      type: 'object',
      description: 'The API key for server-to-server receipts, from the config file (never shown)',
      properties: {
        configured: { type: 'boolean', description: 'Whether the config file gives this site an API key' },
        fingerprint: nullable('string', "The first 8 hex digits of the key's SHA-256"),
      },
    },
    consents: nullable(
      'integer',
      "Consents, counted by each visitor's latest choice (as the overview); null with counts=no",
    ),
    receipts: nullable(
      'integer',
      'Receipts held (purged ones not counted, as the overview); null with counts=no',
    ),
    log: {
      type: 'object',
      description: "The latest checkpoint of the site's consent log",
      properties: {
        size: nullable('integer', 'Tree size of the latest checkpoint; null before the first'),
        at: nullable('string', 'When it was signed (ISO-8601)'),
        ageSeconds: nullable('integer', 'Seconds since then'),
      },
    },
    links: {
      type: 'object',
      description: "The console's pages filtered to this site",
      properties: {
        overview: { type: 'string', description: 'The overview of this site' },
        receipts: { type: 'string', description: 'The receipts of this site' },
      },
    },
  },
} as const;

/**
 * `GET /v1/admin/sites`: every site the caller may see, with its policy, API key (by
 * fingerprint), counts and log. Which sites exist and their keys come from the config file
 * (README "Sites"); this route reads them, it never changes them.
 */
export const siteRoutes = (ctx: Context) => async (app: FastifyInstance) => {
  app.get<{ Querystring: { counts?: 'yes' | 'no' } }>(
    '/v1/admin/sites',
    {
      config: { allow: ['owner', 'editor', 'auditor'], scope: 'site' },
      schema: {
        summary: 'Sites',
        description:
          "The sites this server serves that the caller may see: each one's current policy, API key fingerprint, consents and receipts (as its overview counts them) and latest log checkpoint.",
        tags: ['admin'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            counts: {
              type: 'string',
              enum: ['yes', 'no'],
              description:
                'no: skip the counts (a quick list of sites, e.g. for the users page); default yes',
            },
          },
        },
        response: {
          200: {
            type: 'object',
            description: 'The sites the caller may see.',
            required: ['sites'],
            properties: {
              sites: { type: 'array', items: siteSchema, description: 'In the order of their origins' },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const now = Date.now();
      const counts = req.query.counts !== 'no';
      const sites = [...(allowedSites(req) ?? ctx.policies.sites())].sort();
      const out = await Promise.all(
        sites.map(async (site) => {
          const current = ctx.policies.site(site);
          // The overview's own counts (store/admin-store.ts latestGroups, stats by method):
          // a site's figures here are the ones its overview shows.
          const [choices, byMethod, publications, checkpoint] = await Promise.all([
            counts ? ctx.store.admin.latestGroups({ site }, new Date(now).toISOString()) : null,
            counts ? ctx.store.stats({ site }, 'method', []) : null,
            ctx.store.publications(site),
            ctx.store.logCheckpoint(site),
          ]);
          const key = ctx.apiKeys.get(site);
          const q = `site=${encodeURIComponent(site)}`;
          return {
            site,
            retired: ctx.policies.retired(site),
            policy: {
              version: current?.config.policy ?? null,
              sha256: current?.sha256 ?? null,
              versions: publications.length,
              publishedAt: publications[0]?.at ?? null,
            },
            apiKey: {
              configured: key !== undefined,
              fingerprint: key === undefined ? null : keyFingerprint(key),
            },
            consents: choices?.reduce((n, r) => n + r.consents, 0) ?? null,
            receipts: byMethod?.reduce((n, r) => n + r.total, 0) ?? null,
            log: {
              size: checkpoint?.size ?? null,
              at: checkpoint?.at ?? null,
              ageSeconds: checkpoint
                ? Math.max(0, Math.floor((now - Date.parse(checkpoint.at)) / 1000))
                : null,
            },
            links: { overview: `/admin?${q}`, receipts: `/admin/receipts?${q}` },
          };
        }),
      );
      reply.header('cache-control', 'no-store');
      return { sites: out };
    },
  );
};
