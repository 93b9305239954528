import type { FastifyInstance } from 'fastify';
import { audit, whileStale } from '../admin-auth.js';
import { type Context, normalizeOrigin } from '../context.js';
import { apiError, errorResponses } from '../errors.js';
import { consentIdSchema, errorReply } from '../schemas.js';
import { knownSite, unknownSite } from './admin-filter.js';

/**
 * `POST /v1/admin/erasures`: a visitor's erasure request (GDPR Art. 17), carried out by an
 * owner. Every receipt of the consent ID on the site is purged at once, as retention purges an
 * expired one: the consent ID, choices, page, region, UA family, IP hash and the leaf's salt
 * are deleted; the chain's links and signatures stay, so the chain and the consent log still
 * verify while nothing links them to the visitor. The audit log records who erased how many
 * receipts of which site, and their IDs, never the consent ID (that would keep what was erased),
 * in the erasure's own transaction (Store.erase): neither happens without the other.
 */
export const erasureRoutes = (ctx: Context) => async (app: FastifyInstance) => {
  app.post<{ Body: { site: string; consentId: string } }>(
    '/v1/admin/erasures',
    {
      config: { allow: ['owner'], scope: 'site' },
      schema: {
        summary: 'Erase a consent',
        description:
          "A visitor's erasure request: purges every receipt of the consent ID on the site now (payload and leaf salt deleted, chain links and signatures kept, so the chain and the log still verify) and removes it from the overview. Audited with the receipts' IDs, not the consent ID, in the erasure's own transaction: if the audit log cannot take the entry, nothing is erased.",
        tags: ['admin'],
        body: {
          type: 'object',
          required: ['site', 'consentId'],
          additionalProperties: false,
          properties: { site: { type: 'string', maxLength: 200 }, consentId: consentIdSchema },
        },
        response: {
          200: {
            description: 'Erased: how many receipts, and their IDs.',
            type: 'object',
            properties: {
              site: { type: 'string' },
              erased: { type: 'integer' },
              receipts: { type: 'array', items: { type: 'string' } },
            },
          },
          ...errorResponses,
          400: errorReply(
            '`consentId` is not a consent ID (ASSENT_BAD_FIELD), or `site` is not a site this server serves (ASSENT_UNKNOWN_SITE).',
          ),
          404: errorReply(
            'The site holds no receipt of this consent ID that is not purged already (ASSENT_NOT_FOUND): erased or expired before, or never recorded.',
          ),
        },
      },
    },
    async (req, reply) => {
      const site = normalizeOrigin(req.body.site);
      if (!(await knownSite(ctx, site))) return unknownSite(reply, site);
      // The audit entry names the receipts, so they are read first; the erasure commits with
      // its entry only if they are still exactly those (a receipt of the consent stored or
      // expired meanwhile makes it read them again).
      const ids = await whileStale(async () => {
        const ids = await ctx.store.erasable(site, req.body.consentId);
        if (!ids.length) return ids;
        // Every ID: the entry is the erasure's one record, which webhooks deliver (Art. 19).
        const detail = { receipts: ids.length, ids: ids.join(' ') };
        await audit(ctx, req, 'consent-erase', site, detail, (row) =>
          ctx.store.erase(site, req.body.consentId, row.at, ids, row),
        );
        return ids;
      });
      if (!ids.length)
        return reply
          .code(404)
          .send(
            apiError(
              'ASSENT_NOT_FOUND',
              'consentId',
              `${site} holds no receipt of this consent ID that is not purged already (erased or expired before, or never recorded)`,
            ),
          );
      req.log.info({ site, receipts: ids.length }, 'consent erased');
      return { site, erased: ids.length, receipts: ids };
    },
  );
};
