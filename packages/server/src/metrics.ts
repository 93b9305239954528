import type { FastifyInstance, FastifyReply, FastifyRequest, onSendHookHandler } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { throttledAuth, tokenMatches } from './authenticate.js';
import type { Context } from './context.js';
import type { ErrorCode } from './errors.js';
import { errorReply } from './schemas.js';
import type { Store } from './store/types.js';

/** Every error code the API sends (errors.ts): the only values `reason` can take. */
const CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'ASSENT_BAD_FIELD',
  'ASSENT_BAD_REQUEST',
  'ASSENT_INVALID_JSON',
  'ASSENT_UNSUPPORTED_MEDIA_TYPE',
  'ASSENT_TOO_LARGE',
  'ASSENT_UNKNOWN_SITE',
  'ASSENT_ORIGIN_MISMATCH',
  'ASSENT_ORIGIN_REQUIRED',
  'ASSENT_POLICY_MISMATCH',
  'ASSENT_FORBIDDEN',
  'ASSENT_NOT_FOUND',
  'ASSENT_UNAUTHORIZED',
  'ASSENT_RATE_LIMITED',
  'ASSENT_UNAVAILABLE',
  'ASSENT_INTERNAL',
]);

/** A database error's code as a label: an SQLSTATE or SQLITE_… code, never free text. */
const codeLabel = (err: unknown): string => {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? code : 'other';
};

const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/**
 * The server's Prometheus metrics, in a registry of its own (one per server: tests start many
 * in one process). Labels are bounded by construction: route patterns (never a URL, so no
 * consent ID), status classes, error codes, configured sites' origins, database error codes.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly receiptsStored = new Counter({
    name: 'assent_receipts_stored_total',
    help: 'Receipts stored (answered 201 by POST /v1/receipts).',
    registers: [this.registry],
  });
  readonly receiptsRefused = new Counter({
    name: 'assent_receipts_refused_total',
    help: 'Receipts refused by POST /v1/receipts, by the error code of the answer.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'assent_http_request_duration_seconds',
    help: 'Time from a request arriving to its answer sent, by route pattern, method and status class.',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'assent_writer_batch_receipts',
    help: 'Receipts per group-commit batch handed to the store (the SQLite writer thread may merge several into one transaction).',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
    registers: [this.registry],
  });
  readonly batchDuration = new Histogram({
    name: 'assent_writer_batch_seconds',
    help: 'Time from a batch handed to the store to its commit (or failure).',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  readonly dbErrors = new Counter({
    name: 'assent_db_errors_total',
    help: 'Database errors: failed receipt transactions (operation "append") and requests that failed on the database (operation "request"), by error code.',
    labelNames: ['operation', 'code'] as const,
    registers: [this.registry],
  });
  readonly retentionRuns = new Counter({
    name: 'assent_retention_runs_total',
    help: 'Retention runs (purge of expired receipts and salt rotation), by outcome.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly retentionPurged = new Counter({
    name: 'assent_retention_purged_receipts_total',
    help: 'Receipts whose payload retention purged.',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // Both at zero from the start, so a dashboard sees "none yet", not "no data".
    this.dbErrors.labels('append', 'other').inc(0);
    for (const outcome of ['ok', 'failed']) this.retentionRuns.labels(outcome).inc(0);
  }

  /** A batch committed (or failed) in the writer: its size and how long it took. */
  batch(size: number, seconds: number, error?: unknown): void {
    this.batchSize.observe(size);
    this.batchDuration.observe(seconds);
    if (error !== undefined) this.dbErrors.labels('append', codeLabel(error)).inc();
  }

  /** A request failed on the database (the error handler's 503). */
  requestDbError(err: unknown): void {
    this.dbErrors.labels('request', codeLabel(err)).inc();
  }

  /** A retention run finished. */
  retention(purged: number | null): void {
    this.retentionRuns.labels(purged === null ? 'failed' : 'ok').inc();
    if (purged) this.retentionPurged.inc(purged);
  }

  /** Gauges read when scraped: the writer's queue, and each site's checkpoint age. */
  watch(writer: { readonly depth: number; readonly batchesInFlight: number }, store: Store): void {
    new Gauge({
      name: 'assent_writer_queue_receipts',
      help: 'Receipts waiting for a group-commit batch (not yet handed to the store).',
      registers: [this.registry],
      collect() {
        this.set(writer.depth);
      },
    });
    new Gauge({
      name: 'assent_writer_batches_in_flight',
      help: 'Batches handed to the store and not yet committed.',
      registers: [this.registry],
      collect() {
        this.set(writer.batchesInFlight);
      },
    });
    const metrics = this;
    new Gauge({
      name: 'assent_log_checkpoint_age_seconds',
      help: "Seconds since each site's latest signed consent-log checkpoint (a checkpoint is signed only when new leaves arrived, so an idle site's age grows).",
      labelNames: ['site'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        const now = Date.now();
        try {
          for (const site of await store.logSites()) {
            const c = await store.logCheckpoint(site);
            if (c) this.labels(site).set(Math.max(0, (now - Date.parse(c.at)) / 1000));
          }
        } catch (err) {
          // A scrape while the database is away: the age is unknown, the error counted.
          metrics.dbErrors.labels('request', codeLabel(err)).inc();
        }
      },
    });
  }

  /**
   * Adds the request latency hook to `app`, and the receipt counters to POST /v1/receipts only
   * (an onSend hook of that one route: every other route pays nothing for them). Register
   * before the routes.
   */
  instrument(app: FastifyInstance): void {
    // One child per label set, found by a string key: no label object hashed per request.
    const children = new Map<string, Histogram.Internal<'route' | 'method' | 'status'>>();
    app.addHook('onResponse', (req: FastifyRequest, reply: FastifyReply, done) => {
      const route = req.routeOptions.url ?? 'unmatched';
      const status = STATUS_CLASSES[Math.floor(reply.statusCode / 100) - 1] ?? 'other';
      const key = `${req.method} ${status} ${route}`;
      let h = children.get(key);
      if (!h) {
        h = this.httpDuration.labels(route, req.method, status);
        children.set(key, h);
      }
      h.observe(reply.elapsedTime / 1000);
      done();
    });
    const count: onSendHookHandler = (_req, reply, payload, done) => {
      if (reply.statusCode === 201) this.receiptsStored.inc();
      else if (reply.statusCode >= 400) {
        const m = typeof payload === 'string' ? /"error":"([A-Z_]+)"/.exec(payload) : null;
        const code = m?.[1] as ErrorCode | undefined;
        this.receiptsRefused.labels(code && CODES.has(code) ? code : 'other').inc();
      }
      done(null, payload);
    };
    app.addHook('onRoute', (r) => {
      if (r.url !== '/v1/receipts' || r.method !== 'POST') return;
      r.onSend = r.onSend ? [...[r.onSend].flat(), count] : [count];
    });
  }
}

/**
 * `GET /metrics`: Prometheus's text format, for the admin token or the metrics token
 * (`metricsToken`); with neither configured it answers 401 to everyone. Failed attempts are
 * throttled per client like every other secret.
 */
export const metricsRoute =
  (ctx: Context, metrics: Metrics, metricsToken: string | undefined) => async (app: FastifyInstance) => {
    app.get(
      '/metrics',
      {
        config: { rateLimit: false, metrics: true },
        schema: {
          summary: 'Prometheus metrics',
          description:
            'Receipts stored and refused, request latency by route pattern, the writer queue and batch sizes, database errors, retention runs, checkpoint age per site, and process metrics, in the Prometheus text format. Needs the admin token or the metrics token as "Bearer <token>".',
          tags: ['operations'],
          response: {
            200: {
              description: 'The metrics, in the Prometheus text exposition format 0.0.4.',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
            401: errorReply(
              'No valid metrics or admin token (ASSENT_UNAUTHORIZED); with neither configured, always.',
            ),
            429: errorReply('Too many failed authentications from this client (ASSENT_RATE_LIMITED).'),
          },
        },
      },
      async (req, reply) => {
        const ok = await throttledAuth(
          ctx,
          req,
          reply,
          () =>
            tokenMatches(req.headers.authorization, metricsToken) ||
            tokenMatches(req.headers.authorization, ctx.adminToken),
          {
            challenge: 'Bearer',
            message:
              metricsToken || ctx.adminToken
                ? 'metrics need "Bearer <metrics token or admin token>"'
                : 'metrics are off: configure metricsToken (or adminToken) to read them',
          },
        );
        if (!ok) return reply;
        const text = await metrics.registry.metrics();
        return reply.type(metrics.registry.contentType).header('cache-control', 'no-store').send(text);
      },
    );
  };

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The metrics route: its OpenAPI security is the admin or the metrics token. */
    metrics?: boolean;
  }
}
