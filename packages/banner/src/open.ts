import { doc, h, script } from './dom.js';
import { kit } from './kit.js';
import { openPreferences as show } from './preferences.js';
import type { Source } from './state.js';

declare global {
  /**
   * `true` in the drop-in builds, whose preferences dialog is a second file fetched on first
   * use (an esbuild `define`, see build-options.mjs); unset in the ESM build, where bundlers
   * split code their own way.
   */
  var ASSENT_SPLIT: boolean | undefined;
  /** The second file's name, beside the banner's own (an esbuild `define`). */
  const ASSENT_PREFS: string;
  interface Window {
    /** The banner's parts the preferences file uses (kit.ts), handed over when it loads. */
    __assent?: unknown[];
    /** Set by the preferences file. */
    __assentPrefs?: (src: Source) => void;
  }
}

let file: Promise<unknown> | undefined;

/**
 * Opens the preferences. In the drop-in builds their dialog is a second file beside the
 * banner's (`assent.prefs.min.js`), fetched the first time a visitor opens it: most never
 * do, and the banner paints sooner without it. Same origin and the banner's own nonce, so a
 * CSP that allows the banner allows it, and its integrity hash when the banner's tag gives one
 * (`data-prefs`). When it cannot load, the console says which URL, and
 * the next click tries again; the first layer's Accept and Reject still work.
 */
export const openPreferences = (src: Source): void => {
  if (!globalThis.ASSENT_SPLIT) show(src);
  else {
    const url = new URL(ASSENT_PREFS, script?.src ?? location.href).href;
    (file ??= new Promise((onload, onerror) => {
      self.__assent = kit();
      // Served from a CDN with Subresource Integrity, the second file is checked too: its hash
      // comes from the banner's tag (`data-prefs`, from dist/sri.json), so a file
      // swapped on the CDN cannot run where the first one was pinned.
      doc.head.append(
        h('script', {
          src: url,
          nonce: script?.nonce,
          integrity: script?.dataset.prefs,
          crossorigin: script?.crossOrigin,
          onload,
          onerror,
        }),
      );
    })).then(
      () => self.__assentPrefs!(src),
      () => {
        file = undefined;
        console.error('assent: cannot load', url);
      },
    );
  }
};
