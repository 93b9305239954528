/**
 * The nginx recipe (deploy/nginx/assent.conf) keeps no access log of what it sends to Assent:
 * those requests carry visitors' consent IDs (each a capability to read and withdraw a
 * consent), and nginx's default log would keep them beside the visitor's address and Referer.
 * Run as it is shipped, under a test nginx that logs every other request in nginx's default
 * format, as a production nginx.conf does (test-support/proxy.ts).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Nginx, RECIPE, startProxy } from '../../test-support/proxy.js';

/** An upstream on a random port that answers 200 with a short text to everything. */
const upstream = async (name: string) => {
  const server = createServer((req, res) => {
    req.resume().on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`${name}:${req.url}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
};

const closeServer = (s: Server | undefined) =>
  new Promise<void>((resolve) => (s ? s.close(() => resolve()) : resolve()));

describe('deploy/nginx/assent.conf: no access log of what reaches Assent', () => {
  let site: Server | undefined;
  let assent: Server | undefined;
  let proxy: Nginx | undefined;

  before(async () => {
    const s = await upstream('site');
    const a = await upstream('assent');
    site = s.server;
    assent = a.server;
    proxy = await startProxy({ sitePort: s.port, assentPort: a.port });
  });

  after(async () => {
    await proxy?.close();
    await Promise.all([closeServer(site), closeServer(assent)]);
  });

  it("logs none of a visitor's consent ID, address or Referer for /assent/, while the site's own requests are logged", async () => {
    const id = randomBytes(16).toString('base64url').slice(0, 22);
    const base = proxy!.url;
    const page = `${base}articles/seed`;
    // What a visitor's browser and the console send through the recipe, each with a Referer.
    const sent: [string, RequestInit][] = [
      [`assent/v1/consents/${id}/cookie`, {}],
      [`assent/consent/${id}`, {}],
      [`assent/consent/${id}?done=withdrawn`, {}],
      [
        `assent/consent/${id}/withdraw`,
        { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=x' },
      ],
      [`assent/v1/consents/${id}`, {}],
      [`assent/v1/admin/receipts?consent=${id}`, {}],
      [`assent/v1/admin/receipts/page?consent=${id}&limit=50`, {}],
      ['assent/v1/receipts', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }],
    ];
    for (const [path, init] of sent) {
      const r = await fetch(`${base}${path}`, {
        ...init,
        headers: { ...(init.headers as Record<string, string>), referer: `${page}?from=${id}` },
      });
      assert.equal(r.status, 200, path);
      assert.equal(await r.text(), `assent:/${path.slice('assent/'.length)}`, 'it reached the server');
    }
    // The site's own request, last: once it is in the log, nginx has logged everything before.
    const marker = `/articles/${randomBytes(6).toString('hex')}`;
    assert.equal((await fetch(`${base}${marker.slice(1)}`, { headers: { referer: page } })).status, 200);
    let log = '';
    for (let i = 0; i < 200 && !log.includes(marker); i++) {
      log = existsSync(proxy!.accessLog) ? readFileSync(proxy!.accessLog, 'utf8') : '';
      if (!log.includes(marker)) await sleep(25);
    }
    // The log is on, in nginx's default format: address, request line, Referer.
    assert.match(
      log,
      new RegExp(`^127\\.0\\.0\\.1 - - \\[[^\\]]+\\] "GET ${marker} HTTP/1\\.1" 200 .* "${page}" `, 'm'),
    );
    assert.equal(log.trim().split('\n').length, 1, `only the site's request is logged:\n${log}`);
    assert.ok(!log.includes(id), 'no consent ID in the access log');
    assert.ok(!log.includes('/assent/'), "none of Assent's requests in the access log");
  });

  it('the recipe says why, where it turns the log off', () => {
    const recipe = readFileSync(RECIPE, 'utf8');
    const block = /location \/assent\/ \{([^}]*)\}/.exec(recipe)?.[1] ?? '';
    assert.match(block, /^\s*access_log off;$/m);
    assert.match(block, /consent ID/);
  });
});
