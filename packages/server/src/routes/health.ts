import type { FastifyInstance } from 'fastify';
import type { Context } from '../context.js';
import { apiError, errorResponses } from '../errors.js';

const ok = { type: 'object', properties: { status: { type: 'string' } } } as const;

/** `/healthz`: the process is up. `/readyz`: and its database answers. */
export const healthRoutes = (ctx: Context) => async (app: FastifyInstance) => {
  app.get('/healthz', { config: { rateLimit: false }, schema: { response: { 200: ok } } }, async () => ({
    status: 'ok',
  }));
  app.get(
    '/readyz',
    { config: { rateLimit: false }, schema: { response: { 200: ok, ...errorResponses } } },
    async (req, reply) => {
      try {
        await ctx.store.ping();
        return { status: 'ready' };
      } catch (err) {
        req.log.warn({ err }, 'database not reachable');
        return reply.code(503).send(apiError('ASSENT_UNAVAILABLE', null, 'the database is not reachable'));
      }
    },
  );
};
