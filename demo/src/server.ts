/**
 * `npm start`: the demo news site with its receipt server, on embedded SQLite
 * (`.data/demo.db`), at http://127.0.0.1:3000/. To change: PORT (0 for any free port), HOST,
 * ASSENT_DEMO_DATA (the data directory; one running demo per directory) and
 * ASSENT_ADMIN_TOKEN (the admin API's bearer token, at least 16 characters). A busy port, a
 * database another demo holds or a bad setting is one line saying what to do (exit 1; 2 for
 * a bad setting), never a stack trace.
 *
 * Choices made on the site are posted to /v1/receipts and can be seen at /consent/<id>
 * (the preferences dialog links there). The admin console (/admin) signs in the demo owner
 * printed below; scripts use the admin token.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { addUser, createServer, generateKeys } from '@assent/server';
import { demoPolicy } from './pages.js';
import { demoSite } from './site.js';

// An empty variable counts as unset (`PORT= npm start`), as in a shell.
const env = (name: string): string | undefined => process.env[name] || undefined;
const host = env('HOST') ?? '127.0.0.1';
const dataDir = env('ASSENT_DEMO_DATA') ?? join(import.meta.dirname, '../../.data');

/** Keeps the demo's signing key and IP secret across restarts, so old receipts still verify. */
const secretFile = (name: string, make: () => string) => {
  const f = join(dataDir, name);
  if (!existsSync(f)) writeFileSync(f, make(), { mode: 0o600 });
  return readFileSync(f, 'utf8');
};

/** A port nothing listens on now (port 0 asked of the OS), so the site's origin is known before listening. */
const anyPort = (host: string) =>
  new Promise<number>((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

export const startDemo = async (opts: { port: number; host: string; db?: string; quiet?: boolean }) => {
  mkdirSync(dataDir, { recursive: true });
  // The site's origins name its port: with port 0 ("any"), pick it first.
  opts = { ...opts, port: opts.port || (await anyPort(opts.host)) };
  const origins = [`http://${opts.host}:${opts.port}`, `http://localhost:${opts.port}`];
  const adminToken = env('ASSENT_ADMIN_TOKEN') ?? 'demo-admin-token';
  const server = await createServer({
    db: opts.db ?? `sqlite:${join(dataDir, 'demo.db')}`,
    // The site's policy, published by its own receipt server: the pages load it from there.
    sites: Object.fromEntries(origins.map((o) => [o, demoPolicy()])),
    // Who the standard exports (ISO 27560, Kantara) name as responsible: the news site's publisher.
    controllers: Object.fromEntries(
      origins.map((o) => [
        o,
        {
          name: 'The Daily Example (demo publisher)',
          contact: 'Data Protection Officer',
          email: 'privacy@daily.example',
          address: '1 Example Street, Example City',
          phone: '+00 000 000 000',
        },
      ]),
    ),
    adminToken,
    signingKey: secretFile('demo-signing-key.pem', () => generateKeys().privateKeyPem),
    ipSecret: secretFile('demo-ip-secret', () => crypto.randomUUID()),
    logger: opts.quiet ? false : { level: 'warn' },
    // Behind Cloudflare (or any CDN that sets it) the region comes from this header.
    regionHeader: 'cf-ipcountry',
  });
  // The console's first owner, as `assent-server user add --role owner` makes it on a real server.
  const owner = {
    email: process.env.ASSENT_DEMO_OWNER ?? 'owner@demo.test',
    password: process.env.ASSENT_DEMO_OWNER_PASSWORD ?? 'demo-owner-password',
  };
  if (!(await server.store.admin.userByEmail(owner.email))) {
    const r = await addUser(server.store, { ...owner, role: 'owner' });
    if (!r.ok) throw new Error(`demo owner: ${r.field}: ${r.message}`);
  }
  const { app } = server;
  let beacons = 0;
  // The analytics stand-in's page-view beacon: counted, so a test can see that it ran.
  app.post('/demo/collect', { config: { rateLimit: false } }, async (_req, reply) => {
    beacons++;
    return reply.code(204).send();
  });
  app.get('/demo/beacons', async () => ({ beacons }));
  // Pages and files are not the API: the per-IP rate limit guards /v1 only, so a crawl or a
  // scan of the demo is never throttled.
  app.get('/*', { config: { rateLimit: false } }, async (req, reply) => {
    const url = new URL(req.url, 'http://x');
    const region = url.searchParams.get('region')?.toUpperCase();
    const r = demoSite(url.pathname, region ? { region } : {});
    if (!r) return reply.callNotFound();
    return reply.code(r.status).headers(r.headers).send(r.body);
  });
  try {
    await app.listen({ port: opts.port, host: opts.host });
  } catch (e) {
    // A busy port: close the database again, so the caller can say why and stop cleanly.
    await server.close().catch(() => {});
    throw e;
  }
  return {
    server,
    url: `http://${opts.host}:${(app.server.address() as { port: number }).port}/`,
    adminToken,
    owner,
  };
};

/** Why `npm start` cannot run, said in one line with what to do; `code` 2 for a bad setting. */
class StartError extends Error {
  constructor(
    message: string,
    readonly code: 1 | 2 = 1,
  ) {
    super(message);
  }
}

/** PORT: a whole number from 0 (any free port) to 65535; 3000 when unset. */
const portFromEnv = (): number => {
  const v = env('PORT');
  if (v === undefined) return 3000;
  if (!/^\d{1,5}$/.test(v) || Number(v) > 65535)
    throw new StartError(
      `PORT must be a whole number from 0 to 65535 (0: any free port), got ${JSON.stringify(v)}`,
      2,
    );
  return Number(v);
};

/** ASSENT_ADMIN_TOKEN: checked here so a short one is one line, not the server's stack. */
const checkAdminToken = (): void => {
  const v = env('ASSENT_ADMIN_TOKEN');
  if (v !== undefined && v.length < 16)
    throw new StartError(
      `ASSENT_ADMIN_TOKEN must be at least 16 characters (openssl rand -base64 24 makes one), got ${v.length}`,
      2,
    );
};

/**
 * What went wrong, in one line that says what to do: a busy port, a database another demo
 * holds, a data directory that cannot be written, a HOST that is not this machine's. Anything
 * else is a bug: undefined, and the caller lets it throw with its stack.
 */
const whyNotStarted = (e: unknown, port: number): StartError | undefined => {
  if (e instanceof StartError) return e;
  const x = e as { code?: unknown; syscall?: unknown; name?: unknown; message?: unknown; path?: unknown };
  const other = port > 0 && port < 65535 ? port + 1 : 3001;
  const db = join(dataDir, 'demo.db');
  if (x?.code === 'EADDRINUSE') return new StartError(`port ${port} is in use: PORT=${other} npm start`);
  if (x?.code === 'EACCES' && x.syscall === 'listen')
    return new StartError(`port ${port} needs privileges on this machine: PORT=3000 npm start`);
  if (x?.code === 'EADDRNOTAVAIL' || (x?.code === 'ENOTFOUND' && x.syscall === 'getaddrinfo'))
    return new StartError(`HOST=${host} is not an address of this machine: HOST=127.0.0.1 npm start`, 2);
  // The receipt server's error when another process has the SQLite file open (a demo started
  // earlier, still running); its other ReadOnlyError is a file that cannot be written.
  if (x?.name === 'ReadOnlyError' && typeof x.message === 'string')
    return /held by another process/.test(x.message)
      ? new StartError(
          `the demo's database (${db}) is held by another demo process: stop it, or ASSENT_DEMO_DATA=/tmp/assent-demo-2 PORT=${other} npm start`,
        )
      : new StartError(
          `the demo's database (${db}) cannot be written: make ${dataDir} writable, or ASSENT_DEMO_DATA=/tmp/assent-demo-2 npm start`,
        );
  if (typeof x?.code === 'string' && typeof x.path === 'string' && x.path.startsWith(dataDir))
    return new StartError(
      `cannot use the demo's data directory ${dataDir} (${x.code}): ASSENT_DEMO_DATA=/tmp/assent-demo-2 npm start`,
    );
  return undefined;
};

if (process.argv[1] === import.meta.filename) {
  let port = 3000;
  let started: Awaited<ReturnType<typeof startDemo>>;
  try {
    port = portFromEnv();
    checkAdminToken();
    started = await startDemo({ port, host });
  } catch (e) {
    const why = whyNotStarted(e, port);
    if (!why) throw e;
    process.stderr.write(`demo: ${why.message}\n`);
    process.exit(why.code);
  }
  const { server, url, adminToken, owner } = started;
  console.log(`
  The Daily Ledger — Assent demo
  ─────────────────────────────────────────────
  Site:            ${url}
  The seed article ${url}articles/trump-maduro-call
  Your receipts:   open "Cookie settings", follow your consent ID
  Admin console:   ${url}admin  (${owner.email} / ${owner.password})
  Admin stats:     curl -H 'authorization: Bearer ${adminToken}' '${url}v1/admin/stats?by=method'
  Admin export:    curl -H 'authorization: Bearer ${adminToken}' '${url}v1/admin/receipts?format=ndjson'
  Data:            ${dataDir} (SQLite, signing key)
  Stop with Ctrl+C.
`);
  const stop = async () => {
    await server.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
