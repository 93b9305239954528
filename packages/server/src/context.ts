import { createHmac, randomBytes } from 'node:crypto';
import { type Controller, decodeConsent, type ReceiptInput, type SignedReceipt } from '@assent/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AdminRoute } from './admin-auth.js';
import type { AuditLog } from './audit.js';
import type { AuthThrottle } from './auth-throttle.js';
import type { GroupCommit } from './group-commit.js';
import type { IpHasher } from './ip-hash.js';
import type { LogThrottle } from './logging.js';
import { isOrigin, normalizeOrigin } from './origin.js';
import { cookieOf, expiryOf, type PolicyRegistry, type PolicyVersion, publishable } from './policies.js';
import type { Signer } from './signer.js';
import type { Store } from './store/types.js';
import { unsafeIn } from './text.js';
import type { ConsentLog } from './tlog/log.js';
import type { Cosigner } from './tlog/note.js';
import { uaFamily } from './ua.js';
import type { WebhookDispatcher } from './webhooks/dispatcher.js';

export { isOrigin, normalizeOrigin };

/** What every route plugin shares. */
export interface Context {
  readonly store: Store;
  readonly writer: GroupCommit;
  readonly signer: Signer;
  readonly hasher: IpHasher;
  /** Each site's current policy, and every policy ever published. Its sites are the ones served. */
  readonly policies: PolicyRegistry;
  /** Per-site keys of server-to-server receipts (`source: "api"`), by origin. */
  readonly apiKeys: ReadonlyMap<string, string>;
  /** Each site's controller (config `controllers`), for the standard exports. */
  readonly controllers: ReadonlyMap<string, Controller>;
  readonly adminToken: string | undefined;
  /** The only origin the console and the admin API answer on (normalised); none: every origin. */
  readonly adminOrigin: string | undefined;
  /** Lower-case header name holding the visitor's region (set by a trusted proxy or CDN). */
  readonly regionHeader: string | undefined;
  /** Key of the consent page's anti-forgery tokens (derived from the IP secret). */
  readonly formKey: Buffer;
  /** Failed authentications per client (admin token, API keys, passwords, sessions): a guesser gets 429s. */
  readonly authThrottle: AuthThrottle;
  /** Key of the admin console's anti-forgery tokens (derived from the IP secret). */
  readonly adminKey: Buffer;
  /** Every admin action, append-only, hash-chained and signed. */
  readonly audit: AuditLog;
  /** The admin API's routes and the roles each allows, as they are registered. */
  readonly adminRoutes: AdminRoute[];
  /** The app's log for errors that repeat (every write failing): one line per window. */
  readonly logs: LogThrottle;
  /** Witnesses whose cosignatures of checkpoints the log publishes (config `witnesses`). */
  readonly witnesses: readonly Cosigner[];
  /** The consent log: Merkle tree per site, checkpoints, proofs. */
  readonly log: ConsentLog;
  /** Delivers receipts to webhooks (started unless the server's `webhooks` option is false). */
  readonly webhooks: WebhookDispatcher;
}

/**
 * A config object keyed by site (`sites`, `apiKeys`, `controllers`) as a map by normalised
 * origin. Two spellings of one site (case, a trailing slash) would silently override each
 * other: refused, naming both.
 */
export const byOrigin = <T>(field: string, entries: Readonly<Record<string, T>>): Map<string, T> => {
  const out = new Map<string, T>();
  const named = new Map<string, string>();
  for (const [origin, v] of Object.entries(entries)) {
    const key = normalizeOrigin(origin);
    const same = named.get(key);
    if (same !== undefined)
      throw new Error(`${field}: "${same}" and "${origin}" are the same site: keep one`);
    named.set(key, origin);
    out.set(key, v);
  }
  return out;
};

/**
 * The sites of the server's config, each checked and turned into the policy it publishes.
 * A config error is fatal here, unlike in the banner: the owner must fix it.
 */
export const sitePolicies = (sites: Readonly<Record<string, unknown>>): Map<string, PolicyVersion> => {
  const out = new Map<string, PolicyVersion>();
  byOrigin('sites', sites);
  for (const [origin, raw] of Object.entries(sites)) {
    // Core's rule, as receipts' page.origin is checked: a site with a path, a query or
    // credentials (`https://user@shop.example`) could never be named by one of its receipts.
    if (!isOrigin(normalizeOrigin(origin)))
      throw new Error(
        `sites: "${origin}" is not an origin such as https://example.com (scheme, host and port only)`,
      );
    if (raw === false) continue; // retired: see retiredSites
    const unsafe = unsafeIn(raw);
    if (unsafe) throw new Error(`sites["${origin}"]${unsafe[0] ? `.${unsafe[0]}` : ''}: ${unsafe[1]}`);
    const r = publishable(raw);
    if (!r.ok) throw new Error(`sites["${origin}"]: ${r.errors.join('; ')}`);
    out.set(normalizeOrigin(origin), r.version);
  }
  return out;
};

/**
 * The sites the config retires (`"https://old.example": false`): served no more, their history
 * kept. Offboarding is said in the reviewed file like everything else about which sites exist.
 */
export const retiredSites = (sites: Readonly<Record<string, unknown>>): string[] =>
  Object.entries(sites)
    .filter(([, v]) => v === false)
    .map(([o]) => normalizeOrigin(o));

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
export const ipHashOf = (ctx: Context, req: FastifyRequest): string | Promise<string> => {
  if (req.assentIpHash !== null) return req.assentIpHash;
  // The address is read from the socket, which is gone once the client disconnected: the
  // server's onRequest hook hashes it on arrival, so this is only a last line of defence.
  const ip = req.ip;
  if (ip === undefined) throw Object.assign(new Error('the client disconnected'), { statusCode: 400 });
  return (req.assentIpHash = ctx.hasher.hashSync(ip) ?? ctx.hasher.hash(ip));
};

/** The visitor's region from the trusted header, upper-cased; null when absent or malformed. */
export const regionOf = (ctx: Context, req: FastifyRequest): string | null => {
  const raw = ctx.regionHeader ? req.headers[ctx.regionHeader] : undefined;
  return typeof raw === 'string' && REGION_RE.test(raw) ? raw.toUpperCase() : null;
};

/**
 * The origin this request was made to, as the visitor's browser saw it: scheme and host, from
 * X-Forwarded-Proto and X-Forwarded-Host when `trustProxy` says the proxy is believed. When it
 * is the site's origin, the server shares the site's cookies (a same-origin deployment).
 */
export const ownOrigin = (req: FastifyRequest): string => normalizeOrigin(`${req.protocol}://${req.host}`);

/** The origin a browser says it posts from: `Origin`, failing that `Referer`'s; null when neither. */
export const senderOrigin = (req: FastifyRequest): string | null => {
  const o = req.headers.origin;
  if (typeof o === 'string' && o !== 'null') return normalizeOrigin(o);
  if (o === 'null') return 'null';
  const ref = req.headers.referer;
  if (typeof ref !== 'string') return null;
  try {
    return normalizeOrigin(new URL(ref).origin);
  } catch {
    return 'null';
  }
};

/**
 * In a same-origin deployment (the server reverse-proxied under the site's origin, or serving
 * the site), sets the site's consent cookie itself: a withdrawal made on the consent page then
 * takes effect on the very next page view, and Safari keeps the cookie for its whole lifetime
 * (it caps cookies written by scripts at 7 days). `null` clears it (the banner asks again).
 */
export const setConsentCookie = (
  req: FastifyRequest,
  reply: FastifyReply,
  site: string,
  v: PolicyVersion,
  r: SignedReceipt | null,
  ref: SignedReceipt | null = r,
): void => {
  if (ownOrigin(req) !== site) return;
  const { cookieName, domain } = v.config;
  const c = r ? cookieOf(r, v, ref ? deviceSkew(req, cookieName, ref, v) : 0) : { value: '', expiresAt: 0 };
  const maxAge = Math.max(0, Math.round((c.expiresAt - Date.now()) / 1000));
  reply.header(
    'set-cookie',
    `${cookieName}=${c.value}; Path=/; Max-Age=${maxAge}; SameSite=Lax${req.protocol === 'https' ? '; Secure' : ''}${
      domain ? `; Domain=${domain}` : ''
    }`,
  );
};

/**
 * How far the visitor's clock is from the server's (ms, to the second), as the consent cookie
 * their browser sent says: one that encodes `ref` (same consent, policy, choices, method) but for
 * its times is `ref` as the banner wrote it, by the visitor's clock. The banner judges a cookie's
 * times by that clock (a `givenAt` more than a day ahead, an `expiresAt` past): a cookie the
 * server wrote in its own time asked a visitor whose device was a day behind (or more than
 * `days` ahead) again on every page, granting nothing; shifted, it holds for `days` by their
 * clock. No such cookie sent: 0.
 */
export const deviceSkew = (
  req: FastifyRequest,
  name: string,
  ref: SignedReceipt,
  v: PolicyVersion,
): number => {
  const raw = req.headers.cookie
    ?.split(/;\s*/)
    .find((p) => p.startsWith(`${name}=`))
    ?.slice(name.length + 1);
  const sent = decodeConsent(raw);
  const ours = sent && decodeConsent(cookieOf(ref, v).value);
  return sent &&
    ours &&
    sent.id === ours.id &&
    sent.hash === ours.hash &&
    sent.bits === ours.bits &&
    sent.method === ours.method &&
    sent.gpc === ours.gpc
    ? sent.givenAt - ours.givenAt
    : 0;
};

/** The consent page's anti-forgery token for one consent ID. */
export const formToken = (ctx: Pick<Context, 'formKey'>, consentId: string): string =>
  createHmac('sha256', ctx.formKey).update(`withdraw:${consentId}`).digest('base64url').slice(0, 32);

/**
 * Adds the server's facts to a visitor's input and commits it (group commit): the server's
 * clock, the published policy `v` (by SHA-256) and the expiry its `days` give, the region, a
 * keyed hash of the IP. Resolves after the transaction holding it has committed.
 */
export const record = async (
  ctx: Context,
  req: FastifyRequest,
  input: ReceiptInput,
  v: PolicyVersion,
): Promise<SignedReceipt> => {
  const region = regionOf(ctx, req);
  const ipHash = ipHashOf(ctx, req);
  const now = Date.now();
  const item = {
    v: 2,
    id: newReceiptId(),
    site: input.page.origin,
    at: new Date(now).toISOString(),
    // Copied field by field: only what the schema allows ever reaches the signed body.
    consentId: input.consentId,
    policy: { version: v.config.policy, sha256: v.sha256 },
    mode: input.mode,
    choices: { ...input.choices },
    method: input.method,
    source: input.source,
    // GPC as the page saw it, or as the browser sent it with this very request (Sec-GPC: 1).
    signals: { gpc: input.signals.gpc || req.headers['sec-gpc'] === '1' },
    page: { origin: input.page.origin, path: input.page.path },
    lang: input.lang,
    expiresAt: expiryOf(v, now),
    region,
    ua: uaFamily(req.headers['user-agent']),
    ipHash: typeof ipHash === 'string' ? ipHash : await ipHash,
    kid: ctx.signer.kid,
  } as const;
  try {
    return await ctx.writer.submit(item);
  } catch (cause) {
    // A full disk fails every receipt: one line per window, not one per request.
    ctx.logs.error(cause, 'receipt not stored');
    throw Object.assign(new Error('the receipt could not be stored; nothing was written, try again'), {
      statusCode: 503,
    });
  }
};
