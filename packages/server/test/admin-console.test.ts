/**
 * The admin console in Chromium (issue 17): signing in and out, roles in the navigation and
 * on the API, the users page; each page under the strict CSP and clean for axe.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launch, open } from '../../../test-support/browser.js';
import { type AssentServer, createServer } from '../src/index.js';
import { addUser } from '../src/users.js';
import { axe } from './admin-axe.js';
import { seedChoices } from './admin-seed.js';
import { consentId, ORIGIN, receiptBody, SITES } from './helpers.js';

const CHEAP = { N: 2 ** 10, r: 8, p: 1 };
const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const PASSWORD = 'correct horse battery staple';

describe('admin console in Chromium', () => {
  let s: AssentServer;
  let browser: Browser;
  let url: string;
  before(async () => {
    s = await createServer({
      db: 'sqlite::memory:',
      sites: SITES,
      logger: false,
      retention: false,
      rateLimit: false,
    });
    for (const role of ['owner', 'auditor'] as const)
      assert.ok(
        (await addUser(s.store, { email: `${role}@example.com`, role, password: PASSWORD }, CHEAP)).ok,
      );
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(s.app.server.address() as { port: number }).port}`;
    browser = await launch();
  });
  after(async () => {
    await browser.close();
    await s.close();
  });

  const signIn = async (page: Page, email: string, password = PASSWORD) => {
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };

  it('an owner signs in over http://127.0.0.1 (Secure cookie kept), manages users, searches receipts, reads the audit log, signs out', async () => {
    const o = await open(browser, `${url}/admin/users`);
    // Not signed in: the console sends the browser to the sign-in page, and back after.
    await o.page.waitForURL(/\/admin\/sign-in\?next=%2Fadmin%2Fusers$/);
    assert.deepEqual(await axe(o.page), [], 'sign-in page');
    await signIn(o.page, 'owner@example.com', 'a wrong password here');
    await o.page.getByText('That email and password do not match a user of this server.').waitFor();
    await signIn(o.page, 'owner@example.com');
    await o.page.waitForURL(`${url}/admin/users`);
    const cookie = (await o.cookies())['__Host-assent-admin'];
    assert.ok(cookie, 'the browser kept the __Host- Secure cookie on http://127.0.0.1');
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal((cookie as unknown as { httpOnly: boolean }).httpOnly, true);
    assert.equal(await o.page.evaluate('document.cookie'), '', 'no script can read it');

    const table = o.page.getByRole('table', { name: 'People who can sign in' });
    await table.getByRole('row').filter({ hasText: 'auditor@example.com' }).waitFor();
    await o.page.getByText('owner@example.com (owner)').waitFor();
    assert.deepEqual(await axe(o.page), [], 'users page');

    // Adding a user through the form: a CSRF-protected POST from the page.
    await o.page.getByLabel('Email').fill('editor@example.com');
    await o.page.getByLabel('Role', { exact: true }).selectOption('editor');
    await o.page.getByLabel('Password (at least 12 characters)').fill(PASSWORD);
    await o.page.getByRole('button', { name: 'Add user' }).click();
    await o.page.getByText('editor@example.com was added as editor.').waitFor();
    assert.equal((await s.store.admin.userByEmail('editor@example.com'))?.role, 'editor');

    await o.page.getByRole('link', { name: 'Overview' }).click();
    await o.page.waitForURL(`${url}/admin`);
    await o.page.getByRole('table', { name: 'Outcomes per consent (latest choice)' }).waitFor();
    await o.page.getByRole('button', { name: 'NDJSON' }).waitFor();
    assert.deepEqual(await axe(o.page), [], 'overview page');
    assert.deepEqual(await o.csp(), []);
    assert.deepEqual(
      o.errors.filter((e) => !/status of 401/.test(e)),
      [],
    );

    // Receipts: search by consent ID, then the receipt's detail.
    const visitor = consentId();
    for (const id of [visitor, consentId()]) {
      const posted = await s.app.inject({
        method: 'POST',
        url: '/v1/receipts',
        headers: { origin: ORIGIN },
        payload: receiptBody({ consentId: id }),
      });
      assert.equal(posted.statusCode, 201);
    }
    await o.page.getByRole('link', { name: 'Receipts' }).click();
    await o.page.waitForURL(`${url}/admin/receipts`);
    const receipts = o.page.getByRole('table', { name: 'Receipts, newest first' });
    await o.page.getByText('2 receipts shown.').waitFor();
    assert.deepEqual(await axe(o.page), [], 'receipts page');
    await o.page.getByLabel('Site (origin)').fill('http://127.0.0.1:300');
    await o.page.getByRole('button', { name: 'Search' }).click();
    await o.page.getByText('Error: site: http://127.0.0.1:300 is not a site this server serves').waitFor();
    await o.page.getByLabel('Site (origin)').fill('');
    await o.page.getByLabel('Consent ID').fill(visitor);
    await o.page.getByRole('button', { name: 'Search' }).click();
    await o.page.getByText('1 receipt shown.').waitFor();
    assert.equal(await receipts.getByRole('row').count(), 2, 'the header and one receipt');
    await receipts.getByRole('link').click();
    await o.page.waitForURL(/\/admin\/receipt\?id=/);
    await o.page.getByText('yes, verifies').first().waitFor();
    assert.equal(await o.page.getByText('yes, verifies').count(), 2, 'hash and signature');
    const shown = o.page.getByRole('table', { name: 'Categories and services, and the choice made' });
    assert.match(
      await shown.getByRole('row').filter({ hasText: 'Matomo' }).innerText(),
      /Matomo \(in Audience measurement\)\s+.*allowed/,
    );
    await o.page.getByText(visitor).waitFor();
    assert.deepEqual(await axe(o.page), [], 'receipt detail page');

    // The proof file, as the visitor gets it, downloaded from the receipt's page.
    const [download] = await Promise.all([
      o.page.waitForEvent('download'),
      o.page.getByRole('link', { name: 'Download the proof file' }).click(),
    ]);
    const proof = JSON.parse(readFileSync((await download.path())!, 'utf8'));
    assert.equal(proof.type, 'assent-receipt-proof');
    assert.equal(proof.receipt.consentId, visitor);
    assert.match(download.suggestedFilename(), /^assent-receipt-[A-Za-z0-9_-]{16}\.proof\.json$/);

    // The visitor asks for erasure: the owner erases the consent from its receipt's page.
    let asked = '';
    o.page.once('dialog', (d) => {
      asked = d.message();
      void d.accept();
    });
    await o.page.getByRole('button', { name: 'Erase this consent…' }).click();
    await o.page.getByText(`Erased 1 receipt of that consent ID on ${ORIGIN}.`).waitFor();
    assert.match(
      asked,
      new RegExp(`^Erase every receipt of consent ID ${visitor} on ${reEscape(ORIGIN)}\\?`),
    );
    await o.page
      .getByText('This receipt was purged (its retention period ended, or an erasure request)')
      .waitFor();
    assert.equal(await o.page.getByText(visitor).count(), 0, 'the consent ID is gone from the page');
    assert.equal(await o.page.getByRole('button', { name: 'Erase this consent…' }).count(), 0);
    assert.equal(await o.page.getByRole('link', { name: 'Download the proof file' }).count(), 0);
    assert.equal((await s.store.history(visitor, { limit: 10, offset: 0 })).total, 0);
    assert.deepEqual(await axe(o.page), [], 'receipt detail page, purged');

    // The audit log shows what was just done, and its chain verifies.
    await o.page.getByRole('link', { name: 'Audit log' }).click();
    await o.page.waitForURL(`${url}/admin/audit`);
    const log = o.page.getByRole('table', { name: 'Audit log entries' });
    const added = log.getByRole('row').filter({ hasText: 'user-add' });
    await added.waitFor();
    assert.match(
      await added.innerText(),
      /owner@example\.com\s+owner\s+user-add\s+editor@example\.com\s+role: editor/,
    );
    await log.getByRole('row').filter({ hasText: 'sign-in-failed' }).waitFor();
    assert.match(
      await log.getByRole('row').filter({ hasText: 'consent-erase' }).innerText(),
      new RegExp(`owner@example\\.com\\s+owner\\s+consent-erase\\s+${reEscape(ORIGIN)}\\s+.*receipts: 1`),
    );
    await o.page.getByRole('button', { name: 'Verify the chain' }).click();
    await o.page.getByText(/^The chain verifies: \d+ entries/).waitFor();
    assert.deepEqual(await axe(o.page), [], 'audit log page');

    await o.page.getByRole('button', { name: 'Sign out' }).click();
    await o.page.waitForURL(`${url}/admin/sign-in`);
    assert.equal((await o.cookies())['__Host-assent-admin'], undefined, 'the cookie is gone');
    await o.page.goto(`${url}/admin`);
    await o.page.waitForURL(/\/admin\/sign-in/);
    await o.context.close();
  });

  it('an auditor sees no Users link, gets 403 from the users API, and no policy publishing', async () => {
    const o = await open(browser, `${url}/admin/sign-in`);
    await signIn(o.page, 'auditor@example.com');
    await o.page.waitForURL(`${url}/admin`);
    await o.page.getByText('auditor@example.com (auditor)').waitFor();
    const nav = o.page.getByRole('navigation', { name: 'Admin console' });
    await nav.getByRole('link', { name: 'Overview' }).waitFor();
    assert.equal(await nav.getByRole('link', { name: 'Users' }).count(), 0);
    await o.page.getByRole('button', { name: 'CSV' }).waitFor();
    await o.page.goto(`${url}/admin/users`);
    await o.page.getByText(/the role auditor cannot do this; it needs owner/).waitFor();
    const publish = await o.page.evaluate(`(async () => {
      const me = await (await fetch('/v1/admin/session')).json();
      const r = await fetch('/v1/admin/policies', {
        method: 'POST',
        headers: { 'content-type': 'application/json', [me.csrfHeader]: me.csrf },
        body: JSON.stringify({ site: 'https://x.example', config: {} }),
      });
      return r.status;
    })()`);
    assert.equal(publish, 403);
    // Auditors read a receipt's detail, but erasure is the owners' decision: no button.
    const posted = await s.app.inject({
      method: 'POST',
      url: '/v1/receipts',
      headers: { origin: ORIGIN },
      payload: receiptBody(),
    });
    await o.page.goto(`${url}/admin/receipt?id=${posted.json().id}`);
    await o.page.getByText('yes, verifies').first().waitFor();
    assert.equal(await o.page.getByRole('button', { name: 'Erase this consent…' }).count(), 0);
    await o.context.close();
  });

  it('the overview charts and tables count the seeded choices per consent; a mistyped site is named', async () => {
    const t = await createServer({
      db: 'sqlite::memory:',
      sites: SITES,
      regionHeader: 'cf-ipcountry',
      logger: false,
      retention: false,
      rateLimit: false,
    });
    try {
      assert.ok(
        (await addUser(t.store, { email: 'ed@example.com', role: 'editor', password: PASSWORD }, CHEAP)).ok,
      );
      await seedChoices(t);
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
      const o = await open(browser, `${base}/admin/sign-in`);
      await signIn(o.page, 'ed@example.com');
      await o.page.waitForURL(`${base}/admin`);
      const outcomes = o.page.getByRole('table', { name: 'Outcomes per consent (latest choice)' });
      await outcomes.waitFor();
      const row = async (name: string) =>
        (await outcomes.getByRole('row', { name: new RegExp(`^${name}`) }).innerText())
          .split(/\s+/)
          .join(' ');
      assert.equal(await row('Accept all'), 'Accept all 1 20% 2');
      assert.equal(await row('Withdrawn'), 'Withdrawn 1 20% 1');
      assert.equal(await row('GPC'), 'GPC 1 20% 1');
      assert.equal(await row('All'), 'All 5 100% 6');
      const cats = o.page.getByRole('table', { name: 'Consents granting each category' });
      assert.match(
        await cats.getByRole('row', { name: /Audience measurement/ }).innerText(),
        /Audience measurement\s+2\s+5\s+40%/,
      );
      // The chart is drawn (uPlot, from this server) with one series per outcome.
      await o.page.locator('#chart canvas').waitFor();
      // Its key is text (uPlot's legend is mouse-only): the six outcomes.
      assert.equal(await o.page.locator('#chart-key li').count(), 6, 'six outcomes');
      assert.equal(await o.page.locator('#exports').isHidden(), true, 'an editor gets no export');
      assert.deepEqual(await axe(o.page), [], 'overview page');
      await o.page.getByLabel('Site (origin, optional)').fill('http://127.0.0.1:300');
      await o.page.getByRole('button', { name: 'Show' }).click();
      await o.page.getByText('Error: site: http://127.0.0.1:300 is not a site this server serves').waitFor();
      assert.equal(await o.page.getByText('No choices in this range.').count(), 0);
      await o.page.getByLabel('Site (origin, optional)').fill('');
      await o.page.getByLabel('From (UTC, inclusive)').fill('2999-01-01');
      await o.page.getByRole('button', { name: 'Show' }).click();
      await o.page.getByText('0 consents in range.', { exact: false }).waitFor();
      assert.deepEqual(await o.csp(), []);
      assert.deepEqual(
        o.errors.filter((e) => !/status of (401|400)/.test(e)),
        [],
      );
      await o.context.close();
    } finally {
      await t.close();
    }
  });
});
