/**
 * The entry of the preferences file (`dist/assent.prefs.min.js`, see open.ts): the dialog,
 * built against the parts of the banner that loaded it (build.mjs resolves this file's
 * imports to kit.ts's list).
 */
import { openPreferences } from './preferences.js';

self.__assentPrefs = openPreferences;
