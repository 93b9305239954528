import type { PublicState } from '../types/assent.js';
import { doc } from './dom.js';
import { S } from './state.js';

/** The public types are written once, in types/assent.d.ts (shipped as dist/assent.d.ts). */
export type { PublicState } from '../types/assent.js';

export const publicState = (): PublicState => {
  const p = S._policy;
  const r = S._record;
  return {
    consentId: r?.id ?? null,
    mode: p.mode,
    granted: { necessary: true, ...S._granted },
    method: r?.method ?? null,
    givenAt: r?.givenAt ?? null,
    expiresAt: r?.expiresAt ?? null,
    gpc: !globalThis.ASSENT_LITE && S._gpc,
    policy: { version: p.version, hash: p.hash },
  };
};

/**
 * Fires `assent:<name>` on `document` with the state as it is now ({@link publicState}) — what
 * `Assent.on(name, fn)` listens to. Remembers what listeners were last told (full build): a
 * grant beyond it waits for its receipt (choice.ts).
 */
export const emit = (name: 'ready' | 'change'): void => {
  const detail = publicState();
  if (!globalThis.ASSENT_LITE) S._told = detail.granted;
  doc.dispatchEvent(new CustomEvent(`assent:${name}`, { detail }));
};
