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
};

/** The pairs of a shortcode, in order, or the first syntax error. */
export const tokenizeShortcode = (
  src: string,
): { pairs: [key: string, value: string][]; error?: ConfigError } => {
  const pairs: [string, string][] = [];
  const re = /\s*([a-z][a-z-]*)=\(/iy;
  let i = 0;
  for (;;) {
    while (i < src.length && /\s/.test(src[i]!)) i++;
    if (i >= src.length) return { pairs };
    re.lastIndex = i;
    const m = re.exec(src);
    if (!m) {
      const word = /^[a-z][a-z-]*/i.exec(src.slice(i))?.[0];
      return {
        pairs,
        error: {
          field: word ?? 'shortcode',
          message: `expected key=(value) at position ${i}, got ${JSON.stringify(src.slice(i, i + 20))}`,
        },
      };
    }
    const key = m[1]!.toLowerCase();
    // Values may hold spaces, punctuation and balanced parentheses: `Accept (all) !`.
    let depth = 1;
    let j = re.lastIndex;
    for (; j < src.length && depth; j++) {
      if (src[j] === '(') depth++;
      else if (src[j] === ')') depth--;
    }
    if (depth) return { pairs, error: { field: key, message: 'value is not closed with ")"' } };
    pairs.push([key, src.slice(re.lastIndex, j - 1).trim()]);
    i = j;
  }
};

const BOOL: Record<string, boolean> = {
  yes: true,
  true: true,
  on: true,
  no: false,
  false: false,
  off: false,
};

/**
 * Parses a shortcode into a validated config. Never throws: syntax errors, unknown keys and
 * bad values come back as errors naming the key, beside a config that is safe to use.
 *
 * @example
 * parseShortcode('buttons=(Accept !) days=(20)').config.days // 20
 */
export const parseShortcode = (src: string): Validated => {
  const { pairs, error } = tokenizeShortcode(src);
  const errors: ConfigError[] = error ? [error] : [];
  const input: Record<string, unknown> = {};
  const texts: Record<string, string> = {};
  const seen = new Set<string>();
  for (const [key, value] of pairs) {
    if (seen.has(key)) {
      errors.push({ field: key, message: 'is given twice' });
      continue;
    }
    seen.add(key);
    const field = FIELD_KEYS[key];
    if (TEXT_KEYS[key]) {
      if (value) texts[TEXT_KEYS[key]] = value;
      else errors.push({ field: key, message: 'must not be empty' });
    } else if (field === 'days') {
      input.days = /^[+-]?\d+$/.test(value) ? Number(value) : value;
    } else if (field === 'categories') {
      input.categories = value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map((id) => ({ id }));
    } else if (key === 'floating' || key === 'bots') {
      const b = key === 'bots' ? { hide: true, show: false }[value] : BOOL[value.toLowerCase()];
      if (b === undefined)
        errors.push({ field: key, message: `must be ${key === 'bots' ? 'hide or show' : 'yes or no'}` });
      else input[field!] = b;
    } else if (field) {
      input[field] = value;
    } else {
      errors.push({
        field: key,
        message: `is not a known key (known: ${[...Object.keys(TEXT_KEYS), ...Object.keys(FIELD_KEYS)].join(', ')})`,
      });
    }
  }
  if (Object.keys(texts).length) {
    input.texts = { [typeof input.lang === 'string' ? input.lang.toLowerCase() : 'en']: texts };
  }
  const v = validateConfig(input);
  // Name the shortcode key the owner wrote, not the JSON field it maps to.
  const keyOf = (field: string) => {
    const head = field.split(/[.[]/)[0]!;
    if (head === 'texts')
      return Object.keys(TEXT_KEYS).find((k) => field.endsWith(`.${TEXT_KEYS[k]}`)) ?? 'lang';
    return Object.keys(FIELD_KEYS).find((k) => FIELD_KEYS[k] === head) ?? head;
  };
  return { config: v.config, errors: [...errors, ...v.errors.map((e) => ({ ...e, field: keyOf(e.field) }))] };
};
