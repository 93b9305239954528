import { readFileSync } from 'node:fs';
import swagger from '@fastify/swagger';
import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify';
import { SESSION_COOKIE } from './admin-auth.js';
import { errorSchema } from './errors.js';
import { errorReply } from './schemas.js';

/** The server package's version: the API description's `info.version`. */
const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** The error shape's name in the document: one schema in `components`, referenced by every route. */
const ERROR_ID = 'ApiError';

/** Whether a response schema is the error shape (errors.ts's, possibly with a description). */
const isErrorShape = (r: Record<string, unknown>) => r.properties === errorSchema.properties;

/**
 * The answers a route can give whatever its handler does, added to its description (not to
 * its schema: these are produced by hooks and the error handler, which serialise on their own).
 */
const common = (route: RouteOptions, schema: FastifySchema) => {
  const out: Record<string, Record<string, unknown>> = {};
  const config = (route.config ?? {}) as { allow?: readonly string[]; rateLimit?: unknown };
  if (schema.params || schema.querystring || schema.body)
    out[400] = errorReply('A parameter or the body is not valid: `field` names which (ASSENT_BAD_FIELD).');
  if (schema.body || ['POST', 'PUT', 'PATCH'].includes(String(route.method))) {
    out[413] = errorReply('The body is larger than the limit (ASSENT_TOO_LARGE).');
    out[415] = errorReply('The body is not application/json (ASSENT_UNSUPPORTED_MEDIA_TYPE).');
  }
  if (config.allow) {
    out[401] = errorReply(
      'No valid admin token or session cookie (ASSENT_UNAUTHORIZED); the answer carries WWW-Authenticate.',
    );
    out[403] = errorReply(
      `The caller's role may not do this, or a signed-in change lacks its anti-forgery header (ASSENT_FORBIDDEN). Roles allowed: ${config.allow.join(', ')}.`,
    );
  }
  // Routes with `rateLimit: false` are not counted against the per-client limit.
  if (config.allow || config.rateLimit !== false)
    out[429] = errorReply(
      config.allow
        ? 'Too many failed authentications, or requests, from this client (ASSENT_RATE_LIMITED); see Retry-After.'
        : 'Too many requests from this client (ASSENT_RATE_LIMITED); see Retry-After.',
    );
  out['5xx'] = errorReply(
    'The database is unavailable or the server is shutting down (503 ASSENT_UNAVAILABLE: nothing was written, retry), or an internal error (500 ASSENT_INTERNAL).',
  );
  return out;
};

/** Which authentication a route takes, as OpenAPI security requirements. */
const securityOf = (route: RouteOptions): Record<string, string[]>[] | undefined => {
  const config = (route.config ?? {}) as { allow?: unknown; metrics?: boolean };
  if (config.allow) return [{ adminToken: [] }, { session: [] }];
  if (config.metrics) return [{ adminToken: [] }, { metricsToken: [] }];
  // Browsers post receipts with no credentials; servers with their site's API key.
  if (route.url === '/v1/receipts') return [{}, { apiKey: [] }];
  return undefined;
};

/**
 * Adds what every route shares to its description: the answers of the hooks (authentication,
 * rate limit, body parsing, the error handler), its security, a default description for an
 * error range the route declared without one.
 */
const transform = ({ schema, url, route }: { schema: FastifySchema; url: string; route: RouteOptions }) => {
  if ((schema as { hide?: boolean } | undefined)?.hide) return { schema, url };
  const own = schema ?? {};
  const response: Record<string, unknown> = {};
  const all: Record<string, Record<string, unknown>> = {
    ...common(route, own),
    ...((own.response ?? {}) as Record<string, Record<string, unknown>>),
  };
  for (const [code, r] of Object.entries(all))
    response[code] = isErrorShape(r)
      ? {
          $ref: `${ERROR_ID}#`,
          description:
            r.description ??
            (code.startsWith('4')
              ? 'The request was refused: the error code says why, `field` names the parameter at fault.'
              : 'A server-side failure (503 ASSENT_UNAVAILABLE: nothing was written, retry; 500 ASSENT_INTERNAL).'),
        }
      : r.content
        ? {
            ...r,
            content: Object.fromEntries(
              Object.entries(r.content as Record<string, { schema: Record<string, unknown> }>).map(
                ([type, c]) => [type, isErrorShape(c.schema) ? { schema: { $ref: `${ERROR_ID}#` } } : c],
              ),
            ),
          }
        : r;
  const security = securityOf(route);
  return { schema: { ...own, response, ...(security ? { security } : {}) } as FastifySchema, url };
};

/**
 * Registers @fastify/swagger (before any route, so it sees them all) and `GET /openapi.json`:
 * the OpenAPI 3.1 description of every route, generated from the routes' own schemas. The
 * committed copy (packages/server/openapi.json) is regenerated by `npm run openapi -w @assent/server`.
 */
export const registerOpenApi = async (app: FastifyInstance) => {
  app.addSchema({ $id: ERROR_ID, title: "The API's error", ...errorSchema });
  await app.register(swagger, {
    // Shared schemas keep their own names in `components.schemas`.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Assent receipt server',
        version: VERSION,
        description:
          "Assent's receipt server: signed, hash-chained proof of consent, the sites' published policies, the visitor's consent page, the public consent log and the admin API. Every error is JSON `{ error, field, message }` with a stable `error` code (packages/server/src/errors.ts). Browsers may call the public API from a configured site's origin (CORS preflights are answered for any path; they are not listed here).",
        license: { name: 'MIT', identifier: 'MIT' },
      },
      servers: [{ url: '/', description: 'the server this document came from' }],
      components: {
        securitySchemes: {
          adminToken: {
            type: 'http',
            scheme: 'bearer',
            description: 'The admin token (config `adminToken`, env ASSENT_ADMIN_TOKEN): acts as an owner.',
          },
          session: {
            type: 'apiKey',
            in: 'cookie',
            name: SESSION_COOKIE,
            description:
              "The admin console's session cookie, from POST /v1/admin/session. A change (POST, PATCH, DELETE) also needs the header x-assent-csrf (GET /v1/admin/session gives it).",
          },
          apiKey: {
            type: 'http',
            scheme: 'bearer',
            description:
              'A site\'s API key (config `apiKeys`), for receipts sent server to server (source "api").',
          },
          metricsToken: {
            type: 'http',
            scheme: 'bearer',
            description:
              'The metrics token (config `metricsToken`, env ASSENT_METRICS_TOKEN): reads /metrics only.',
          },
        },
      },
    },
    transform,
  });
  app.get(
    '/openapi.json',
    {
      config: { rateLimit: false },
      schema: {
        summary: 'This API description',
        description: 'The OpenAPI 3.1 document of every route of this server, generated from their schemas.',
        tags: ['meta'],
        response: {
          200: {
            description: 'An OpenAPI 3.1 document.',
            type: 'object',
            additionalProperties: true,
          },
        },
      },
    },
    async (_req, reply) => {
      reply.header('cache-control', 'no-cache');
      return app.swagger();
    },
  );
};
