/**
 * Screenshots of every admin console page, for the README, taken from the running demo:
 *
 *   npm run screenshots          # writes docs/screenshots/*.png
 *
 * Starts the demo on a free port with a throwaway database, records a few hundred visitors'
 * choices through the receipt API (the way the banner posts them, with regions), signs in as
 * the demo's owner in Chromium, and captures each page the console's navigation links to (so a
 * new page is captured without editing this file), a receipt's detail, the demo article with
 * its banner, and the visitor's consent page.
 */

import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch } from '../test-support/browser.js';
import { startDemo } from './src/server.js';

const OUT = join(import.meta.dirname, '../docs/screenshots');
const REGIONS = ['FR', 'DE', 'IE', 'US', 'ES'];

const main = async () => {
  const dir = join(tmpdir(), `assent-shots-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const demo = await startDemo({
    port: 0,
    host: '127.0.0.1',
    db: `sqlite:${join(dir, 'demo.db')}`,
    quiet: true,
  });
  const origin = demo.url.replace(/\/$/, '');
  const browser = await launch();
  try {
    // The policy the site publishes: receipts must name it, as the banner's do.
    const current = (await (
      await fetch(`${origin}/v1/policy?site=${encodeURIComponent(origin)}`)
    ).json()) as {
      sha256: string;
      doc: { config: { policy: string; categories: { id: string }[] } };
    };
    const cats = current.doc.config.categories.map((c) => c.id);
    const consentIds: string[] = [];
    for (let i = 0; i < 240; i++) {
      const kind = i % 8;
      const method = [
        'accept-all',
        'accept-all',
        'accept-all',
        'reject-all',
        'reject-all',
        'custom',
        'gpc',
        'accept-all',
      ][kind]!;
      const choices = Object.fromEntries(
        cats.map((c, j) => [c, method === 'accept-all' || (method === 'custom' && j === 0)]),
      );
      const consentId = randomBytes(16).toString('base64url').slice(0, 22);
      consentIds.push(consentId);
      const res = await fetch(`${origin}/v1/receipts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin, 'cf-ipcountry': REGIONS[i % REGIONS.length]! },
        body: JSON.stringify({
          consentId,
          policy: { version: current.doc.config.policy, sha256: current.sha256 },
          mode: 'opt-in',
          choices,
          method,
          source: method === 'custom' ? 'preferences' : 'banner',
          signals: { gpc: method === 'gpc' },
          page: { origin, path: '/articles/trump-maduro-call' },
          lang: 'en',
        }),
      });
      if (res.status !== 201) throw new Error(`receipt ${i}: ${res.status} ${await res.text()}`);
    }
    for (const id of consentIds.slice(0, 12))
      await fetch(`${origin}/v1/consents/${id}/withdraw`, {
        method: 'POST',
        headers: { 'cf-ipcountry': 'FR' },
      });

    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const shot = async (name: string, fullPage = true) => {
      await page.waitForLoadState('networkidle');
      await page.screenshot({ path: join(OUT, `${name}.png`), fullPage });
      process.stderr.write(`docs/screenshots/${name}.png\n`);
    };

    await page.goto(`${origin}/articles/trump-maduro-call`);
    await page
      .getByRole('button', { name: /accept/i })
      .first()
      .waitFor();
    // The banner is fixed to the viewport: what a visitor sees first, not the whole article.
    await shot('demo-article-banner', false);

    await page.goto(`${origin}/admin`);
    await page.waitForURL(/sign-in/);
    await shot('admin-sign-in');
    await page.getByLabel('Email').fill(demo.owner.email);
    await page.getByLabel('Password').fill(demo.owner.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${origin}/admin`);
    const links = await page
      .locator('nav[aria-label="Admin console"] a')
      .evaluateAll((as) => as.map((a) => (a as unknown as { pathname: string }).pathname));
    for (const path of links) {
      await page.goto(origin + path);
      const name = path === '/admin' ? 'overview' : path.replace('/admin/', '').replace(/\W+/g, '-');
      await shot(`admin-${name}`);
    }
    await page.goto(`${origin}/admin/receipts`);
    await page.locator('a[href*="/admin/receipt?id="]').first().click();
    await page.waitForURL(/receipt\?id=/);
    await shot('admin-receipt-detail');

    await page.goto(`${origin}/consent/${consentIds[20]}`);
    await shot('consent-page');
  } finally {
    await browser.close();
    await demo.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
};

await main();
process.exit(0);
