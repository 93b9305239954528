import { type Adapter, type Queue, w } from './common.js';

/**
 * TikTok Pixel: `ttq.holdConsent()` before it loads, `grantConsent()` or `revokeConsent()` on
 * each choice. TikTok's snippet keeps an existing `ttq` array and queues into it:
 * `holdConsent` goes first.
 */
export const tiktok: Adapter<string> = {
  defaults() {
    const t = w.ttq;
    if (!t) (w.ttq = [] as unknown as NonNullable<typeof w.ttq>).push(['holdConsent']);
    else t.unshift(['holdConsent']);
  },
  tell(g, cat) {
    const t = w.ttq!;
    const m = g[cat] ? 'grantConsent' : 'revokeConsent';
    if (typeof t[m] === 'function') (t[m] as () => void)();
    else (t as Queue).push([m]);
  },
};
