/**
 * The admin console with the keyboard, a screen reader's eyes and a narrow window, in Chromium:
 * focus after each action lands on the control drawn again or on the status line, never on
 * <body> (WCAG 2.4.3); a change is a button press, not one arrow key on a select (3.2.2); the
 * server's errors sit beside the field they name (3.3.1); the pages reflow at 320 px (1.4.10);
 * the overview chart is readable in the dark scheme, spans a single day as days, and has a
 * key in text; a receipt's policy words carry their language and direction.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launch, open } from '../../../test-support/browser.js';
import { type AssentServer, createServer } from '../src/index.js';
import { publishable } from '../src/policies.js';
import { addUser } from '../src/users.js';
import { axe } from './admin-axe.js';
import { seedChoices } from './admin-seed.js';
import { consentId, ORIGIN, OTHER, receiptBody, SITE_CONFIG } from './helpers.js';

const CHEAP = { N: 2 ** 10, r: 8, p: 1 };
const PASSWORD = 'correct horse battery staple';

/** ORIGIN's policy: modes per region (the preview must not ask the server) and Arabic texts. */
const AR_SITE = {
  ...SITE_CONFIG,
  policy: 'v1',
  regions: { EU: 'opt-in', '*': 'opt-out' },
  texts: { ar: { message: 'نستخدم ملفات تعريف الارتباط لقياس عدد الزوار.', learnMore: 'اعرف المزيد' } },
} as const;
const AR_PUBLISHED = (() => {
  const r = publishable(AR_SITE);
  if (!r.ok) throw new Error(r.errors.join('; '));
  return r.version;
})();

/**
 * Marks what `selector` matches now; the returned function waits until all of it has been
 * drawn again (replaced): the status line says what happened before the page redraws, and
 * focus is decided after.
 */
const redraw = async (page: Page, selector: string) => {
  await page.evaluate(
    `document.querySelectorAll(${JSON.stringify(selector)}).forEach((e) => e.setAttribute('data-stale', ''))`,
  );
  // Polled with evaluate: waitForFunction evaluates a string with eval, which the CSP refuses.
  return async () => {
    for (const end = Date.now() + 5000; Date.now() < end; await page.waitForTimeout(20))
      if (!(await page.evaluate("!!document.querySelector('[data-stale]')"))) return;
    throw new Error(`${selector} was not drawn again`);
  };
};

/** What has focus: its tag, id, aria-label and text. */
const focused = async (page: Page) =>
  (await page.evaluate(`(() => {
    const a = document.activeElement;
    return { tag: a?.localName, id: a?.id, label: a?.getAttribute('aria-label'), text: a?.textContent?.trim() };
  })()`)) as { tag: string; id: string; label: string | null; text: string };

/** WCAG's contrast ratio of two `rgb(…)` / `#rrggbb` colours. */
const contrast = (a: string, b: string) => {
  const lum = (c: string) => {
    const n = c.startsWith('#')
      ? [1, 3, 5].map((i) => Number.parseInt(c.slice(i, i + 2), 16))
      : c
          .match(/\d+(\.\d+)?/g)!
          .slice(0, 3)
          .map(Number);
    const [r, g, bl] = n.map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x! + 0.05) / (y! + 0.05);
};

describe('admin console: focus, changes, errors, reflow, chart (Chromium)', () => {
  let s: AssentServer;
  let browser: Browser;
  let url: string;
  let arReceipt: string;
  let erased: string;
  before(async () => {
    s = await createServer({
      db: 'sqlite::memory:',
      sites: { [ORIGIN]: AR_SITE, [OTHER]: SITE_CONFIG },
      regionHeader: 'cf-ipcountry',
      logger: false,
      retention: false,
      rateLimit: false,
      log: false,
      webhooks: { pollMs: 60_000, privateNetworks: ['127.0.0.1'] },
    });
    for (const [email, role] of [
      ['owner@example.com', 'owner'],
      ['ed1@example.com', 'editor'],
      ['ed2@example.com', 'auditor'],
    ] as const)
      assert.ok((await addUser(s.store, { email, role, password: PASSWORD }, CHEAP)).ok);
    // Two visitors who read the Arabic texts: one receipt to read, one to erase.
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await s.app.inject({
        method: 'POST',
        url: '/v1/receipts',
        headers: { origin: ORIGIN },
        payload: receiptBody({
          consentId: consentId(),
          lang: 'ar',
          policy: { version: 'v1', sha256: AR_PUBLISHED.sha256 },
        }),
      });
      assert.equal(r.statusCode, 201, r.body);
      ids.push(r.json().id);
    }
    [arReceipt, erased] = ids as [string, string];
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(s.app.server.address() as { port: number }).port}`;
    browser = await launch();
  });
  after(async () => {
    await browser.close();
    await s.close();
  });

  const signIn = async (page: Page, email: string) => {
    await page.waitForURL(/\/admin\/sign-in/);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((u) => !u.pathname.startsWith('/admin/sign-in'));
  };
  /** A signed-in context for `email` (its session cookie), at `viewport` and `colorScheme`. */
  const session = async (
    email: string,
    opts: { viewport?: { width: number; height: number }; colorScheme?: 'dark' | 'light' } = {},
  ): Promise<BrowserContext> => {
    const o = await open(browser, `${url}/admin/sign-in`, opts);
    await signIn(o.page, email);
    return o.context;
  };

  it('users, webhooks, receipts: focus follows each action; a role changes on its button only; errors sit beside their fields', async () => {
    const o = await open(browser, `${url}/admin/users`);
    const { page } = o;
    // A wrong password: the password field is invalid, described by the message, focused.
    await page.waitForURL(/\/admin\/sign-in/);
    await page.getByLabel('Email').fill('owner@example.com');
    await page.getByLabel('Password').fill('not the password at all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That email and password do not match a user of this server.').waitFor();
    const password = page.getByLabel('Password');
    assert.equal(await password.getAttribute('aria-invalid'), 'true');
    assert.equal(await password.getAttribute('aria-describedby'), 'status');
    assert.equal((await focused(page)).id, 'password');
    await password.fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${url}/admin/users`);

    // One arrow key on a role changes nothing; the "Change role" button does, and keeps focus.
    const patches: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'PATCH') patches.push(r.url());
    });
    const role = page.getByLabel('Role of ed1@example.com', { exact: true });
    await role.focus();
    await page.keyboard.press('ArrowDown');
    assert.equal(await role.inputValue(), 'auditor', 'the select moved');
    await page.waitForTimeout(300);
    assert.deepEqual(patches, [], 'no change was sent');
    assert.equal((await s.store.admin.userByEmail('ed1@example.com'))?.role, 'editor');
    await page.getByRole('button', { name: 'Change role of ed1@example.com' }).focus();
    let drawn = await redraw(page, '#users tbody tr');
    await page.keyboard.press('Enter');
    await page.getByText('ed1@example.com is now auditor.').waitFor();
    await drawn();
    assert.equal((await s.store.admin.userByEmail('ed1@example.com'))?.role, 'auditor');
    assert.equal((await focused(page)).label, 'Change role of ed1@example.com', 'focus on the new button');
    assert.equal(patches.length, 1);

    // Saving sites: focus on the same user's new "Save sites" button.
    await page
      .getByRole('group', { name: /^Sites of ed1@example\.com/ })
      .getByLabel(OTHER)
      .check();
    drawn = await redraw(page, '#users tbody tr');
    await page.getByRole('button', { name: 'Save sites of ed1@example.com' }).click();
    await page.getByText(`ed1@example.com now sees ${OTHER}.`).waitFor();
    await drawn();
    assert.equal((await focused(page)).label, 'Save sites of ed1@example.com');

    // Removing: the row is gone, focus is on the status line that says so.
    page.on('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Remove ed2@example.com' }).focus();
    drawn = await redraw(page, '#users tbody tr');
    await page.keyboard.press('Enter');
    await page.getByText('ed2@example.com was removed.').waitFor();
    await drawn();
    assert.deepEqual(await focused(page), {
      tag: 'p',
      id: 'status',
      label: null,
      text: 'ed2@example.com was removed.',
    });

    // Adding someone who is already a user: the email field says so, and has focus.
    await page.locator('#new-email').fill('ed1@example.com');
    await page.getByLabel('Password (at least 12 characters)').fill(PASSWORD);
    await page.getByRole('button', { name: 'Add user' }).click();
    await page.getByText('Error: email: ed1@example.com is already a user').waitFor();
    const email = page.locator('#new-email');
    assert.equal(await email.getAttribute('aria-invalid'), 'true');
    assert.equal(
      await page.locator(`#${await email.getAttribute('aria-describedby')}`).innerText(),
      'ed1@example.com is already a user',
    );
    assert.equal((await focused(page)).id, 'new-email');
    assert.deepEqual(await axe(page), [], 'users page with a field error');

    // Webhooks: a refused receiver URL beside its field; Pause → focus on Resume; Remove → status.
    await page.goto(`${url}/admin/webhooks`);
    await page.getByRole('heading', { name: 'Add a webhook' }).waitFor();
    await page.getByLabel('Site (origin)').fill(ORIGIN);
    await page.getByLabel('Receiver URL (http or https)').fill('ftp://example.com/x');
    await page.getByRole('button', { name: 'Add webhook' }).click();
    await page.getByText('Error: url: must be an http or https URL').waitFor();
    assert.equal(await page.locator('#hook-url').getAttribute('aria-invalid'), 'true');
    assert.equal((await focused(page)).id, 'hook-url');
    const hook = 'http://127.0.0.1:9/hook';
    await page.getByLabel('Receiver URL (http or https)').fill(hook);
    await page.getByRole('button', { name: 'Add webhook' }).click();
    await page.getByText(/^The webhook to .* was added/).waitFor();
    assert.equal(await page.locator('#hook-url').getAttribute('aria-invalid'), null, 'cleared');
    await page.getByRole('button', { name: `Pause ${hook}` }).focus();
    drawn = await redraw(page, '#webhooks tbody tr');
    await page.keyboard.press('Enter');
    await page.getByText(`${hook} is paused.`).waitFor();
    await drawn();
    assert.equal((await focused(page)).text, `Resume ${hook}`);
    drawn = await redraw(page, '#webhooks tbody tr');
    await page.keyboard.press('Enter');
    await page.getByText(`${hook} is active.`).waitFor();
    await drawn();
    assert.equal((await focused(page)).text, `Pause ${hook}`);
    drawn = await redraw(page, '#webhooks tbody tr');
    await page.getByRole('button', { name: `Remove ${hook}` }).click();
    await page.getByText(`${hook} was removed.`).waitFor();
    await drawn();
    assert.equal((await focused(page)).id, 'status');

    // The overview's and the receipts' filters: an unknown site is marked on the site field.
    for (const [path, button, label] of [
      ['/admin', 'Show', 'Site (origin, optional)'],
      ['/admin/receipts', 'Search', 'Site (origin)'],
    ] as const) {
      await page.goto(`${url}${path}`);
      await page.getByText(/ (consents in range|receipts? shown)/).waitFor();
      await page.getByLabel(label).fill('http://127.0.0.1:300');
      await page.getByRole('button', { name: button }).click();
      await page.getByText('Error: site: http://127.0.0.1:300 is not a site this server serves').waitFor();
      assert.equal(await page.getByLabel(label).getAttribute('aria-invalid'), 'true', path);
      assert.equal((await focused(page)).id, 'site', path);
    }

    // A receipt in Arabic: the policy's words carry their language and direction.
    await page.goto(`${url}/admin/receipt?id=${arReceipt}`);
    await page.locator('blockquote').waitFor();
    const worded = (await page.evaluate(`(() => {
      const of = (e) => e && [e.lang, getComputedStyle(e).direction];
      const dt = [...document.querySelectorAll('dt')].find((d) => d.textContent.startsWith('Buttons'));
      const row = document.querySelectorAll('table tbody tr')[1]; // a category's (the first: necessary)
      return { quote: of(document.querySelector('blockquote')), buttons: of(dt.nextElementSibling), title: of(row.cells[0]), wording: of(row.cells[1]), choice: of(row.cells[2]) };
    })()`)) as Record<string, [string, string]>;
    assert.deepEqual(worded, {
      quote: ['ar', 'rtl'],
      buttons: ['ar', 'rtl'],
      title: ['ar', 'rtl'],
      wording: ['ar', 'rtl'],
      choice: ['', 'ltr'],
    });
    // Erasing: the button is gone with the page drawn again; focus is on the status line.
    await page.goto(`${url}/admin/receipt?id=${erased}`);
    await page.getByRole('button', { name: 'Erase this consent…' }).waitFor();
    drawn = await redraw(page, '#detail > *');
    await page.getByRole('button', { name: 'Erase this consent…' }).click();
    await page.getByText(/^Erased 1 receipt of that consent ID/).waitFor();
    await drawn();
    assert.equal((await focused(page)).id, 'status');
    assert.deepEqual(await o.csp(), []);
    await o.context.close();
  });

  it('the policy editor: focus after Back and Publish, an edited draft is not dropped by one arrow key, its error count is announced, its preview asks no server', async () => {
    const context = await session('owner@example.com');
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`${url}/admin/policies`);
    await page.getByText(`Editing the policy of ${ORIGIN} (current version v1).`).waitFor();
    await page.frameLocator('iframe[title="Banner preview"]').getByRole('region').first().waitFor();

    // The count of problems is a live region, outside anything hidden.
    await page.getByLabel('Days a choice is kept').fill('0');
    await page.getByText('1 problem to fix before publishing.').waitFor();
    assert.equal(
      await page.evaluate(
        "(() => { const e = document.getElementById('error-count'); return e.closest('[role=status], [aria-live]') !== null && !e.closest('[hidden]'); })()",
      ),
      true,
    );
    await page.getByLabel('Days a choice is kept').fill('30');
    await page.getByText(/^Draft: version v2/).waitFor();

    // A button that redraws the form keeps focus (Add a category).
    await page.getByRole('button', { name: 'Add a category' }).focus();
    await page.keyboard.press('Enter');
    assert.equal((await focused(page)).text, 'Add a category');
    await page.getByRole('button', { name: 'Remove category category 4' }).click();
    assert.equal((await focused(page)).text, 'Add a category', 'the removed button hands focus on');

    // Back to the draft: focus returns to the View button that opened the version.
    await page.getByRole('button', { name: 'View version v1' }).click();
    await page.getByText(/^Viewing version v1/).waitFor();
    await page.getByRole('button', { name: 'Back to the draft' }).click();
    await page.getByText('Back to the draft.').waitFor();
    assert.equal((await focused(page)).text, 'View version v1');

    // The site select: one arrow key with an edited draft asks first; dismissed, nothing changes.
    await page.getByLabel('Message (en)').fill('An edited message.');
    const asked: string[] = [];
    let answer = false;
    page.on('dialog', (d) => {
      asked.push(d.message());
      void (answer ? d.accept() : d.dismiss());
    });
    const site = page.getByLabel('Site', { exact: true });
    await site.focus();
    await page.keyboard.press('ArrowDown');
    await page.getByText(`The draft of ${ORIGIN} is kept.`).waitFor();
    assert.equal(asked.length, 1);
    assert.match(asked[0]!, /discard the edited draft/);
    assert.equal(await site.inputValue(), ORIGIN);
    assert.equal(await page.getByLabel('Message (en)').inputValue(), 'An edited message.');
    answer = true;
    await page.keyboard.press('ArrowDown');
    await page.getByText(`Editing the policy of ${OTHER} (current version v3).`).waitFor();
    assert.equal(asked.length, 2);

    // Publishing: the button is disabled after; focus is on the status line that says so.
    await page.getByLabel('Message (en)').fill('Another message.');
    await page.getByText(/^Draft: version v4/).waitFor();
    const drawn = await redraw(page, '#versions tbody tr');
    await page.getByRole('button', { name: 'Publish this version' }).click();
    await page.getByText(/^Published version v4 /).waitFor();
    await drawn();
    assert.equal((await focused(page)).id, 'status');
    assert.deepEqual(
      errors.filter((e) => !/status of 400/.test(e)),
      [],
      'the preview asked nothing of the server (connect-src none)',
    );
    await context.close();
  });

  it('every page reflows at 320 px: no sideways scrolling, the navigation wraps, wide tables scroll in their own box', async () => {
    const context = await session('owner@example.com', { viewport: { width: 320, height: 640 } });
    const page = await context.newPage();
    for (const [path, ready] of [
      ['/admin', 'Outcomes per consent (latest choice)'],
      ['/admin/receipts', 'Receipts, newest first'],
      ['/admin/policies', "Versions of this site's policy, newest first"],
      ['/admin/sites', 'Sites'],
      ['/admin/audit', 'Audit log entries'],
      ['/admin/webhooks', 'Webhooks'],
      ['/admin/users', 'People who can sign in'],
      [`/admin/receipt?id=${arReceipt}`, 'Categories and services, and the choice made'],
    ] as const) {
      await page.goto(`${url}${path}`);
      await page.getByRole('table', { name: ready, exact: true }).getByRole('row').nth(1).waitFor();
      await page.waitForTimeout(100);
      const wide = (await page.evaluate(`(() => {
        const W = document.documentElement.clientWidth;
        return {
          scroll: document.documentElement.scrollWidth - W,
          out: [...document.querySelectorAll('body *')]
            .filter((e) => e.getBoundingClientRect().right > W + 1 && !e.closest('.table-scroll, iframe'))
            .slice(0, 3)
            .map((e) => e.localName + (e.id ? '#' + e.id : '')),
        };
      })()`)) as { scroll: number; out: string[] };
      assert.deepEqual(wide, { scroll: 0, out: [] }, path);
    }
    // A table wider than the window scrolls in a named, focusable region.
    await page.goto(`${url}/admin/audit`);
    const box = page.getByRole('region', { name: 'Audit log entries' });
    await box.waitFor();
    assert.equal(await box.getAttribute('tabindex'), '0');
    await context.close();
  });

  it('the overview chart in the dark scheme: axes and lines readable, one day spans days, a key in text', async () => {
    const t = await createServer({
      db: 'sqlite::memory:',
      sites: { [ORIGIN]: SITE_CONFIG },
      regionHeader: 'cf-ipcountry',
      logger: false,
      retention: false,
      rateLimit: false,
      log: false,
      webhooks: false,
    });
    try {
      assert.ok(
        (await addUser(t.store, { email: 'a@example.com', role: 'auditor', password: PASSWORD }, CHEAP)).ok,
      );
      await seedChoices(t);
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
      // The chart's uPlot instance, as the page makes it.
      const o = await open(browser, `${base}/admin/sign-in`, {
        colorScheme: 'dark',
        init: `(() => {
          let U;
          Object.defineProperty(window, 'uPlot', {
            configurable: true,
            get: () => U,
            set: (v) => {
              U = function (...a) { return (window.__plot = new v(...a)); };
              Object.assign(U, v);
            },
          });
        })()`,
      });
      await signIn(o.page, 'a@example.com');
      await o.page.locator('#chart canvas').waitFor();
      const c = (await o.page.evaluate(`(() => {
        const p = window.__plot;
        const value = (x, i) => (typeof x === 'function' ? x(p, i) : x);
        const probe = document.createElement('div');
        probe.style.background = 'Canvas';
        document.body.append(probe);
        const bg = getComputedStyle(probe).backgroundColor;
        probe.remove();
        return {
          bg,
          axes: p.axes.map((a, i) => value(a.stroke, i)),
          series: p.series.slice(1).map((s, i) => value(s.stroke, i + 1)),
          days: p.data[0].length,
          span: (p.scales.x.max - p.scales.x.min) / 86400,
          legend: document.querySelectorAll('.u-legend').length,
          key: [...document.querySelectorAll('#chart-box li')].map((li) => li.textContent.trim()),
        };
      })()`)) as {
        bg: string;
        axes: string[];
        series: string[];
        days: number;
        span: number;
        legend: number;
        key: string[];
      };
      assert.equal(c.bg, 'rgb(18, 18, 18)', 'the dark scheme');
      for (const a of c.axes) assert.ok(contrast(a, c.bg) >= 4.5, `axis ${a} on ${c.bg}`);
      assert.equal(c.series.length, 6);
      for (const x of c.series) assert.ok(contrast(x, c.bg) >= 3, `line ${x} on ${c.bg}`);
      assert.equal(c.days, 1, 'the seeded choices are all today');
      assert.ok(c.span >= 1 && c.span <= 8, `one day spans ${c.span} days`);
      assert.equal(c.legend, 0, "no mouse-only legend (uPlot's)");
      assert.deepEqual(c.key, [
        'Accept all',
        'Reject all',
        'Custom',
        'Withdrawn',
        'GPC',
        'Notice acknowledged',
      ]);
      assert.deepEqual(await axe(o.page), [], 'overview, dark');
      assert.deepEqual(await o.csp(), []);
      await o.context.close();
    } finally {
      await t.close();
    }
  });
});
