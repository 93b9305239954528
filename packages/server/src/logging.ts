import { type FastifyBaseLogger, type FastifyReply, type FastifyRequest, LogController } from 'fastify';

/**
 * Percent-escapes decoded where they are valid, the rest left as sent: one bad escape anywhere
 * in a URL (`?%`) must not leave the others encoded. Each run of escapes is decoded as UTF-8;
 * a run that is not valid UTF-8 has its ASCII escapes decoded one by one.
 */
const decodeLeniently = (s: string): string =>
  s.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run.replace(/%([0-7][0-9A-Fa-f])/g, (_, h: string) =>
        String.fromCharCode(Number.parseInt(h, 16)),
      );
    }
  });

/**
 * 22 base64url characters with no other one on either side: a consent ID. Or right after a
 * `%` and one or two characters: an escape left as sent (`%E0`, not UTF-8 alone; `%A`, `%zz`,
 * not escapes at all) does not decode into a separator, and its hex digits would otherwise
 * glue onto the ID (`/consent/%E0Xq3v0b9YbK1mJ2v8T4c6Aa` kept the ID in the log).
 */
const CONSENT_ID_RUN = /(?:(?<![A-Za-z0-9_-])|(?<=%[A-Za-z0-9_-]{1,2}))[A-Za-z0-9_-]{22}(?![A-Za-z0-9_-])/g;

/**
 * A request's URL as it may be logged. Consent IDs (22 base64url characters) are the visitor's
 * bearer capability: whoever reads one can read and withdraw that consent, so none reaches a
 * log, wherever it sits (a path segment, `/consent/:id/withdraw`, a query string) and however
 * it is spelled: percent-escapes are decoded first, leniently (a bad escape elsewhere in the
 * URL does not keep the ID encoded), and again while that changes the text (`%2561` → `%61` →
 * `a`), a few times at most. An escape left as it was sent counts as a separator before an ID
 * (CONSENT_ID_RUN).
 */
export const redactUrl = (url: string): string => {
  let u = url;
  for (let i = 0; i < 3; i++) {
    const next = decodeLeniently(u);
    if (next === u) break;
    u = next;
  }
  return u.replace(CONSENT_ID_RUN, ':id');
};

/**
 * Repeated identical errors, logged once per window: a full disk or a stopped database fails
 * every write, and one line per failed request (thousands a second) would bury everything else
 * and fill the disk further. The first occurrence is logged at once; the ones after it within
 * `windowMs` are counted and reported in one line (`repeated: n`) when the window ends or the
 * next one is logged.
 */
export class LogThrottle {
  private readonly seen = new Map<string, { until: number; suppressed: number }>();

  constructor(
    private readonly log: FastifyBaseLogger,
    private readonly windowMs = 10_000,
  ) {}

  error(err: unknown, msg: string): void {
    this.emit('error', err, msg);
  }

  warn(err: unknown, msg: string): void {
    this.emit('warn', err, msg);
  }

  /**
   * A response of 500 or more (or one that failed while being sent): its method, its route's
   * pattern (`/v1/consents/:id`, never the URL, which may hold a consent ID) and its status, at
   * error, one line per route and status per window.
   */
  answered(req: FastifyRequest, status: number, err?: Error | null): void {
    const route = req.routeOptions.url ?? '(no route)';
    this.emit('error', err ?? undefined, `${req.method} ${route} answered ${status}`, {
      method: req.method,
      route,
      statusCode: status,
    });
  }

  private emit(level: 'error' | 'warn', err: unknown, msg: string, fields?: Record<string, unknown>): void {
    const e = err as { code?: unknown; message?: unknown } | null;
    const key = `${level}\0${msg}\0${String(e?.code ?? '')}\0${String(e?.message ?? err)}`;
    const now = Date.now();
    const s = this.seen.get(key);
    if (s && now < s.until) {
      s.suppressed++;
      return;
    }
    const repeated = s?.suppressed ?? 0;
    this.log[level](
      { ...(err === undefined ? {} : { err }), ...fields, ...(repeated ? { repeated } : {}) },
      msg,
    );
    this.seen.set(key, { until: now + this.windowMs, suppressed: 0 });
    // Keys of errors long gone are dropped, so the map stays small.
    if (this.seen.size > 1000)
      for (const [k, v] of this.seen) if (v.until < now && !v.suppressed) this.seen.delete(k);
  }
}

/**
 * What the server logs of each request, in place of Fastify's two lines per request at info
 * ("incoming request", "request completed"): under a fault every request fails alike, and
 * those two lines per request (113,187 lines, 17.8 MB in 15 s of a full disk, beside 5
 * throttled error lines) filled what was left of the disk and buried the errors. Now:
 * - a response of 500 or more, or one that failed while being sent: an error line through
 *   LogThrottle (one per route and status per window, then `repeated: n`);
 * - a refusal (4xx): a line at debug; any other response: a line at trace (method, the URL with
 *   its consent IDs redacted, status, time: the request serializer in server.ts; never an IP,
 *   a header or a body).
 * Fastify's other per-request lines (route not found, its default error handler's) stay off,
 * a refusal while closing is at debug, and a stream that failed after its headers were sent is
 * a warning, throttled.
 */
export class RequestLog extends LogController {
  /** The app's throttle, set once the app (and its logger) exists. */
  throttle: LogThrottle | null = null;

  constructor() {
    super({ disableRequestLogging: true });
  }

  override requestCompleted(error: Error | null | undefined, req: FastifyRequest, reply: FastifyReply): void {
    const status = reply.statusCode;
    if (error || status >= 500) {
      this.throttle?.answered(req, status, error);
      return;
    }
    if (status >= 400) req.log.debug({ req, res: reply, responseTime: reply.elapsedTime }, 'request refused');
    else req.log.trace({ req, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }

  override streamError(error: Error): void {
    if ((error as { code?: unknown }).code !== 'ERR_STREAM_PREMATURE_CLOSE')
      this.throttle?.warn(error, 'a response failed after its headers were sent');
  }

  override serializerError(error: Error): void {
    this.throttle?.error(error, 'a response could not be serialised');
  }

  /** A request refused (503) while the server closes: one line per request, so at debug only. */
  override serviceUnavailable(logger: FastifyBaseLogger): void {
    logger.debug({ res: { statusCode: 503 } }, 'request refused: the server is closing');
  }
}
