import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { LogThrottle } from './logging.js';

/** The ID formats the routes' schemas check (schemas.ts), named here in their errors. */
export const CONSENT_ID_PATTERN = '^[A-Za-z0-9_-]{22}$';
export const RECEIPT_ID_PATTERN = '^[A-Za-z0-9_-]{16}$';

/** Stable error codes: clients branch on these, never on the message. */
export type ErrorCode =
  | 'ASSENT_BAD_FIELD'
  | 'ASSENT_BAD_REQUEST'
  | 'ASSENT_INVALID_JSON'
  | 'ASSENT_UNSUPPORTED_MEDIA_TYPE'
  | 'ASSENT_TOO_LARGE'
  | 'ASSENT_UNKNOWN_SITE'
  | 'ASSENT_ORIGIN_MISMATCH'
  | 'ASSENT_ORIGIN_REQUIRED'
  | 'ASSENT_POLICY_MISMATCH'
  | 'ASSENT_FORBIDDEN'
  | 'ASSENT_NOT_FOUND'
  | 'ASSENT_UNAUTHORIZED'
  | 'ASSENT_RATE_LIMITED'
  | 'ASSENT_UNAVAILABLE'
  | 'ASSENT_INTERNAL';

/** Every error the API sends: what went wrong, which field, in words. */
export interface ApiError {
  readonly error: ErrorCode;
  /** The field at fault as a dotted path (`choices.analytics`), or null when no field is. */
  readonly field: string | null;
  readonly message: string;
}

export const errorSchema = {
  type: 'object',
  required: ['error', 'field', 'message'],
  properties: {
    error: { type: 'string' },
    field: { type: ['string', 'null'] },
    message: { type: 'string' },
    /** ASSENT_POLICY_MISMATCH: the policy the server publishes for the site. */
    policy: {
      type: 'object',
      properties: { sha256: { type: 'string' }, version: { type: 'string' } },
    },
  },
} as const;

/** The error responses every JSON route may give, for its `response` schema. */
export const errorResponses = {
  '4xx': errorSchema,
  '5xx': errorSchema,
} as const;

export const apiError = (error: ErrorCode, field: string | null, message: string): ApiError => ({
  error,
  field,
  message,
});

/**
 * A request refused before its route runs (by a body parser) for one field: answered
 * `400 ASSENT_BAD_FIELD` naming it.
 */
export class FieldError extends Error {
  readonly statusCode = 400;
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

interface AjvError {
  readonly instancePath: string;
  readonly keyword: string;
  readonly params: Record<string, unknown>;
  readonly message?: string;
}

/** `/choices/analytics` + the keyword's own detail → `choices.analytics`. */
const fieldOf = (e: AjvError, context: string | undefined): string => {
  const parts = e.instancePath.split('/').filter(Boolean);
  if (e.keyword === 'required') parts.push(String(e.params.missingProperty));
  if (e.keyword === 'additionalProperties') parts.push(String(e.params.additionalProperty));
  if (e.keyword === 'propertyNames' && e.params.propertyName) parts.push(String(e.params.propertyName));
  if (parts.length) return parts.join('.');
  return context === 'body' ? 'body' : (context ?? 'request');
};

const messageOf = (e: AjvError): string => {
  switch (e.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not a known field';
    case 'enum':
      return `must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`;
    case 'type':
      return `must be of type ${e.params.type}`;
    case 'pattern':
      // Named by the pattern itself: a receipt's `:id` is not a consent ID.
      return e.params.pattern === CONSENT_ID_PATTERN
        ? 'must be a consent ID: 22 base64url characters'
        : e.params.pattern === RECEIPT_ID_PATTERN
          ? 'must be a receipt ID: 16 base64url characters'
          : 'is not in the expected format';
    default:
      return e.message ?? 'is not valid';
  }
};

/** Node's socket errors: the database's connection failed or was refused. */
const NET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * Whether a store error means "the database is away or cannot write now" (a 503: nothing
 * was written, retry), not a bug (a 500). PostgreSQL: SQLSTATE classes 08 (connection
 * exception), 53 (insufficient resources), 57P (shutdown, cannot connect now), 25006 (read-only
 * transaction), and pg's own "Connection terminated" / "not queryable" / pool timeouts, which
 * carry no code. SQLite: busy, locked, full, I/O errors, read-only.
 */
export const isUnavailable = (err: unknown): boolean => {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (typeof e !== 'object' || e === null) return false;
  const code = typeof e.code === 'string' ? e.code : '';
  if (NET_CODES.has(code)) return true;
  if (/^(08|53|57P)/.test(code) || code === '25006') return true;
  if (/^SQLITE_(BUSY|LOCKED|FULL|IOERR|READONLY|CANTOPEN|PROTOCOL)/.test(code)) return true;
  const message = typeof e.message === 'string' ? e.message : '';
  return /Connection terminated|connection error and is not queryable|timeout exceeded when trying to connect|Client was closed and is not queryable|Cannot use a pool after calling end/i.test(
    message,
  );
};

/** How long a connection answered before its body was read goes on reading it (see lingerAfter). */
const LINGER_MS = 5_000;

/**
 * A 413 is answered before the body is read, and the connection then closes. Closing a socket
 * with bytes still arriving makes the kernel answer them with a reset, and a client that is
 * still sending loses the unread 413 to it ("no answer", seen by the soak fuzzer with 1–2 MB
 * bodies). So the rest of the body is read and dropped, never kept, after the answer is sent:
 * the socket closes once the client has closed its side, or after LINGER_MS (nginx's
 * "lingering close").
 */
const lingerAfter = (req: FastifyRequest) => {
  const { raw } = req;
  const socket = raw.socket;
  // Flowing with no reader: what the parser passes on is dropped, and the socket keeps reading.
  raw.resume();
  // Node's HTTP server ends a closing connection with destroySoon() once the answer is sent.
  socket.destroySoon = () => {
    socket.end();
    linger(socket);
  };
};

/** Closes `socket` (its answer sent) once the client closes its side, or after LINGER_MS. */
const linger = (socket: Socket) => {
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('end', () => socket.destroy());
  socket.once('close', () => clearTimeout(timer));
};

/** Connections answered by clientErrorHandler: what else arrives on them is dropped. */
const refused = new WeakSet<Socket>();

/**
 * Maps Fastify's own errors (schema, parser, limits) to {@link ApiError}s. Unexpected ones are
 * logged through `logs`, so a fault that fails every request logs a line per window, not per request.
 */
export const errorHandler =
  (logs: LogThrottle) => (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof FieldError)
      return reply.code(400).send(apiError('ASSENT_BAD_FIELD', err.field, err.message));
    if (err.validation?.length) {
      const first = err.validation[0] as unknown as AjvError;
      return reply
        .code(400)
        .send(apiError('ASSENT_BAD_FIELD', fieldOf(first, err.validationContext), messageOf(first)));
    }
    switch (err.code) {
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return reply
          .code(415)
          .send(
            apiError(
              'ASSENT_UNSUPPORTED_MEDIA_TYPE',
              'content-type',
              `must be application/json, got ${JSON.stringify(req.headers['content-type'] ?? null)}`,
            ),
          );
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        lingerAfter(req);
        return reply.code(413).send(apiError('ASSENT_TOO_LARGE', 'body', 'is larger than the limit'));
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return reply.code(400).send(apiError('ASSENT_INVALID_JSON', 'body', 'is empty'));
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return reply.code(400).send(apiError('ASSENT_INVALID_JSON', 'body', 'is not valid JSON'));
    }
    if (err.statusCode === 429)
      return reply.code(429).send(apiError('ASSENT_RATE_LIMITED', null, err.message));
    if (err instanceof SyntaxError || (err.statusCode === 400 && /JSON/i.test(err.message)))
      return reply.code(400).send(apiError('ASSENT_INVALID_JSON', 'body', 'is not valid JSON'));
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500)
      return reply.code(err.statusCode).send(apiError('ASSENT_BAD_FIELD', null, err.message));
    if (err.statusCode === 503)
      return reply.code(503).send(apiError('ASSENT_UNAVAILABLE', null, err.message));
    if (isUnavailable(err)) {
      // A read or a withdrawal while the database is away: nothing was written, retry later.
      logs.warn(err, 'the database is unavailable');
      return reply
        .code(503)
        .send(
          apiError('ASSENT_UNAVAILABLE', null, 'the database is unavailable; nothing was written, try again'),
        );
    }
    logs.error(err, 'request failed');
    return reply.code(500).send(apiError('ASSENT_INTERNAL', null, 'internal error'));
  };

/**
 * Fastify's errors before routing (a URL that is not valid percent-encoding), in the API's shape.
 */
export const frameworkErrors = (err: FastifyError, _req: FastifyRequest, reply: FastifyReply) => {
  if (err.code === 'FST_ERR_BAD_URL')
    return reply.code(400).send(apiError('ASSENT_BAD_REQUEST', 'url', 'is not valid percent-encoding'));
  return reply.code(400).send(apiError('ASSENT_BAD_REQUEST', null, 'the request could not be routed'));
};

/**
 * What Node's HTTP parser refuses before Fastify sees a request (malformed HTTP, oversized
 * headers, a bad Content-Length), answered in the API's shape too, then the connection closes.
 */
export const clientErrorHandler = (err: Error & { code?: string }, socket: Socket) => {
  // The rest of a request already answered: Node's parser, in its error state, reports each
  // further chunk of the body as another error. Dropped while the connection lingers.
  if (refused.has(socket) && err.code !== 'ECONNRESET') return;
  // Nothing to answer on a connection the client already closed or reset.
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, body] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, apiError('ASSENT_TOO_LARGE', 'headers', 'are larger than the limit (16 KiB)')]
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'ERR_HTTP_HEADERS_TIMEOUT'
        ? [408, apiError('ASSENT_BAD_REQUEST', null, 'the request did not arrive in time')]
        : [400, apiError('ASSENT_BAD_REQUEST', null, 'is not a valid HTTP request')];
  const json = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(json)}\r\nx-content-type-options: nosniff\r\nconnection: close\r\n\r\n${json}`,
  );
  // A client may still be sending (a body behind a request line Node refused): closing now
  // would make the kernel reset the connection over those bytes, and the reset throws away the
  // answer the client has not read yet. So read and drop them until it closes (see lingerAfter).
  refused.add(socket);
  socket.on('data', () => {});
  socket.resume();
  linger(socket);
};
