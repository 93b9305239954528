/**
 * One policy, one truth, in Chromium against a real receipt server on another origin: a page
 * that posts receipts names the published policy by SHA-256 (computed in the browser exactly as
 * the server computes it), a page that shows anything else is refused (409) and asks again with
 * the published policy, and the server's one-tag banner needs no config on the page.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type AssentServer, createServer } from '@assent/server';
import type { Browser } from 'playwright-core';
import { launch, open, serve } from '../../test-support/browser.js';
import { freePort } from '../../test-support/ports.js';

const POLICY = {
  policy: 'v7',
  days: 20,
  texts: { en: { accept: 'Accept !' }, de: {} },
  categories: [{ id: 'analytics', services: [{ id: 'stats', cookies: ['_stats'] }] }],
};

type Receipt = { policy: { sha256: string; version: string }; expiresAt: string; at: string };

describe('the banner and the receipt server agree on the policy', () => {
  let browser: Browser;
  let server: AssentServer;
  let site: Awaited<ReturnType<typeof serve>>;
  let api: string;
  let published: string;

  before(async () => {
    browser = await launch();
    const port = await freePort();
    // Another origin than the site's: localhost vs 127.0.0.1.
    api = `http://localhost:${port}`;
    const sitePort = await freePort();
    const origin = `http://127.0.0.1:${sitePort}`;
    server = await createServer({
      db: 'sqlite::memory:',
      sites: { [origin]: POLICY },
      logger: false,
      rateLimit: false,
      retention: false,
    });
    await server.app.listen({ port, host: '127.0.0.1' });
    const config = (json: object) =>
      `<link rel="icon" href="data:,"><script type="application/json" id="assent-config">${JSON.stringify({ ...json, endpoint: `${api}/v1/receipts` })}</script><script src="/assent.full.min.js" defer></script>`;
    const held = '<script type="text/plain" data-assent-category="analytics" src="/hit/analytics"></script>';
    site = await serve(
      {
        // The policy offers German: the page loads the German words the server publishes with it.
        '/same': { head: `<script src="/i18n/de.js"></script>${config(POLICY)}${held}` },
        // What the page shows differs from what the server publishes: one word.
        '/drifted': {
          head: config({ ...POLICY, texts: { ...POLICY.texts, en: { accept: 'OK' } } }) + held,
        },
        // The server's banner with its published policy: one tag, no config on the page.
        '/one-tag': {
          lang: 'de',
          head: `<link rel="icon" href="data:,"><script src="${api}/v1/assent.js?site=${encodeURIComponent(origin)}"></script>${held}`,
        },
        '/one-tag-and-config': {
          head: `<link rel="icon" href="data:,"><script src="${api}/v1/assent.js?site=${encodeURIComponent(origin)}" data-assent="days=(5)"></script>`,
        },
      },
      undefined,
      sitePort,
    );
    published = (
      (await (await fetch(`${api}/v1/policy?site=${encodeURIComponent(origin)}`)).json()) as {
        sha256: string;
      }
    ).sha256;
  });
  after(async () => {
    await browser.close();
    await site.close();
    await server.close();
  });

  const receiptOf = async (consentId: string) => {
    const r = await fetch(`${api}/v1/consents/${consentId}`);
    return r.status === 200 ? ((await r.json()) as { receipts: Receipt[] }).receipts : [];
  };

  it("a page rendering the site's policy names its SHA-256, computed in the browser as on the server", async () => {
    const o = await open(browser, `${site.origin}/same`);
    const posted = o.page.waitForResponse((r) => r.url().endsWith('/v1/receipts'));
    await o.page.getByRole('button', { name: 'Accept !' }).click();
    const res = await posted;
    assert.equal(res.status(), 201, await res.text());
    const { consentId } = (await res.json()) as { consentId: string };
    const [r] = await receiptOf(consentId);
    assert.equal(r!.policy.sha256, published);
    assert.equal(r!.policy.version, 'v7');
    // expiresAt follows the policy's 20 days, from the server's clock.
    assert.equal(Date.parse(r!.expiresAt) - Date.parse(r!.at), 20 * 86_400_000);
    // The published policy is the exact text: its body hashes to the SHA-256.
    const body = await (await fetch(`${api}/v1/policies/${published}`)).text();
    const { createHash } = await import('node:crypto');
    assert.equal(createHash('sha256').update(body).digest('hex'), published);
    assert.deepEqual(o.errors, []);
    await o.context.close();
  });

  it('a page showing another policy is refused (409, nothing stored) and asks again with the published one', async () => {
    const before = site.hits.get('analytics') ?? 0;
    // Listeners stand for React, the vendors' add-on and tag managers: they must never hear
    // the refused choice as a grant.
    const o = await open(browser, `${site.origin}/drifted`, {
      init: `window.changes = []; document.addEventListener('assent:change', (e) => window.changes.push(e.detail.granted.analytics));`,
    });
    const changes = () => o.page.evaluate(() => (window as unknown as { changes: boolean[] }).changes);
    const posted = o.page.waitForResponse((r) => r.url().endsWith('/v1/receipts'));
    await o.page.getByRole('button', { name: 'OK' }).click();
    const res = await posted;
    assert.equal(res.status(), 409);
    const err = (await res.json()) as { error: string; policy: { sha256: string } };
    assert.equal(err.error, 'ASSENT_POLICY_MISMATCH');
    assert.equal(err.policy.sha256, published);
    const { consentId } = res.request().postDataJSON() as { consentId: string };
    assert.deepEqual(await receiptOf(consentId), [], 'nothing stored');
    // The banner asks again, now with the published words; nothing held ran meanwhile.
    await o.page.getByRole('button', { name: 'Accept !' }).waitFor();
    assert.equal(site.hits.get('analytics') ?? 0, before, 'the held script never ran');
    assert.ok(
      o.errors.some((e) => e.includes('ASSENT_POLICY_MISMATCH') && e.includes(published)),
      o.errors.join('\n'),
    );
    assert.ok(o.errors.some((e) => e.includes(`asking again with the published policy ${published}`)));
    assert.deepEqual(await changes(), [false], 'the refused grant was never announced; asking again was');
    // Accepting what is published is recorded, and only then does the held script run.
    const again = o.page.waitForResponse((r) => r.url().endsWith('/v1/receipts'));
    await o.page.getByRole('button', { name: 'Accept !' }).click();
    const ok = await again;
    assert.equal(ok.status(), 201);
    assert.equal(((await ok.json()) as { consentId: string }).consentId, consentId, 'the same consent ID');
    await o.page.waitForFunction(() =>
      (window as unknown as { hits?: string[] }).hits?.includes('analytics'),
    );
    assert.deepEqual(await changes(), [false, true], 'the recorded grant is announced');
    const history = await receiptOf(consentId);
    assert.equal(history.length, 1, JSON.stringify(history));
    assert.equal(history[0]!.policy.sha256, published);
    await o.context.close();
  });

  it('one script tag from the server: the published policy, no config on the page', async () => {
    const o = await open(browser, `${site.origin}/one-tag`, {
      context: await browser.newContext({ locale: 'de-DE' }),
    });
    // The German words come from the published policy (the preset the server resolved).
    const { PRESETS } = await import('@assent/core/i18n');
    const region = o.page.getByRole('region', { name: PRESETS.de!.label });
    await region.waitFor();
    assert.match(await region.innerText(), new RegExp(PRESETS.de!.message.slice(0, 30)));
    const posted = o.page.waitForResponse((r) => r.url().endsWith('/v1/receipts'));
    await region.getByRole('button', { name: PRESETS.de!.accept }).click();
    const res = await posted;
    assert.equal(res.status(), 201);
    const [r] = await receiptOf(((await res.json()) as { consentId: string }).consentId);
    assert.equal(r!.policy.sha256, published);
    assert.deepEqual(o.errors, []);
    await o.context.close();

    const both = await open(browser, `${site.origin}/one-tag-and-config`);
    await both.page.locator('#assent-banner').waitFor();
    assert.ok(
      both.errors.some((e) =>
        /the published policy applies; data-assent and #assent-config are ignored/.test(e),
      ),
      both.errors.join('\n'),
    );
    await both.context.close();
  });
});
