'use client';
/**
 * React bindings for Assent, built only on the banner's public API: `window.Assent` and the
 * `assent:ready` / `assent:change` events on `document`. Nothing here imports the banner, so the
 * banner stays one `<script defer>` of its own and this package adds no byte to it.
 *
 * The banner may start before or after React renders (it is usually `defer`), and not at all on
 * the server: until it reports, consent is "not ready" and nothing non-essential is allowed.
 */
import { type ReactNode, useMemo, useSyncExternalStore } from 'react';

/**
 * How the visitor's last choice was made.
 *
 * @example
 * const byGpc = useConsent().state?.method === 'gpc';
 */
export type Method = 'accept-all' | 'reject-all' | 'custom' | 'gpc' | 'withdraw' | 'notice-ack';

/**
 * The visitor's consent as the banner reports it (`Assent.get()`). A copy of `PublicState` in
 * `@assent/banner`'s `types/assent.d.ts` — copied rather than imported so that this package never
 * declares `window.Assent` a second time; a type test keeps the two in step.
 *
 * @example
 * const { state } = useConsent();
 * if (state?.granted.analytics) console.log('analytics since', new Date(state.givenAt ?? 0));
 */
export interface PublicState {
  /** 22-character consent ID; null before the visitor's first choice. */
  consentId: string | null;
  mode: 'opt-in' | 'opt-out' | 'notice';
  /** `necessary` (always true), each category id and each `category:service` key. */
  granted: Record<string, boolean>;
  method: Method | null;
  /** Milliseconds since the epoch. */
  givenAt: number | null;
  expiresAt: number | null;
  /** Whether the browser sent a Global Privacy Control signal. */
  gpc: boolean;
  policy: { version: string; hash: string };
}

/** The part of `window.Assent` these bindings call. */
interface AssentApi {
  /** The full build's: false until it has reported (a region or server check under way). */
  readonly ready?: boolean;
  get(): PublicState;
  open(): void;
  accept(categories?: string[]): void;
  reject(): void;
  withdraw(): void;
}

// Read at call time, never at import time: the module must load on a server with no window.
const assent = (): AssentApi | undefined => (globalThis as { Assent?: AssentApi }).Assent;

// One store for every component and root on the page. The banner builds a new state object for
// each call of `get()`, so the snapshot is cached here and replaced only when the banner reports.
let current: PublicState | null = null;
let listening = false;
const subscribers = new Set<() => void>();

const report = (e: Event): void => {
  current = (e as CustomEvent<PublicState>).detail;
  for (const fn of subscribers) fn();
};

const snapshot = (): PublicState | null => {
  if (!listening) {
    listening = true;
    document.addEventListener('assent:ready', report);
    document.addEventListener('assent:change', report);
    // A banner that started before React has already fired `assent:ready`. One that has not
    // reported yet (the full build's `ready: false`: a region or server check under way) has
    // no consent to give: wait for its event.
    const a = assent();
    current = a && a.ready !== false ? a.get() : null;
  }
  return current;
};

const subscribe = (fn: () => void): (() => void) => {
  snapshot();
  subscribers.add(fn);
  return () => subscribers.delete(fn);
};

// On the server, and while hydrating, consent is unknown: render as before any choice.
const serverSnapshot = (): null => null;

// The rule of `Assent.allowed()` (core's `allowed`), applied to a snapshot so that a render
// always agrees with the state it shows.
// Own keys only: a polluted Object.prototype grants nothing (as core's `allowed`).
const allows = (s: PublicState | null, category: string, service?: string): boolean => {
  const has = (k: string) => !!s && Object.hasOwn(s.granted, k) && s.granted[k] === true;
  return category === 'necessary' || has(category) || (!!service && has(`${category}:${service}`));
};

/**
 * What `useConsent()` returns.
 *
 * @example
 * const { ready, allowed, open }: Consent = useConsent();
 */
export interface Consent {
  /** Whether the banner has started and reported the consent; false on the server. */
  ready: boolean;
  /** The banner's current state; null until ready. */
  state: PublicState | null;
  /** Whether a category (or one of its services) may run now; false until ready, except `necessary`. */
  allowed(category: string, service?: string): boolean;
  /** Accepts everything, or exactly these category ids / `category:service` keys. No-op until ready. */
  accept(categories?: string[]): void;
  /** Rejects everything non-essential. No-op until ready. */
  reject(): void;
  /** Opens the banner's preferences dialog. No-op until ready. */
  open(): void;
  /** Withdraws consent (the banner deletes the declared cookies). No-op until ready. */
  withdraw(): void;
}

/**
 * The banner, once it has reported. Before (the full build's `ready: false`: the visitor's
 * region or a server check under way) a choice would be recorded under a policy the visitor
 * may never be shown (opt-in, before the region says notice): the actions do nothing then.
 */
const reported = (): AssentApi | undefined => {
  const a = assent();
  return a?.ready === false ? undefined : a;
};
const accept = (categories?: string[]): void => reported()?.accept(categories);
const reject = (): void => reported()?.reject();
const open = (): void => reported()?.open();
const withdraw = (): void => reported()?.withdraw();

/**
 * The visitor's consent, re-rendering on every choice (no reload), plus the banner's actions.
 * Safe on the server and before the banner's script has run: `ready` is false until it reports.
 *
 * @example
 * function CookieSettingsLink() {
 *   const { ready, allowed, open } = useConsent();
 *   if (!ready) return null;
 *   return <button onClick={open}>Cookie settings ({allowed('analytics') ? 'analytics on' : 'analytics off'})</button>;
 * }
 */
export function useConsent(): Consent {
  const state = useSyncExternalStore(subscribe, snapshot, serverSnapshot);
  return useMemo(
    () => ({
      ready: state !== null,
      state,
      allowed: (category: string, service?: string) => allows(state, category, service),
      accept,
      reject,
      open,
      withdraw,
    }),
    [state],
  );
}

/**
 * Props of `<ConsentGate>`.
 *
 * @example
 * const props: ConsentGateProps = { category: 'marketing', service: 'youtube', fallback: <p>Video off</p> };
 */
export interface ConsentGateProps {
  /** Category id, as in the banner's config (`analytics`, `marketing`, …). */
  category: string;
  /** A service of that category: the gate also opens when only this service is granted. */
  service?: string;
  /** Rendered while not allowed (also on the server and before the banner is ready). Default: nothing. */
  fallback?: ReactNode;
  children?: ReactNode;
}

/**
 * Renders its children only while the category (or the service) is allowed, and `fallback`
 * otherwise. Children mount on the choice and unmount on a refusal or withdrawal, without a reload.
 *
 * @example
 * <ConsentGate category="marketing" service="youtube" fallback={<p>Accept marketing to watch.</p>}>
 *   <iframe src="https://www.youtube-nocookie.com/embed/…" title="Video" />
 * </ConsentGate>
 */
export function ConsentGate({ category, service, fallback = null, children }: ConsentGateProps): ReactNode {
  // A boolean snapshot: the gate re-renders only when its own answer flips.
  const ok = useSyncExternalStore(
    subscribe,
    () => allows(snapshot(), category, service),
    () => allows(null, category, service),
  );
  return ok ? children : fallback;
}
