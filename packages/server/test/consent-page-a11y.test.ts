/**
 * The visitor's consent page for people, in Chromium: text in a right-to-left language reads
 * right to left; the status line is in the accessibility tree before its first message and has
 * focus after a withdrawal without JavaScript; the addresses people actually open (a link with
 * `utm_source` or `fbclid`, a trailing slash, a page past the last, a mistyped path under
 * /consent/ or /admin) answer a page saying what is wrong, not the API's JSON.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launch, open } from '../../../test-support/browser.js';
import { type AssentServer, createServer } from '../src/index.js';
import { publishable } from '../src/policies.js';
import { consentId, ORIGIN, receiptBody, SITE_CONFIG } from './helpers.js';

const AR_SITE = {
  ...SITE_CONFIG,
  policy: 'v1',
  texts: { ar: { message: 'نستخدم ملفات تعريف الارتباط لقياس عدد الزوار.', learnMore: 'اعرف المزيد' } },
};
const AR_PUBLISHED = (() => {
  const r = publishable(AR_SITE);
  if (!r.ok) throw new Error(r.errors.join('; '));
  return r.version;
})();

describe('the consent page for people (Chromium)', () => {
  let s: AssentServer;
  let browser: Browser;
  let url: string;
  /** A consent of 21 choices (two pages of history), the latest in Arabic. */
  let id: string;
  before(async () => {
    s = await createServer({
      db: 'sqlite::memory:',
      sites: { [ORIGIN]: AR_SITE },
      logger: false,
      rateLimit: false,
      retention: false,
      log: false,
      webhooks: false,
    });
    id = consentId();
    for (let i = 0; i < 21; i++) {
      const r = await s.app.inject({
        method: 'POST',
        url: '/v1/receipts',
        headers: { origin: ORIGIN },
        payload: receiptBody({
          consentId: id,
          lang: 'ar',
          policy: { version: 'v1', sha256: AR_PUBLISHED.sha256 },
        }),
      });
      assert.equal(r.statusCode, 201, r.body);
    }
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(s.app.server.address() as { port: number }).port}`;
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await s.close();
  });

  it('Arabic reads right to left; the empty status is in the accessibility tree; without JavaScript, focus is on the result of a withdrawal', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const o = await open(browser, `${url}/consent/${id}`, { context });
    try {
      const { page } = o;
      await page.getByRole('heading', { name: 'Your consent record' }).waitFor();
      const dirs = (await page.evaluate(`(() => {
        const first = document.querySelector('details');
        return [...first.querySelectorAll('[lang]')].map((e) => [e.localName, e.lang, getComputedStyle(e).direction]);
      })()`)) as string[][];
      assert.deepEqual(dirs, [
        ['blockquote', 'ar', 'rtl'],
        ['ul', 'ar', 'rtl'],
      ]);
      // Empty, it is hidden from the eye only: a live region out of the tree is not announced.
      const status = page.getByRole('status');
      assert.equal(await status.count(), 1, 'the empty status is in the accessibility tree');
      assert.equal(await status.innerText(), '');
      const box = await status.boundingBox();
      assert.ok(box && box.width <= 1 && box.height <= 1, 'and takes no room');

      await page.getByRole('button', { name: 'Withdraw my consent' }).click();
      await page.waitForURL(/\?done=withdrawn$/);
      // `autofocus` applies at the next rendering step, which a loaded machine may run after
      // the load event: waited for (5 s at most), then checked.
      await page
        .waitForFunction(`document.activeElement?.id === 'status'`, undefined, { timeout: 5000 })
        .catch(() => {});
      assert.deepEqual(
        await page.evaluate(`[document.activeElement?.id, document.activeElement?.textContent.slice(0, 29)]`),
        ['status', 'Your withdrawal was recorded.'],
      );
    } finally {
      await context.close();
    }
  });

  it('links with tracking parameters, a trailing slash, a page past the last and mistyped paths answer pages for people', async () => {
    const o = await open(
      browser,
      `${url}/consent/${id}?utm_source=newsletter&utm_medium=email&fbclid=IwAR0x`,
    );
    try {
      const { page } = o;
      // Parameters that mail and social links add are ignored: the record opens.
      await page.getByRole('heading', { name: 'Your consent record' }).waitFor();
      for (const q of ['gclid=Cj0K', 'msclkid=abc123']) {
        const r = await page.goto(`${url}/consent/${id}?${q}`);
        assert.equal(r?.status(), 200, q);
      }
      // A trailing slash: to the page, the query string kept.
      const slashed = await page.goto(`${url}/consent/${id}/?page=2&utm_campaign=x`);
      assert.equal(slashed?.status(), 200);
      assert.equal(page.url(), `${url}/consent/${id}?page=2&utm_campaign=x`);
      await page.getByText('Page 2 of 2').waitFor();

      // An unknown parameter: a page naming it for a browser; the API's JSON for a script.
      const bogus = await page.goto(`${url}/consent/${id}?bogus=1`);
      assert.equal(bogus?.status(), 400);
      assert.match(bogus?.headers()['content-type'] ?? '', /^text\/html/);
      await page.getByRole('heading', { name: 'Address not understood' }).waitFor();
      await page.getByText('“bogus”').waitFor();
      const json = await fetch(`${url}/consent/${id}?bogus=1`);
      assert.equal(json.status, 400);
      assert.equal(((await json.json()) as { field: string }).field, 'bogus');

      // Past the last page: refused like page 0, with a link to the last one.
      const past = await page.goto(`${url}/consent/${id}?page=9`);
      assert.equal(past?.status(), 400);
      await page.getByText('This history has 2 pages: there is no page 9.').waitFor();
      assert.equal(await page.getByText('Page 9 of 2').count(), 0);
      await page.getByRole('link', { name: 'Go to the last page (2)' }).click();
      await page.getByText('Page 2 of 2').waitFor();

      // Mistyped paths under /consent/ and /admin: a page, styled, under the page's CSP.
      for (const [path, text] of [
        [`/consent/${id}/nope`, 'There is no page at this address.'],
        ['/admin/nope', 'There is no page of the admin console at this address.'],
      ] as const) {
        const r = await page.goto(`${url}${path}`);
        assert.equal(r?.status(), 404, path);
        assert.match(r?.headers()['content-security-policy'] ?? '', /default-src 'none'/, path);
        await page.getByRole('heading', { name: 'Page not found' }).waitFor();
        await page.getByText(text).waitFor();
        assert.equal(
          await page.evaluate("getComputedStyle(document.querySelector('main')).maxWidth"),
          '704px',
          `${path}: consent.css applies`,
        );
      }
      const api = await fetch(`${url}/admin/nope`);
      assert.equal(api.status, 404);
      assert.equal(
        ((await api.json()) as { error: string }).error,
        'ASSENT_NOT_FOUND',
        'a script still gets JSON',
      );
      assert.deepEqual(await o.csp(), []);
    } finally {
      await o.context.close();
    }
  });
});
