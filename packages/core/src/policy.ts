import type { Config, Mode } from './config.js';
import { hash32 } from './hash.js';
import { policyFingerprint } from './published.js';
import { EN, type Texts } from './texts.js';

export interface Service {
  readonly id: string;
  /** `category:service`, the key it has in a consent's `granted` map. */
  readonly key: string;
  readonly title: string;
  readonly description: string;
  readonly cookies: readonly string[];
}

export interface Category {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly services: readonly Service[];
  readonly cookies: readonly string[];
}

/**
 * The normalised config as one visitor sees it: the language chosen, texts resolved,
 * and a fingerprint of everything shown. When the fingerprint or the version changes,
 * stored consent is stale and the banner asks again (c15t's material-policy idea).
 */
export interface Policy {
  readonly mode: Mode;
  readonly version: string;
  readonly hash: string;
  readonly lang: string;
  readonly texts: Texts;
  /** Non-essential categories; `necessary` is implicit and always granted. */
  readonly categories: readonly Category[];
  /** Category ids then `category:service` keys, in config order: the cookie's bit order. */
  readonly keys: readonly string[];
  readonly config: Config;
}

/**
 * Picks the language: the config's `lang`, then each preferred language (from `<html lang>`
 * and `navigator.languages`), exact tag first, then its primary subtag; English otherwise.
 */
export const pickLanguage = (
  available: readonly string[],
  preferred: readonly (string | undefined)[],
): string => {
  for (const p of preferred)
    if (p) {
      const l = p.toLowerCase();
      for (const tag of [l, l.split('-')[0]!]) if (available.includes(tag)) return tag;
    }
  return 'en';
};

/** A category or service with every field filled: config first, then the language's known texts. */
const item = (
  c: { id: string; title?: string; description?: string; cookies?: readonly string[] },
  known?: readonly [string, string],
) => ({
  id: c.id,
  // Without a title of its own or a known one, the id as written (`social_media`).
  title: c.title ?? known?.[0] ?? c.id,
  description: c.description ?? known?.[1] ?? '',
  cookies: c.cookies ?? [],
});

/**
 * @param presets language packs loaded beside the banner (`assent.de.js` …), by language.
 * @param preferred preferred languages, most preferred first.
 */
export const createPolicy = (
  config: Config,
  preferred: readonly (string | undefined)[] = [],
  presets: Readonly<Record<string, Partial<Texts>>> = {},
  mode: Mode = config.mode,
  /** The canonical JSON of the published policy this config renders (full build, server). */
  canonical?: string,
): Policy => {
  const own = config.texts;
  const lang = pickLanguage(
    ['en', ...Object.keys(presets), ...Object.keys(own)],
    [config.lang, ...preferred],
  );
  const texts: Texts = { ...EN, ...presets[lang], ...own[lang] };
  const cats = (texts.cats = { ...EN.cats, ...presets[lang]?.cats, ...own[lang]?.cats });
  const keys: string[] = [];
  const categories: Category[] = config.categories.map((c) => {
    keys.push(c.id);
    return {
      ...item(c, cats[c.id]),
      services: (c.services ?? []).map((s) => {
        const key = `${c.id}:${s.id}`;
        keys.push(key);
        return { ...item(s), key };
      }),
    };
  });
  // What the visitor is shown, and nothing else: a changed text, link, category or mode
  // is a material change; a changed cookie lifetime or endpoint is not.
  // Key order is fixed by construction (EN's keys first, then config order), so plain JSON is stable.
  // A published policy's fingerprint covers every language at once (see policyFingerprint).
  const hash =
    !globalThis.ASSENT_LITE && canonical
      ? policyFingerprint(canonical, mode)
      : hash32(JSON.stringify([config.policy, mode, config.learnMoreHref, texts, categories]));
  return { mode, version: config.policy, hash, lang, texts, categories, keys, config };
};

/** Fills `{0}`, `{1}` … in a text. */
export const format = (text: string, ...args: string[]): string =>
  text.replace(/\{(\d)\}/g, (_, i: string) => args[+i] ?? '');
