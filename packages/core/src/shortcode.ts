import { type Config, checkField, checkFields, crossCheck, type Validated } from './config.js';
import type { ConfigError } from './errors.js';
import { EN, type Texts } from './texts.js';

/**
 * The shortcode is sugar for the JSON config: `buttons=(Accept !) days=(20)`.
 * Each key names a config field (`key:field` when the names differ); keys that name one
 * of EN's texts set the texts of `lang` (English by default). One string: it ships in the banner.
 * The on/off fields (`floatingButton`, `hideFromBots`) are JSON only: the words for them
 * (yes, on, hide, show …) cost more bytes than the shortcode saves the owner.
 */
const KEYS = new Map(
  'buttons:accept message learn:learnMore reject preferences days mode policy href:learnMoreHref lang domain endpoint cookie:cookieName categories gcm:googleConsentMode'
    .split(' ')
    .map((p) => {
      const [k, f = k] = p.split(':');
      return [k!, f!];
    }),
);

/**
 * The pairs of a shortcode, in order; its syntax errors go to `errors`. Values may hold
 * spaces, punctuation and one level of parentheses: `buttons=(Accept (all) !)`.
 */
const tokens = (src: string, errors: ConfigError[]): [key: string, value: string][] => {
  const pairs: [string, string][] = [];
  for (const m of src.matchAll(/([a-z][a-z-]*)=\(((?:[^()]|\([^()]*\))*)(\))?|[a-z][\w-]*|\S+/gi)) {
    const [all, key, value, closed] = m;
    if (key && closed) pairs.push([key.toLowerCase(), value!.trim()]);
    else
      errors.push(
        key
          ? { field: key.toLowerCase(), message: 'value is not closed with ")"' }
          : {
              field: /^[a-z]/i.test(all) ? all : 'shortcode',
              message: `expected key=(value), got ${JSON.stringify(all)}`,
            },
      );
  }
  return pairs;
};

/** The pairs of a shortcode, in order, and the syntax errors (see `tokens`). */
export const tokenizeShortcode = (
  src: string,
): { pairs: [key: string, value: string][]; errors: ConfigError[] } => {
  const errors: ConfigError[] = [];
  return { pairs: tokens(src, errors), errors };
};

type Writable = { -readonly [K in keyof Config]: Config[K] } & Record<string, unknown>;

/**
 * Parses a shortcode into a validated config, on top of an optional JSON config `base`
 * (the shortcode's keys win). Never throws: syntax errors, unknown keys and
 * bad values come back as errors naming the key, beside a config that is safe to use.
 *
 * @example
 * parseShortcode('buttons=(Accept !) days=(20)').config.days // 20
 */
export const parseShortcode = (src: string, base: Record<string, unknown> = {}): Validated => {
  const errors: ConfigError[] = [];
  const pairs = tokens(src, errors);
  // A new object (checkFields builds one), filled in below.
  const c = checkFields(base, errors) as Writable;
  const lang = pairs.find(([k]) => k === 'lang')?.[1].toLowerCase() ?? 'en';
  const seen: string[] = [];
  for (const [key, value] of pairs) {
    const field = KEYS.get(key);
    const text = typeof EN[field as keyof Texts] === 'string';
    // Each value is checked on its own: its errors name the key the owner wrote.
    const bad = (_: string, message: string) => {
      errors.push({ field: key, message });
      return undefined;
    };
    let v: unknown = value;
    if (!field) bad(key, `is not a known key (known: ${[...KEYS.keys()]})`);
    else if (seen.includes(key)) bad(key, 'is given twice');
    else {
      seen.push(key);
      if (key === 'days' && /^[+-]?\d+$/.test(value)) v = +value;
      if (key === 'categories') v = value.split(/\s*,\s*/).map((id) => ({ id }));
      // gcm=(yes) turns Google Consent Mode on with its defaults, gcm=(advanced) or gcm=(basic)
      // in that mode, on top of what the JSON config says of it (its map, waitForUpdate …: a
      // shortcode naming the mode dropped them, and the map's split of the ad signals with
      // them); gcm=(no) turns it off, the JSON config's included.
      if (!globalThis.ASSENT_LITE && key === 'gcm') {
        const g = c.googleConsentMode;
        v =
          value === 'yes'
            ? { ...g }
            : value === 'advanced' || value === 'basic'
              ? { ...g, mode: value }
              : value === 'no'
                ? void delete c.googleConsentMode
                : bad(key, `must be yes, no, advanced or basic, got ${JSON.stringify(value)}`);
      }
      // (Only gcm's can be undefined here: the lite build has none.)
      if (
        (globalThis.ASSENT_LITE || v !== undefined) &&
        (v = checkField(field, v, bad, text)) !== undefined
      ) {
        if (text) c.texts = { ...c.texts, [lang]: { ...c.texts[lang], [field]: v } };
        else c[field] = v;
      }
    }
  }
  // The map's keys against the categories, the shortcode's included.
  return crossCheck(c, errors);
};
