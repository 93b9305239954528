/**
 * `npm start`: the demo news site with its receipt server, on embedded SQLite
 * (`.data/demo.db`), at http://127.0.0.1:3000/ (PORT and HOST to change).
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

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
const dataDir = process.env.ASSENT_DEMO_DATA ?? join(import.meta.dirname, '../../.data');

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
  const adminToken = process.env.ASSENT_ADMIN_TOKEN ?? 'demo-admin-token';
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
  await app.listen({ port: opts.port, host: opts.host });
  return {
    server,
    url: `http://${opts.host}:${(app.server.address() as { port: number }).port}/`,
    adminToken,
    owner,
  };
};

if (process.argv[1] === import.meta.filename) {
  const { server, url, adminToken, owner } = await startDemo({ port, host });
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
