import { type Config, createPolicy, isSale, parseShortcode, validateConfig } from '@assent/core';
import type { Page } from 'playwright-core';
import type { Autoconsent } from './autoconsent.js';
import type { Selectors } from './config.js';
import { PAGE_CALL_MS, within } from './deadline.js';
import type { BannerInfo, ChoiceResult } from './types.js';

/** Assent's second layer (preferences): its dialog, and what lies inside it. */
const DIALOG = '[role="dialog"]';

/** Assent's DOM contract: the first layer and its buttons (see packages/banner). */
export const ASSENT = {
  banner: '#assent-banner',
  accept: '#assent-banner [data-assent-action="accept"]',
  reject: '#assent-banner [data-assent-action="reject"]',
  preferences: '#assent-banner [data-assent-action="preferences"]',
  /** The second layer (preferences). */
  dialog: DIALOG,
  rejectAll: `${DIALOG} [data-assent-action="reject-all"]`,
  script: 'script[data-assent]',
} as const;

const visible = (page: Page, selector: string): Promise<boolean> =>
  page
    .locator(selector)
    .first()
    .isVisible()
    .catch(() => false);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const NO_BANNER: BannerInfo = {
  kind: 'none',
  cmp: null,
  rejectOnFirstLayer: null,
  acceptOnFirstLayer: null,
};

/**
 * Finds the consent banner: Assent's own first, then any CMP autoconsent knows, then the
 * configured selectors (the last resort, used once autoconsent had a fair chance).
 */
export const detectBanner = async (
  page: Page,
  ac: Autoconsent | null,
  selectors: Selectors | null,
  timeoutMs: number,
): Promise<BannerInfo> => {
  const start = Date.now();
  let selectorsSeenAt = 0;
  for (;;) {
    if (await visible(page, ASSENT.banner)) {
      return {
        kind: 'assent',
        cmp: 'Assent',
        rejectOnFirstLayer: await visible(page, ASSENT.reject),
        acceptOnFirstLayer: await visible(page, ASSENT.accept),
      };
    }
    // Not Assent's, or not yet: autoconsent looks for the other CMPs it knows (if it waited).
    ac?.start();
    const popup = ac?.popup();
    if (popup) {
      // Whether reject sits on the first layer shows when opting out: one click or more.
      return { kind: 'autoconsent', cmp: popup.cmp, rejectOnFirstLayer: null, acceptOnFirstLayer: null };
    }
    if (selectors && (await visible(page, selectors.banner))) {
      selectorsSeenAt ||= Date.now();
      if (!ac || Date.now() - selectorsSeenAt > 1500 || Date.now() - start >= timeoutMs) {
        return {
          kind: 'selectors',
          cmp: 'configured selectors',
          rejectOnFirstLayer: selectors.reject ? await visible(page, selectors.reject) : false,
          acceptOnFirstLayer: selectors.accept ? await visible(page, selectors.accept) : false,
        };
      }
    }
    // A CMP autoconsent has recognised but whose popup is not up yet gets twice the time.
    const limit = ac?.detected() ? timeoutMs * 2 : timeoutMs;
    if (Date.now() - start >= limit) return NO_BANNER;
    await sleep(100);
  }
};

/** Is the banner of this kind showing right now? */
export const bannerShowing = async (
  page: Page,
  banner: BannerInfo,
  ac: Autoconsent | null,
  selectors: Selectors | null,
  since: number,
): Promise<boolean> => {
  if (banner.kind === 'assent') return visible(page, ASSENT.banner);
  if (banner.kind === 'selectors' && selectors) return visible(page, selectors.banner);
  if (banner.kind === 'autoconsent') return ac?.popup(since) != null;
  return false;
};

const waitHidden = async (page: Page, selector: string, ms: number): Promise<boolean> => {
  try {
    await page.locator(selector).first().waitFor({ state: 'hidden', timeout: ms });
    return true;
  } catch {
    return false;
  }
};

/** A choice the visit could not make, and why. */
export const notClicked = (method: ChoiceResult['method'], note: string): ChoiceResult => ({
  method,
  clicked: false,
  effective: null,
  clicks: null,
  note,
});

/**
 * Clicks reject or accept with the mechanism that found the banner. `effective` here only
 * says whether the banner went away; the phase checks again after a reload.
 */
export const choose = async (
  page: Page,
  banner: BannerInfo,
  action: 'reject' | 'accept',
  ac: Autoconsent | null,
  selectors: Selectors | null,
  timeoutMs: number,
  /** Another CMP: the popup autoconsent found since then (ms epoch): a second try after a reload. */
  since = 0,
): Promise<ChoiceResult> => {
  const none = (note: string): ChoiceResult => notClicked(banner.kind, note);
  if (banner.kind === 'autoconsent') {
    const deadline = Date.now() + timeoutMs * 2;
    let popup = ac?.popup(since);
    while (!popup && Date.now() < deadline) {
      await sleep(100);
      popup = ac?.popup(since);
    }
    if (!popup || !ac) return none(`${banner.cmp} did not show its popup this time`);
    const r = await ac.choose(popup, action === 'reject' ? 'optOut' : 'optIn');
    return {
      method: 'autoconsent',
      clicked: r.result,
      effective: r.result ? true : null,
      clicks: r.clicks,
      note: r.result
        ? null
        : `autoconsent's ${action === 'reject' ? 'opt-out' : 'opt-in'} rule for ${banner.cmp} failed`,
    };
  }
  const sel =
    banner.kind === 'assent'
      ? { banner: ASSENT.banner, button: action === 'reject' ? ASSENT.reject : ASSENT.accept }
      : { banner: selectors?.banner ?? '', button: selectors?.[action] };
  if (!sel.button) return none(`no ${action} selector is configured`);
  try {
    await page.locator(sel.banner).first().waitFor({ state: 'visible', timeout: timeoutMs });
  } catch {
    return none('the banner did not show this time');
  }
  const button = page.locator(sel.button).first();
  if (!(await button.isVisible().catch(() => false))) {
    if (banner.kind === 'assent' && action === 'reject') return rejectInPreferences(page);
    return none(`no ${action} control on the first layer`);
  }
  try {
    await button.click({ timeout: 5000 });
  } catch (e) {
    // Shown but out of reach: a visitor cannot use it either, so the choice did not work
    // (`effective: false`; reject-ineffective says so), not merely "not clicked".
    const covered = /intercepts pointer events/.test(String(e));
    return {
      ...none(
        `the ${action} control is visible but could not be clicked within 5 s (${covered ? 'another element covers it' : 'it does not take pointer events'})`,
      ),
      effective: false,
    };
  }
  // Generous: a slow machine must not turn a working reject into a finding.
  const hidden = await waitHidden(page, sel.banner, 5000);
  return {
    method: banner.kind,
    clicked: true,
    effective: hidden,
    clicks: 1,
    note: hidden ? null : `the banner stayed open after clicking ${action}`,
  };
};

/**
 * Assent without a first-layer reject (`notice` or `opt-out` mode): reject from the
 * preferences layer, so the after-reject visit is still measured. `reject-missing` is
 * reported either way.
 */
const rejectInPreferences = async (page: Page): Promise<ChoiceResult> => {
  const base = { method: 'assent' as const, clicks: 2 };
  const failed = (note: string): ChoiceResult => notClicked('assent', note);
  // As generous as the first layer’s click (5 s): two shared cores running three visits at
  // once must not turn a working preferences layer into "no reject control".
  try {
    await page.locator(ASSENT.preferences).first().click({ timeout: 5000 });
  } catch {
    return failed('no reject control on the first layer, and its preferences button could not be clicked');
  }
  const r = await rejectAllInDialog(page, 'no reject control, not even in the preferences');
  return r.clicked
    ? {
        ...r,
        ...base,
        note: r.effective
          ? 'rejected from the preferences layer: no reject on the first layer'
          : 'the banner stayed open after rejecting in the preferences',
      }
    : r;
};

/**
 * Clicks "Reject all" in Assent's open preferences dialog: the reject from the second layer,
 * and the way out when the dialog, opened to inspect it, will not close on Escape (a site's
 * modal helper that swallows the key). `missing` is the note when it cannot be clicked.
 */
export const rejectAllInDialog = async (page: Page, missing: string): Promise<ChoiceResult> => {
  try {
    await page.locator(ASSENT.rejectAll).first().click({ timeout: 5000 });
  } catch {
    return notClicked('assent', missing);
  }
  const hidden = await waitHidden(page, ASSENT.banner, 5000);
  return {
    method: 'assent',
    clicked: true,
    effective: hidden,
    clicks: 1,
    note: hidden ? null : 'the banner stayed open after rejecting in the preferences',
  };
};

/**
 * Assent's config on this page — its `data-assent` shortcode on top of its JSON block, read
 * the way the banner reads them — for the consent cookie's name, the receipt endpoint, and
 * the cookies the site itself declares as non-essential (self-hosted analytics such as
 * Matomo's `_pk_id` are first-party, so only the declaration says they need consent).
 */
export const assentConfig = async (
  page: Page,
): Promise<{
  cookieName: string;
  endpoint: string | null;
  /**
   * The receipt server's API (`https://consent.example/v1/`), absolute: what the banner loads
   * and asks there (itself, its preferences, the published policy, the revalidation of a
   * stored choice) is the consent record's traffic, not tracking. `null` without one.
   */
  server: string | null;
  declared: Record<string, string>;
  services: Record<string, string>;
  sale: string[];
} | null> => {
  const found = await within(
    page
      .evaluate(() => ({
        code: document.querySelector<HTMLElement>('script[data-assent]')?.dataset.assent ?? null,
        json: document.getElementById('assent-config')?.textContent ?? null,
        // A page that loads its published policy from the receipt server (`GET /v1/assent.js`).
        published:
          (window as { assentPolicy?: { doc?: { config?: unknown } } }).assentPolicy?.doc?.config ?? null,
        src: [...document.scripts].find((s) => /\/assent\.js(\?|$)/.test(s.src))?.src ?? null,
      }))
      .catch(() => null),
    PAGE_CALL_MS,
    null,
  );
  if (!found || (found.code === null && found.json === null && found.published === null)) return null;
  if (found.published !== null) {
    // The server's policy is the one the banner renders; receipts go beside assent.js.
    const c = validateConfig(found.published).config;
    return {
      cookieName: c.cookieName,
      endpoint: found.src ? new URL('receipts', found.src).href : null,
      server: found.src ? new URL('.', found.src).href : null,
      declared: declaredCookies(c),
      services: serviceTitles(c),
      sale: saleCategories(c),
    };
  }
  let base: Record<string, unknown> = {};
  try {
    base = found.json ? JSON.parse(found.json) : {};
  } catch {
    // The banner reports a broken JSON block itself; the shortcode still counts.
  }
  const { config } = parseShortcode(found.code ?? '', base);
  const endpoint = config.endpoint ?? null;
  return {
    cookieName: config.cookieName,
    endpoint,
    // Receipts posted to Assent's server (`…/v1/receipts`): the banner asks the same API for
    // the rest (banner src/sync.ts).
    server: endpoint && /\/v1\/receipts$/.test(endpoint) ? endpoint.replace(/receipts$/, '') : null,
    declared: declaredCookies(config),
    services: serviceTitles(config),
    sale: saleCategories(config),
  };
};

/**
 * The config's categories that GPC refuses, by core's own rule (`isSale`: the sale/marketing
 * ids, and any category its Consent Mode map sends as ad signals): what the banner refuses.
 */
const saleCategories = (config: Config): string[] => {
  const policy = createPolicy(config);
  return config.categories.map((c) => c.id).filter((id) => isSale(id, policy));
};

/** The cookies a config declares, by name: category id or `category:service`. */
const declaredCookies = (config: Config): Record<string, string> => {
  const declared: Record<string, string> = {};
  for (const c of config.categories) {
    for (const name of c.cookies ?? []) declared[name] = c.id;
    for (const s of c.services ?? []) for (const name of s.cookies ?? []) declared[name] = `${c.id}:${s.id}`;
  }
  return declared;
};

/** The title of each service the config names, by `category:service`: who provides a declared cookie. */
const serviceTitles = (config: Config): Record<string, string> => {
  const titles: Record<string, string> = {};
  for (const c of config.categories)
    for (const s of c.services ?? []) if (s.title) titles[`${c.id}:${s.id}`] = s.title;
  return titles;
};
