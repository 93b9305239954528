import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isSha256 } from '@assent/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Context, isOrigin, normalizeOrigin, ownOrigin } from '../context.js';
import { apiError, errorResponses } from '../errors.js';
import type { PolicyVersion } from '../policies.js';
import { errorReply, jsonReply, textReply } from '../schemas.js';

/**
 * The banner's full build, read once. The server hands it out with the site's published policy
 * in front (`GET /v1/assent.js`), so a page needs one script tag and no config of its own.
 */
const bannerFile = (file = 'assent.full.min.js'): string | null => {
  try {
    const path = createRequire(import.meta.url).resolve(`@assent/banner/dist/${file}`);
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
};

/** What the banner reads from `self.assentPolicy`, and what `GET /v1/policy` answers. */
const current = (site: string, v: PolicyVersion) =>
  `{"site":${JSON.stringify(site)},"sha256":"${v.sha256}","doc":${v.canonical}}`;

const siteQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    site: {
      type: 'string',
      maxLength: 200,
      description: "A site's origin; default: the origin the request was made to.",
    },
  },
} as const;

const unknownSiteReply = errorReply(
  '`site` is not a site this server serves, or not an origin (ASSENT_UNKNOWN_SITE).',
);

/**
 * The policy registry's public side:
 * - `GET /v1/policies/:sha256`: one published policy, its canonical JSON byte for byte (hash
 *   the body to check it), cacheable for ever;
 * - `GET /v1/policy?site=`: the site's current policy (`site` defaults to the origin the
 *   request was made to: a same-origin deployment needs no parameter);
 * - `GET /v1/assent.js?site=`: that policy and the banner in one CSP-safe script.
 */

/**
 * A published policy by its SHA-256, or a 404 naming `sha256` sent (null): the public
 * registry route and the editor's version view answer alike.
 */
export const publishedOr404 = async (ctx: Context, sha256: string, reply: FastifyReply) => {
  const v = isSha256(sha256) ? await ctx.policies.get(sha256) : null;
  if (!v)
    reply
      .code(404)
      .send(
        apiError(
          'ASSENT_NOT_FOUND',
          'sha256',
          isSha256(sha256) ? 'no policy with this SHA-256 was published here' : 'must be 64 hex digits',
        ),
      );
  return v ?? null;
};

/**
 * The site a request names in `?site=` (or, without one, the server's own origin), when this
 * server serves it; otherwise answers 404 naming `site` and returns null. The policy and the
 * log routes share it, so "unknown site" is one answer.
 */
export const siteNamed = (
  ctx: Context,
  named: string | undefined,
  req: FastifyRequest,
  reply: FastifyReply,
  served = false,
): string | null => {
  const site = named === undefined ? ownOrigin(req) : normalizeOrigin(named);
  if (served ? ctx.policies.serves(site) : ctx.policies.has(site)) return site;
  reply
    .code(404)
    .send(
      apiError(
        'ASSENT_UNKNOWN_SITE',
        'site',
        ctx.policies.has(site)
          ? retiredMessage(site)
          : isOrigin(site)
            ? `${site} is not a site this server serves`
            : 'must be an origin such as https://example.com',
      ),
    );
  return null;
};

/** What a retired site's banner, receipts and publications are told. */
export const retiredMessage = (site: string): string =>
  `${site} is no longer served: the server's config file retired it ("${site}": false); what it collected stays readable`;

export const policyRoutes = (ctx: Context) => async (app: FastifyInstance) => {
  // Read on first use (and again while missing): a build made after the server started counts.
  let banner: string | null = null;
  let bannerSha: string | undefined;
  // What a banner fetches: a retired site's is not served.
  const siteOf = (q: { site?: string }, reply: FastifyReply, req: FastifyRequest) => {
    const site = siteNamed(ctx, q.site, req, reply, true);
    return site === null ? null : { site, v: ctx.policies.site(site)! };
  };

  app.get<{ Params: { sha256: string } }>(
    '/v1/policies/:sha256',
    {
      schema: {
        summary: 'One published policy',
        description:
          'The canonical JSON of a policy version, byte for byte (its SHA-256 is the name): cacheable for ever.',
        tags: ['policies'],
        params: {
          type: 'object',
          required: ['sha256'],
          properties: { sha256: { type: 'string', maxLength: 64 } },
        },
        response: {
          200: jsonReply('The policy document (canonical JSON; hash the body to check it).'),
          ...errorResponses,
          404: errorReply(
            'Not 64 hex digits, or no policy with this SHA-256 was published here (ASSENT_NOT_FOUND).',
          ),
        },
      },
    },
    async (req, reply) => {
      const v = await publishedOr404(ctx, req.params.sha256, reply);
      if (!v) return reply;
      // Content-addressed: it can never change.
      return reply
        .type('application/json; charset=utf-8')
        .header('cache-control', 'public, max-age=31536000, immutable')
        .send(v.canonical);
    },
  );

  // The next two answer from memory and are cached by browsers: not counted against the
  // per-IP limit, which visitors behind one NAT share (the site's pages load them on every view).
  app.get<{ Querystring: { site?: string } }>(
    '/v1/policy',
    {
      config: { rateLimit: false },
      schema: {
        summary: "A site's current policy",
        description:
          'The policy the site publishes now, with its SHA-256: what the banner renders and names in its receipts.',
        tags: ['policies'],
        querystring: siteQuery,
        response: {
          200: jsonReply(
            "`{ site, sha256, doc }`: the site, the policy's SHA-256 and its canonical document.",
            {
              site: { type: 'string' },
              sha256: { type: 'string' },
            },
          ),
          ...errorResponses,
          404: unknownSiteReply,
        },
      },
    },
    async (req, reply) => {
      const s = siteOf(req.query, reply, req);
      if (!s) return reply;
      return reply
        .type('application/json; charset=utf-8')
        .header('cache-control', 'no-cache')
        .header('etag', `"${s.v.sha256}"`)
        .send(current(s.site, s.v));
    },
  );

  app.get<{ Querystring: { site?: string } }>(
    '/v1/assent.js',
    {
      config: { rateLimit: false },
      schema: {
        summary: "The banner with the site's policy",
        description:
          "One CSP-safe script: the site's published policy (self.assentPolicy) followed by the banner's full build. `no-cache` with an ETag naming the policy and the build: revalidated on every use, 304 while unchanged.",
        tags: ['banner'],
        querystring: siteQuery,
        response: {
          200: textReply('The script.', 'text/javascript'),
          304: { description: 'Unchanged since the copy the request names (If-None-Match).', type: 'null' },
          ...errorResponses,
          404: unknownSiteReply,
          503: errorReply("The banner's build is missing on the server (ASSENT_UNAVAILABLE)."),
        },
      },
    },
    async (req, reply) => {
      const s = siteOf(req.query, reply, req);
      if (!s) return reply;
      banner ??= bannerFile();
      if (!banner)
        return reply
          .code(503)
          .send(
            apiError(
              'ASSENT_UNAVAILABLE',
              null,
              "the banner's build is missing (@assent/banner/dist/assent.full.min.js): run npm run build",
            ),
          );
      // Revalidated on every use (a 304 while nothing changed): a cached copy of an older
      // policy asked the visitor again on every page view, and each answer was refused (409)
      // until the cache expired. The tag names the policy and the banner's build (an upgrade).
      bannerSha ??= createHash('sha256').update(banner).digest('hex').slice(0, 16);
      const etag = `"${s.v.sha256}.${bannerSha}"`;
      reply.header('cache-control', 'no-cache').header('etag', etag);
      // Compared weakly (RFC 9110 §13.1.2): a proxy that compresses the script (nginx, a CDN)
      // hands it on with W/ in front, and `*` matches any.
      const tags = req.headers['if-none-match']?.split(/\s*,\s*/) ?? [];
      if (tags.some((t) => t === '*' || t.replace(/^W\//, '') === etag)) return reply.code(304).send();
      return reply
        .type('text/javascript; charset=utf-8')
        .send(`self.assentPolicy=${current(s.site, s.v)};\n${banner}`);
    },
  );

  // The banner's preferences dialog, which it fetches beside itself on first use (banner
  // src/open.ts): the same for every site.
  let prefs: string | null = null;
  app.get(
    '/v1/assent.full.prefs.min.js',
    {
      config: { rateLimit: false },
      schema: {
        summary: "The banner's preferences dialog",
        description: 'Fetched by the banner beside itself on first use; the same for every site.',
        tags: ['banner'],
        response: {
          200: textReply('The script.', 'text/javascript'),
          ...errorResponses,
          503: errorReply("The banner's build is missing on the server (ASSENT_UNAVAILABLE)."),
        },
      },
    },
    async (_req, reply) => {
      prefs ??= bannerFile('assent.full.prefs.min.js');
      if (!prefs)
        return reply
          .code(503)
          .send(apiError('ASSENT_UNAVAILABLE', null, "the banner's build is missing: run npm run build"));
      return reply
        .type('text/javascript; charset=utf-8')
        .header('cache-control', 'public, max-age=300')
        .send(prefs);
    },
  );
};
