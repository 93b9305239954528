/**
 * The bundler build is imported where there is no DOM too: a React (or any) app's server
 * render imports the module that calls init() in the browser.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

describe('the bundler build (assent.esm.js)', () => {
  it('imports on a server, with no document or window, and exports init', async () => {
    assert.equal(typeof (globalThis as { document?: unknown }).document, 'undefined');
    const m = (await import(new URL('../dist/assent.esm.js', import.meta.url).href)) as { init?: unknown };
    assert.equal(typeof m.init, 'function');
  });
});
