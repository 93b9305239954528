import type { PublicState } from '../../types/assent.js';

/** Signal → the category that grants it (UET, Clarity), or the one category (Meta, TikTok). */
export type SignalMap = Record<string, string>;
export type Fn = ((...a: unknown[]) => void) & { queue?: unknown[]; callMethod?: unknown; q?: unknown[] };
export type Queue = unknown[] & { push(...a: unknown[]): number };
export type W = Window & {
  uetq?: Queue;
  clarity?: Fn;
  fbq?: Fn;
  ttq?: Queue & Record<string, unknown>;
  Assent?: { get(): PublicState };
};
export const w = self as unknown as W;

/** One vendor: its denied default (before any command of its own), then each state. */
export interface Adapter<M> {
  defaults(map: M): void;
  tell(granted: PublicState['granted'], map: M): void;
}

export const signals = (granted: Record<string, boolean>, map: SignalMap): Record<string, string> =>
  Object.fromEntries(Object.entries(map).map(([k, cat]) => [k, granted[cat] ? 'granted' : 'denied']));

export const late = (vendor: string): void =>
  console.warn(
    `assent: ${vendor} loaded before assent.vendors.min.js, so its first events went out before any consent command; load the add-on first`,
  );
