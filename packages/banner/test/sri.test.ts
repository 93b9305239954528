import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { BANNER_DIST, launch, open, serve } from '../../../test-support/browser.js';

const SRI = JSON.parse(readFileSync(join(BANNER_DIST, 'sri.json'), 'utf8')) as {
  version: string;
  files: Record<string, string>;
};
const sha384 = (file: string) =>
  `sha384-${createHash('sha384')
    .update(readFileSync(join(BANNER_DIST, file)))
    .digest('base64')}`;

describe('the banner on a CDN: Subresource Integrity', () => {
  it('dist/sri.json holds the hash of every file a page loads, and the package version', () => {
    const pkg = JSON.parse(readFileSync(join(BANNER_DIST, '../package.json'), 'utf8')) as { version: string };
    assert.equal(SRI.version, pkg.version);
    const served = [
      ...readdirSync(BANNER_DIST).filter((f) => /\.(js|css)$/.test(f) && f !== 'assent.esm.js'),
      ...readdirSync(join(BANNER_DIST, 'i18n')).map((f) => `i18n/${f}`),
    ].sort();
    assert.deepEqual(Object.keys(SRI.files), served);
    for (const f of served) assert.equal(SRI.files[f], sha384(f), f);
  });

  let browser: Browser;
  // The "CDN": another origin, with CORS (SRI on a cross-origin script needs it). `tamper`
  // names a file it serves altered, as a compromised CDN would.
  let tamper = '';
  let cdn: Awaited<ReturnType<typeof serve>>;
  let site: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    browser = await launch();
    cdn = await serve({}, (req, res) => {
      const file = new URL(req.url ?? '/', 'http://x').pathname.slice(1);
      if (!(file in SRI.files)) return false;
      const body = readFileSync(join(BANNER_DIST, file), 'utf8');
      res.writeHead(200, {
        'content-type': 'text/javascript',
        'access-control-allow-origin': '*',
        'cache-control': 'no-store',
      });
      res.end(file === tamper ? `${body}\n;console.log("swapped on the CDN");` : body);
      return true;
    });
    // The tag exactly as `npm run -w @assent/banner snippet` prints it for this CDN.
    const tag = execFileSync(
      process.execPath,
      [join(BANNER_DIST, '../snippet.mjs'), '--base', `https://cdn.invalid/`],
      { encoding: 'utf8' },
    )
      .replace('https://cdn.invalid/', `${cdn.origin}/`)
      .replace('days=(20)', 'days=(20) categories=(analytics)');
    site = await serve({ '/': { head: tag } });
  });
  after(async () => {
    await browser?.close();
    await cdn?.close();
    await site?.close();
  });

  const preferences = async () => {
    const o = await open(browser, `${site.origin}/`);
    await o.page.getByRole('button', { name: 'Preferences' }).click();
    return o;
  };

  it('the pinned files load from another origin and the preferences file is checked too', async () => {
    tamper = '';
    const o = await preferences();
    await o.page.getByRole('dialog', { name: 'Cookie preferences' }).waitFor();
    const tag = o.page.locator('script[src$="assent.prefs.min.js"]');
    assert.equal(await tag.getAttribute('integrity'), SRI.files['assent.prefs.min.js']);
    assert.equal(await tag.getAttribute('crossorigin'), 'anonymous');
    // (The test site has no favicon: its 404 is the only console error.)
    assert.deepEqual(
      o.errors.filter((e) => !e.includes('404')),
      [],
    );
    await o.context.close();
  });

  it('a preferences file swapped on the CDN does not run: the console says which URL', async () => {
    tamper = 'assent.prefs.min.js';
    const o = await preferences();
    await o.page.waitForFunction(() => document.querySelector('script[src$="assent.prefs.min.js"]'));
    await o.page.waitForTimeout(500);
    assert.equal(await o.page.locator('#assent-prefs').count(), 0, 'no dialog from the swapped file');
    assert.ok(
      o.errors.some((e) => e.startsWith('assent: cannot load') && e.includes('assent.prefs.min.js')),
      o.errors.join('\n'),
    );
    // The first layer still works.
    await o.page.getByRole('button', { name: 'Accept !' }).click();
    await o.context.close();
  });

  it('a banner swapped on the CDN does not run at all', async () => {
    tamper = 'assent.min.js';
    const o = await open(browser, `${site.origin}/`);
    await o.page.waitForLoadState('load');
    assert.equal(await o.page.getByRole('button', { name: 'Accept !' }).count(), 0);
    assert.ok(
      o.errors.some((e) => /integrity/i.test(e)),
      o.errors.join('\n'),
    );
    await o.context.close();
  });
});
