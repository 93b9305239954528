import { isNecessarySignal, SIGNALS } from './consent-mode.js';
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
  /**
   * Seconds between two checks of a stored choice with the receipt server, when it is on
   * another origin (full build): a withdrawal made on the consent page reaches the site at
   * the visitor's next page view after at most this long. Default {@link REVALIDATE_SECONDS}.
   */
  readonly revalidate?: number;
}

/**
 * Five minutes: a visitor who withdraws on the consent page and comes back sees it applied
 * at once (opening the consent page from the banner forces the next check), and anyone else
 * within five minutes; a site costs the server at most twelve small GETs an hour per active
 * visitor, and none per page view in between. README "Deploying".
 */
export const REVALIDATE_SECONDS = 300;

export interface GoogleConsentMode {
  /**
   * `advanced`: Google tags load at once under the denied default and send cookieless pings
   * until consent (the banner never holds them back, even when marked as held). `basic`:
   * Google tags are held until their category is granted (mark them as held scripts). Unset:
   * whichever the page's markup makes it, and the console says which (README "Consent Mode").
   */
  readonly mode?: 'advanced' | 'basic';
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
/** A language tag's shape (`pt-BR`), for a config and a receipt alike (receipt.ts bounds its length). */
export const LANG_RE = /^[a-z]{2,3}(-[a-z0-9]{2,8})*$/i;

export interface Validated {
  readonly config: Config;
  readonly errors: readonly ConfigError[];
}

type Obj = Record<string, unknown>;
export type Bad = (field: string, message: string) => undefined;
type Test = (v: unknown) => boolean;
/**
 * What a value must be. A leaf: the check, and the message when it fails ("must be …").
 * A list (one element): a list of objects with an `id`. An object: its fields; `*` stands
 * for any language tag (the keys of `texts`).
 */
type Spec = readonly [Test, string] | readonly [Spec] | { readonly [field: string]: Spec };

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

/**
 * A safe link target: an http(s) URL or a path of this site — never `javascript:`, and never
 * `//host` or `/\host`, which browsers read as another host.
 */
export const isSafeHref = str(/^(https?:\/\/|\.{0,2}\/(?![/\\])|[#?])\S*$/i);
const isMode: Test = (v) => MODES.includes(v as Mode);
// Messages are short (they ship in the banner) but always say what the field must be.
const HREF = [isSafeHref, 'must be a path or an http(s) URL'] as const;
const BOOL = [(v: unknown) => typeof v === 'boolean', 'must be true or false'] as const;
const FULL = [() => false, 'needs the full build, assent.full.min.js'] as const;
const STR = [(v: unknown) => typeof v === 'string', 'must be a string'] as const;
const ITEM = {
  id: [str(ID_RE), 'must be an id of lowercase letters, digits, _ or -'],
  title: STR,
  description: STR,
  cookies: [
    (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === 'string'),
    'must be a list of cookie names',
  ],
} as const;
/** A language's texts: exactly EN's strings (non-empty), and `cats` (titles by category id). */
const TEXTS: Record<string, Spec> = { cats: [isObj, 'must be an object'] };
for (const k in EN)
  if (typeof EN[k as keyof Texts] === 'string') TEXTS[k] = [str(/\S/), 'must be a non-empty string'];

/**
 * The whole config. (Its fields' order changes nothing: fields are checked in the input's
 * order. This one gzips smallest in the lite build.)
 */
const SPEC: Record<string, Spec> = {
  days: [
    (v) => Number.isInteger(v) && (v as number) > 0 && (v as number) <= MAX_DAYS,
    `must be a whole number from 1 to ${MAX_DAYS}`,
  ],
  learnMoreHref: HREF,
  // The lite build has opt-in and notice; opt-out comes with the full build's US features.
  mode: globalThis.ASSENT_LITE
    ? [(v) => v === 'opt-in' || v === 'notice', 'must be opt-in | notice (opt-out needs the full build)']
    : [isMode, `must be ${MODES.join(' | ')}`],
  hideFromBots: BOOL,
  cookieName: [str(/^[\w-]{1,32}$/), 'must be a cookie name (letters, digits, _ -)'],
  floatingButton: BOOL,
  texts: { '*': TEXTS },
  domain: [str(/^\.?[a-z0-9-]+(\.[a-z0-9-]+)*$/i), 'must be a domain like ".example.com"'],
  lang: [str(LANG_RE), 'must be a language tag like "pt-BR"'],
  policy: [str(/^[\w.-]{1,32}$/), 'must be a version like "v3"'],
  categories: [{ ...ITEM, services: [ITEM] }],
  // Receipts and the integrations of issue 6: the lite build names the file that has them.
  ...(globalThis.ASSENT_LITE
    ? { endpoint: FULL, googleConsentMode: FULL, regions: FULL }
    : {
        endpoint: HREF,
        // Field by field: one bad field is reported by its path, the others are kept.
        googleConsentMode: {
          mode: [(v) => v === 'advanced' || v === 'basic', 'must be advanced | basic'],
          waitForUpdate: [
            (v) => Number.isInteger(v) && (v as number) >= 0,
            'must be whole milliseconds, 0 or more',
          ],
          adsDataRedaction: BOOL,
          urlPassthrough: BOOL,
          // Its keys are checked against the categories once the whole config is known (crossCheck).
          map: [
            each((s) => Array.isArray(s) && s.every((x) => SIGNALS.includes(x))),
            `must be an object of category → list of ${SIGNALS}`,
          ],
        },
        regions: [
          each((v, k) => /^([A-Z]{2}(-[A-Z0-9]{1,3})?|EU|US-OPT-OUT|\*)$/.test(k) && isMode(v)),
          'must be an object of region → mode',
        ],
        revalidate: [
          (v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 86_400,
          'must be whole seconds from 0 to 86400',
        ],
      }),
};

/**
 * Checks `v` against `spec`: returns what is valid (an invalid value is `undefined`, a
 * list or object keeps its valid parts) and reports each invalid part under its path.
 */
const walk = (spec: Spec, v: unknown, path: string, bad: Bad): unknown => {
  // A leaf: its test, then its message.
  if (typeof spec[0] === 'function')
    return spec[0](v) ? v : bad(path, `${spec[1]}, got ${JSON.stringify(v)}`);
  if (Array.isArray(spec)) {
    if (!Array.isArray(v)) return bad(path, 'must be a list');
    const seen: unknown[] = [];
    return v.flatMap((x, i) => {
      const f = `${path}[${i}]`;
      const o = walk(spec[0], x, f, bad) as Obj | undefined;
      const id = o?.id;
      if (o && !(x as Obj).id) bad(`${f}.id`, 'is missing');
      // `necessary` is implicit and always on: listing it adds nothing, but is not wrong.
      if (!id || id === 'necessary') return [];
      if (seen.includes(id)) return bad(`${f}.id`, `"${id}" is listed twice`) ?? [];
      seen.push(id);
      return [o];
    });
  }
  if (!isObj(v)) return bad(path || 'config', 'must be an object');
  const out: Obj = {};
  const fields = spec as Record<string, Spec>;
  for (const k in v) {
    const f = path ? `${path}.${k}` : k;
    const lang = fields['*'] && LANG_RE.test(k);
    const s = lang ? fields['*'] : fields[k];
    const x = s ? walk(s, v[k], f, bad) : bad(f, 'is not a known field');
    if (x !== undefined) out[lang ? k.toLowerCase() : k] = x;
  }
  return out;
};

/**
 * Checks one field's value on its own (one of the texts' when `text`): what the shortcode
 * does with each key. Returns the value, or `undefined` when it is invalid (reported to `bad`).
 */
export const checkField = (field: string, v: unknown, bad: Bad, text?: boolean): unknown =>
  walk((text ? TEXTS : SPEC)[field]!, v, field, bad);

/** The config of `input`, each field checked on its own; its errors are pushed to `errors`. */
export const checkFields = (input: unknown, errors: ConfigError[]): Config => ({
  ...DEFAULTS,
  ...(walk(SPEC, input, '', (field, message) => void errors.push({ field, message })) as Partial<Config>),
});

/**
 * What no field can check on its own, once the whole config is known (the shortcode's
 * `categories` replace the JSON's): every key of the Consent Mode map is `necessary` or a
 * declared category. A key that is not is reported and kept (it grants nothing unless a held
 * element names that category, see README "Blocking without declaring").
 */
export const crossCheck = (config: Config, errors: ConfigError[]): Validated => {
  if (!globalThis.ASSENT_LITE)
    for (const k in config.googleConsentMode?.map)
      if (
        k === 'necessary'
          ? !config.googleConsentMode.map[k]!.every(isNecessarySignal)
          : !config.categories.some((c) => c.id === k)
      )
        errors.push({
          field: `googleConsentMode.map.${k}`,
          message:
            k === 'necessary'
              ? 'may grant only security_storage, functionality_storage'
              : 'is not in categories',
        });
  return { config, errors };
};

/**
 * Validates any JSON value as a config. Always returns a usable config: a field that is
 * wrong keeps its safe default and adds an error naming it, so one typo never leaves a
 * page with a half-working banner or with tracking switched on.
 */
export const validateConfig = (input: unknown): Validated => {
  const errors: ConfigError[] = [];
  return crossCheck(checkFields(input, errors), errors);
};
