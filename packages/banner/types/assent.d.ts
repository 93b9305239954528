/** Public types of @assent/banner (window.Assent and the ESM build). */

export type Method = 'accept-all' | 'reject-all' | 'custom' | 'gpc' | 'withdraw' | 'notice-ack';

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

export interface AssentApi {
  /** The current consent. */
  get(): PublicState;
  /**
   * Full build (and `init()`): whether the banner has reported the consent (`assent:ready`);
   * until then (the page still parsed, the region or a server check under way) `get()` grants
   * nothing non-essential. The lite build leaves it unset: it has nothing to wait for but the
   * parser, and grants nothing meanwhile.
   */
  ready?: boolean;
  /**
   * Listens to `assent:<event>` on document (`change`, `ready`); returns an unsubscribe
   * function. `ready` after the banner has reported calls `fn` at once.
   */
  on(event: 'change' | 'ready' | (string & {}), fn: (state: PublicState) => void): () => void;
  /** Opens the preferences dialog. */
  open(): void;
  /** Accepts everything, or exactly these category ids / `category:service` keys. */
  accept(categories?: string[]): void;
  /** Rejects everything non-essential. */
  reject(): void;
  /** Withdraws consent: deletes the declared cookies; held scripts stay held (reload to stop running ones). */
  withdraw(): void;
  /** Whether a category (or one of its services) may run now. */
  allowed(category: string, service?: string): boolean;
}

/** Starts the banner with a shortcode (`buttons=(Accept !) days=(20)`) or a JSON config. */
export declare function init(config?: string | object, mode?: 'opt-in' | 'opt-out' | 'notice'): AssentApi;

declare global {
  interface Window {
    Assent?: AssentApi;
  }
  /**
   * The banner's API as a global, as the README writes it (`Assent?.get()`): undefined until
   * the banner's script has run (it is usually `defer`), so TypeScript asks for the check.
   */
  var Assent: AssentApi | undefined;
  interface DocumentEventMap {
    'assent:change': CustomEvent<PublicState>;
    'assent:ready': CustomEvent<PublicState>;
  }
}
