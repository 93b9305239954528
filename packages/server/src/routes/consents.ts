import { type ConsentId, type SignedReceipt, SOURCES, type Source } from '@assent/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Context, record } from '../context.js';
import { apiError, errorResponses } from '../errors.js';
import { consentIdSchema, createdSchema, signedReceiptSchema } from '../schemas.js';

const DAY = 86_400_000;

export const idParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: consentIdSchema },
} as const;

/**
 * Records a withdrawal (GDPR Art. 7(3)): a new receipt refusing every non-essential key,
 * under the policy and site of the consent's latest receipt. Receipts are never changed.
 * Returns null when the consent has no receipts.
 */
export const withdraw = async (
  ctx: Context,
  req: FastifyRequest,
  consentId: ConsentId,
  source: Source,
): Promise<SignedReceipt | null> => {
  const history = await ctx.store.byConsent(consentId);
  const last = history.at(-1);
  if (!last) return null;
  const site = ctx.sites.get(last.site);
  const keys = new Set([...Object.keys(last.choices), ...(site?.keys ?? [])]);
  keys.delete('necessary');
  return record(ctx, req, {
    consentId,
    policy: last.policy,
    mode: last.mode,
    choices: Object.fromEntries([...keys].map((k) => [k, false])),
    method: 'withdraw',
    source,
    signals: last.signals,
    page: last.page,
    lang: last.lang,
    expiresAt: new Date(Date.now() + (site?.config.days ?? 182) * DAY).toISOString(),
  });
};

/** The visitor's API: their history, and withdrawal. The consent ID is the visitor's handle. */
export const consentRoutes = (ctx: Context) => async (app: FastifyInstance) => {
  app.get<{ Params: { id: ConsentId } }>(
    '/v1/consents/:id',
    {
      schema: {
        params: idParams,
        response: {
          200: {
            type: 'object',
            properties: {
              consentId: { type: 'string' },
              receipts: { type: 'array', items: signedReceiptSchema },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const receipts = await ctx.store.byConsent(req.params.id);
      if (!receipts.length)
        return reply.code(404).send(apiError('ASSENT_NOT_FOUND', 'id', 'no receipts for this consent ID'));
      return { consentId: req.params.id, receipts };
    },
  );

  app.post<{ Params: { id: ConsentId }; Body: { source?: Source } | undefined }>(
    '/v1/consents/:id/withdraw',
    {
      bodyLimit: 1024,
      schema: {
        params: idParams,
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: { source: { type: 'string', enum: [...SOURCES] } },
        },
        response: { 201: createdSchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      const r = await withdraw(ctx, req, req.params.id, req.body?.source ?? 'api');
      if (!r)
        return reply.code(404).send(apiError('ASSENT_NOT_FOUND', 'id', 'no receipts for this consent ID'));
      return reply.code(201).send({ id: r.id, consentId: r.consentId });
    },
  );
};
