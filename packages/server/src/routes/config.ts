import type { FastifyInstance } from 'fastify';
import { type Context, regionOf } from '../context.js';

const schema = {
  description: "The visitor's region (null when unknown) and whether the browser sent Sec-GPC: 1.",
  type: 'object',
  properties: { region: { type: ['string', 'null'] }, gpc: { type: 'boolean' } },
} as const;

/**
 * `GET /v1/config`: what the banner cannot know by itself — the visitor's region, from the
 * trusted CDN header (`regionHeader`, e.g. `cf-ipcountry`), and whether the browser sent a
 * Global Privacy Control signal (`Sec-GPC: 1`). `region` is null when unknown: the banner
 * then falls back to opt-in. Never cached: the answer is per visitor.
 */
export const configRoutes = (ctx: Context) => async (app: FastifyInstance) => {
  const doc = {
    summary: 'What the banner cannot know by itself',
    description:
      "The visitor's region from the trusted CDN header (regionHeader) and the Global Privacy Control signal. Never cached.",
    tags: ['banner'],
  };
  app.get(
    '/v1/config',
    {
      schema: {
        ...doc,
        // Takes no parameter: an unknown one is a 400 naming it, as on every other route.
        querystring: { type: 'object', additionalProperties: false, properties: {} },
        response: { 200: schema },
      },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store').header('vary', '*');
      return { region: regionOf(ctx, req), gpc: req.headers['sec-gpc'] === '1' };
    },
  );
};
