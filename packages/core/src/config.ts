import type { ConfigError } from './errors.js';
import type { Texts } from './texts.js';

/**
 * `opt-in`: GDPR/ePrivacy — nothing non-essential before Accept; Reject and Preferences on
 * the first layer. `opt-out`: US state laws — on until the visitor opts out. `notice`:
 * exactly the configured notice (message, Learn More, the configured button).
 */
export type Mode = 'opt-in' | 'opt-out' | 'notice';
export const MODES: readonly Mode[] = ['opt-in', 'opt-out', 'notice'];

/** A vendor or tool inside a category (Klaro's model: the lawyer's view is the data model). */
export interface ServiceConfig {
  readonly id: string;
  readonly title?: string;
  readonly description?: string;
  /** Cookie names deleted on reject or withdrawal; a trailing `*` matches a prefix. */
  readonly cookies?: readonly string[];
}

export interface CategoryConfig {
  readonly id: string;
  readonly title?: string;
  readonly description?: string;
  readonly services?: readonly ServiceConfig[];
  readonly cookies?: readonly string[];
}

/** The normalised config: every field present, every value valid. */
export interface Config {
  readonly mode: Mode;
  /** How long a choice (accept or reject alike) is remembered. */
  readonly days: number;
  /** The owner's policy version; bumping it asks every visitor again. */
  readonly policy: string;
  readonly learnMoreHref: string;
  /** Forces a language; otherwise `<html lang>`, then `navigator.languages`. */
  readonly lang?: string;
  readonly texts: Readonly<Record<string, Partial<Texts>>>;
  /** Non-essential categories; `necessary` is implicit and always on. */
  readonly categories: readonly CategoryConfig[];
  readonly cookieName: string;
  /** e.g. `.example.com` to share consent across subdomains; host-only when absent. */
  readonly domain?: string;
  /** Receipt endpoint; no receipts are sent when absent. */
  readonly endpoint?: string;
  readonly floatingButton: boolean;
  readonly hideFromBots: boolean;
}

export const DEFAULTS: Config = {
  mode: 'opt-in',
  days: 182, // CNIL: keep a choice about six months before asking again.
  policy: '1',
  learnMoreHref: '/privacy',
  texts: {},
  categories: [],
  cookieName: 'assent',
  floatingButton: true,
  hideFromBots: false,
};

/** CNIL: consent cookies may live at most 13 months. */
export const MAX_DAYS = 395;

export const ID_RE = /^[a-z][a-z0-9_-]{0,31}$/;
const LANG_RE = /^[a-z]{2,3}(-[a-z0-9]{2,8})*$/i;
const DOMAIN_RE = /^\.?[a-z0-9-]+(\.[a-z0-9-]+)*$/i;
const TEXT_KEYS =
  'message learnMore accept reject preferences label title intro save acceptAll rejectAll close alwaysOn settings doNotSell gpc consentId embed loadEmbed acceptCategory'.split(
    ' ',
  );

export interface Validated {
  readonly config: Config;
  readonly errors: readonly ConfigError[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A safe link target: a relative path or an http(s) URL — never `javascript:`. */
export const isSafeHref = (v: string): boolean =>
  /^(https?:\/\/|\/|\.{0,2}\/|#|\?)/i.test(v) && !/\s/.test(v);

/**
 * Validates any JSON value as a config. Always returns a usable config: a field that is
 * wrong keeps its safe default and adds an error naming it, so one typo never leaves a
 * page with a half-working banner or with tracking switched on.
 */
export const validateConfig = (input: unknown): Validated => {
  const errors: ConfigError[] = [];
  const c: Record<string, unknown> = { ...DEFAULTS };
  const bad = (field: string, message: string) => {
    errors.push({ field, message });
  };
  if (!isObj(input)) {
    bad('config', 'must be an object');
    return { config: DEFAULTS, errors };
  }
  const str = (k: string, ok: (v: string) => boolean, what: string) => {
    const v = input[k];
    if (typeof v === 'string' && ok(v)) c[k] = v;
    else bad(k, `must be ${what}, got ${JSON.stringify(v)}`);
  };
  for (const k of Object.keys(input)) {
    const v = input[k];
    switch (k) {
      case 'mode':
        str(k, (s) => (MODES as string[]).includes(s), MODES.join(' | '));
        break;
      case 'days':
        if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_DAYS) c.days = v;
        else bad(k, `must be a whole number of days from 1 to ${MAX_DAYS}, got ${JSON.stringify(v)}`);
        break;
      case 'policy':
        str(k, (s) => /^[\w.-]{1,32}$/.test(s), 'a version of letters, digits, . _ - (e.g. "v3")');
        break;
      case 'learnMoreHref':
        str(k, isSafeHref, 'a path or an http(s) URL');
        break;
      case 'endpoint':
        str(k, isSafeHref, 'a path or an http(s) URL');
        break;
      case 'lang':
        str(k, (s) => LANG_RE.test(s), 'a language tag such as "en" or "pt-BR"');
        break;
      case 'cookieName':
        str(k, (s) => /^[\w-]{1,32}$/.test(s), 'a cookie name of letters, digits, _ or -');
        break;
      case 'domain':
        str(k, (s) => DOMAIN_RE.test(s), 'a domain such as ".example.com"');
        break;
      case 'floatingButton':
      case 'hideFromBots':
        if (typeof v === 'boolean') c[k] = v;
        else bad(k, `must be true or false, got ${JSON.stringify(v)}`);
        break;
      case 'texts':
        c.texts = validateTexts(v, bad);
        break;
      case 'categories':
        c.categories = validateCategories(v, bad);
        break;
      default:
        bad(k, 'is not a known field');
    }
  }
  return { config: c as unknown as Config, errors };
};

const validateTexts = (v: unknown, bad: (f: string, m: string) => void): Config['texts'] => {
  const out: Record<string, Partial<Texts>> = {};
  if (!isObj(v)) {
    bad('texts', 'must be an object of languages, e.g. {"en": {"accept": "OK"}}');
    return out;
  }
  for (const lang of Object.keys(v)) {
    const t = v[lang];
    const f = `texts.${lang}`;
    if (!LANG_RE.test(lang) || !isObj(t)) {
      bad(f, 'must be a language tag holding an object of texts');
      continue;
    }
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(t)) {
      const s = t[k];
      if (k === 'cats' && isObj(s)) o.cats = s;
      else if (!TEXT_KEYS.includes(k)) bad(`${f}.${k}`, 'is not a known text');
      else if (typeof s !== 'string' || !s.trim()) bad(`${f}.${k}`, 'must be a non-empty string');
      else o[k] = s;
    }
    out[lang.toLowerCase()] = o as Partial<Texts>;
  }
  return out;
};

const validateList = <T>(
  v: unknown,
  field: string,
  bad: (f: string, m: string) => void,
  item: (o: Obj, f: string) => T | undefined,
): T[] => {
  if (!Array.isArray(v)) {
    bad(field, 'must be a list');
    return [];
  }
  const out: T[] = [];
  const seen = new Set<string>();
  v.forEach((o, i) => {
    const f = `${field}[${i}]`;
    if (!isObj(o) || typeof o.id !== 'string' || !ID_RE.test(o.id)) {
      bad(`${f}.id`, 'must be an id of lowercase letters, digits, _ or - (e.g. "analytics")');
      return;
    }
    if (seen.has(o.id) || o.id === 'necessary') {
      // `necessary` is implicit and always on: listing it adds nothing, but is not wrong.
      if (o.id !== 'necessary') bad(`${f}.id`, `"${o.id}" is listed twice`);
      return;
    }
    seen.add(o.id);
    for (const k of ['title', 'description'] as const) {
      if (o[k] !== undefined && typeof o[k] !== 'string') bad(`${f}.${k}`, 'must be a string');
    }
    if (
      o.cookies !== undefined &&
      !(Array.isArray(o.cookies) && o.cookies.every((s) => typeof s === 'string'))
    )
      bad(`${f}.cookies`, 'must be a list of cookie names');
    const r = item(o, f);
    if (r) out.push(r);
  });
  return out;
};

const pick = (o: Obj) => ({
  id: o.id as string,
  ...(typeof o.title === 'string' ? { title: o.title } : {}),
  ...(typeof o.description === 'string' ? { description: o.description } : {}),
  ...(Array.isArray(o.cookies) && o.cookies.every((s) => typeof s === 'string')
    ? { cookies: o.cookies as string[] }
    : {}),
});

const validateCategories = (v: unknown, bad: (f: string, m: string) => void): CategoryConfig[] =>
  validateList(v, 'categories', bad, (o, f) => ({
    ...pick(o),
    ...(o.services === undefined
      ? {}
      : { services: validateList(o.services, `${f}.services`, bad, (s) => pick(s)) }),
  }));
