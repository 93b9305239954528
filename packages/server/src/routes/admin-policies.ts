import { configOf } from '@assent/core';
import type { FastifyInstance } from 'fastify';
import { maySee } from '../admin-auth.js';
import type { Context } from '../context.js';
import { errorResponses } from '../errors.js';
import { publishable, publishers } from '../policies.js';
import { POLICY_BODY_LIMIT } from '../schemas.js';
import { unsafeIn } from '../text.js';
import { publishedOr404, siteNamed } from './policies.js';

// Site data: the guard refuses a `site` the caller may not see; the list narrows itself.
const ALL = { allow: ['owner', 'editor', 'auditor'] as const, scope: 'site' as const };

const siteQuery = {
  type: 'object',
  required: ['site'],
  additionalProperties: false,
  properties: { site: { type: 'string', maxLength: 200, description: 'The site, by origin' } },
} as const;

/** A config as the editor holds it: any JSON object (core's validator says what is wrong). */
const configSchema = {
  type: 'object',
  additionalProperties: true,
  description: "A site's policy config (core's config format; texts may be complete)",
} as const;

const problem = {
  type: 'object',
  required: ['field', 'message'],
  properties: {
    field: { type: 'string', description: 'The config field at fault, e.g. categories[1].id' },
    message: { type: 'string', description: 'What is wrong, in words an owner can act on' },
  },
} as const;

/**
 * What the policy editor (`/admin/policies`) needs beside `POST /v1/admin/policies`, which
 * publishes: the sites, a site's versions with who published each (from the audit log), one
 * version's config to edit or view, and a check of a draft that publishes nothing (the errors
 * by field, and the document the preview renders). Reading is for every role; the check too,
 * as it changes nothing.
 */
export const adminPolicyRoutes = (ctx: Context) => async (app: FastifyInstance) => {
  app.get(
    '/v1/admin/policies/sites',
    {
      config: ALL,
      schema: {
        summary: 'Sites and their current policies',
        description: "The sites the caller may see, each with its current policy's version and SHA-256.",
        tags: ['policies'],
        response: {
          200: {
            type: 'object',
            description: "The sites this server serves, each with its current policy's version and SHA-256.",
            properties: {
              sites: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    site: { type: 'string', description: 'Origin' },
                    sha256: { type: 'string', description: "Current policy's SHA-256" },
                    version: { type: 'string', description: "Current policy's version (the owner's)" },
                  },
                },
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      const sites = [...ctx.policies.sites()]
        .filter((site) => maySee(req, site))
        .sort()
        .map((site) => {
          const v = ctx.policies.site(site)!;
          return { site, sha256: v.sha256, version: v.config.policy };
        });
      return { sites };
    },
  );

  app.get<{ Querystring: { site: string } }>(
    '/v1/admin/policies/versions',
    {
      config: ALL,
      schema: {
        summary: "A site's policy versions",
        description:
          "Every version a site published, newest first, with who published each (from the audit log; the config file's are named so).",
        tags: ['policies'],
        querystring: siteQuery,
        response: {
          200: {
            type: 'object',
            description:
              "A site's published policies, newest first: each one's version, SHA-256, when and by whom it was published (by the server's config file when no admin published it).",
            properties: {
              site: { type: 'string' },
              current: { type: 'string', description: "The current policy's SHA-256" },
              versions: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    seq: { type: 'integer', description: 'Publication number for this site, from 1' },
                    sha256: { type: 'string' },
                    version: { type: ['string', 'null'], description: 'null if the document is missing' },
                    publishedAt: { type: 'string', description: 'ISO 8601, UTC' },
                    publishedBy: {
                      type: ['string', 'null'],
                      description: 'Who published it (audit log); null: the server config file',
                    },
                  },
                },
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const site = siteNamed(ctx, req.query.site, req, reply);
      if (!site) return reply;
      const [pubs, entries] = await Promise.all([
        ctx.store.publications(site),
        ctx.store.admin.auditOf('policy-publish', site),
      ]);
      const by = publishers(pubs, entries);
      const versions = await Promise.all(
        pubs.map(async (p, i) => ({
          seq: p.seq,
          sha256: p.sha256,
          version: (await ctx.policies.get(p.sha256))?.config.policy ?? null,
          publishedAt: p.at,
          publishedBy: by[i] ?? null,
        })),
      );
      reply.header('cache-control', 'no-store');
      return { site, current: ctx.policies.site(site)!.sha256, versions };
    },
  );

  app.get<{ Params: { sha256: string } }>(
    '/v1/admin/policies/versions/:sha256',
    {
      config: ALL,
      schema: {
        summary: 'One policy version',
        description:
          'One published policy as the editor holds it: its version and config, texts complete in every language it offers.',
        tags: ['policies'],
        params: {
          type: 'object',
          required: ['sha256'],
          properties: { sha256: { type: 'string', maxLength: 64, description: '64 hex digits' } },
        },
        response: {
          200: {
            type: 'object',
            description:
              'One published policy as the editor holds it: its version and config (texts complete in every language it offers).',
            properties: {
              sha256: { type: 'string' },
              version: { type: 'string' },
              config: { type: 'object', additionalProperties: true },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const v = await publishedOr404(ctx, req.params.sha256, reply);
      if (!v) return reply;
      return { sha256: v.sha256, version: v.config.policy, config: configOf(v.doc) };
    },
  );

  app.post<{ Body: { site: string; config: Record<string, unknown> } }>(
    '/v1/admin/policies/check',
    {
      config: { ...ALL, textInBody: true },
      bodyLimit: POLICY_BODY_LIMIT,
      schema: {
        summary: 'Check a draft policy',
        description:
          "Checks a draft with core's validator, publishing nothing: the errors by field, and the document the preview renders.",
        tags: ['policies'],
        body: {
          type: 'object',
          required: ['site', 'config'],
          additionalProperties: false,
          properties: { site: siteQuery.properties.site, config: configSchema },
        },
        response: {
          200: {
            type: 'object',
            description:
              'Checks a draft policy without publishing it: every error by field, or the document the banner would render (what the preview shows) and whether it differs from the current one.',
            properties: {
              ok: { type: 'boolean', description: 'Whether the draft can be published' },
              errors: { type: 'array', items: problem },
              sha256: { type: ['string', 'null'], description: "The draft's SHA-256 once published" },
              version: { type: ['string', 'null'] },
              changed: { type: 'boolean', description: 'Whether it differs from the current policy' },
              doc: {
                type: ['object', 'null'],
                additionalProperties: true,
                description: 'The policy document, as GET /v1/policies/:sha256 would serve it',
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      // A draft for a retired site could not be published: said now, as publishing would.
      const site = siteNamed(ctx, req.body.site, req, reply, true);
      if (!site) return reply;
      reply.header('cache-control', 'no-store');
      const unsafe = unsafeIn(req.body.config);
      const r = unsafe ? null : publishable(req.body.config);
      if (!r?.ok)
        return {
          ok: false,
          errors: r ? r.problems : [{ field: unsafe![0] || 'config', message: unsafe![1] }],
          sha256: null,
          version: null,
          changed: false,
          doc: null,
        };
      const v = r.version;
      return {
        ok: true,
        errors: [],
        sha256: v.sha256,
        version: v.config.policy,
        changed: ctx.policies.site(site)?.sha256 !== v.sha256,
        doc: v.doc,
      };
    },
  );
};
