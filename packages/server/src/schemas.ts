import { LANG_MAX, METHODS, MODES, SOURCES } from '@assent/core';
import { CONSENT_ID_PATTERN, errorSchema, RECEIPT_ID_PATTERN } from './errors.js';

/**
 * JSON schemas: Fastify validates with them and serialises with them, and they document
 * the API. They check shape and types; the rules that need the site's config (known
 * categories) or the clock live in core's `validateReceiptInput`, shared with the banner.
 */
export const consentIdSchema = { type: 'string', pattern: CONSENT_ID_PATTERN } as const;
/** A receipt ID (context.ts newReceiptId): 16 base64url characters. */
export const receiptIdSchema = { type: 'string', pattern: RECEIPT_ID_PATTERN } as const;

/**
 * The admin API's policy bodies (`POST /v1/admin/policies`, `…/check`): the largest body the
 * server takes anywhere (server.ts BODY_LIMIT for the rest). A proxy in front must allow it
 * (deploy/nginx's `client_max_body_size`; a test compares the two).
 */
export const POLICY_BODY_LIMIT = 256 * 1024;

const policySchema = {
  type: 'object',
  required: ['version', 'sha256'],
  additionalProperties: false,
  properties: { version: { type: 'string', maxLength: 32 }, sha256: { type: 'string', maxLength: 64 } },
} as const;

const choicesSchema = {
  type: 'object',
  maxProperties: 256,
  additionalProperties: { type: 'boolean' },
} as const;

const pageSchema = {
  type: 'object',
  required: ['origin', 'path'],
  additionalProperties: false,
  properties: { origin: { type: 'string', maxLength: 200 }, path: { type: 'string', maxLength: 1024 } },
} as const;

const signalsSchema = {
  type: 'object',
  required: ['gpc'],
  additionalProperties: false,
  properties: { gpc: { type: 'boolean' } },
} as const;

const inputProperties = {
  consentId: consentIdSchema,
  policy: policySchema,
  mode: { type: 'string', enum: [...MODES] },
  choices: choicesSchema,
  method: { type: 'string', enum: [...METHODS] },
  source: { type: 'string', enum: [...SOURCES] },
  signals: signalsSchema,
  page: pageSchema,
  lang: { type: 'string', maxLength: LANG_MAX },
} as const;

/** The body of `POST /v1/receipts`: what the banner sends. */
export const receiptInputSchema = {
  type: 'object',
  required: Object.keys(inputProperties),
  additionalProperties: false,
  properties: inputProperties,
} as const;

/** A stored, signed receipt as the API returns it. */
export const signedReceiptSchema = {
  type: 'object',
  properties: {
    ...inputProperties,
    // Receipts of schema v1 named their policy by a 32-bit fingerprint (`hash`).
    policy: {
      type: 'object',
      properties: { version: { type: 'string' }, sha256: { type: 'string' }, hash: { type: 'string' } },
    },
    expiresAt: { type: 'string' },
    v: { type: 'integer' },
    id: { type: 'string' },
    site: { type: 'string' },
    seq: { type: 'integer' },
    at: { type: 'string' },
    prev: { type: 'string' },
    region: { type: ['string', 'null'] },
    ua: { type: 'string' },
    ipHash: { type: 'string' },
    kid: { type: 'string' },
    hash: { type: 'string' },
    sig: { type: 'string' },
  },
} as const;

export const createdSchema = {
  type: 'object',
  required: ['id', 'consentId'],
  properties: { id: { type: 'string' }, consentId: { type: 'string' }, expiresAt: { type: 'string' } },
} as const;

/*
 * Success answers as the API description shows them. Fastify serialises with response schemas
 * too: a JSON answer's schema keeps `additionalProperties: true`, so every field the handler
 * sends goes out, and names only fields whose type is exact (a wrong type would be coerced).
 */

/** A JSON object answer: what it is, and the fields worth naming. */
export const jsonReply = (description: string, properties: Record<string, unknown> = {}) =>
  ({ description, type: 'object', additionalProperties: true, properties }) as const;

/** An answer that is text of one media type (HTML, JavaScript, a signed note). */
export const textReply = (description: string, mediaType: string) =>
  ({ description, content: { [mediaType]: { schema: { type: 'string' } } } }) as const;

/** An answer without a body (204, a redirect). */
export const emptyReply = (description: string) => ({ description, type: 'null' }) as const;

/** An answer in the API's JSON error shape (errors.ts), with what it means on this route. */
export const errorReply = (description: string) => ({ ...errorSchema, description }) as const;
