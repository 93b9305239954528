import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EN } from '@assent/core';
import type { Browser, Page } from 'playwright-core';
import { launch } from '../../../test-support/browser.js';
import { type AssentServer, createServer } from '../src/index.js';
import { freePort } from './helpers.js';

/**
 * The real banner (the full build the server serves as /v1/assent.js) against the real
 * server's receipt rules: every receipt it builds, in every mode, with and without Global
 * Privacy Control, in a published language or not, is stored (201), so the rules refuse only
 * what no banner sends. And a page that forces a laxer region than the server reads gets its
 * receipt refused, as the rules mean.
 */
const CONFIG = {
  policy: 'b1',
  categories: [
    { id: 'analytics', services: [{ id: 'matomo' }] },
    { id: 'marketing' },
    // A sale category by its Consent Mode signal, not its name.
    { id: 'partners' },
  ],
  googleConsentMode: { map: { partners: ['ad_storage'] } },
  texts: { de: {} },
  regions: { EU: 'opt-in', 'US-CA': 'opt-out', '*': 'notice' },
};

interface Posted {
  readonly status: number;
  readonly body: {
    method: string;
    mode: string;
    lang: string;
    choices: Record<string, boolean>;
    signals: { gpc: boolean };
  };
  readonly answer: { field?: string; message?: string };
}

describe('the real banner against the receipt rules, in Chromium', () => {
  let s: AssentServer;
  let browser: Browser;
  let site: string;
  before(async () => {
    const port = await freePort();
    site = `http://127.0.0.1:${port}`;
    s = await createServer({
      db: 'sqlite::memory:',
      sites: { [site]: CONFIG },
      regionHeader: 'cf-ipcountry',
      logger: false,
      log: false,
      rateLimit: false,
      retention: false,
    });
    await s.app.listen({ port, host: '127.0.0.1' });
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await s?.close();
  });

  /**
   * A page of the site (same origin as the server: a secure context, as receipts need) with
   * the server's banner; the visitor's region in the CDN header, GPC in `navigator`.
   */
  const visit = async (o: { region?: string; gpc?: boolean; lang?: string; forced?: string }) => {
    const context = await browser.newContext({
      extraHTTPHeaders: o.region ? { 'cf-ipcountry': o.region } : {},
    });
    if (o.gpc)
      await context.addInitScript(
        "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true, configurable: true })",
      );
    await context.route(`${site}/page`, (route) =>
      route.fulfill({
        contentType: 'text/html; charset=utf-8',
        body: `<!doctype html><html lang="${o.lang ?? 'en'}"><head><title>t</title><script src="/v1/assent.js"${
          o.forced ? ` data-assent-region="${o.forced}"` : ''
        }></script></head><body><p>An article.</p></body></html>`,
      }),
    );
    const page = await context.newPage();
    await page.goto(`${site}/page`);
    await page.waitForFunction('window.Assent?.ready === true');
    return { page, close: () => context.close() };
  };

  /** Runs a choice on the page and returns the receipt it posted, with the server's answer. */
  const choice = async (v: { page: Page }, act: (page: Page) => Promise<unknown>): Promise<Posted> => {
    const answered = v.page.waitForResponse((r) => r.url().endsWith('/v1/receipts'));
    await act(v.page);
    const r = await answered;
    return {
      status: r.status(),
      body: r.request().postDataJSON(),
      answer: await r.json().catch(() => ({})),
    };
  };
  const sdk = (call: string) => (page: Page) => page.evaluate(`window.Assent.${call}`);

  it('stores every choice an EU visitor makes, with and without GPC', async () => {
    for (const gpc of [false, true]) {
      const v = await visit({ region: 'DE', gpc });
      try {
        const accepted = await choice(v, sdk('accept()'));
        assert.equal(accepted.status, 201, JSON.stringify(accepted));
        assert.deepEqual(
          [accepted.body.method, accepted.body.mode, accepted.body.signals.gpc],
          ['accept-all', 'opt-in', gpc],
        );
        // Under GPC the banner withholds the sale categories, by name and by signal.
        assert.deepEqual(accepted.body.choices, {
          analytics: true,
          'analytics:matomo': true,
          marketing: !gpc,
          partners: !gpc,
        });
        for (const call of ['reject()', "accept(['analytics:matomo', 'marketing'])", 'withdraw()']) {
          const r = await choice(v, sdk(call));
          assert.equal(r.status, 201, `${call}: ${JSON.stringify(r)}`);
        }
        // The first layer's own buttons too, on a fresh visit of the same browser.
        await v.page.evaluate("document.cookie = 'assent=; Max-Age=0; Path=/'");
        await v.page.reload();
        const clicked = await choice(v, (p) =>
          p.getByRole('button', { name: EN.accept, exact: true }).click(),
        );
        assert.equal(clicked.status, 201, JSON.stringify(clicked));
      } finally {
        await v.close();
      }
    }
  });

  it('stores the notice acknowledgement and the opt-out choices where the region asks for them', async () => {
    for (const gpc of [false, true]) {
      const jp = await visit({ region: 'JP', gpc });
      try {
        const ack = await choice(jp, (p) => p.getByRole('button', { name: EN.accept, exact: true }).click());
        assert.equal(ack.status, 201, JSON.stringify(ack));
        assert.deepEqual([ack.body.method, ack.body.mode], ['notice-ack', 'notice']);
        assert.equal(ack.body.choices.marketing, !gpc);
      } finally {
        await jp.close();
      }
      const ca = await visit({ region: 'US-CA', gpc });
      try {
        if (!gpc) {
          // (Under GPC opt-out opts out without asking: no banner, no receipt.)
          const dns = await choice(ca, (p) => p.getByRole('button', { name: EN.doNotSell! }).click());
          assert.equal(dns.status, 201, JSON.stringify(dns));
          assert.deepEqual([dns.body.method, dns.body.mode], ['custom', 'opt-out']);
        }
        for (const call of ['accept()', 'reject()', 'withdraw()']) {
          const r = await choice(ca, sdk(call));
          assert.equal(r.status, 201, `${call}: ${JSON.stringify(r)}`);
          assert.equal(r.body.mode, 'opt-out');
        }
      } finally {
        await ca.close();
      }
    }
  });

  it('stores a visitor whose region the server does not know, and a stricter mode than the region needs', async () => {
    for (const o of [{}, { region: 'XX' }, { region: 'JP', forced: 'DE' }]) {
      const v = await visit(o);
      try {
        const r = await choice(v, sdk('accept()'));
        assert.equal(r.status, 201, `${JSON.stringify(o)}: ${JSON.stringify(r)}`);
        assert.equal(r.body.mode, 'opt-in');
      } finally {
        await v.close();
      }
    }
  });

  it('names the language the banner showed: a regional tag falls back to its language, an unpublished one to English', async () => {
    for (const [lang, sent] of [
      ['de-AT', 'de'],
      ['de', 'de'],
      ['ar', 'en'],
      ['en-GB', 'en'],
    ]) {
      const v = await visit({ region: 'DE', lang });
      try {
        const r = await choice(v, sdk('accept()'));
        assert.equal(r.status, 201, `${lang}: ${JSON.stringify(r)}`);
        assert.equal(r.body.lang, sent);
      } finally {
        await v.close();
      }
    }
  });

  it('records a click no person made (a page script’s .click() on the banner) as the page’s, never as the visitor’s on the banner', async () => {
    for (const [how, act, source] of [
      ['a person', (p: Page) => p.getByRole('button', { name: EN.accept, exact: true }).click(), 'banner'],
      [
        'a page script',
        (p: Page) => p.evaluate(`document.querySelector('[data-assent-action="accept"]').click()`),
        'sdk',
      ],
      [
        'a page script, in the dialog',
        async (p: Page) => {
          await p.getByRole('button', { name: EN.preferences, exact: true }).click();
          await p.waitForSelector('dialog#assent-prefs[open]');
          await p.evaluate(
            `document.querySelector('#assent-prefs [data-assent-action="accept-all"]').click()`,
          );
        },
        'sdk',
      ],
    ] as const) {
      const v = await visit({ region: 'DE' });
      try {
        const r = await choice(v, act);
        assert.equal(r.status, 201, JSON.stringify(r));
        assert.equal((r.body as unknown as { source: string }).source, source, how);
      } finally {
        await v.close();
      }
    }
  });

  it('refuses the receipt of a page that forced a laxer region than the visitor’s', async () => {
    const v = await visit({ region: 'DE', forced: 'JP' });
    try {
      const r = await choice(v, sdk('accept()'));
      assert.equal(r.status, 400, JSON.stringify(r));
      assert.equal(r.answer.field, 'mode');
      assert.match(r.answer.message!, /region DE requires "opt-in"/);
      assert.equal(r.body.method, 'notice-ack');
    } finally {
      await v.close();
    }
  });
});
