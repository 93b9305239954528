import { type Validated, validateConfig } from './config.js';
import type { ConfigError } from './errors.js';

/**
 * The shortcode is sugar for the JSON config: `buttons=(Accept !) days=(20)`.
 * Keys map to config fields; text keys set the texts of `lang` (English by default).
 */
const TEXT_KEYS: Record<string, string> = {
  buttons: 'accept',
  message: 'message',
  learn: 'learnMore',
  reject: 'reject',
  preferences: 'preferences',
};
const FIELD_KEYS: Record<string, string> = {
  days: 'days',
  mode: 'mode',
  policy: 'policy',
  href: 'learnMoreHref',
  lang: 'lang',
  domain: 'domain',
  endpoint: 'endpoint',
  cookie: 'cookieName',
  categories: 'categories',
  floating: 'floatingButton',
  bots: 'hideFromBots',
  gcm: 'googleConsentMode',
};

/**
 * The pairs of a shortcode, in order, and the syntax errors. Values may hold spaces,
 * punctuation and one level of parentheses: `buttons=(Accept (all) !)`.
 */
export const tokenizeShortcode = (
  src: string,
): { pairs: [key: string, value: string][]; errors: ConfigError[] } => {
  const pairs: [string, string][] = [];
  const errors: ConfigError[] = [];
  for (const m of src.matchAll(/([a-z][a-z-]*)=\(((?:[^()]|\([^()]*\))*)(\))?|[a-z][\w-]*|\S+/gi)) {
    const [all, key, value, closed] = m;
    if (key && closed) pairs.push([key.toLowerCase(), value!.trim()]);
    else
      errors.push(
        key
          ? { field: key.toLowerCase(), message: 'value is not closed with ")"' }
          : {
              field: /^[a-z]/i.test(all) ? all : 'shortcode',
              message: `expected key=(value) at position ${m.index}, got ${JSON.stringify(all)}`,
            },
      );
  }
  return { pairs, errors };
};

const BOOL: Record<string, boolean> = {
  yes: true,
  true: true,
  on: true,
  no: false,
  false: false,
  off: false,
  hide: true,
  show: false,
};

/**
 * Parses a shortcode into a validated config, on top of an optional JSON config `base`
 * (the shortcode's keys win). Never throws: syntax errors, unknown keys and
 * bad values come back as errors naming the key, beside a config that is safe to use.
 *
 * @example
 * parseShortcode('buttons=(Accept !) days=(20)').config.days // 20
 */
export const parseShortcode = (src: string, base: Record<string, unknown> = {}): Validated => {
  const { pairs, errors } = tokenizeShortcode(src);
  errors.push(...validateConfig(base).errors);
  const input: Record<string, unknown> = {};
  const texts: Record<string, string> = {};
  const lang = pairs.find(([k]) => k === 'lang')?.[1].toLowerCase();
  const seen: string[] = [];
  for (const [key, value] of pairs) {
    const field = FIELD_KEYS[key];
    const text = TEXT_KEYS[key];
    let v: unknown = value;
    if (seen.includes(key)) {
      errors.push({ field: key, message: 'is given twice' });
      continue;
    }
    seen.push(key);
    if (!field && !text) {
      errors.push({
        field: key,
        message: `is not a known key (known: ${Object.keys({ ...TEXT_KEYS, ...FIELD_KEYS })})`,
      });
      continue;
    }
    if (key === 'days' && /^[+-]?\d+$/.test(value)) v = +value;
    if (key === 'categories') v = value.split(/\s*,\s*/).map((id) => ({ id }));
    if (key === 'floating' || key === 'bots') v = BOOL[value.toLowerCase()] ?? value;
    // gcm=(yes) turns Google Consent Mode on with its defaults; gcm=(no) leaves it off.
    if (key === 'gcm') {
      if (BOOL[value.toLowerCase()] === false) continue;
      if (BOOL[value.toLowerCase()]) v = {};
    }
    // Each pair is checked alone, so an error names exactly the key the owner wrote.
    const one = text ? { texts: { [lang ?? 'en']: { [text]: v } } } : { [field!]: v };
    const e = validateConfig(one).errors[0];
    if (e) errors.push({ field: key, message: e.message });
    else if (text) texts[text] = value;
    else input[field!] = v;
  }
  const l = lang ?? 'en';
  const baseTexts = (base.texts ?? {}) as Record<string, object>;
  if (Object.keys(texts).length) input.texts = { ...baseTexts, [l]: { ...baseTexts[l], ...texts } };
  return { config: validateConfig({ ...base, ...input }).config, errors };
};
