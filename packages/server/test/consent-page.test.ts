/**
 * The visitor's consent page: what it says a receipt decided (core's rules), what it says
 * after a withdrawal, where its links lead and what they tell the site; in Chromium, that the
 * site never learns the consent ID from the Referer and that the result of a withdrawal is
 * announced (focus on the status).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launch, open } from '../../../test-support/browser.js';
import { freePort } from '../../../test-support/ports.js';
import { type AssentServer, createServer, openStore } from '../src/index.js';
import { ORIGIN, OTHER, receiptBody, SITE_CONFIG, SITES } from './helpers.js';

/** A server of its own with nothing but the routes running; `o` overrides (its store, a rate limit…). */
const server = (o: Partial<Parameters<typeof createServer>[0]> = {}) =>
  createServer({
    db: 'sqlite::memory:',
    sites: SITES,
    logger: false,
    rateLimit: false,
    retention: false,
    log: false,
    webhooks: false,
    ...o,
  });

/** Stores one receipt of `origin`'s page /articles/x; its consent ID. */
const stored = async (s: AssentServer, over: Record<string, unknown> = {}, origin = ORIGIN) => {
  const body = receiptBody({ ...over, page: { origin, path: '/articles/x' } });
  const r = await s.app.inject({ method: 'POST', url: '/v1/receipts', headers: { origin }, payload: body });
  assert.equal(r.statusCode, 201, r.body);
  return body.consentId as string;
};

describe('the consent page (/consent/:id)', () => {
  let s: AssentServer;
  before(async () => {
    s = await server();
  });
  after(() => s.close());

  const post = (over: Record<string, unknown>, origin = ORIGIN) => stored(s, over, origin);
  const page = async (id: string, q = '') => {
    const r = await s.app.inject(`/consent/${id}${q}`);
    assert.equal(r.statusCode, 200, r.body);
    return r.body;
  };

  it("decides a receipt's choices by core's rules: a missing key is refused, a granted category grants its services", async () => {
    // Only `analytics` is in the receipt: Matomo comes with it, marketing and ad_tech were not granted.
    const id = await post({ choices: { analytics: true } });
    const html = await page(id);
    assert.match(html, /You allowed: Audience measurement, Matomo \(Audience measurement\)\./);
    assert.match(html, /You refused: Marketing, ad_tech\./);
    assert.match(html, /Allowed: Audience measurement, Matomo \(Audience measurement\)\./, 'the history too');
    // Nothing in the receipt: everything refused, not "nothing".
    const none = await page(await post({ choices: {}, method: 'reject-all' }));
    assert.match(none, /You allowed: nothing\./);
    assert.match(
      none,
      /You refused: Audience measurement, Matomo \(Audience measurement\), Marketing, ad_tech\./,
    );
  });

  it('sends no referrer with any link leaving the page, and resolves a relative Learn More link against the site', async () => {
    const id = await post({}, OTHER);
    const html = await page(id);
    const links = [...html.matchAll(/<a ([^>]*)>/g)].map((m) => m[1]!);
    const leaving = links.filter((a) => !/href="(\.\.\/|\?)/.test(a));
    assert.ok(leaving.length >= 2, 'the back link and the Learn More link');
    for (const a of leaving) assert.match(a, /rel="noreferrer"/, a);
    assert.match(html, new RegExp(`<a href="${OTHER}/articles/x" rel="noreferrer">Back to ${OTHER}</a>`));
    // The policy's `learnMoreHref` is "/privacy": the site's page, not this server's.
    assert.equal(Object.hasOwn(SITE_CONFIG, 'learnMoreHref'), false);
    assert.match(html, new RegExp(`<a href="${OTHER}/privacy" rel="noreferrer">Learn More</a>`));
  });

  it('says "Your withdrawal was recorded" only while the latest choice is a withdrawal', async () => {
    const id = await post({});
    // Before any withdrawal, the parameter alone says nothing.
    assert.doesNotMatch(await page(id, '?done=withdrawn'), /Your withdrawal was recorded/);
    const w = await s.app.inject({ method: 'POST', url: `/v1/consents/${id}/withdraw` });
    assert.equal(w.statusCode, 201, w.body);
    assert.match(await page(id, '?done=withdrawn'), /Your withdrawal was recorded\./);
    // A later choice: the old URL no longer says so.
    await post({
      consentId: id,
      method: 'accept-all',
      choices: { analytics: true, marketing: true, ad_tech: true },
    });
    const later = await page(id, '?done=withdrawn');
    assert.doesNotMatch(later, /Your withdrawal was recorded/);
    assert.match(later, /you accepted all cookies/);
  });
});

describe("the consent page's failures, for a person", () => {
  const HTML = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
  const own = { host: 'consent.example', origin: 'http://consent.example' };

  it('a Withdraw form sent without JavaScript while the database is away is a page saying nothing was recorded (was the JSON 503)', async () => {
    const inner = openStore('sqlite::memory:');
    let down = false;
    const store = new Proxy(inner, {
      get: (t, k) => {
        const v = Reflect.get(t, k);
        return typeof v === 'function' && k !== 'close' && k !== 'migrate'
          ? (...a: unknown[]) =>
              down
                ? Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))
                : v.apply(t, a)
          : v;
      },
    });
    const s = await server({ store });
    try {
      const id = await stored(s);
      const form = await s.app.inject({ url: `/consent/${id}`, headers: { host: own.host, ...HTML } });
      const token = /<input type="hidden" name="token" value="([^"]+)">/.exec(form.body)![1]!;
      down = true;
      const w = await s.app.inject({
        method: 'POST',
        url: `/consent/${id}/withdraw`,
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...own, ...HTML },
        payload: new URLSearchParams({ token }).toString(),
      });
      assert.equal(w.statusCode, 503, w.body);
      assert.match(String(w.headers['content-type']), /^text\/html/);
      assert.match(w.body, /<h1>Your withdrawal was not recorded<\/h1>/);
      assert.match(w.body, /Nothing was changed: your previous choice still applies\./);
      assert.match(
        w.body,
        /href="\.\.\/assets\/consent\.css"/,
        'its style sheet, relative to /consent/:id/withdraw',
      );
      assert.equal(w.headers['content-security-policy'] !== undefined, true);
      // The page itself while the database is away.
      const p = await s.app.inject({ url: `/consent/${id}`, headers: HTML });
      assert.equal(p.statusCode, 503);
      assert.match(p.body, /<h1>Your consent record could not be shown<\/h1>/);
      assert.match(p.body, /unavailable at the moment/);
      // A script asking for JSON still gets the API's error.
      const js = await s.app.inject({ url: `/consent/${id}`, headers: { accept: 'application/json' } });
      assert.equal(js.statusCode, 503);
      assert.equal(js.json().error, 'ASSENT_UNAVAILABLE');
      down = false;
      assert.equal((await s.app.inject(`/v1/consents/${id}`)).json().total, 1, 'nothing recorded');
    } finally {
      down = false;
      await s.close();
    }
  });

  it('a rate-limited visitor gets a page saying how long to wait (was the JSON 429)', async () => {
    const s = await server({ rateLimit: { max: 1, timeWindow: 60_000 } });
    try {
      const url = `/consent/${receiptBody().consentId}`;
      assert.equal((await s.app.inject({ url, headers: HTML })).statusCode, 404);
      const r = await s.app.inject({ url, headers: HTML });
      assert.equal(r.statusCode, 429, r.body);
      assert.match(String(r.headers['content-type']), /^text\/html/);
      assert.match(r.body, /Too many requests came from your network: wait \d+ seconds, then try again\./);
      const js = await s.app.inject({ url, headers: { accept: 'application/json' } });
      assert.equal(js.statusCode, 429, "a 429, not the 200 the route's own error handler made of it");
      assert.equal(js.json().error, 'ASSENT_RATE_LIMITED');
    } finally {
      await s.close();
    }
  });
});

describe('the consent page in Chromium, served on the site origin', () => {
  let s: AssentServer;
  let browser: Browser;
  let site: string;
  before(async () => {
    const port = await freePort();
    site = `http://127.0.0.1:${port}`;
    s = await createServer({
      db: 'sqlite::memory:',
      sites: { [site]: SITE_CONFIG },
      logger: false,
      rateLimit: false,
      retention: false,
      log: false,
      webhooks: false,
    });
    // A page of the site, on the same origin (the demo's deployment): what the site learns.
    s.app.get('/articles/x', (_req, reply) =>
      reply.type('text/html; charset=utf-8').send('<!doctype html><title>Article</title><h1>Article</h1>'),
    );
    await s.app.listen({ port, host: '127.0.0.1' });
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await s.close();
  });

  const post = () => stored(s, {}, site);

  it('"Back to the site" tells the site nothing: no Referer, an empty document.referrer', async () => {
    const id = await post();
    const o = await open(browser, `${site}/consent/${id}`);
    try {
      const referers: string[] = [];
      o.page.on('request', (r) => {
        if (r.url().endsWith('/articles/x')) referers.push(r.headers().referer ?? '');
      });
      await o.page.getByRole('link', { name: `Back to ${site}` }).click();
      await o.page.waitForURL(`${site}/articles/x`);
      assert.deepEqual(referers, ['']);
      assert.equal(await o.page.evaluate('document.referrer'), '');
    } finally {
      await o.context.close();
    }
  });

  it('after a withdrawal with JavaScript, focus is on the status message that says it was recorded', async () => {
    const id = await post();
    const o = await open(browser, `${site}/consent/${id}`);
    try {
      await o.page.getByRole('button', { name: 'Withdraw my consent' }).click();
      await o.page.waitForURL(/done=withdrawn/);
      await o.page.waitForLoadState('load');
      await o.page.waitForFunction("document.activeElement?.id === 'status'");
      const focused = (await o.page.evaluate(
        '({ id: document.activeElement?.id, text: document.activeElement?.textContent })',
      )) as { id?: string; text?: string };
      assert.equal(focused.id, 'status');
      assert.match(focused.text ?? '', /^Your withdrawal was recorded\./);
      assert.deepEqual(o.errors, []);
      assert.deepEqual(await o.csp(), []);
      // Opened again later without the parameter: the page does not move focus.
      await o.page.goto(`${site}/consent/${id}`);
      assert.notEqual(await o.page.evaluate('document.activeElement?.id'), 'status');
    } finally {
      await o.context.close();
    }
  });
});
