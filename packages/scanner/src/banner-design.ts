import type { Page } from 'playwright-core';
import { ASSENT } from './banner.js';
import type { Selectors } from './config.js';
import { CMP_SIGNATURE_LIST } from './detectors/vendor-lists.js';
import type { BannerDesign, BannerInfo } from './types.js';

/**
 * What a regulator checks on the consent interface itself (EDPB Cookie Banner Taskforce
 * report, 2023; CNIL; the Honda decision, California 2025): how the first layer's reject and
 * accept look side by side, how many consent interfaces the page shows, and whether the
 * second layer comes with non-essential boxes already ticked. Read-only: nothing is chosen.
 */

/** Known CMP containers (data/cmp-signatures.json, each with its source), to count consent interfaces. */
const CMP_SIGNATURES: readonly string[] = CMP_SIGNATURE_LIST.map((s) => s.selector);

/** Runs in the page: looks of two buttons, visible CMP containers. A string: no bundler helpers in the page. */
const MEASURE = (accept: string, reject: string) => `(() => {
  const lum = (c) => {
    const m = /rgba?\\(([\\d.]+),\\s*([\\d.]+),\\s*([\\d.]+)(?:,\\s*([\\d.]+))?/.exec(c);
    if (!m || (m[4] !== undefined && Number(m[4]) === 0)) return null;
    const f = (v) => { v = Number(v) / 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(m[1]) + 0.7152 * f(m[2]) + 0.0722 * f(m[3]);
  };
  const bg = (el) => { for (let e = el; e; e = e.parentElement) { const l = lum(getComputedStyle(e).backgroundColor); if (l !== null) return l; } return 1; };
  const look = (sel) => {
    const el = document.querySelector(sel);
    if (!el) return null;
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height) return null;
    const s = getComputedStyle(el);
    const fg = lum(s.color) ?? 0;
    // The button's own face against what surrounds it, and its text against its face.
    const face = bg(el);
    const around = el.parentElement ? bg(el.parentElement) : 1;
    const ratio = (a, b) => (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    return { width: Math.round(r.width), height: Math.round(r.height), fontSize: parseFloat(s.fontSize), fontWeight: Number(s.fontWeight) || 400,
      textContrast: Math.round(ratio(fg, face) * 100) / 100, faceContrast: Math.round(ratio(face, around) * 100) / 100 };
  };
  return { accept: look(${JSON.stringify(accept)}), reject: look(${JSON.stringify(reject)}) };
})()`;

const COUNT = `(() => ${JSON.stringify(CMP_SIGNATURES)}.filter((sel) => [...document.querySelectorAll(sel)].some((e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden'; })))()`;

/** The first layer's design, the interfaces on screen, and (Assent) the second layer's ticked boxes. */
export const inspectBanner = async (
  page: Page,
  banner: BannerInfo,
  selectors: Selectors | null,
  autoconsentPopups: number,
): Promise<BannerDesign> => {
  const sel =
    banner.kind === 'assent'
      ? { accept: ASSENT.accept, reject: ASSENT.reject }
      : banner.kind === 'selectors' && selectors?.accept && selectors.reject
        ? { accept: selectors.accept, reject: selectors.reject }
        : null;
  const looks = sel
    ? await page.evaluate<BannerDesign['buttons']>(MEASURE(sel.accept, sel.reject)).catch(() => null)
    : null;
  const interfaces = await page.evaluate<string[]>(COUNT).catch(() => [] as string[]);
  // autoconsent's CMP counts when none of the known containers matched it.
  const count = Math.max(
    interfaces.length,
    autoconsentPopups > 0 && interfaces.length === 0 ? 1 : interfaces.length,
  );
  let preTicked: string[] | null = null;
  let secondLayerNotInspected: string | null = null;
  if (banner.kind === 'assent') {
    // Generous: the dialog's code is fetched on the first open, and a loaded CI machine
    // running four contexts per page took over 4 s (the check then saw no second layer).
    // A dialog that opens costs no more than it takes.
    const step = { now: 'click its preferences button (5 s)' };
    try {
      await page.locator(ASSENT.preferences).first().click({ timeout: 5000 });
      step.now = 'see its preferences dialog open (10 s)';
      const dialog = page.locator(ASSENT.dialog).first();
      await dialog.waitFor({ state: 'visible', timeout: 10_000 });
      step.now = 'read its checkboxes';
      preTicked = await dialog.evaluate((d) =>
        [...d.querySelectorAll('input[type="checkbox"]')]
          .filter((i) => (i as HTMLInputElement).checked && !(i as HTMLInputElement).disabled)
          .map((i) => (i as HTMLInputElement).name || (i as HTMLInputElement).value || i.id || 'checkbox'),
      );
    } catch (e) {
      const why = e instanceof Error ? e.message.split('\n')[0]! : String(e);
      secondLayerNotInspected = `the scanner could not ${step.now}: ${why}`;
    }
  } else if (banner.kind !== 'none') {
    secondLayerNotInspected = `only Assent's second layer is inspected, and this banner is ${banner.cmp ?? banner.kind}`;
  }
  return {
    buttons: looks?.accept && looks.reject ? looks : null,
    interfaces: interfaces.length ? interfaces : count ? ['autoconsent'] : [],
    preTicked,
    secondLayerNotInspected,
  };
};

/**
 * Closes the second layer `inspectBanner` opened, with Escape as a keyboard user would (the
 * dialog is a native modal `<dialog>`), so the visit can go on to choose on the first layer.
 * `false` when it stays open: the first layer behind a modal dialog cannot be clicked.
 */
export const closeSecondLayer = async (page: Page, banner: BannerInfo): Promise<boolean> => {
  if (banner.kind !== 'assent') return true;
  const dialog = page.locator(ASSENT.dialog).first();
  if (!(await dialog.isVisible().catch(() => false))) return true;
  await page.keyboard.press('Escape').catch(() => {});
  try {
    await dialog.waitFor({ state: 'hidden', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
};
