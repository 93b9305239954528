import { SIGNALS } from './consent-mode.js';
import type { ConfigError } from './errors.js';
import { EN, type Texts } from './texts.js';

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
  /** Google Consent Mode v2; off unless set. */
  readonly googleConsentMode?: GoogleConsentMode;
  /** Region → mode (`EU`, `US-CA`, `US`, `*` …); the visitor's region picks the mode. */
  readonly regions?: Readonly<Record<string, Mode>>;
}

export interface GoogleConsentMode {
  /** Milliseconds Google tags wait for our update (`wait_for_update`). Default 500. */
  readonly waitForUpdate?: number;
  /** `gtag('set', 'ads_data_redaction', true)`. */
  readonly adsDataRedaction?: boolean;
  /** `gtag('set', 'url_passthrough', true)`. */
  readonly urlPassthrough?: boolean;
  /** Category → signals; replaces the default mapping (see README). */
  readonly map?: Readonly<Record<string, readonly string[]>>;
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

declare global {
  /**
   * `true` only in the banner's lite build (`assent.min.js`), where esbuild's `define` makes it a
   * constant so Consent Mode and regions drop out of the bundle. Undefined everywhere else (Node,
   * the server, tests, the full build): every field is known there.
   */
  var ASSENT_LITE: boolean | undefined;
}

export const ID_RE = /^[a-z][a-z0-9_-]{0,31}$/;
const LANG_RE = /^[a-z]{2,3}(-[a-z0-9]{2,8})*$/i;

export interface Validated {
  readonly config: Config;
  readonly errors: readonly ConfigError[];
}

type Obj = Record<string, unknown>;
type Bad = (field: string, message: string) => void;
type Test = (v: unknown) => boolean;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str =
  (re: RegExp): Test =>
  (v) =>
    typeof v === 'string' && re.test(v);
/** Every value of an object passes `test` (with its key). */
const each =
  (test: (v: unknown, k: string) => boolean): Test =>
  (v) =>
    isObj(v) && Object.keys(v).every((k) => test(v[k], k));

/** A safe link target: a relative path or an http(s) URL — never `javascript:`. */
export const isSafeHref = str(/^(https?:\/\/|\.{0,2}\/|[#?])\S*$/i);
const isBool: Test = (v) => typeof v === 'boolean';
const isMode: Test = (v) => MODES.includes(v as Mode);
// Messages are short (they ship in the banner) but always say what the field must be.
const HREF = 'a path or an http(s) URL';
const BOOL = 'true or false';

/** The plain fields: how to check each, and what it must be when the check fails. */
const FIELDS: Record<string, [Test, string]> = {
  mode: [isMode, MODES.join(' | ')],
  days: [
    (v) => Number.isInteger(v) && (v as number) > 0 && (v as number) <= MAX_DAYS,
    `a whole number from 1 to ${MAX_DAYS}`,
  ],
  policy: [str(/^[\w.-]{1,32}$/), 'a version like "v3"'],
  learnMoreHref: [isSafeHref, HREF],
  endpoint: [isSafeHref, HREF],
  lang: [str(LANG_RE), 'a language tag like "pt-BR"'],
  cookieName: [str(/^[\w-]{1,32}$/), 'a cookie name (letters, digits, _ -)'],
  domain: [str(/^\.?[a-z0-9-]+(\.[a-z0-9-]+)*$/i), 'a domain like ".example.com"'],
  floatingButton: [isBool, BOOL],
  hideFromBots: [isBool, BOOL],
  // Integrations (issue 6): only in the full build; the lite build names the file that has them.
  ...(!globalThis.ASSENT_LITE && {
    googleConsentMode: [
      each((v, k) =>
        k === 'waitForUpdate'
          ? Number.isInteger(v) && (v as number) >= 0
          : k === 'map'
            ? each((s) => Array.isArray(s) && s.every((x) => SIGNALS.includes(x)))(v)
            : (k === 'adsDataRedaction' || k === 'urlPassthrough') && isBool(v),
      ),
      'an object of waitForUpdate, adsDataRedaction, urlPassthrough, map (category → signals)',
    ],
    regions: [
      each((v, k) => /^([A-Z]{2}(-[A-Z0-9]{1,3})?|EU|US-OPT-OUT|\*)$/.test(k) && isMode(v)),
      'an object of region → mode',
    ],
  }),
};

/**
 * Validates any JSON value as a config. Always returns a usable config: a field that is
 * wrong keeps its safe default and adds an error naming it, so one typo never leaves a
 * page with a half-working banner or with tracking switched on.
 */
export const validateConfig = (input: unknown): Validated => {
  const errors: ConfigError[] = [];
  const c: Obj = { ...DEFAULTS };
  const bad: Bad = (field, message) => {
    errors.push({ field, message });
  };
  if (!isObj(input)) bad('config', 'must be an object');
  else
    for (const k in input) {
      const v = input[k];
      const f = FIELDS[k];
      if (f) {
        if (f[0](v)) c[k] = v;
        else bad(k, `must be ${f[1]}, got ${JSON.stringify(v)}`);
      } else if (k === 'texts') c.texts = validateTexts(v, bad);
      else if (k === 'categories') c.categories = validateList(v, k, bad, true);
      else
        bad(
          k,
          globalThis.ASSENT_LITE && /^(googleConsentMode|regions)$/.test(k)
            ? 'needs the full build, assent.full.min.js'
            : 'is not a known field',
        );
    }
  return { config: c as unknown as Config, errors };
};

const validateTexts = (v: unknown, bad: Bad): Config['texts'] => {
  const out: Obj = {};
  if (!isObj(v)) bad('texts', 'must be an object of languages');
  else
    for (const lang in v) {
      const t = v[lang];
      const f = `texts.${lang}`;
      if (!LANG_RE.test(lang) || !isObj(t)) {
        bad(f, 'must be a language tag holding an object of texts');
        continue;
      }
      const o: Obj = {};
      for (const k in t) {
        const s = t[k];
        if (k === 'cats' && isObj(s)) o.cats = s;
        // The known texts are exactly EN's strings.
        else if (typeof EN[k as keyof Texts] !== 'string') bad(`${f}.${k}`, 'is not a known text');
        else if (typeof s !== 'string' || !s.trim()) bad(`${f}.${k}`, 'must be a non-empty string');
        else o[k] = s;
      }
      out[lang.toLowerCase()] = o;
    }
  return out as Config['texts'];
};

/** Lists of `{ id, title?, description?, cookies? }`: categories, and the services inside them. */
const validateList = <T>(v: unknown, field: string, bad: Bad, services?: boolean): T[] => {
  const out: Obj[] = [];
  const seen: unknown[] = [];
  if (!Array.isArray(v)) bad(field, 'must be a list');
  else
    v.forEach((o, i) => {
      const f = `${field}[${i}]`;
      if (!isObj(o) || !str(ID_RE)(o.id))
        bad(`${f}.id`, 'must be an id of lowercase letters, digits, _ or -');
      // `necessary` is implicit and always on: listing it adds nothing, but is not wrong.
      else if (o.id !== 'necessary') {
        if (seen.includes(o.id)) bad(`${f}.id`, `"${o.id}" is listed twice`);
        else {
          seen.push(o.id);
          const r: Obj = { id: o.id };
          for (const k of ['title', 'description', 'cookies']) {
            const x = o[k];
            if (
              k === 'cookies'
                ? Array.isArray(x) && x.every((s) => typeof s === 'string')
                : typeof x === 'string'
            )
              r[k] = x;
            else if (x !== undefined)
              bad(`${f}.${k}`, k === 'cookies' ? 'must be a list of cookie names' : 'must be a string');
          }
          if (services && o.services !== undefined)
            r.services = validateList(o.services, `${f}.services`, bad);
          out.push(r);
        }
      }
    });
  return out as T[];
};
