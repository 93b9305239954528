import type { PublicState } from '../types/assent.js';
import { doc } from './dom.js';
import { S } from './state.js';

/**
 * Fires `assent:<name>` on `document` — what `Assent.on(name, fn)` listens to. Remembers what
 * listeners were last told (full build): a grant beyond it waits for its receipt (choice.ts).
 */
export const emit = (name: string, detail: PublicState): void => {
  if (!globalThis.ASSENT_LITE) S._told = detail.granted;
  doc.dispatchEvent(new CustomEvent(`assent:${name}`, { detail }));
};
