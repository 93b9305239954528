/**
 * The console's Webhooks page in Chromium (issue 17, item 7): an owner adds a webhook to a
 * local receiver, sees its secret once, a receipt arrives at the receiver signed, and the
 * delivery shows in the log; an auditor sees the log without the form. Strict CSP, axe clean.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launch, open } from '../../../test-support/browser.js';
import { type AssentServer, createServer } from '../src/index.js';
import { addUser } from '../src/users.js';
import { WEBHOOK_EVENTS } from '../src/webhooks/store.js';
import { ORIGIN, receiptBody, SITES } from './helpers.js';
import { receiver, receiverVerifies, waitFor } from './webhook-receiver.js';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];
const CHEAP = { N: 2 ** 10, r: 8, p: 1 };
const PASSWORD = 'correct horse battery staple';

/** axe-core on the whole page (as admin-console.test.ts runs it). */
const axe = async (page: Page) => {
  await page.evaluate(AXE);
  const r = (await page.evaluate(
    `axe.run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(TAGS)} } })`,
  )) as { violations: { id: string; nodes: { target: unknown }[] }[] };
  return r.violations.map((v) => `${v.id} (${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')})`);
};

describe('webhooks page in Chromium', () => {
  let s: AssentServer;
  let browser: Browser;
  let url: string;
  let rx: Awaited<ReturnType<typeof receiver>>;
  before(async () => {
    s = await createServer({
      db: 'sqlite::memory:',
      sites: SITES,
      logger: false,
      retention: false,
      rateLimit: false,
      log: false,
      // The receiver listens on 127.0.0.1: allowed, as an owner allows an internal receiver.
      webhooks: { pollMs: 100, wakeMs: 10, privateNetworks: ['127.0.0.1'] },
    });
    for (const role of ['owner', 'editor', 'auditor'] as const)
      assert.ok(
        (await addUser(s.store, { email: `${role}@example.com`, role, password: PASSWORD }, CHEAP)).ok,
      );
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(s.app.server.address() as { port: number }).port}`;
    rx = await receiver();
    browser = await launch();
  });
  after(async () => {
    await browser.close();
    await rx.close();
    await s.close();
  });

  const signIn = async (page: Page, email: string) => {
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };

  it('an owner adds a webhook, a receipt reaches the receiver signed, and the delivery shows in the log', async () => {
    const o = await open(browser, `${url}/admin/webhooks`);
    await o.page.waitForURL(/\/admin\/sign-in/);
    await signIn(o.page, 'owner@example.com');
    await o.page.waitForURL(`${url}/admin/webhooks`);
    await o.page.getByRole('heading', { name: 'Add a webhook' }).waitFor();
    await o.page.getByRole('table', { name: 'Webhooks' }).getByText('No webhook yet.').waitFor();
    assert.deepEqual(await axe(o.page), [], 'webhooks page, empty');

    await o.page.getByLabel('Site (origin)').fill(ORIGIN);
    // Every event the API knows is offered, checked; none checked is refused, naming `events`.
    for (const e of WEBHOOK_EVENTS) await o.page.getByLabel(e, { exact: true }).uncheck();
    await o.page.getByLabel('Receiver URL (http or https)').fill(rx.url);
    await o.page.getByRole('button', { name: 'Add webhook' }).click();
    await o.page.getByText(/^Error: events/).waitFor();
    for (const e of WEBHOOK_EVENTS) await o.page.getByLabel(e, { exact: true }).check();
    await o.page.getByLabel('Receiver URL (http or https)').fill('ftp://example.com/x');
    await o.page.getByRole('button', { name: 'Add webhook' }).click();
    await o.page.getByText('Error: url: must be an http or https URL').waitFor();
    await o.page.getByLabel('Receiver URL (http or https)').fill(rx.url);
    await o.page.getByRole('button', { name: 'Add webhook' }).click();
    await o.page.getByText(/^The webhook to .* was added/).waitFor();
    const secret = await o.page.locator('#secret').innerText();
    assert.match(secret, /^whsec_/);
    const publicKey = await o.page.locator('#public-key').textContent();
    assert.match(publicKey ?? '', /BEGIN PUBLIC KEY/);

    const posted = await s.app.inject({
      method: 'POST',
      url: '/v1/receipts',
      headers: { origin: ORIGIN },
      payload: receiptBody(),
    });
    assert.equal(posted.statusCode, 201);
    await waitFor('the receipt at the receiver', () => rx.acknowledged().length === 1);
    const g = rx.got[0]!;
    assert.deepEqual(receiverVerifies(g.headers, g.body, secret, publicKey!), { hmac: true, ed25519: true });
    assert.equal(rx.acknowledged()[0]!.id, posted.json().id);

    const log = o.page.getByRole('table', { name: 'Delivery attempts, newest first' });
    await waitFor('the delivery in the log', async () => {
      await o.page.getByRole('button', { name: 'Refresh' }).click();
      return (await log.getByRole('row').filter({ hasText: 'delivered' }).count()) === 1;
    });
    assert.match(
      await log.getByRole('row').filter({ hasText: 'delivered' }).innerText(),
      /receipts\s+1 \(1\)\s+1\s+HTTP 200\s+\d+\s+delivered/,
    );
    await o.page.getByRole('button', { name: `Send a test event to ${rx.url}` }).click();
    await o.page.getByText(/^Test event: HTTP 200 in \d+ ms\.$/).waitFor();
    await log.getByRole('row').filter({ hasText: 'test-ok' }).waitFor();
    assert.deepEqual(await axe(o.page), [], 'webhooks page with a webhook and deliveries');
    assert.deepEqual(await o.csp(), []);
    assert.deepEqual(
      o.errors.filter((e) => !/status of (401|400)/.test(e)),
      [],
    );
    await o.context.close();
  });

  it('an auditor sees the webhooks and their deliveries, and no form or buttons to change them', async () => {
    const o = await open(browser, `${url}/admin/sign-in`);
    await signIn(o.page, 'auditor@example.com');
    await o.page.waitForURL(`${url}/admin`);
    await o.page
      .getByRole('navigation', { name: 'Admin console' })
      .getByRole('link', { name: 'Webhooks' })
      .click();
    await o.page.waitForURL(`${url}/admin/webhooks`);
    const log = o.page.getByRole('table', { name: 'Delivery attempts, newest first' });
    await log.getByRole('row').filter({ hasText: 'delivered' }).waitFor();
    assert.equal(await o.page.getByRole('heading', { name: 'Add a webhook' }).count(), 0);
    assert.equal(await o.page.getByRole('button', { name: /^Remove / }).count(), 0);
    assert.deepEqual(await axe(o.page), [], 'webhooks page as an auditor');
    await o.context.close();
  });

  it('an editor pauses and tests webhooks, sees each receiver by its origin only, and has no form to add one', async () => {
    const o = await open(browser, `${url}/admin/sign-in`);
    await signIn(o.page, 'editor@example.com');
    await o.page.waitForURL(`${url}/admin`);
    await o.page.goto(`${url}/admin/webhooks`);
    const hooks = o.page.getByRole('table', { name: 'Webhooks' });
    await hooks.getByRole('row').nth(1).waitFor();
    const origin = new URL(rx.url).origin;
    assert.match(await hooks.innerText(), new RegExp(`${origin.replace(/[.]/g, '\\.')}/…`));
    assert.ok(!(await o.page.content()).includes('token=abc'), 'no receiver token on the page');
    assert.equal(await o.page.getByRole('heading', { name: 'Add a webhook' }).count(), 0);
    assert.equal(await o.page.getByRole('button', { name: /^Pause / }).count(), 1);
    assert.deepEqual(await axe(o.page), [], 'webhooks page as an editor');
    await o.context.close();
  });
});
