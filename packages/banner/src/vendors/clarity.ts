import { type Adapter, type Fn, type SignalMap, signals, w } from './common.js';

/**
 * Microsoft Clarity's consent API v2 (required since October 2025):
 * `clarity('consentv2', { ad_Storage, analytics_Storage })`. Clarity's snippet keeps an
 * existing `clarity` function: ours queues exactly as its stub does.
 */
export const clarity: Adapter<SignalMap> = {
  defaults(map) {
    w.clarity ||= function () {
      // biome-ignore lint/complexity/noArguments: Clarity's queue holds arguments objects.
      (w.clarity!.q ||= []).push(arguments);
    } as Fn;
    w.clarity('consentv2', signals({}, map));
  },
  tell: (g, map) => w.clarity!('consentv2', signals(g, map)),
};
