import { randomBytes } from 'node:crypto';
import {
  type Config,
  createPolicy,
  formatError,
  type Policy,
  type ReceiptInput,
  type SignedReceipt,
  validateConfig,
} from '@assent/core';
import type { FastifyRequest } from 'fastify';
import type { GroupCommit } from './group-commit.js';
import type { IpHasher } from './ip-hash.js';
import type { Signer } from './signer.js';
import type { Store } from './store/types.js';
import { uaFamily } from './ua.js';

/** A site the server accepts receipts for: its origin and its Assent config. */
export interface Site {
  readonly origin: string;
  readonly config: Config;
  readonly policy: Policy;
  /** Valid `choices` keys: category ids and `category:service` keys. */
  readonly keys: readonly string[];
}

/** What every route plugin shares. */
export interface Context {
  readonly store: Store;
  readonly writer: GroupCommit;
  readonly signer: Signer;
  readonly hasher: IpHasher;
  readonly sites: ReadonlyMap<string, Site>;
  readonly adminToken: string | undefined;
  /** Lower-case header name holding the visitor's region (set by a trusted proxy or CDN). */
  readonly regionHeader: string | undefined;
}

/** Origins compare lower-case and without a trailing slash. */
export const normalizeOrigin = (o: string): string => o.trim().replace(/\/+$/, '').toLowerCase();

/** Builds the site table; a config error is fatal here, unlike in the banner: the owner must fix it. */
export const loadSites = (sites: Readonly<Record<string, unknown>>): Map<string, Site> => {
  const out = new Map<string, Site>();
  for (const [origin, raw] of Object.entries(sites)) {
    if (!/^https?:\/\/[^/\s]+$/i.test(origin.replace(/\/+$/, '')))
      throw new Error(`sites: "${origin}" is not an origin such as https://example.com`);
    const { config, errors } = validateConfig(raw);
    if (errors.length) throw new Error(`sites["${origin}"]: ${errors.map((e) => formatError(e)).join('; ')}`);
    const policy = createPolicy(config);
    out.set(normalizeOrigin(origin), { origin: normalizeOrigin(origin), config, policy, keys: policy.keys });
  }
  return out;
};

const REGION_RE = /^[A-Za-z]{2}(-[A-Za-z0-9]{1,3})?$/;

// Random bytes drawn 4 KiB at a time: one call into the CSPRNG per 682 receipt IDs, not per ID.
let pool = Buffer.alloc(0);
let poolAt = 0;

/**
 * A new receipt ID, 16 base64url characters: 48 bits of the clock (ms), then 48 random bits.
 * Clock first so that IDs made close together are close in the primary-key index: inserts land
 * on the few pages at its growing end instead of one random page per receipt, and each commit
 * writes (and fsyncs) far fewer pages — measured: the insert and commit cost per receipt halved.
 * A receipt ID is no secret (the consent ID is the visitor's handle) and `at` says when anyway;
 * 48 random bits per millisecond keep IDs unique, and the primary key refuses a duplicate.
 */
export const newReceiptId = (): string => {
  if (poolAt + 6 > pool.length) {
    pool = randomBytes(4092);
    poolAt = 0;
  }
  const id = Buffer.allocUnsafe(12);
  id.writeUIntBE(Date.now(), 0, 6);
  pool.copy(id, 6, poolAt, (poolAt += 6));
  return id.toString('base64url');
};

declare module 'fastify' {
  interface FastifyRequest {
    /** The keyed IP hash, once computed (server.ts declares it with decorateRequest). */
    assentIpHash: string | Promise<string> | null;
  }
}

/**
 * Memoised per request (the rate limiter and the receipt both need it) on a request property
 * Fastify declares up front, not in a WeakMap (one ephemeron per request for the GC). A string
 * when today's key is loaded (no promise, no microtask on the hot path), else a promise of it.
 */
export const ipHashOf = (ctx: Context, req: FastifyRequest): string | Promise<string> =>
  (req.assentIpHash ??= ctx.hasher.hashSync(req.ip) ?? ctx.hasher.hash(req.ip));

/** The visitor's region from the trusted header, upper-cased; null when absent or malformed. */
export const regionOf = (ctx: Context, req: FastifyRequest): string | null => {
  const raw = ctx.regionHeader ? req.headers[ctx.regionHeader] : undefined;
  return typeof raw === 'string' && REGION_RE.test(raw) ? raw.toUpperCase() : null;
};

/**
 * Adds the server's facts to a visitor's input and commits it (group commit).
 * Resolves after the transaction holding it has committed.
 */
export const record = async (
  ctx: Context,
  req: FastifyRequest,
  input: ReceiptInput,
): Promise<SignedReceipt> => {
  const region = regionOf(ctx, req);
  const ipHash = ipHashOf(ctx, req);
  const item = {
    v: 1,
    id: newReceiptId(),
    site: input.page.origin,
    at: new Date().toISOString(),
    // Copied field by field: only what the schema allows ever reaches the signed body.
    consentId: input.consentId,
    policy: { version: input.policy.version, hash: input.policy.hash },
    mode: input.mode,
    choices: { ...input.choices },
    method: input.method,
    source: input.source,
    // GPC as the page saw it, or as the browser sent it with this very request (Sec-GPC: 1).
    signals: { gpc: input.signals.gpc || req.headers['sec-gpc'] === '1' },
    page: { origin: input.page.origin, path: input.page.path },
    lang: input.lang,
    expiresAt: new Date(input.expiresAt).toISOString(),
    region,
    ua: uaFamily(req.headers['user-agent']),
    ipHash: typeof ipHash === 'string' ? ipHash : await ipHash,
    kid: ctx.signer.kid,
  } as const;
  try {
    return await ctx.writer.submit(item);
  } catch (cause) {
    req.log.error({ err: cause }, 'receipt not stored');
    throw Object.assign(new Error('the receipt could not be stored; nothing was written, try again'), {
      statusCode: 503,
    });
  }
};
