/**
 * The bundler build (`@assent/banner`): import, then `init(config)`.
 * Import the styles too: `import '@assent/banner/assent.css'`.
 *
 * @example
 * import { init } from '@assent/banner';
 * const assent = init('buttons=(Accept !) days=(20)');
 * assent.on('change', (s) => console.log(s.granted));
 */
import { type Mode, parseShortcode, validateConfig } from '@assent/core';
import type { AssentApi } from './api.js';
import { start } from './start.js';

export type { AssentApi } from './api.js';
export type { PublicState } from './events.js';

/** Starts the banner with a shortcode string or a JSON config object; returns `window.Assent`. */
export const init = (config: string | object = {}, mode?: Mode): AssentApi =>
  start(typeof config === 'string' ? parseShortcode(config) : validateConfig(config), mode);
