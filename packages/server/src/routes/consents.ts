import { type ConsentId, type SignedReceipt, SOURCES, type Source } from '@assent/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Context, ownOrigin, record, senderOrigin, setConsentCookie } from '../context.js';
import { apiError, errorResponses } from '../errors.js';
import { cookieOf } from '../policies.js';
import { consentIdSchema, createdSchema, errorReply, signedReceiptSchema } from '../schemas.js';
import { HISTORY_MAX_LIMIT } from '../store/types.js';

/** `?page=` and `?limit=` of a consent's history: query strings are text (no type coercion). */
export const pagingQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    page: { type: 'string', pattern: '^[1-9][0-9]{0,6}$' },
    limit: { type: 'string', pattern: '^[1-9][0-9]{0,2}$' },
  },
} as const;

export interface PagingQuery {
  page?: string;
  limit?: string;
}

/**
 * Which page of the history a query asks for: `limit` receipts (default `dflt`, at most
 * HISTORY_MAX_LIMIT), page 1 the newest. Null when `limit` is out of range.
 */
export const pageOf = (
  q: PagingQuery,
  dflt: number,
): { page: number; limit: number; offset: number } | null => {
  const limit = q.limit === undefined ? dflt : Number(q.limit);
  if (limit > HISTORY_MAX_LIMIT) return null;
  const page = q.page === undefined ? 1 : Number(q.page);
  return { page, limit, offset: (page - 1) * limit };
};

export const idParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: consentIdSchema },
} as const;

/**
 * Records a withdrawal (GDPR Art. 7(3)): a new receipt refusing every non-essential key,
 * on the site of the consent's latest receipt, under the policy that site publishes now (the
 * withdrawal applies from now on, and its expiry follows that policy's `days`). Receipts are
 * never changed. Sets the site's cookie when the server shares its origin. Returns null when
 * the consent has no receipts, or its site is no longer served.
 *
 * One consent ID on several sites (apex and www sharing the cookie's domain): each other site
 * served whose latest receipt of it is not a withdrawal gets one too, before the latest one's
 * site (which stays the consent's latest). Only one chain said "withdrawn" before: the other
 * site's records, its overview and its own history went on saying the visitor consented.
 */
export const withdraw = async (
  ctx: Context,
  req: FastifyRequest,
  reply: FastifyReply,
  consentId: ConsentId,
  source: Source,
): Promise<SignedReceipt | null> => {
  const last = await ctx.store.latest(consentId);
  const v = last && ctx.policies.site(last.site);
  if (!last || !v) return null;
  const on = (l: SignedReceipt, p: NonNullable<typeof v>) =>
    record(
      ctx,
      req,
      {
        consentId,
        policy: { version: p.config.policy, sha256: p.sha256 },
        mode: p.modes.includes(l.mode) ? l.mode : p.config.mode,
        // Every key of the policy it is recorded under, refused.
        choices: Object.fromEntries(p.policy.keys.map((k) => [k, false])),
        method: 'withdraw',
        source,
        signals: l.signals,
        page: l.page,
        lang: l.lang,
      },
      p,
    );
  let before = 0;
  for (const site of await ctx.store.sitesOf(consentId)) {
    if (site === last.site) continue;
    const there = await ctx.store.latest(consentId, site);
    const p = ctx.policies.site(site);
    if (there && p && there.method !== 'withdraw')
      before = Math.max(before, Date.parse((await on(there, p)).at));
  }
  // The latest site's withdrawal is the consent's latest receipt: across sites `at` decides
  // (chains share no sequence), so it is recorded in a later millisecond than the others'.
  while (Date.now() <= before) await new Promise((resolve) => setTimeout(resolve, 1));
  const r = await on(last, v);
  // The visitor's clock, from the cookie of the choice withdrawn (see deviceSkew).
  setConsentCookie(req, reply, last.site, v, r, last);
  return r;
};

/**
 * What the banner revalidates against: the consent cookie its site would hold now, from the
 * consent's latest receipt (null when there is none). A banner on another origin compares it
 * with its own and applies a withdrawal or any later change at once.
 */
export const cookieRoute = (ctx: Context) => async (app: FastifyInstance) => {
  app.get<{ Params: { id: ConsentId } }>(
    '/v1/consents/:id/cookie',
    {
      schema: {
        summary: 'The consent cookie a site would hold now',
        description:
          "From the consent's latest receipt (null when there is none): a banner on another origin compares it with its own and applies a withdrawal or any later change.",
        tags: ['consents'],
        params: idParams,
        response: {
          200: {
            description: 'The cookie value, or null when the consent ID has no receipts.',
            type: 'object',
            properties: { cookie: { type: ['string', 'null'] } },
          },
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      const last = await ctx.store.latest(req.params.id);
      const v = last?.policy.sha256 ? await ctx.policies.get(last.policy.sha256) : null;
      return { cookie: last && v ? cookieOf(last, v).value : null };
    },
  );
};

/** The visitor's API: their history, and withdrawal. The consent ID is the visitor's handle. */
export const consentRoutes = (ctx: Context) => async (app: FastifyInstance) => {
  app.get<{ Params: { id: ConsentId }; Querystring: PagingQuery }>(
    '/v1/consents/:id',
    {
      schema: {
        summary: "A consent's history",
        description:
          "Every receipt of a consent ID, newest first, a page at a time (`limit` default 50). The consent ID is the visitor's handle: whoever holds it may read its history.",
        tags: ['consents'],
        params: idParams,
        querystring: pagingQuery,
        response: {
          200: {
            description: 'One page of the signed receipts and the paging counts.',
            type: 'object',
            properties: {
              consentId: { type: 'string' },
              total: { type: 'integer' },
              page: { type: 'integer' },
              limit: { type: 'integer' },
              pages: { type: 'integer' },
              receipts: { type: 'array', items: signedReceiptSchema },
            },
          },
          ...errorResponses,
          400: errorReply('The consent ID, `page` or `limit` is not valid (ASSENT_BAD_FIELD).'),
          404: errorReply('No receipts for this consent ID (ASSENT_NOT_FOUND).'),
        },
      },
    },
    async (req, reply) => {
      const p = pageOf(req.query, 50);
      if (!p)
        return reply
          .code(400)
          .send(apiError('ASSENT_BAD_FIELD', 'limit', `must be from 1 to ${HISTORY_MAX_LIMIT}`));
      const { total, receipts } = await ctx.store.history(req.params.id, p);
      if (!total)
        return reply.code(404).send(apiError('ASSENT_NOT_FOUND', 'id', 'no receipts for this consent ID'));
      return {
        consentId: req.params.id,
        total,
        page: p.page,
        limit: p.limit,
        pages: Math.ceil(total / p.limit),
        receipts,
      };
    },
  );

  app.post<{ Params: { id: ConsentId }; Body: { source?: Source } | undefined }>(
    '/v1/consents/:id/withdraw',
    {
      bodyLimit: 1024,
      schema: {
        summary: 'Withdraw a consent',
        description:
          "Records a withdrawal (GDPR Art. 7(3)): a new receipt refusing every non-essential key, on the site of the consent's latest receipt, under the policy it publishes now. From a browser, only the server's own origin or a site it serves may call it.",
        tags: ['consents'],
        params: idParams,
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: { source: { type: 'string', enum: [...SOURCES] } },
        },
        response: {
          201: { ...createdSchema, description: 'The withdrawal receipt was stored.' },
          ...errorResponses,
          403: errorReply('The request comes from an origin that may not withdraw here (ASSENT_FORBIDDEN).'),
          404: errorReply(
            'No receipts for this consent ID, or its site is no longer served (ASSENT_NOT_FOUND).',
          ),
        },
      },
    },
    async (req, reply) => {
      // A page may withdraw through this API only from the server's own origin (the consent
      // page) or a site it serves; a server-to-server call sends no Origin.
      const from = senderOrigin(req);
      if (req.headers.origin !== undefined && from !== ownOrigin(req) && !ctx.policies.has(from ?? ''))
        return reply
          .code(403)
          .send(apiError('ASSENT_FORBIDDEN', 'origin', `${from} may not withdraw consents on this server`));
      const r = await withdraw(ctx, req, reply, req.params.id, req.body?.source ?? 'api');
      if (!r)
        return reply.code(404).send(apiError('ASSENT_NOT_FOUND', 'id', 'no receipts for this consent ID'));
      return reply.code(201).send({ id: r.id, consentId: r.consentId });
    },
  );
};
