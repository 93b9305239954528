import {
  createPolicy,
  decide,
  decodeConsent,
  encodeConsent,
  formatError,
  type Mode,
  type Texts,
  type Validated,
} from '@assent/core';
import { type AssentApi, api, delegate } from './api.js';
import { activate, observe } from './blocker.js';
import { publicState } from './choice.js';
import { readCookie, writeCookie } from './cookies.js';
import { doc, onReady, win } from './dom.js';
import { emit } from './events.js';
import { showBanner, showFab } from './notice.js';
import { sendReceipt } from './receipt.js';
import { newId, S } from './state.js';

declare global {
  interface Window {
    Assent?: AssentApi;
    /** Language presets (`assent.de.js` …) register here before the banner starts. */
    assentTexts?: Record<string, Partial<Texts>>;
  }
  interface Navigator {
    globalPrivacyControl?: boolean;
  }
}

/** Crawlers and automation that announce themselves; only used with `hideFromBots`. */
const BOT = /bot|crawl|spider|slurp|archiver|lighthouse/i;

/**
 * Starts the banner from a validated config. A config error is printed, naming the field,
 * and the banner goes on with the safe default for that field: nothing non-essential runs.
 */
export const start = (v: Validated, mode?: Mode, css?: string): AssentApi => {
  for (const e of v.errors) console.error(formatError(e));
  const { config } = v;
  const p = (S._policy = createPolicy(
    config,
    [doc.documentElement.lang, ...navigator.languages],
    win.assentTexts,
    mode,
  ));
  S._gpc = navigator.globalPrivacyControl === true;
  S._acceptMethod = p.mode === 'notice' ? 'notice-ack' : 'accept-all';
  const stored = decodeConsent(readCookie(config.cookieName));
  // One visitor keeps one consent ID across choices, so their receipts form one history.
  S._id = stored?.id ?? newId();
  const d = decide(p, { kind: 'load', stored, now: Date.now(), gpc: S._gpc, id: S._id });
  S._granted = d.granted;
  S._record = d.record ?? (d.show ? null : stored);
  if (d.record) {
    writeCookie(config.cookieName, encodeConsent(d.record), d.record.expiresAt, config.domain);
    sendReceipt(d.record, 'banner');
  }
  win.Assent = api;
  delegate();
  observe();
  onReady(() => {
    activate();
    const bot = config.hideFromBots && (navigator.webdriver || BOT.test(navigator.userAgent));
    if (d.show && !bot) {
      // Show the banner only once its styles apply: an unstyled banner would sit in the
      // page's flow and shift its layout. The stylesheet sets `--assent` on :root.
      if (css && !getComputedStyle(doc.documentElement).getPropertyValue('--assent')) {
        const link = doc.createElement('link');
        link.rel = 'stylesheet';
        link.href = css;
        link.onload = showBanner;
        doc.head.append(link);
      } else showBanner();
    } else if (!d.show) showFab();
    emit('ready', publicState());
  });
  return api;
};
