import { ORIGIN, OTHER, PUBLISHED, receiptBody } from '../helpers.js';
import { clientHeaders } from './harness.js';
import { rng } from './profile.js';

/** What a request was: a banner's receipt, a withdrawal, or a read of a consent. */
export type Kind = 'receipt' | 'withdraw' | 'read';

/** Which answers a phase of a test accepts for each kind of request (others are problems). */
export type Allowed = (kind: Kind, status: number, phase: string) => boolean;

/** Normal service: receipts 201 (or 409 right after a policy changed), withdrawals 201, reads 200. */
export const NORMAL: Allowed = (kind, status) =>
  kind === 'receipt'
    ? status === 201 || status === 409
    : kind === 'withdraw'
      ? status === 201
      : status === 200;

export interface Load {
  /** Receipt IDs acknowledged with 201 (receipts and withdrawals), in order. */
  readonly acked: string[];
  /** `phase kind status` → count; `status` is `net` for a connection error (server down). */
  readonly tally: Map<string, number>;
  /** Answers outside what the phase allows, or errors not in the documented shape. */
  readonly problems: string[];
  /** Write answers (receipts, withdrawals) refused with 503 in a row, since the last 201. */
  readonly streak: () => number;
  /** Sets the phase that labels the next answers. */
  phase(p: string): void;
  /** Stops the workers and waits for the requests in flight. */
  stop(): Promise<void>;
}

/** The documented error body: `{ error: "ASSENT_…", field: string | null, message }`. */
export const isApiError = (b: unknown): boolean => {
  const e = b as { error?: unknown; field?: unknown; message?: unknown } | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.error === 'string' &&
    /^ASSENT_[A-Z_]+$/.test(e.error) &&
    (e.field === null || typeof e.field === 'string') &&
    typeof e.message === 'string'
  );
};

/**
 * `workers` concurrent clients send receipts (about 85 %, both sites), withdraw consents that
 * were acknowledged (10 %) and read them back (5 %) to whichever server `target()` names, each
 * request from another test client (X-Forwarded-For, user agent). A 409 teaches the client the
 * published policy, as the banner learns it. Connection errors (a server killed or not yet
 * up) are counted and retried; every other answer is checked against `allowed`.
 */
export const startLoad = (opts: {
  target: () => string | undefined;
  workers: number;
  seed: number;
  allowed?: Allowed;
  onAck?: (total: number) => void;
}): Load => {
  const allowed = opts.allowed ?? NORMAL;
  const r = rng(opts.seed);
  const acked: string[] = [];
  const consents: string[] = [];
  const tally = new Map<string, number>();
  const problems: string[] = [];
  const policy = new Map<string, { version: string; sha256: string }>(
    [ORIGIN, OTHER].map((o) => [o, { version: 'v3', sha256: PUBLISHED.sha256 }]),
  );
  let phase = 'run';
  let streak = 0;
  let stopped = false;
  let n = 0;

  const one = async (url: string) => {
    const i = n++;
    const roll = r.next();
    const kind: Kind = roll < 0.85 || !consents.length ? 'receipt' : roll < 0.95 ? 'withdraw' : 'read';
    let label = phase;
    const headers: Record<string, string> = { ...clientHeaders(r.int(0, 1e6)) };
    let req: Request;
    const site = r.next() < 0.7 ? ORIGIN : OTHER;
    if (kind === 'receipt') {
      const body = receiptBody({
        policy: policy.get(site),
        choices: { analytics: r.next() < 0.5, 'analytics:matomo': r.next() < 0.5, marketing: r.next() < 0.5 },
        page: { origin: site, path: `/articles/${i % 97}` },
      });
      req = new Request(`${url}/v1/receipts`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', origin: site },
        body: JSON.stringify(body),
      });
    } else {
      const id = r.pick(consents);
      req =
        kind === 'withdraw'
          ? new Request(`${url}/v1/consents/${id}/withdraw`, { method: 'POST', headers })
          : new Request(`${url}/v1/consents/${id}${r.next() < 0.5 ? '/cookie' : ''}`, { headers });
    }
    let res: Response;
    let text: string;
    try {
      res = await fetch(req, { signal: AbortSignal.timeout(60_000) });
      text = await res.text();
    } catch (e) {
      const key = `${label} ${kind} net`;
      tally.set(key, (tally.get(key) ?? 0) + 1);
      // Not a server answer: the process is down (killed, restarting). A hang is a problem.
      if ((e as Error).name === 'TimeoutError') problems.push(`${label} ${kind}: no answer in 60 s`);
      await new Promise((ok) => setTimeout(ok, 10));
      return;
    }
    // Labelled by the phase the answer came in (a request sent before an outage may end in it).
    label = phase;
    const key = `${label} ${kind} ${res.status}`;
    tally.set(key, (tally.get(key) ?? 0) + 1);
    let body: unknown = null;
    try {
      body = JSON.parse(text);
    } catch {}
    if (!allowed(kind, res.status, label))
      problems.push(
        `${label} ${req.method} ${new URL(req.url).pathname} → ${res.status} ${text.slice(0, 300)}`,
      );
    if (
      res.status >= 400 &&
      (!/^application\/json/.test(res.headers.get('content-type') ?? '') || !isApiError(body))
    )
      problems.push(
        `${label} ${kind} → ${res.status}, not the documented error shape: ${text.slice(0, 300)}`,
      );
    if (res.status === 409) {
      const p = (body as { policy?: { version: string; sha256: string } }).policy;
      if (p && kind === 'receipt') policy.set(site, p);
    }
    if (kind !== 'read' && res.status === 503) streak++;
    if (res.status === 201 && kind !== 'read') {
      streak = 0;
      const created = body as { id: string; consentId: string };
      acked.push(created.id);
      if (kind === 'receipt') consents.push(created.consentId);
      opts.onAck?.(acked.length);
    }
  };

  const loops = Array.from({ length: opts.workers }, async () => {
    while (!stopped) {
      const url = opts.target();
      if (url === undefined) await new Promise((ok) => setTimeout(ok, 10));
      else await one(url);
    }
  });
  return {
    acked,
    tally,
    problems,
    streak: () => streak,
    phase: (p) => {
      phase = p;
    },
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
    },
  };
};

/** `tally` as one line per key, for t.diagnostic. */
export const tallyLines = (l: Load): string[] => [...l.tally].sort().map(([k, v]) => `${k}: ${v}`);

/** How many answers matched: `count(l, 'down', 'receipt', 503)`. */
export const count = (l: Load, phase: string, kind: Kind, status: number | 'net') =>
  l.tally.get(`${phase} ${kind} ${status}`) ?? 0;
