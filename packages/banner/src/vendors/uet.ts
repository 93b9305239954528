import { type Adapter, late, type Queue, type SignalMap, signals, w } from './common.js';

/**
 * Microsoft UET consent mode (required for EEA/UK/CH traffic since May 2025):
 * `uetq.push('consent', 'default', { ad_storage: 'denied' })` before the tag, `'update'` on
 * each choice. UET's snippet keeps an existing `uetq` array; until bat.js reads it, ours goes first.
 */
export const uet: Adapter<SignalMap> = {
  defaults(map) {
    const d = ['consent', 'default', signals({}, map)];
    const q = w.uetq;
    if (!q) (w.uetq = [] as unknown as Queue).push(...d);
    else if (Array.isArray(q)) q.unshift(...d);
    else {
      late('Microsoft UET');
      (q as Queue).push(...d);
    }
  },
  tell: (g, map) => void w.uetq!.push('consent', 'update', signals(g, map)),
};
