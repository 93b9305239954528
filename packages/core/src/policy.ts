import type { Config, Mode } from './config.js';
import { hash53 } from './hash.js';
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
  for (const p of preferred) {
    if (!p) continue;
    const l = p.toLowerCase();
    if (available.includes(l)) return l;
    const primary = l.split('-')[0]!;
    if (available.includes(primary)) return primary;
  }
  return 'en';
};

const titleCase = (id: string) => id.charAt(0).toUpperCase() + id.slice(1).replace(/[-_]/g, ' ');

/**
 * @param presets language packs loaded beside the banner (`assent.de.js` …), by language.
 * @param preferred preferred languages, most preferred first.
 */
export const createPolicy = (
  config: Config,
  preferred: readonly (string | undefined)[] = [],
  presets: Readonly<Record<string, Partial<Texts>>> = {},
  mode: Mode = config.mode,
): Policy => {
  const available = ['en', ...Object.keys(presets), ...Object.keys(config.texts)];
  const lang = pickLanguage(available, [config.lang, ...preferred]);
  const texts: Texts = { ...EN, ...presets[lang], ...config.texts[lang] };
  texts.cats = { ...EN.cats, ...presets[lang]?.cats, ...config.texts[lang]?.cats };
  const categories: Category[] = config.categories.map((c) => {
    const known = texts.cats[c.id];
    return {
      id: c.id,
      title: c.title ?? known?.[0] ?? titleCase(c.id),
      description: c.description ?? known?.[1] ?? '',
      cookies: c.cookies ?? [],
      services: (c.services ?? []).map((s) => ({
        id: s.id,
        key: `${c.id}:${s.id}`,
        title: s.title ?? titleCase(s.id),
        description: s.description ?? '',
        cookies: s.cookies ?? [],
      })),
    };
  });
  const keys = categories.flatMap((c) => [c.id, ...c.services.map((s) => s.key)]);
  // What the visitor is shown, and nothing else: a changed text, link, category or mode
  // is a material change; a changed cookie lifetime or endpoint is not.
  // Key order is fixed by construction (EN's keys first, then config order), so plain JSON is stable.
  const hash = hash53(JSON.stringify([mode, config.learnMoreHref, texts, categories]));
  return { mode, version: config.policy, hash, lang, texts, categories, keys, config };
};

/** Fills `{0}`, `{1}` … in a text. */
export const format = (text: string, ...args: string[]): string =>
  text.replace(/\{(\d)\}/g, (_, i: string) => args[Number(i)] ?? '');
