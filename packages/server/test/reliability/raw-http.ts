import { connect } from 'node:net';

/**
 * A deliberately dumb HTTP/1.1 client over a bare socket: the fuzzer must be able to send what
 * fetch refuses to (bad request lines, oversized or malformed headers, a wrong Content-Length,
 * bodies cut short), one connection per request (`Connection: close`).
 */
export interface RawRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body?: Buffer | string;
  /** Bytes sent verbatim instead of the request above (malformed HTTP). */
  readonly raw?: Buffer;
  /** Send only this many bytes, then drop the connection (a client that goes away). */
  readonly abortAfter?: number;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export const encode = (r: RawRequest, host: string): Buffer => {
  if (r.raw) return r.raw;
  const body = r.body === undefined ? undefined : Buffer.from(r.body);
  const names = new Set(r.headers.map(([k]) => k.toLowerCase()));
  const head = [
    `${r.method} ${r.path} HTTP/1.1`,
    ...(names.has('host') ? [] : [`host: ${host}`]),
    'connection: close',
    ...r.headers.map(([k, v]) => `${k}: ${v}`),
    ...(body && !names.has('content-length') && !names.has('transfer-encoding')
      ? [`content-length: ${body.length}`]
      : []),
  ].join('\r\n');
  return Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'latin1'), body ?? Buffer.alloc(0)]);
};

const dechunk = (b: Buffer): Buffer => {
  const parts: Buffer[] = [];
  let i = 0;
  while (i < b.length) {
    const eol = b.indexOf('\r\n', i);
    if (eol < 0) break;
    const size = Number.parseInt(b.subarray(i, eol).toString('latin1'), 16);
    if (!(size > 0)) break;
    parts.push(b.subarray(eol + 2, eol + 2 + size));
    i = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
};

const parse = (b: Buffer): RawResponse | null => {
  const end = b.indexOf('\r\n\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(b.subarray(0, Math.max(end, 0)).toString('latin1'));
  if (end < 0 || !m) return null;
  const headers: Record<string, string> = {};
  for (const line of b.subarray(0, end).toString('latin1').split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const rest = b.subarray(end + 4);
  // An interim answer (100 Continue to `Expect: 100-continue`): the real one follows.
  if (/^1\d\d$/.test(m[1]!) && m[1] !== '101') return parse(rest);
  return {
    status: Number(m[1]),
    headers,
    body: /chunked/i.test(headers['transfer-encoding'] ?? '') ? dechunk(rest) : rest,
  };
};

/**
 * Sends one request and reads the answer until the server closes. `'aborted'` when the client
 * dropped the connection on purpose; `'no answer'` when the server closed without a response;
 * `'timeout'` when it neither answered nor closed within `timeoutMs`.
 */
export const send = (
  port: number,
  r: RawRequest,
  timeoutMs = 30_000,
): Promise<RawResponse | 'aborted' | 'no answer' | 'timeout'> =>
  new Promise((resolve) => {
    const bytes = encode(r, `127.0.0.1:${port}`);
    const s = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      s.destroy();
      resolve('timeout');
    }, timeoutMs);
    s.on('data', (d) => chunks.push(d));
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      if (r.abortAfter !== undefined) return resolve('aborted');
      resolve(parse(Buffer.concat(chunks)) ?? 'no answer');
    });
    s.on('connect', () => {
      if (r.abortAfter === undefined) return void s.write(bytes);
      s.write(bytes.subarray(0, r.abortAfter), () => setTimeout(() => s.destroy(), 5));
    });
  });
