/**
 * The policy editor (issue 17, part 4) in Chromium: an editor edits texts and categories, sees
 * the real banner render the draft, publishes a new version (listed, the old one viewable); an
 * auditor reads but cannot publish; the scanner's suggestions import into the draft; and a
 * visitor who chose under v1 is asked again once v2 is published. Each page clean for axe.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EN, MODES, SIGNALS } from '@assent/core';
import type { Browser, Page } from 'playwright-core';
import { launch, open, serve } from '../../../test-support/browser.js';
import { freePort } from '../../../test-support/ports.js';
import { type AssentServer, createServer } from '../src/index.js';
import { addUser } from '../src/users.js';
import { axe } from './admin-axe.js';
import { tempDir } from './helpers.js';

const CHEAP = { N: 2 ** 10, r: 8, p: 1 };
const PASSWORD = 'correct horse battery staple';
const TOKEN = 'policy-editor-test-token';

const V1 = {
  policy: 'v1',
  texts: { en: { message: 'We use cookies for statistics.' } },
  categories: [{ id: 'analytics', title: 'Statistics', services: [{ id: 'matomo', title: 'Matomo' }] }],
};

describe('policy editor in Chromium', () => {
  let s: AssentServer;
  let browser: Browser;
  let url: string;
  let site: Awaited<ReturnType<typeof serve>>;
  let SITE: string;

  before(async () => {
    const sitePort = await freePort();
    SITE = `http://127.0.0.1:${sitePort}`;
    s = await createServer({
      db: 'sqlite::memory:',
      sites: { [SITE]: V1 },
      adminToken: TOKEN,
      logger: false,
      retention: false,
      rateLimit: false,
    });
    for (const role of ['owner', 'editor', 'auditor'] as const)
      assert.ok(
        (await addUser(s.store, { email: `${role}@example.com`, role, password: PASSWORD }, CHEAP)).ok,
      );
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(s.app.server.address() as { port: number }).port}`;
    // The site: one tag, the banner and the site's published policy from the receipt server.
    site = await serve(
      {
        '/': {
          head: `<link rel="icon" href="data:,"><script src="${url}/v1/assent.js?site=${encodeURIComponent(SITE)}"></script>`,
        },
      },
      undefined,
      sitePort,
    );
    browser = await launch();
  });
  after(async () => {
    await browser.close();
    await site.close();
    await s.close();
  });

  const signIn = async (page: Page, email: string) => {
    await page.waitForURL(/\/admin\/sign-in/);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${url}/admin/policies`);
  };
  const preview = (page: Page) => page.frameLocator('iframe[title="Banner preview"]');
  const admin = (path: string, init: { method?: string; body?: unknown } = {}) =>
    s.app.inject({
      method: (init.method ?? 'GET') as 'GET',
      url: path,
      headers: { authorization: `Bearer ${TOKEN}` },
      ...(init.body === undefined ? {} : { payload: init.body as object }),
    });

  it('a visitor who chose under v1 sees the banner ask again once an editor publishes v2', async () => {
    // The visitor accepts under v1.
    const visitor = await open(browser, `${SITE}/`);
    const notice = visitor.page.getByRole('region', { name: 'Cookie notice' });
    await notice.getByText('We use cookies for statistics.').waitFor();
    await notice.getByRole('button', { name: 'Accept' }).click();
    await notice.waitFor({ state: 'hidden' });
    const kept = await visitor.context.cookies();
    assert.ok(
      kept.some((c) => c.name === 'assent'),
      'the choice is kept',
    );
    await visitor.page.reload();
    await visitor.page.getByRole('button', { name: 'Cookie settings' }).waitFor();
    assert.equal(await notice.isVisible(), false, 'not asked again under v1');
    await visitor.context.close();

    // An editor signs in, edits a text and a category, sees the preview change, publishes.
    const o = await open(browser, `${url}/admin/policies`);
    await signIn(o.page, 'editor@example.com');
    await o.page.getByText(`Editing the policy of ${SITE} (current version v1).`).waitFor();
    await preview(o.page).getByText('We use cookies for statistics.').waitFor();
    assert.equal(
      await o.page.getByLabel('Policy version (a new one asks every visitor again)').inputValue(),
      'v2',
    );
    assert.deepEqual(await axe(o.page), [], 'policy editor');

    await o.page.getByLabel('Message (en)').fill('We use cookies to count visits.');
    await preview(o.page).getByText('We use cookies to count visits.').waitFor();
    await o.page.getByLabel('Category title').first().fill('Visit counting');
    // The category's title is in the preferences dialog: open it in the preview. The preview
    // renders again when the draft's check answers, which closes a dialog opened before it:
    // open it until it shows the new title.
    for (let tries = 0; ; tries++) {
      await preview(o.page).getByRole('button', { name: 'Preferences' }).click();
      const shown = await preview(o.page)
        .getByText('Visit counting')
        .first()
        .waitFor({ timeout: 3000 })
        .then(() => true)
        .catch(() => false);
      if (shown) break;
      assert.ok(tries < 10, 'the preview never showed the new category title');
    }
    // A choice made in the preview is stored nowhere and sends no receipt.
    const receipts = async () =>
      ((await admin('/v1/admin/overview')).json().outcomes as { receipts: number }[]).reduce(
        (n, x) => n + x.receipts,
        0,
      );
    assert.equal(await receipts(), 1, "the visitor's one choice");
    await preview(o.page).getByRole('button', { name: 'Accept all' }).click();
    await preview(o.page).getByRole('button', { name: 'Cookie settings' }).waitFor();
    await o.page.waitForTimeout(500);
    assert.equal(await receipts(), 1, 'no receipt from the preview');
    assert.deepEqual(
      (await o.context.cookies()).map((c) => c.name),
      ['__Host-assent-admin'],
      'no consent cookie',
    );

    // A bad value is shown beside its field (core's validator, through the server's check).
    await o.page.getByLabel('Days a choice is kept').fill('0');
    await o.page.getByText('days: must be a whole number from 1 to 395, got 0').waitFor();
    assert.equal(await o.page.getByLabel('Days a choice is kept').getAttribute('aria-invalid'), 'true');
    assert.equal(await o.page.getByRole('button', { name: 'Publish this version' }).isDisabled(), true);
    assert.deepEqual(await axe(o.page), [], 'policy editor with an error');
    await o.page.getByLabel('Days a choice is kept').fill('30');
    await o.page.getByText('Draft: version v2').waitFor();

    await o.page.getByRole('button', { name: 'Publish this version' }).click();
    await o.page
      .getByText(/^Published version v2 \(SHA-256 [0-9a-f]{64}\)\. Visitors are asked again\.$/)
      .waitFor();
    const versions = o.page.getByRole('table', { name: "Versions of this site's policy, newest first" });
    await versions.getByRole('row', { name: /v2 \(current\).*editor@example\.com/ }).waitFor();
    await versions.getByRole('row', { name: /^v1 .*server config file/ }).waitFor();
    const current = s.policies.site(SITE)!;
    assert.equal(current.config.policy, 'v2');
    assert.equal(current.config.days, 30);
    assert.equal(current.doc.config.texts.en!.message, 'We use cookies to count visits.');
    assert.equal(current.config.categories[0]!.title, 'Visit counting');
    const audit = await s.store.admin.auditOf('policy-publish', SITE);
    assert.deepEqual(
      audit.map((e) => [e.actor, JSON.parse(e.detail).version]),
      [['editor@example.com', 'v2']],
    );

    // The old version stays viewable, read-only, with what changed since. (By the keyboard:
    // focus is on the status line at the top after publishing, and a mouse click right after
    // the long scroll down can land on the sticky preview frame where the button was.)
    await o.page.getByRole('button', { name: 'View version v1' }).focus();
    await o.page.keyboard.press('Enter');
    await o.page.getByText(/^Viewing version v1 \(SHA-256 [0-9a-f]{64}\), read-only\.$/).waitFor();
    assert.equal(await o.page.getByLabel('Message (en)').inputValue(), 'We use cookies for statistics.');
    assert.equal(await o.page.getByLabel('Message (en)').isDisabled(), true);
    await o.page.getByText('days: 182 in this version, 30 now').waitFor();
    await preview(o.page).getByText('We use cookies for statistics.').waitFor();
    assert.deepEqual(await axe(o.page), [], 'viewing an old version');
    assert.deepEqual(await o.csp(), []);
    await o.context.close();

    // The visitor comes back (their browser's copy of the site's banner has expired: a new
    // context holding the same cookies): the choice was made under v1, so they are asked again.
    const back = await browser.newContext();
    await back.addCookies(kept);
    const page = await back.newPage();
    await page.goto(`${SITE}/`);
    const again = page.getByRole('region', { name: 'Cookie notice' });
    await again.getByText('We use cookies to count visits.').waitFor();
    await back.close();
  });

  it('an auditor reads the policies and their versions but cannot publish (UI and API)', async () => {
    const o = await open(browser, `${url}/admin/policies`);
    await signIn(o.page, 'auditor@example.com');
    await o.page.getByText('Your role can read the policies and their versions, not publish them.').waitFor();
    await o.page.getByText(`Editing the policy of ${SITE}`).waitFor();
    assert.equal(await o.page.getByRole('button', { name: 'Publish this version' }).isVisible(), false);
    assert.equal(await o.page.getByLabel('Message (en)').isDisabled(), true);
    await o.page.getByRole('link', { name: 'Policies' }).waitFor();
    assert.deepEqual(await axe(o.page), [], 'policy editor, read-only');
    // The API refuses the auditor's session too (with a valid anti-forgery token).
    const status = await o.page.evaluate(`(async () => {
      const me = await (await fetch('/v1/admin/session')).json();
      const r = await fetch('/v1/admin/policies', {
        method: 'POST',
        headers: { 'content-type': 'application/json', [me.csrfHeader]: me.csrf },
        body: JSON.stringify({ site: ${JSON.stringify(SITE)}, config: { policy: 'v9' } }),
      });
      return [r.status, (await r.json()).error];
    })()`);
    assert.deepEqual(status, [403, 'ASSENT_FORBIDDEN']);
    assert.notEqual(s.policies.site(SITE)!.config.policy, 'v9');
    await o.context.close();
  });

  it("importing the scanner's suggested config adds its services and cookies to the draft", async () => {
    const dir = tempDir('assent-import-');
    const file = join(dir, 'assent-config.suggested.json');
    writeFileSync(
      file,
      JSON.stringify({
        categories: [
          { id: 'analytics', services: [{ id: 'hotjar', title: 'Hotjar', cookies: ['_hjid'] }] },
          { id: 'marketing', services: [{ id: 'meta', title: 'Meta Pixel', cookies: ['_fbp'] }] },
        ],
      }),
    );
    const o = await open(browser, `${url}/admin/policies`);
    await signIn(o.page, 'owner@example.com');
    await o.page.getByText(`Editing the policy of ${SITE}`).waitFor();
    await o.page.getByLabel(/Suggested config from/).setInputFiles(file);
    await o.page.getByText('Imported assent-config.suggested.json: 2 additions to the draft.').waitFor();
    const added = o.page.getByRole('list', { name: 'Added by the import' });
    assert.deepEqual(await added.getByRole('listitem').allInnerTexts(), [
      'service Hotjar in analytics',
      'category marketing with meta',
    ]);
    await o.page.getByRole('group', { name: /^Service: Hotjar/ }).waitFor();
    assert.equal(
      await o.page
        .getByRole('textbox', { name: /^Service cookies/ })
        .nth(1)
        .inputValue(),
      '_hjid',
    );
    assert.deepEqual(await axe(o.page), [], 'after an import');
    await o.page.getByText(/^Draft: version v\d+/).waitFor();
    await o.page.getByRole('button', { name: 'Publish this version' }).click();
    await o.page.getByText(/^Published version v3 \(SHA-256/).waitFor();
    const cats = s.policies.site(SITE)!.config.categories;
    assert.deepEqual(
      cats.map((c) => [c.id, (c.services ?? []).map((x) => x.id)]),
      [
        ['analytics', ['matomo', 'hotjar']],
        ['marketing', ['meta']],
      ],
    );
    await o.context.close();
  });

  it("the editor's modes, signals and texts are core's, each text with a label", async () => {
    const r = await fetch(`${url}/admin/assets/vocabulary.js`);
    assert.equal(r.status, 200);
    const v = JSON.parse((await r.text()).replace(/^window\.assentVocabulary = /, '').replace(/;\n$/, ''));
    const texts = Object.keys(EN).filter((k) => k !== 'cats');
    assert.deepEqual(v, { modes: MODES, signals: SIGNALS, texts });
    assert.ok(texts.includes('gpcHonored') && texts.length >= 20, "the full build's texts");
    // A text core adds shows by its key until the editor labels it: this names the missing one.
    const form = readFileSync(new URL('../src/assets/policy-form.js', import.meta.url), 'utf8');
    const labels = /const LABELS = \{([^}]*)\}/.exec(form)![1]!;
    const labelled = [...labels.matchAll(/^\s*(\w+):/gm)].map((m) => m[1]);
    assert.deepEqual(labelled.sort(), [...texts].sort());
  });

  it('the API: sites, versions with their publisher, a version, a draft checked by field', async () => {
    const sites = await admin('/v1/admin/policies/sites');
    assert.equal(sites.statusCode, 200, sites.body);
    assert.deepEqual(
      sites.json().sites.map((x: { site: string }) => x.site),
      [SITE],
    );
    const list = await admin(`/v1/admin/policies/versions?site=${encodeURIComponent(SITE)}`);
    assert.equal(list.statusCode, 200, list.body);
    const vs = list.json().versions as { seq: number; version: string; publishedBy: string | null }[];
    assert.deepEqual(
      vs.map((v) => [v.seq, v.version, v.publishedBy]),
      [
        [3, 'v3', 'owner@example.com'],
        [2, 'v2', 'editor@example.com'],
        [1, 'v1', null],
      ],
    );
    const unknown = await admin('/v1/admin/policies/versions?site=https://nope.example');
    assert.deepEqual([unknown.statusCode, unknown.json().field], [404, 'site']);
    const one = await admin(`/v1/admin/policies/versions/${list.json().current}`);
    assert.equal(one.json().version, 'v3');
    assert.equal(one.json().config.policy, 'v3');
    assert.equal((await admin(`/v1/admin/policies/versions/${'0'.repeat(64)}`)).statusCode, 404);

    const bad = await admin('/v1/admin/policies/check', {
      method: 'POST',
      body: { site: SITE, config: { policy: 'x', days: 0, categories: [{ id: 'Bad Id' }] } },
    });
    assert.equal(bad.statusCode, 200, bad.body);
    assert.deepEqual(
      bad.json().errors.map((e: { field: string }) => e.field),
      ['days', 'categories[0].id'],
    );
    assert.equal(bad.json().ok, false);
    const good = await admin('/v1/admin/policies/check', {
      method: 'POST',
      body: { site: SITE, config: one.json().config },
    });
    assert.deepEqual(
      [good.json().ok, good.json().changed, good.json().sha256],
      [true, false, one.json().sha256],
    );
    const publish = await admin('/v1/admin/policies', {
      method: 'POST',
      body: { site: SITE, config: { categories: [{ id: 'ok' }, { id: 'Bad Id' }] } },
    });
    assert.deepEqual([publish.statusCode, publish.json().field], [400, 'config.categories[1].id']);
  });
});
