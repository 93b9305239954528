import { METHODS, MODES, SOURCES } from '@assent/core';

/**
 * JSON schemas: Fastify validates with them and serialises with them, and they document
 * the API. They check shape and types; the rules that need the site's config (known
 * categories) or the clock live in core's `validateReceiptInput`, shared with the banner.
 */
export const consentIdSchema = { type: 'string', pattern: '^[A-Za-z0-9_-]{22}$' } as const;

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
  lang: { type: 'string', maxLength: 35 },
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
