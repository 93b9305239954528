/**
 * The console in Chromium when a request gets no answer (the network, a reset connection):
 * each page says what failed in its status line instead of "Loading…" for ever; and a
 * receipt's page shows what the visitor was shown (the first layer under the receipt's mode,
 * every category), with the choices as core decides them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EN } from '@assent/core';
import type { Browser, Page } from 'playwright-core';
import { launch, open } from '../../../test-support/browser.js';
import { type AssentServer, createServer } from '../src/index.js';
import { addUser } from '../src/users.js';
import { axe } from './admin-axe.js';
import { ORIGIN, receiptBody, SITES } from './helpers.js';

const CHEAP = { N: 2 ** 10, r: 8, p: 1 };
const PASSWORD = 'correct horse battery staple';
const NETWORK = /failed: the server could not be reached \(a network error\); try again/;

describe('admin console: failed requests and the receipt page, in Chromium', () => {
  let s: AssentServer;
  let browser: Browser;
  let url: string;
  let receipt: string;
  before(async () => {
    s = await createServer({
      db: 'sqlite::memory:',
      sites: SITES,
      logger: false,
      retention: false,
      rateLimit: false,
      log: false,
      webhooks: false,
    });
    assert.ok(
      (await addUser(s.store, { email: 'owner@example.com', role: 'owner', password: PASSWORD }, CHEAP)).ok,
    );
    // Only `analytics` in the receipt: Matomo comes with it; marketing and ad_tech were not granted.
    const r = await s.app.inject({
      method: 'POST',
      url: '/v1/receipts',
      headers: { origin: ORIGIN },
      payload: receiptBody({ choices: { analytics: true } }),
    });
    assert.equal(r.statusCode, 201, r.body);
    receipt = r.json().id;
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(s.app.server.address() as { port: number }).port}`;
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await s.close();
  });

  const signIn = async (page: Page) => {
    await page.getByLabel('Email').fill('owner@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };
  const status = (page: Page) => page.locator('#status');

  it('says what failed on the overview, its exports, the receipts, the audit log and sign-in', async () => {
    const o = await open(browser, `${url}/admin/sign-in`);
    try {
      // Sign-in with no answer.
      await o.page.route('**/v1/admin/session', (r) => r.abort('connectionreset'));
      await signIn(o.page);
      await o.page.getByText(/^Signing in failed: /).waitFor();
      assert.match(await status(o.page).innerText(), NETWORK);
      await o.page.unroute('**/v1/admin/session');
      await signIn(o.page);
      await o.page.waitForURL(`${url}/admin`);
      await o.page.getByText(/consents? in range/).waitFor();

      // The overview, then each export, with the connection reset.
      await o.page.route('**/v1/admin/overview*', (r) => r.abort('connectionreset'));
      await o.page.getByRole('button', { name: 'Show' }).click();
      await o.page.getByText(/^Loading the overview failed: /).waitFor();
      assert.match(await status(o.page).innerText(), NETWORK);
      await o.page.route('**/v1/admin/receipts?*', (r) => r.abort('connectionreset'));
      await o.page.getByRole('button', { name: 'CSV' }).click();
      await o.page.getByText(/^The CSV export failed: /).waitFor();
      await o.page.getByRole('button', { name: 'NDJSON' }).click();
      await o.page.getByText(/^The NDJSON export failed: /).waitFor();
      assert.match(await status(o.page).innerText(), NETWORK);

      // A page whose first request gets no answer.
      await o.page.route('**/v1/admin/receipts/page*', (r) => r.abort('connectionreset'));
      await o.page.goto(`${url}/admin/receipts`);
      await o.page.getByText(/^Loading the receipts failed: /).waitFor();
      await o.page.route('**/v1/admin/audit**', (r) => r.abort('connectionreset'));
      await o.page.goto(`${url}/admin/audit`);
      await o.page.getByText(/^Loading the audit log failed: /).waitFor();
      await o.page.getByRole('button', { name: 'Verify the chain' }).click();
      await o.page.getByText(/^Verifying the chain failed: /).waitFor();
      await o.page.getByRole('button', { name: 'Download NDJSON' }).click();
      await o.page.getByText(/^The audit log export failed: /).waitFor();
      await o.page.route(`**/v1/admin/receipts/${receipt}`, (r) => r.abort('connectionreset'));
      await o.page.goto(`${url}/admin/receipt?id=${receipt}`);
      await o.page.getByText(/^Loading the receipt failed: /).waitFor();
      assert.deepEqual(await o.csp(), []);
    } finally {
      await o.context.close();
    }
  });

  it("a receipt's page shows the first layer under the receipt's mode and every category, decided as core does", async () => {
    const o = await open(
      browser,
      `${url}/admin/sign-in?next=${encodeURIComponent(`/admin/receipt?id=${receipt}`)}`,
    );
    try {
      await signIn(o.page);
      await o.page.waitForURL(/\/admin\/receipt\?id=/);
      await o.page.getByText('Place in the chain').waitFor();
      const first = o.page.locator('#detail blockquote');
      assert.equal(await first.innerText(), `${EN.message} ${EN.learnMore}`);
      assert.equal(
        await first.getByRole('link', { name: EN.learnMore }).getAttribute('href'),
        `${ORIGIN}/privacy`,
      );
      const detail = await o.page.locator('#detail').innerText();
      assert.match(detail, /Buttons \(opt-in mode\)\s+Accept · Reject · Preferences/);
      assert.match(detail, new RegExp(`Learn More link\\s+Learn More → ${ORIGIN}/privacy`));
      const table = o.page.getByRole('table', { name: 'Categories and services, and the choice made' });
      const row = async (name: string) =>
        (await table.getByRole('row').filter({ hasText: name }).first().innerText()).trim();
      assert.match(await row('Necessary'), /Always on$/);
      assert.match(await row('Matomo'), /allowed$/, 'granted with its category');
      assert.match(await row('Marketing'), /refused$/, 'missing from the receipt: not granted');
      assert.deepEqual(await axe(o.page), [], 'receipt detail page');
      assert.deepEqual(await o.csp(), []);
    } finally {
      await o.context.close();
    }
  });
});
