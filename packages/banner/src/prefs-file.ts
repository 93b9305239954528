/**
 * The entry of the preferences file (`dist/assent.prefs.min.js`, see open.ts): the dialog,
 * built against the parts of the banner that loaded it (build.mjs resolves this file's
 * imports to kit.ts's list).
 */
import { adopt } from './dom.js';
import { openPreferences } from './preferences.js';

// The dialog's own styles (assent-prefs.css), unless the page links the stylesheet.
adopt(ASSENT_CSS);
self.__assentPrefs = openPreferences;
