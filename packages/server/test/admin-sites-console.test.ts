/**
 * The Sites page and assigning sites to a user, in Chromium (issue 17, part 5): under the
 * strict CSP and clean for axe.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launch, open } from '../../../test-support/browser.js';
import { type AssentServer, createServer } from '../src/index.js';
import { addUser } from '../src/users.js';
import { axe } from './admin-axe.js';
import { seedChoices } from './admin-seed.js';
import { ORIGIN, OTHER, SITES } from './helpers.js';

const CHEAP = { N: 2 ** 10, r: 8, p: 1 };
const PASSWORD = 'correct horse battery staple';
const API_KEY = 'shop-example-api-key-0123456789';

describe('sites page in Chromium', () => {
  let s: AssentServer;
  let browser: Browser;
  let url: string;
  before(async () => {
    s = await createServer({
      db: 'sqlite::memory:',
      sites: SITES,
      apiKeys: { [OTHER]: API_KEY },
      logger: false,
      retention: false,
      rateLimit: false,
      log: false,
    });
    for (const role of ['owner', 'auditor'] as const)
      assert.ok(
        (await addUser(s.store, { email: `${role}@example.com`, role, password: PASSWORD }, CHEAP)).ok,
      );
    await seedChoices(s);
    await s.log.integrate(ORIGIN);
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(s.app.server.address() as { port: number }).port}`;
    browser = await launch();
  });
  after(async () => {
    await browser.close();
    await s.close();
  });

  const signIn = async (page: Page, email: string) => {
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };

  it('an owner reads each site, follows its receipts link, and limits an auditor to one site, who then sees only it', async () => {
    const o = await open(browser, `${url}/admin/sites`);
    await o.page.waitForURL(/\/admin\/sign-in/);
    await signIn(o.page, 'owner@example.com');
    await o.page.waitForURL(`${url}/admin/sites`);
    const table = o.page.getByRole('table', { name: 'Sites' });
    await o.page.getByText('2 sites.').waitFor();
    const row = async (site: string) =>
      (await table.getByRole('row', { name: new RegExp(`^${site.replace(/[.:/]/g, '\\$&')}`) }).innerText())
        .split(/\s+/)
        .join(' ');
    const fingerprint = createHash('sha256').update(API_KEY).digest('hex').slice(0, 8);
    assert.match(
      await row(ORIGIN),
      /^http:\/\/127\.0\.0\.1:3000 v3 \(1 version; [0-9a-f]{12}…\) none 5 6 size \d+, \d+ s ago Overview Receipts$/,
    );
    assert.match(
      await row(OTHER),
      new RegExp(`^https://shop\\.example v3 .* SHA-256 ${fingerprint}… 0 0 none yet`),
    );
    assert.deepEqual(await axe(o.page), [], 'sites page');
    assert.deepEqual(await o.csp(), []);

    await o.page.getByRole('link', { name: `Receipts of ${ORIGIN}` }).click();
    await o.page.waitForURL(`${url}/admin/receipts?site=${encodeURIComponent(ORIGIN)}`);
    await o.page.getByText('6 receipts shown.').waitFor();
    assert.equal(await o.page.getByLabel('Site (origin)').inputValue(), ORIGIN);

    // The users page: tick one site for the auditor and save.
    await o.page.getByRole('link', { name: 'Users' }).click();
    await o.page.waitForURL(`${url}/admin/users`);
    const box = o.page.getByRole('group', { name: 'Sites of auditor@example.com (none ticked: every site)' });
    await box.getByRole('checkbox', { name: OTHER }).check();
    await o.page.getByRole('button', { name: 'Save sites of auditor@example.com' }).click();
    await o.page.getByText(`auditor@example.com now sees ${OTHER}.`).waitFor();
    assert.deepEqual(
      (await s.store.admin.userByEmail('auditor@example.com'))?.sites,
      JSON.stringify([OTHER]),
    );
    assert.equal(
      await o.page
        .getByRole('group', { name: 'Sites of auditor@example.com (none ticked: every site)' })
        .getByRole('checkbox', { name: OTHER })
        .isChecked(),
      true,
      'the saved choice is shown after reloading the list',
    );
    assert.deepEqual(await axe(o.page), [], 'users page with sites');
    await o.page.getByRole('link', { name: 'Audit log' }).click();
    const change = o.page
      .getByRole('table', { name: 'Audit log entries' })
      .getByRole('row')
      .filter({ hasText: 'user-change' });
    await change.first().waitFor();
    assert.match(
      await change.first().innerText(),
      /auditor@example\.com[\s\S]*sites: https:\/\/shop\.example/,
    );
    await o.context.close();

    // The auditor now sees that site only, and is refused the other.
    const a = await open(browser, `${url}/admin/sign-in`);
    await signIn(a.page, 'auditor@example.com');
    await a.page.waitForURL(`${url}/admin`);
    await a.page.goto(`${url}/admin/sites`);
    await a.page.getByText('1 site.').waitFor();
    assert.equal(await a.page.getByRole('table', { name: 'Sites' }).getByRole('row').count(), 2);
    await a.page.getByRole('link', { name: `Receipts of ${OTHER}` }).waitFor();
    await a.page.goto(`${url}/admin/receipts?site=${encodeURIComponent(ORIGIN)}`);
    await a.page.getByText(/Error: site: you may not see http:\/\/127\.0\.0\.1:3000/).waitFor();
    assert.deepEqual(await axe(a.page), [], 'receipts page refusing a site');
    assert.deepEqual(
      a.errors.filter((e) => !/status of (401|403)/.test(e)),
      [],
    );
    await a.context.close();
  });
});
