import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium, installed by `scripts/install-chromium.sh`. */
export const CHROMIUM = process.env.ASSENT_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Flags: no sandbox (CI containers run as root), no GPU, and nothing that phones home — a
 * scan must record only what the site makes the browser do.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

export const launch = (hostResolverRules: string | null = null): Promise<Browser> =>
  chromium.launch({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS, ...(hostResolverRules ? [`--host-resolver-rules=${hostResolverRules}`] : [])],
  });
