import { createPrivateKey, type KeyObject } from 'node:crypto';
import { isOrigin, normalizeOrigin } from './origin.js';
import { networkProblem } from './webhooks/address.js';

/**
 * Checks shared by the CLI's configuration (cli-config.ts) and `createServer`'s options
 * (server.ts): one rule each, so the two never disagree on what a valid value is.
 */

/** pino's levels, and `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The names proxy-addr (Fastify's `trustProxy`) knows besides addresses and CIDR ranges. */
const PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** The fewest bytes of the keyed IP hash's secret (`ip-secret`): 256 bits. */
export const IP_SECRET_MIN_BYTES = 32;

/**
 * The fewest characters of a bearer token (`adminToken`, `metricsToken`). Failures are throttled
 * per client, not per token, so a short token falls to a spread of clients: 16 characters of
 * `openssl rand -base64 24` are about 96 bits.
 */
export const TOKEN_MIN_LENGTH = 16;

/** A bearer token as the CLI's config and `createServer` take it, or why not (never echoing it). */
export const tokenProblem = (v: unknown): string | null =>
  typeof v === 'string' && v.length >= TOKEN_MIN_LENGTH
    ? null
    : `must be at least ${TOKEN_MIN_LENGTH} characters (random, such as openssl rand -base64 24 gives), got ${
        typeof v === 'string' ? `${v.length}` : typeof v
      }`;

/**
 * Fastify's `trustProxy` as given (a boolean, a number of hops, addresses and CIDR ranges as a
 * comma-separated string or a list), or why it is not one. Addresses are normalised to a list.
 */
export const trustProxyOf = (
  v: unknown,
): { ok: true; value: boolean | number | string[] } | { ok: false; message: string } => {
  const rule =
    'must be true, false, a number of hops (0 to 100), or proxy addresses and CIDR ranges (comma-separated, or a list)';
  if (typeof v === 'boolean') return { ok: true, value: v };
  if (typeof v === 'number')
    return Number.isInteger(v) && v >= 0 && v <= 100 ? { ok: true, value: v } : { ok: false, message: rule };
  const list = typeof v === 'string' ? v.split(',').map((x) => x.trim()) : v;
  if (!Array.isArray(list) || !list.length || !list.every((x) => typeof x === 'string'))
    return { ok: false, message: rule };
  for (const x of list as string[]) {
    if (PROXY_RANGES.has(x)) continue;
    const problem = x ? networkProblem(x) : 'an empty entry';
    if (problem) return { ok: false, message: `${rule}: ${problem}` };
  }
  return { ok: true, value: list as string[] };
};

/**
 * Where webhooks may also go (`webhooks.privateNetworks`, `ASSENT_WEBHOOK_PRIVATE_NETWORKS`):
 * true, false, or addresses and CIDR ranges (a list, or comma-separated), or why not.
 */
export const privateNetworksOf = (
  v: unknown,
): { ok: true; value: boolean | string[] } | { ok: false; message: string } => {
  if (typeof v === 'boolean') return { ok: true, value: v };
  const list = typeof v === 'string' ? v.split(',').map((x) => x.trim()) : v;
  if (!Array.isArray(list) || !list.length || !list.every((x) => typeof x === 'string'))
    return {
      ok: false,
      message: 'must be true, false, or a list of addresses and CIDR ranges such as ["10.0.0.0/8"]',
    };
  for (const n of list as string[]) {
    const problem = networkProblem(n);
    if (problem) return { ok: false, message: problem };
  }
  return { ok: true, value: list as string[] };
};

/** `regionHeader`: an HTTP header name such as cf-ipcountry (the CLI's config and `createServer`). */
export const HEADER_NAME_RE = /^[A-Za-z0-9-]{1,64}$/;

/** The defaults the CLI's config and `createServer` share: one place each. */
export const OPTION_DEFAULTS = {
  rateLimit: { max: 300, timeWindow: 60_000 },
  retentionDays: 365,
  maxBatch: 1000,
  authFailures: { max: 10, timeWindow: 60_000 },
  db: 'sqlite:.data/assent.db',
  /** PostgreSQL connections. */
  poolSize: 10,
  /** How often the consent log integrates new receipts and signs a checkpoint. */
  logIntervalMs: 10_000,
} as const;

/** The ranges the CLI's config and `createServer` both hold options to: one place each. */
export const RANGES = {
  rateLimitMax: [1, 1_000_000],
  rateLimitWindowMs: [1000, 86_400_000],
  retentionDays: [1, 36_500],
} as const;

/** A whole number from `min` to `max`, or the message saying so. */
export const intProblem = (v: unknown, min: number, max: number): string | null =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
    ? null
    : `must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`;

/** The longest timer Node keeps (2^31 − 1 ms, about 24.8 days); a longer one fires at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/** An Ed25519 private key from PEM (or a KeyObject), or why it is not one. */
export const signingKeyOf = (
  key: KeyObject | string,
): { ok: true; key: KeyObject } | { ok: false; message: string } => {
  let k: KeyObject;
  try {
    k = typeof key === 'string' ? createPrivateKey(key) : key;
  } catch (e) {
    return { ok: false, message: `is not a PEM private key (${(e as Error).message.split('\n')[0]})` };
  }
  if (k.type !== 'private' || k.asymmetricKeyType !== 'ed25519')
    return {
      ok: false,
      message: `must be an Ed25519 private key, got ${k.type === 'private' ? k.asymmetricKeyType : `a ${k.type} key`}`,
    };
  return { ok: true, key: k };
};

/**
 * The admin console's own origin (`adminOrigin`), normalised (`new URL().origin`: lower-case,
 * no default port, no trailing slash), or why it is not one: a scheme, a host, an optional
 * port, nothing else.
 */
export const adminOriginOf = (v: unknown): { ok: true; value: string } | { ok: false; message: string } => {
  const rule = 'must be an origin such as https://admin.example (scheme, host and port only, no path)';
  if (typeof v !== 'string') return { ok: false, message: rule };
  // The sites' rule (core's isOrigin), as normalised for every comparison.
  const o = normalizeOrigin(v);
  return isOrigin(o) ? { ok: true, value: o } : { ok: false, message: rule };
};
