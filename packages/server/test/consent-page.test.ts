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
import { type AssentServer, createServer } from '../src/index.js';
import { ORIGIN, OTHER, receiptBody, SITE_CONFIG, SITES } from './helpers.js';

describe('the consent page (/consent/:id)', () => {
  let s: AssentServer;
  before(async () => {
    s = await createServer({
      db: 'sqlite::memory:',
      sites: SITES,
      logger: false,
      rateLimit: false,
      retention: false,
      log: false,
      webhooks: false,
    });
  });
  after(() => s.close());

  const post = async (over: Record<string, unknown>, origin = ORIGIN) => {
    const body = receiptBody({ ...over, page: { origin, path: '/articles/x' } });
    const r = await s.app.inject({ method: 'POST', url: '/v1/receipts', headers: { origin }, payload: body });
    assert.equal(r.statusCode, 201, r.body);
    return body.consentId as string;
  };
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

  const post = async () => {
    const body = receiptBody({ page: { origin: site, path: '/articles/x' } });
    const r = await s.app.inject({
      method: 'POST',
      url: '/v1/receipts',
      headers: { origin: site },
      payload: body,
    });
    assert.equal(r.statusCode, 201, r.body);
    return body.consentId as string;
  };

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
