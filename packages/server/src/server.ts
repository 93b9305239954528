import { createHmac, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { type Controller, controllerProblem } from '@assent/core';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifySchema,
} from 'fastify';
import type { DestinationStream } from 'pino';
import type { AdminRoute } from './admin-auth.js';
import { AuditLog } from './audit.js';
import { AuthThrottle } from './auth-throttle.js';
import {
  byOrigin,
  type Context,
  ipHashOf,
  normalizeOrigin,
  ownOrigin,
  retiredSites,
  sitePolicies,
} from './context.js';
import { apiError, clientErrorHandler, errorHandler, frameworkErrors, isUnavailable } from './errors.js';
import { GroupCommit } from './group-commit.js';
import { IpHasher } from './ip-hash.js';
import { useJsonParser } from './json-body.js';
import { LogThrottle, RequestLog, redactUrl } from './logging.js';
import { Metrics, metricsRoute } from './metrics.js';
import { registerOpenApi } from './openapi.js';
import {
  adminOriginOf,
  HEADER_NAME_RE,
  IP_SECRET_MIN_BYTES,
  intProblem,
  LOG_LEVELS,
  MAX_TIMER_MS,
  OPTION_DEFAULTS,
  privateNetworksOf,
  RANGES,
  signingKeyOf,
  tokenProblem,
  trustProxyOf,
} from './options.js';
import { PolicyRegistry, publishers } from './policies.js';
import { startRetention } from './retention.js';
import { adminRoutes } from './routes/admin.js';
import { configRoutes } from './routes/config.js';
import { consentRoutes, cookieRoute } from './routes/consents.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { healthRoutes } from './routes/health.js';
import { logRoutes } from './routes/log.js';
import { notFoundPage, pageRoutes } from './routes/page.js';
import { policyRoutes } from './routes/policies.js';
import { receiptRoutes } from './routes/receipts.js';
import { signInRoute } from './routes/session.js';
import { createSigner, type Signer } from './signer.js';
import { isHeldElsewhere, isReadOnly, openStore, ReadOnlyError } from './store/open.js';
import type { Store } from './store/types.js';
import { unsafeIn, unsafeParam } from './text.js';
import { ConsentLog } from './tlog/log.js';
import { logBannerBuilds } from './tlog/mechanism.js';
import { parseCosignerKey } from './tlog/note.js';
import { WebhookDispatcher, type WebhookOptions } from './webhooks/dispatcher.js';

/** A database URL as it may be printed: without its password. */
/**
 * How long a request may take to arrive, headers and body: every body the server takes is
 * small (8 KiB; a policy at most 256 KiB), so 15 s is generous for a slow mobile client.
 */
export const REQUEST_TIMEOUT_MS = 15_000;

/**
 * How long `close()` lets requests in flight finish before it closes their connections: well
 * under systemd's default TimeoutStopSec (30 s, the unit's too), leaving time to commit what is
 * queued and close the database before a SIGKILL would.
 */
export const SHUTDOWN_GRACE_MS = 10_000;

const redactDbUrl = (url: string) => url.replace(/^(postgres(?:ql)?:\/\/[^:/@]*):[^@]*@/, '$1:***@');

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route reports unsafe text in its body itself (the policy check answers it beside the
     * field, as it answers every other problem of a draft), instead of the server's 400.
     */
    textInBody?: boolean;
  }
}

/** Whether a route (its URL pattern) is the admin console's: its pages and files, or the admin API. */
export const isConsoleRoute = (url: string | undefined): boolean =>
  url !== undefined && (/^\/admin(\/|$)/.test(url) || url.startsWith('/v1/admin/'));

/** The largest request body the server reads, on every route but the admin API's policies. */
export const BODY_LIMIT = 8 * 1024;

export interface ServerOptions {
  /** `sqlite:path/file.db` (default `sqlite:.data/assent.db`), `sqlite::memory:` or `postgres://…`. */
  readonly db?: string;
  /** An already opened store instead of `db` (tests, embedding). Closed by `close()`. */
  readonly store?: Store;
  /**
   * Sites and their policies: origin → Assent config (what core's validateConfig accepts). Each
   * is published at start (a new version when it changed). Sites published through the admin
   * API are served too, from the store. `false` retires a site: no longer served, its history
   * kept; a site this config added and no longer names is an error at start.
   */
  readonly sites?: Readonly<Record<string, unknown>>;
  /** Per-site API keys for server-to-server receipts (`source: "api"`): origin → key. */
  readonly apiKeys?: Readonly<Record<string, string>>;
  /** Verifier keys of the witnesses whose checkpoint cosignatures the log accepts and publishes. */
  readonly witnesses?: readonly string[];
  /** Each site's controller, named by the ISO 27560 and Kantara exports: origin → controller. */
  readonly controllers?: Readonly<Record<string, Controller>>;
  /** Bearer token of the admin API; the admin API answers 401 to everything without one. */
  readonly adminToken?: string;
  /**
   * The origin the admin console is served on, e.g. `https://admin.news.example`: when set,
   * the console's pages and every `/v1/admin/*` route answer 404 on any other origin (the
   * request's own, `trustProxy` honoured), so no script of a site served by this server shares
   * an origin with a signed-in console. Unset: the console answers on every origin.
   */
  readonly adminOrigin?: string;
  /**
   * Bearer token that reads `GET /metrics` (and nothing else); the admin token reads it too.
   * With neither, /metrics answers 401.
   */
  readonly metricsToken?: string;
  /** Ed25519 private key (KeyObject or PKCS#8 PEM). Absent: an ephemeral key, with a warning. */
  readonly signingKey?: KeyObject | string;
  /**
   * Secret for the keyed IP hash (text or bytes: a Buffer, or any Uint8Array), at least 32
   * bytes. Absent: an ephemeral one (hashes do not link across restarts).
   */
  readonly ipSecret?: string | Uint8Array;
  /** Header a trusted proxy or CDN sets to the visitor's country, e.g. `cf-ipcountry`. */
  readonly regionHeader?: string;
  /**
   * Fastify's `trustProxy`: whether X-Forwarded-For is believed (only behind your own proxy):
   * true, false, a number of hops, or proxy addresses and CIDR ranges (comma-separated or a list).
   */
  readonly trustProxy?: boolean | number | string | readonly string[];
  /** `false` for silence; otherwise pino options. Raw IPs are never logged. */
  readonly logger?: boolean | { readonly level?: string; readonly stream?: DestinationStream };
  /** Requests per window per hashed IP; `false` turns it off (benchmarks). Default 300 per minute. */
  readonly rateLimit?: false | { readonly max: number; readonly timeWindow: number };
  /** Drop the payload of receipts whose consent expired `days` ago. Default 365 days, hourly. */
  readonly retention?: false | { readonly days: number; readonly intervalMs?: number };
  /** Most receipts per group-commit transaction. */
  readonly maxBatch?: number;
  /** PostgreSQL pool size per process. */
  readonly poolSize?: number;
  /**
   * The consent log's checkpoints: a new one at most `intervalMs` (default 10 s) after a leaf
   * was appended, and on demand; `false` issues them on demand only (tests).
   */
  readonly log?: false | { readonly intervalMs: number };
  /**
   * Failed admin or API-key authentications allowed per client (hashed IP) and window before
   * it gets 429s; default 10 per minute, whether or not `rateLimit` is on.
   */
  readonly authFailures?: { readonly max: number; readonly timeWindow: number };
  /**
   * Webhook delivery (README "Webhooks"): poll, batch, timeout and backoff; `false` delivers
   * nothing (test events still go out).
   */
  readonly webhooks?: false | WebhookOptions;
}

export interface AssentServer {
  /** The Fastify app, not yet listening: add routes, then `app.listen()`. */
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly signer: Signer;
  /** The policy registry: each site's current policy, every version by SHA-256. */
  readonly policies: PolicyRegistry;
  /** The consent log: checkpoints and proofs (README "Verifying Assent's log"). */
  readonly log: ConsentLog;
  /** The admin API's routes and the roles each allows (admin-auth.ts), as registered. */
  readonly adminRoutes: readonly AdminRoute[];
  /** Every route as registered (HEAD and the CORS preflight included): what the OpenAPI test walks. */
  readonly routes: readonly {
    readonly method: string;
    readonly url: string;
    readonly schema?: FastifySchema;
  }[];
  /** The server's Prometheus metrics (also at `GET /metrics`, behind a token). */
  readonly metrics: Metrics;
  /** Waits for in-flight receipts to commit, then closes the app and the store. */
  close(): Promise<void>;
}

/**
 * The options' values checked, before anything is opened: each mistake throws naming the
 * option and what it must be. (A bad `trustProxy` or log level failed only after migrating; a
 * negative `retention.days` purged fresh receipts; `maxBatch: 0` froze every write.)
 */
const checkOptions = (
  opts: ServerOptions,
): {
  trustProxy: boolean | number | string[];
  signingKey: KeyObject | undefined;
  adminOrigin: string | undefined;
} => {
  const fail = (option: string, message: string): never => {
    throw new Error(`${option}: ${message}`);
  };
  const int = (option: string, v: unknown, min: number, max: number) => {
    if (v === undefined) return;
    const problem = intProblem(v, min, max);
    if (problem) fail(option, problem);
  };
  const tp = trustProxyOf(opts.trustProxy ?? false);
  if (!tp.ok) fail('trustProxy', `${tp.message}, got ${JSON.stringify(opts.trustProxy)}`);
  if (typeof opts.logger === 'object' && opts.logger.level !== undefined) {
    const level = opts.logger.level;
    if (!(LOG_LEVELS as readonly string[]).includes(level))
      fail('logger.level', `must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
  }
  let signingKey: KeyObject | undefined;
  if (opts.signingKey) {
    const k = signingKeyOf(opts.signingKey);
    signingKey = k.ok ? k.key : fail('signingKey', k.message);
  }
  if (opts.ipSecret !== undefined && Buffer.from(opts.ipSecret).length < IP_SECRET_MIN_BYTES)
    fail(
      'ipSecret',
      `must be at least ${IP_SECRET_MIN_BYTES} bytes (random), got ${Buffer.from(opts.ipSecret).length}`,
    );
  // An empty token is no token (the admin API is then off), as `adminToken || undefined` below.
  for (const option of ['adminToken', 'metricsToken'] as const) {
    const problem = opts[option] ? tokenProblem(opts[option]) : null;
    if (problem) fail(option, problem);
  }
  // A site's API key signs receipts in as `source: "api"`: as hard to guess as the admin token.
  for (const [origin, key] of Object.entries(opts.apiKeys ?? {})) {
    const problem = tokenProblem(key);
    if (problem) fail(`apiKeys["${origin}"]`, problem);
  }
  if (opts.rateLimit !== undefined && opts.rateLimit !== false) {
    int('rateLimit.max', opts.rateLimit.max, ...RANGES.rateLimitMax);
    int('rateLimit.timeWindow', opts.rateLimit.timeWindow, ...RANGES.rateLimitWindowMs);
  }
  if (opts.retention !== undefined && opts.retention !== false) {
    int('retention.days', opts.retention.days, ...RANGES.retentionDays);
    int('retention.intervalMs', opts.retention.intervalMs, 1000, MAX_TIMER_MS);
  }
  int('maxBatch', opts.maxBatch, 1, 100_000);
  int('poolSize', opts.poolSize, 1, 1000);
  if (opts.log !== undefined && opts.log !== false)
    int('log.intervalMs', opts.log.intervalMs, 1000, MAX_TIMER_MS);
  if (opts.authFailures !== undefined) {
    int('authFailures.max', opts.authFailures.max, 1, 1_000_000);
    int('authFailures.timeWindow', opts.authFailures.timeWindow, 1000, 86_400_000);
  }
  if (opts.webhooks) {
    const w = opts.webhooks;
    for (const k of ['pollMs', 'wakeMs', 'timeoutMs', 'leaseMs'] as const)
      int(`webhooks.${k}`, w[k], 1, MAX_TIMER_MS);
    int('webhooks.batch', w.batch, 1, 100_000);
    int('webhooks.keepDays', w.keepDays, 1, 36_500);
    int('webhooks.backoff.baseMs', w.backoff?.baseMs, 1, MAX_TIMER_MS);
    int('webhooks.backoff.capMs', w.backoff?.capMs, 1, MAX_TIMER_MS);
    int('webhooks.backoff.maxAttempts', w.backoff?.maxAttempts, 1, 1000);
    if (w.privateNetworks !== undefined) {
      const n = privateNetworksOf(w.privateNetworks);
      if (!n.ok) fail('webhooks.privateNetworks', `${n.message}, got ${JSON.stringify(w.privateNetworks)}`);
    }
  }
  if (opts.regionHeader !== undefined && !HEADER_NAME_RE.test(opts.regionHeader))
    fail(
      'regionHeader',
      `must be an HTTP header name such as cf-ipcountry, got ${JSON.stringify(opts.regionHeader)}`,
    );
  let adminOrigin: string | undefined;
  if (opts.adminOrigin !== undefined) {
    const a = adminOriginOf(opts.adminOrigin);
    adminOrigin = a.ok
      ? a.value
      : fail('adminOrigin', `${a.message}, got ${JSON.stringify(opts.adminOrigin)}`);
  }
  return { trustProxy: tp.ok ? tp.value : false, signingKey, adminOrigin };
};

/**
 * Creates the receipt server, migrated and ready to listen.
 *
 * @example
 * const { app } = await createServer({ db: 'sqlite:.data/receipts.db', sites: { 'http://127.0.0.1:3000': config } });
 * await app.listen({ port: 3000, host: '127.0.0.1' });
 */
export const createServer = async (opts: ServerOptions): Promise<AssentServer> => {
  // Every option is checked before the store is opened or migrated: a mistake throws naming
  // the option, and leaves no database created, migrated or held.
  const checked = checkOptions(opts);
  const sites = sitePolicies(opts.sites ?? {});
  const witnesses = (opts.witnesses ?? []).map((k, i) => {
    const w = parseCosignerKey(k);
    if (typeof w === 'string') throw new Error(`witnesses[${i}]: ${w}`);
    return w;
  });
  for (const [origin, c] of Object.entries(opts.controllers ?? {})) {
    const problem = controllerProblem(c);
    if (problem) throw new Error(`controllers["${origin}"].${problem}`);
  }
  const apiKeys = byOrigin('apiKeys', opts.apiKeys ?? {});
  const controllers = byOrigin('controllers', opts.controllers ?? {});
  const logger =
    opts.logger === false
      ? false
      : {
          level: (typeof opts.logger === 'object' && opts.logger.level) || 'info',
          ...(typeof opts.logger === 'object' && opts.logger.stream ? { stream: opts.logger.stream } : {}),
          // Fastify's default request serializer logs remoteAddress: replaced, so no IP is ever logged.
          serializers: {
            // Consent IDs are the visitor's handle: never logged, wherever they are in the URL.
            req: (req: FastifyRequest) => ({ method: req.method, url: redactUrl(req.url) }),
          },
          redact: ['req.headers', 'headers'],
        };
  // Fastify's two lines per request at info are off: an error line per route and status (5xx),
  // throttled, the rest at debug and trace (logging.ts RequestLog).
  const requestLog = new RequestLog();
  const app = Fastify({
    logger,
    logController: requestLog,
    // Fastify takes a number of hops too (its types omit it).
    trustProxy: checked.trustProxy as boolean | string[],
    // The 201 is only meaningful if shutdown waits: in-flight requests finish before close.
    return503OnClosing: true,
    // Every body the API takes is small (a receipt is at most 8 KiB): refused before parsing.
    // The admin API's policy route allows more, after its token was checked.
    bodyLimit: BODY_LIMIT,
    // Requests Fastify cannot route or Node cannot parse answer in the API's error shape too.
    frameworkErrors,
    clientErrorHandler,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    // A request must arrive whole, headers and body, within REQUEST_TIMEOUT_MS (Fastify's default
    // is no limit): a client that stalls mid-body is answered 408 and its connection closed,
    // instead of holding it, and shutdown, open for ever. The headers' own limit (Node's 60 s)
    // must not exceed it, or Node checks neither; and Node checks every second (its default,
    // 30 s, would let a stalled request live up to 45 s).
    requestTimeout: REQUEST_TIMEOUT_MS,
    http: {
      requestTimeout: REQUEST_TIMEOUT_MS,
      headersTimeout: REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: 1_000,
    },
  });

  // Errors that repeat (every write failing, every connection dropped): one line per window.
  const logs = new LogThrottle(app.log);
  requestLog.throttle = logs;
  const where = opts.store ? 'the store' : redactDbUrl(opts.db ?? OPTION_DEFAULTS.db);
  let store: Store;
  try {
    store =
      opts.store ??
      openStore(opts.db ?? OPTION_DEFAULTS.db, {
        poolSize: opts.poolSize ?? OPTION_DEFAULTS.poolSize,
        maxBatch: opts.maxBatch ?? OPTION_DEFAULTS.maxBatch,
        onConnectionError: (err) => logs.warn(err, 'a database connection failed'),
      });
    await store.migrate();
    // A database that opens and reads but refuses writes would take no receipt at all: found
    // now, it is one clear error (the CLI's exit code 3), not a 503 on every request.
    await store.probeWrite(new Date().toISOString());
  } catch (e) {
    if (isHeldElsewhere(e))
      throw new ReadOnlyError(
        `the database ${where} is held by another process (a running assent-server opens its SQLite file exclusively): stop it, or give this server its own file; several server processes need PostgreSQL`,
      );
    if (isReadOnly(e))
      throw new ReadOnlyError(
        `the database ${where} cannot be written (${(e as { code?: string }).code ?? (e as Error).message}): make it writable (file, directory and mount; not immutable), or point db at one that is`,
      );
    throw e;
  }

  let key = checked.signingKey;
  if (!key) {
    app.log.warn(
      'no signing key configured: using an ephemeral key; receipts will not verify after a restart',
    );
    key = generateKeyPairSync('ed25519').privateKey;
  }
  const signer = createSigner(key);
  if (!opts.ipSecret) app.log.warn('no IP secret configured: using an ephemeral one');
  const secret = opts.ipSecret ? Buffer.from(opts.ipSecret) : randomBytes(32);
  const writer = new GroupCommit(
    store,
    signer,
    opts.maxBatch ?? OPTION_DEFAULTS.maxBatch,
    store.writeConcurrency,
  );
  const metrics = new Metrics();
  writer.onBatch = (size, seconds, error) => metrics.batch(size, seconds, error);
  metrics.watch(writer, store);
  const policies = new PolicyRegistry(store);
  await policies.load();
  policies.retire(retiredSites(opts.sites ?? {}));
  // The config file is the one truth of which sites are served: one it added and no longer
  // names was taken off it, so that is said, not served on from the database (a site the admin
  // token added is the operator's too, and stays until retired).
  for (const site of policies.sites()) {
    if (sites.has(site) || policies.retired(site)) continue;
    const by = publishers(await store.publications(site), await store.admin.auditOf('policy-publish', site));
    if (by.at(-1) === null) {
      await store.close();
      throw new Error(
        `sites: "${site}" was added by this config file (its first policy has no publisher in the audit log) and is no longer in it: to stop serving it, write "${site}": false (what it collected stays readable, provable and erasable); to go on serving it, put its config back`,
      );
    }
  }
  // The config file's sites: each publishes its policy (a new version only when it changed).
  for (const [origin, v] of sites)
    if (await policies.publish(origin, v))
      app.log.info({ site: origin, sha256: v.sha256, version: v.config.policy }, 'policy published');
  const ctx: Context = {
    store,
    writer,
    signer,
    hasher: new IpHasher(secret, store),
    policies,
    apiKeys,
    witnesses,
    controllers,
    adminToken: opts.adminToken || undefined,
    adminOrigin: checked.adminOrigin,
    regionHeader: opts.regionHeader?.toLowerCase(),
    formKey: createHmac('sha256', secret).update('assent consent-page forms').digest(),
    adminKey: createHmac('sha256', secret).update('assent admin console').digest(),
    adminRoutes: [],
    audit: new AuditLog(store, signer),
    authThrottle: new AuthThrottle(
      opts.authFailures?.max ?? OPTION_DEFAULTS.authFailures.max,
      opts.authFailures?.timeWindow ?? OPTION_DEFAULTS.authFailures.timeWindow,
    ),
    logs,
    // createSigner always holds its key: checkpoints are signed with the receipts' key.
    log: new ConsentLog(store, signer.key!),
    // Deliveries are signed with it too (Ed25519), beside each webhook's HMAC.
    webhooks: new WebhookDispatcher(
      store,
      { kid: signer.kid, key: signer.key! },
      () => writer.counts.receipts,
      opts.webhooks || {},
      (err) => logs.error(err, 'webhooks: delivery failed'),
    ),
  };

  app.decorateRequest('assentIpHash', null);
  app.decorateRequest('assentAdmin', null);
  const handleError = errorHandler(logs);
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (isUnavailable(err)) metrics.requestDbError(err);
    return handleError(err, req, reply);
  });
  // Before any route: the route list, the API description and the metrics see every one.
  const routes: { method: string; url: string; schema?: FastifySchema }[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routes.push({ method, url: r.url, schema: r.schema });
  });
  metrics.instrument(app);
  await registerOpenApi(app);
  // The keyed IP hash on arrival, while the socket is open: its address is gone once the
  // client disconnects, and a receipt's route reads it only after parsing the body. (The
  // rate limiter, when on, needs it here anyway.) A callback hook: no promise per request.
  app.addHook('onRequest', (req, _reply, done) => {
    const h = ipHashOf(ctx, req);
    // The first request of a day loads the day's salt: a failure is the route's to report.
    if (typeof h !== 'string') h.catch(() => {});
    done();
  });
  // Parameters are names, dates, IDs: never control or bidi characters; a JSON body's strings
  // may hold what prose needs (line breaks, tabs, RTL marks), never NUL and the rest (text.ts).
  // One check for every route, so no database sees a NUL a route forgot to refuse (PostgreSQL
  // answers one with an error: a 500). Routes refuse more where they store visitor text.
  app.addHook('preValidation', (req, reply, done) => {
    const bad =
      unsafeParam(req.query) ??
      unsafeParam(req.params) ??
      (req.routeOptions.config.textInBody ? null : unsafeIn(req.body));
    if (!bad) return done();
    reply.code(400).send(apiError('ASSENT_BAD_FIELD', bad[0] || null, bad[1]));
  });
  // A browser's page request under /consent/ or /admin gets a page saying so (routes/page.ts).
  const notFound = (req: FastifyRequest, reply: FastifyReply) =>
    notFoundPage(req, reply) ??
    reply
      .code(404)
      .send(apiError('ASSENT_NOT_FOUND', null, `no route ${req.method} ${req.url.split('?')[0]}`));
  app.setNotFoundHandler(notFound);
  // With `adminOrigin`, the console and the admin API exist on that origin only: elsewhere
  // (a site this server serves, whose scripts would share the console's origin) they answer
  // the same 404 as a route that does not exist. By the route matched, not the raw URL, so no
  // spelling of the path (percent-encoding) gets past it; before authentication and parsing.
  if (ctx.adminOrigin !== undefined) {
    const only = ctx.adminOrigin;
    const adminHost = new URL(only).hostname;
    let warned = false;
    // As `adminOrigin` was normalised (URL: no default port), so `Host: admin.example:443` is it.
    const isAdmin = (own: string) => {
      try {
        return new URL(own).origin === only;
      } catch {
        return false;
      }
    };
    app.addHook('onRequest', (req, reply, done) => {
      if (isConsoleRoute(req.routeOptions.url)) {
        const own = ownOrigin(req);
        if (own !== only && !isAdmin(own)) {
          // The admin host under another scheme or port: most likely a TLS proxy whose
          // X-Forwarded-Proto the server does not trust. Said once, or the 404 says nothing.
          if (!warned && req.hostname === adminHost) {
            warned = true;
            req.log.warn(
              `the console answered 404 on ${own}: adminOrigin is ${only} (behind a TLS proxy, start the server with trustProxy)`,
            );
          }
          notFound(req, reply);
          return;
        }
      }
      done();
    });
  }
  // Only JSON bodies: text/plain (Fastify's other default) is a 415.
  app.removeContentTypeParser('text/plain');
  // Fastify's JSON parser, but a refused "__proto__" key is said as such (json-body.ts).
  useJsonParser(app);
  let shuttingDown = false;
  // A callback hook, not an async one: no promise per response.
  app.addHook('onSend', (_req, reply, payload, done) => {
    // A response finished while shutting down closes its connection: a keep-alive socket that
    // was busy when close() began would otherwise hold the server open for its whole timeout.
    if (shuttingDown) reply.header('connection', 'close');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    done(null, payload);
  });
  // A CORS preflight (OPTIONS with an Origin) must name the method it asks for: refused here,
  // in the API's error shape (@fastify/cors's strict mode would answer 400 text/plain).
  app.addHook('onRequest', (req, reply, done) => {
    if (
      req.method === 'OPTIONS' &&
      req.headers.origin !== undefined &&
      req.headers['access-control-request-method'] === undefined
    ) {
      reply
        .code(400)
        .send(
          apiError(
            'ASSENT_BAD_REQUEST',
            'access-control-request-method',
            'is required in a CORS preflight (OPTIONS with an Origin)',
          ),
        );
      return;
    }
    done();
  });
  await app.register(cors, {
    strictPreflight: false,
    // Only the configured sites may call the API from a browser.
    origin: (origin, cb) => cb(null, origin !== undefined && policies.serves(normalizeOrigin(origin))),
    methods: ['GET', 'POST'],
    allowedHeaders: ['content-type'],
    maxAge: 86400,
  });
  if (opts.rateLimit !== false) {
    await app.register(rateLimit, {
      max: opts.rateLimit?.max ?? OPTION_DEFAULTS.rateLimit.max,
      timeWindow: opts.rateLimit?.timeWindow ?? OPTION_DEFAULTS.rateLimit.timeWindow,
      // Keyed by the hashed IP: the limiter's memory never holds an address either.
      keyGenerator: (req) => ipHashOf(ctx, req),
      errorResponseBuilder: (_req, c) => ({
        statusCode: 429,
        ...apiError('ASSENT_RATE_LIMITED', null, `too many requests; retry in ${Math.ceil(c.ttl / 1000)} s`),
      }),
    });
  }
  await app.register(healthRoutes(ctx));
  await app.register(receiptRoutes(ctx));
  await app.register(configRoutes(ctx));
  await app.register(consentRoutes(ctx));
  await app.register(cookieRoute(ctx));
  await app.register(policyRoutes(ctx));
  await app.register(pageRoutes(ctx));
  await app.register(signInRoute(ctx));
  await app.register(adminRoutes(ctx));
  await app.register(dashboardRoutes());
  await app.register(logRoutes(ctx));
  await app.register(metricsRoute(ctx, metrics, opts.metricsToken || undefined));

  // The banner builds this server hands out, logged in each site's log when they change.
  await logBannerBuilds(
    store,
    [...policies.sites()].filter((s) => policies.serves(s)),
  );
  const following = policies.follow();
  const checkpoints =
    opts.log === false
      ? null
      : ctx.log.start(opts.log?.intervalMs ?? OPTION_DEFAULTS.logIntervalMs, (err) =>
          logs.error(err, 'consent log: checkpoint failed'),
        );
  if (opts.webhooks !== false) await ctx.webhooks.start();
  // With retention off, receipts are kept, but the job still deletes the IP hash's old salts.
  const retention = startRetention(
    ctx,
    app.log,
    opts.retention === false ? null : (opts.retention?.days ?? OPTION_DEFAULTS.retentionDays),
    opts.retention === false ? undefined : opts.retention?.intervalMs,
    (purged) => metrics.retention(purged),
  );

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      shuttingDown = true;
      // Requests in flight get SHUTDOWN_GRACE_MS to finish; then every connection still open is
      // closed (a client stalled mid-body, a slow download), or one such client would hold the
      // process until systemd's SIGKILL. Nothing acknowledged is lost: a 201 is sent only after
      // its commit, and a receipt whose commit is under way still commits (drained below); its
      // client just never hears so, and retries.
      const cut = setTimeout(() => {
        app.log.warn(
          `shutting down: closing the connections still open after ${SHUTDOWN_GRACE_MS / 1000} s (their requests get no answer)`,
        );
        app.server.closeAllConnections();
      }, SHUTDOWN_GRACE_MS);
      try {
        retention.stop();
        following.stop();
        checkpoints?.stop();
        // Attempts in flight are aborted: their receipts stay after the cursor, sent again next start.
        await ctx.webhooks.stop();
        // Stops accepting, waits for in-flight requests (each waits for its commit) …
        await app.close();
      } finally {
        clearTimeout(cut);
      }
      // … and anything still queued (e.g. submitted by a route the embedder added).
      await writer.drain();
      await store.close();
      await signer.close();
    })());
  return {
    app,
    store,
    signer,
    policies,
    log: ctx.log,
    adminRoutes: ctx.adminRoutes,
    routes,
    metrics,
    close,
  };
};
