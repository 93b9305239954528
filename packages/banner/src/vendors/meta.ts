import { type Adapter, type Fn, late, w } from './common.js';

/** Whether the banner's latest state grants Meta (set by vendors.ts): for a late `fbq`. */
export const granted = { now: false };

/**
 * Meta Pixel: `fbq('consent', 'revoke')` before `fbq('init')`, then `'grant'` or `'revoke'` on
 * each choice. Meta's snippet returns early when `fbq` exists, so none can be made in advance:
 * the adapter catches the `fbq` the snippet assigns, and puts `revoke` first in its queue the
 * moment the snippet sets it (then `grant` if the visitor already granted).
 */
export const meta: Adapter<string> = {
  defaults() {
    const revoke = ['consent', 'revoke'];
    const f = w.fbq;
    if (f?.queue && !f.callMethod) f.queue.unshift(revoke);
    else if (f) {
      late('Meta Pixel');
      f('consent', 'revoke');
    } else
      Object.defineProperty(w, 'fbq', {
        configurable: true,
        set(fn: Fn) {
          Object.defineProperty(w, 'fbq', {
            value: fn,
            writable: true,
            configurable: true,
            enumerable: true,
          });
          Object.defineProperty(fn, 'queue', {
            configurable: true,
            set(q: unknown[]) {
              Object.defineProperty(fn, 'queue', { value: q, writable: true, configurable: true });
              q.push(revoke);
              if (granted.now) q.push(['consent', 'grant']);
            },
          });
        },
      });
  },
  tell(g, cat) {
    granted.now = !!g[cat];
    w.fbq?.('consent', granted.now ? 'grant' : 'revoke');
  },
};
