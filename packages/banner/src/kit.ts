import { choose } from './choice.js';
import { adopt, btn, doc, h, panel } from './dom.js';
import { intro } from './notice.js';
import { consentPage } from './receipt.js';
import { S } from './state.js';
import { checkSoon } from './sync.js';

/**
 * What the preferences file (loaded on demand, see open.ts) takes from the banner that loaded
 * it, by position: no names ship. build.mjs reads this list to write the module that file's
 * preferences.ts imports from, so the list is written once; esbuild fails the build when the
 * dialog imports anything not in it. The full build's parts come last, and the lite build
 * hands over none of them (its dialog never uses them).
 */
export const kit = (): unknown[] => [
  S,
  doc,
  h,
  btn,
  panel,
  choose,
  intro,
  adopt,
  ...(globalThis.ASSENT_LITE ? [] : [consentPage, checkSoon]),
];
