import { doc } from './dom.js';

/** Fires `assent:<name>` on `document` — what `Assent.on(name, fn)` listens to. */
export const emit = (name: string, detail: unknown): void => {
  doc.dispatchEvent(new CustomEvent(`assent:${name}`, { detail }));
};
