import {
  type ConsentId,
  consentIdFrom,
  type Granted,
  type Method,
  type Policy,
  type StoredConsent,
} from '@assent/core';

/** Where a choice was made: the receipt's `source`. */
export type Source = 'banner' | 'preferences' | 'floating-button' | 'sdk';

/**
 * The banner's runtime state, one object. Fields start with `_` so esbuild mangles them
 * (vanilla-cookieconsent's trick): the public API keeps its names, internals shrink.
 */
export interface State {
  _policy: Policy;
  _granted: Granted;
  _record: StoredConsent | null;
  _id: ConsentId;
  _gpc: boolean;
  /** Where the open preferences dialog was opened from, for the receipt. */
  _src: Source;
  /** The consent cookie as this page last read or wrote it (the back/forward cache's check). */
  _c?: string | undefined;
  _banner?: HTMLElement | undefined;
  _dialog?: HTMLDialogElement | undefined;
  _fab?: HTMLElement | undefined;
  /** Set in opt-out mode and by `mode=(notice)`: what the first layer's Accept records. */
  _acceptMethod: Method;
  /** Full build: what `assent:ready` / `assent:change` last told listeners was granted. */
  _told?: Granted;
  /** Full build with receipts: the SHA-256 of the published policy the page renders. */
  _sha: Promise<string>;
}

// What Accept records before the policy is known (the API is there from the first moment, while
// the page is parsed or the region is asked): a choice, never `undefined`. No GPC until run()
// reads it (full build; the lite build has none, and no `_gpc`: events.ts says false).
export const S = {
  _acceptMethod: 'accept-all',
  ...(!globalThis.ASSENT_LITE && { _gpc: false }),
} as State;

/** 128 random bits from the platform's CSPRNG. */
export const newId = (): ConsentId => consentIdFrom(crypto.getRandomValues(new Uint8Array(16)));

/**
 * Where a choice was made, for its receipt: the lite build sends none, so its call sites pass
 * nothing (the strings would ship unread). A click no person made (a page script's `.click()`
 * on the banner's button) is the page's doing, recorded as `sdk`, never as the visitor's click
 * on the banner.
 */
export const from = (s: Source, e?: Event): Source =>
  globalThis.ASSENT_LITE ? (undefined as never) : e?.isTrusted === false ? 'sdk' : s;
