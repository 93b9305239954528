import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { nginxConfig, RECIPE, type Proxy as RunningProxy, startProxy } from '../../test-support/proxy.js';

/** A tiny upstream on a random port that answers with `text(req, body)`. */
const upstream = async (handle: (req: IncomingMessage, res: ServerResponse, body: string) => void) => {
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => handle(req, res, body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
};

const closeServer = (s: Server | undefined) =>
  new Promise<void>((resolve) => (s ? s.close(() => resolve()) : resolve()));

describe('test-support/proxy: a real nginx in front of the site and the receipt server', () => {
  let site: Server | undefined;
  let assent: Server | undefined;
  let proxy: RunningProxy | undefined;

  before(async () => {
    const s = await upstream((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`site:${req.url}`);
    });
    const a = await upstream((req, res, body) => {
      if (req.method === 'POST') {
        res.writeHead(201, {
          'content-type': 'application/json',
          'set-cookie': 'assent_id=r1; Path=/; HttpOnly; SameSite=Lax',
        });
        res.end(JSON.stringify({ path: req.url, type: req.headers['content-type'], got: JSON.parse(body) }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`assent:${req.url} host=${req.headers.host} xfp=${req.headers['x-forwarded-proto']}`);
    });
    site = s.server;
    assent = a.server;
    proxy = await startProxy({ sitePort: s.port, assentPort: a.port });
  });

  after(async () => {
    await proxy?.close();
    await Promise.all([closeServer(site), closeServer(assent)]);
  });

  it('sends everything outside /assent/ to the site, path unchanged', async () => {
    const r = await fetch(`${proxy!.url}articles/x`);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'site:/articles/x');
  });

  it('sends /assent/… to the receipt server with the prefix stripped and the public Host', async () => {
    const r = await fetch(`${proxy!.url}assent/v1/policy?site=a`);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), `assent:/v1/policy?site=a host=127.0.0.1:${proxy!.port} xfp=http`);
  });

  it("passes a POST's JSON body through, and the receipt server's Set-Cookie back", async () => {
    const r = await fetch(`${proxy!.url}assent/v1/receipts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ site: 'a', choice: { analytics: true } }),
    });
    assert.equal(r.status, 201);
    assert.deepEqual(r.headers.getSetCookie(), ['assent_id=r1; Path=/; HttpOnly; SameSite=Lax']);
    assert.deepEqual(await r.json(), {
      path: '/v1/receipts',
      type: 'application/json',
      got: { site: 'a', choice: { analytics: true } },
    });
  });

  it('exports the config it runs: the deployment recipe included as it is', () => {
    const conf = nginxConfig({ port: 1, sitePort: 2, assentPort: 3, dir: '/tmp/x' });
    assert.match(conf, /upstream assent_server \{\s+server 127\.0\.0\.1:3;/);
    assert.ok(conf.includes(`include ${RECIPE};`));
    assert.match(
      readFileSync(RECIPE, 'utf8'),
      /location \/assent\/ \{[^}]*proxy_pass http:\/\/assent_server\/;/,
    );
    assert.match(conf, /location \/ \{\s+proxy_pass http:\/\/127\.0\.0\.1:2;/);
    assert.match(conf, /listen 127\.0\.0\.1:1;/);
  });
});
