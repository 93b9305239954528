import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium, installed by `scripts/install-chromium.sh`. */
export const CHROMIUM = process.env.ASSENT_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Flags: no sandbox (CI containers run as root), no GPU, and nothing that phones home — a
 * scan must record only what the site makes the browser do. Without a GPU, compositing is
 * done in software by the GPU process anyway: `--in-process-gpu` runs it as a thread of the
 * browser process instead, with no process of its own and no IPC to it (on the demo's 5
 * pages, 2026-11-30, interleaved: 0.8 s less CPU and 0.6–0.8 s less wall time per page).
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--in-process-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

/**
 * The profile a visitor's browser has by default: third-party cookies allowed
 * (`cookie_controls_mode` 0). Automation contexts are off-the-record, and Chromium blocks
 * third-party cookies there unless the profile they come from allows them — so without this
 * an embed's cookies (YouTube's `YSC`, `VISITOR_INFO1_LIVE`) would be missing from the
 * inventory although a visitor's browser keeps them.
 */
const DEFAULT_PROFILE_PREFS = { profile: { cookie_controls_mode: 0 } };

/**
 * Launches Chromium on a fresh profile with default cookie settings. Scan contexts are made
 * with `browser.newContext()` as before; each starts with no cookies and no storage.
 */
export const launch = async (
  hostResolverRules: string | null = null,
  extraArgs: readonly string[] = [],
): Promise<Browser> => {
  const dir = mkdtempSync(join(tmpdir(), 'assent-scan-profile-'));
  mkdirSync(join(dir, 'Default'));
  writeFileSync(join(dir, 'Default', 'Preferences'), JSON.stringify(DEFAULT_PROFILE_PREFS));
  try {
    const context = await chromium.launchPersistentContext(dir, {
      executablePath: CHROMIUM,
      args: [
        ...CHROMIUM_ARGS,
        ...(hostResolverRules ? [`--host-resolver-rules=${hostResolverRules}`] : []),
        ...extraArgs,
      ],
    });
    const browser = context.browser();
    if (!browser) throw new Error('Chromium started without a browser handle');
    // Chromium may still be writing its profile as it exits: retried, and a leftover is harmless.
    browser.on('disconnected', () => {
      rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }).catch(() => {});
    });
    return browser;
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
};
