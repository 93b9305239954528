import { createHmac, createPublicKey, timingSafeEqual, verify } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';

/** One request a test receiver got, and what it answered. */
export interface Got {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** performance.now() when the body had arrived. */
  readonly at: number;
  readonly status: number | 'hang';
}

export interface WebhookEventJson {
  readonly id: string;
  readonly type: string;
  readonly seq: number | null;
  readonly receipt: Record<string, unknown> | null;
}

/**
 * A webhook receiver on 127.0.0.1 (node:http), answering each request with what `answer`
 * says for it (`'hang'`: never, until closed).
 */
export const receiver = async (answer: (n: number) => number | 'hang' = () => 200) => {
  const got: Got[] = [];
  const hanging: ServerResponse[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
    });
    req.on('end', () => {
      const status = answer(got.length + 1);
      got.push({ headers: req.headers, body, at: performance.now(), status });
      if (status === 'hang') hanging.push(res);
      else res.writeHead(status, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hooks/assent?token=abc`,
    got,
    /** The events of the requests answered 2xx, in the order they arrived. */
    acknowledged: (): WebhookEventJson[] =>
      got
        .filter((g) => typeof g.status === 'number' && g.status < 300)
        .flatMap((g) => (JSON.parse(g.body) as { events: WebhookEventJson[] }).events),
    close: async () => {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
};

/**
 * What a receiver does, written from the README and nothing of the server's code: the
 * header's timestamp is recent, and the HMAC (with the secret) and the Ed25519 signature
 * (with the public key) cover `${t}.${raw body}`.
 */
export const receiverVerifies = (
  headers: IncomingHttpHeaders,
  raw: string,
  secret: string,
  publicKeyPem: string,
): { hmac: boolean; ed25519: boolean } => {
  const parts = Object.fromEntries(
    String(headers['assent-signature'] ?? '')
      .split(',')
      .map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]),
  );
  const t = Number(parts.t);
  if (!(Math.abs(Date.now() / 1000 - t) <= 300)) return { hmac: false, ed25519: false };
  const signed = `${t}.${raw}`;
  const mac = Buffer.from(createHmac('sha256', secret).update(signed).digest('hex'));
  const sent = Buffer.from(String(parts['hmac-sha256'] ?? ''));
  return {
    hmac: sent.length === mac.length && timingSafeEqual(sent, mac),
    ed25519: verify(
      null,
      Buffer.from(signed),
      createPublicKey(publicKeyPem),
      Buffer.from(String(parts.ed25519 ?? ''), 'base64url'),
    ),
  };
};

/** Resolves once `ok()` holds; fails after `ms` saying what it waited for. */
export const waitFor = async (what: string, ok: () => boolean | Promise<boolean>, ms = 30_000) => {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};
