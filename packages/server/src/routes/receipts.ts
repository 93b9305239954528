import { RECEIPT_MAX_BYTES, validateReceiptInput } from '@assent/core';
import type { FastifyInstance } from 'fastify';
import { type Context, normalizeOrigin, record } from '../context.js';
import { apiError, errorResponses } from '../errors.js';
import { createdSchema, receiptInputSchema } from '../schemas.js';

interface Body {
  readonly page: { readonly origin: string };
}

/** `POST /v1/receipts`: the banner's record of a choice. 201 only once it is durable. */
export const receiptRoutes = (ctx: Context) => async (app: FastifyInstance) => {
  app.post<{ Body: Body }>(
    '/v1/receipts',
    {
      bodyLimit: RECEIPT_MAX_BYTES,
      schema: {
        body: receiptInputSchema,
        response: { 201: createdSchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      const origin = normalizeOrigin(req.body.page.origin);
      const site = ctx.sites.get(origin);
      if (!site)
        return reply
          .code(400)
          .send(apiError('ASSENT_UNKNOWN_SITE', 'page.origin', `${origin} is not a site this server serves`));
      // A page of site A must not write into site B's chain. Browsers always send Origin on a
      // cross-origin POST (fetch, sendBeacon); tools like curl may leave it out.
      const sent = req.headers.origin;
      if (sent !== undefined && normalizeOrigin(sent) !== origin)
        return reply
          .code(403)
          .send(apiError('ASSENT_ORIGIN_MISMATCH', 'page.origin', 'does not match the Origin header'));
      // The schema checked shape and types; core checks the rules (known keys, clock, formats),
      // on the origin as normalised (a copy only when normalising changed it).
      const check = validateReceiptInput(
        origin === req.body.page.origin ? req.body : { ...req.body, page: { ...req.body.page, origin } },
        site.keys,
        Date.now(),
      );
      if (!check.ok)
        return reply.code(400).send(apiError('ASSENT_BAD_FIELD', check.error.field, check.error.message));
      const r = await record(ctx, req, check.value);
      return reply.code(201).send({ id: r.id, consentId: r.consentId });
    },
  );
};
