import type { Config } from './config.js';
import { hash32, stableStringify } from './hash.js';
import { EN, type Texts } from './texts.js';

/**
 * A published policy: everything a visitor is shown and everything that decides the outcome,
 * as one JSON document. It is the site's config without `endpoint` (where receipts go is not
 * policy), with `texts` resolved for every language the site offers, exactly as the banner
 * renders them: English, then each language of the config's `texts`, each the preset of that
 * language (see `@assent/core/i18n`) under the owner's own words. (A forced `lang` must be one
 * of them: the server refuses to publish it otherwise, see `publishable`.)
 *
 * Its identity is the SHA-256 of {@link canonicalPolicy} (hex). The receipt server keeps every
 * version it published (`GET /v1/policies/:sha256`), each receipt names one, and a banner that
 * posts receipts renders from one: what a visitor was shown is never a copy of a copy.
 */
export interface PolicyDoc {
  /** Version of this document's shape. */
  readonly v: 1;
  readonly config: PolicyConfig;
}

/** The config inside a published policy: texts by language, each complete. */
export type PolicyConfig = Omit<Config, 'endpoint' | 'texts'> & {
  readonly texts: Readonly<Record<string, Texts>>;
};

/** A policy as the server publishes it: the document, its canonical JSON and its SHA-256. */
export interface Published {
  readonly sha256: string;
  readonly doc: PolicyDoc;
}

/**
 * The policy document of a config. `presets` are the language packs: the banner passes the
 * ones the page loaded (`window.assentTexts`), the server passes all of `@assent/core/i18n`.
 * A language the config names but whose preset the page did not load resolves to English
 * words there and to the preset's on the server: the documents differ, and the server's 409
 * says so (README "Policy lifecycle").
 */
export const policyDoc = (
  config: Config,
  presets: Readonly<Record<string, Partial<Texts>>> = {},
): PolicyDoc => {
  const { endpoint: _, texts: own, ...rest } = config;
  const texts: Record<string, Texts> = {};
  for (const lang of ['en', ...Object.keys(own)])
    texts[lang] = {
      ...EN,
      ...presets[lang],
      ...own[lang],
      cats: { ...EN.cats, ...presets[lang]?.cats, ...own[lang]?.cats },
    };
  // Quoted: the banner's minifier renames the `config` property bundle-wide (build-options.mjs),
  // and this one is part of the published JSON.
  // biome-ignore lint/complexity/useLiteralKeys: see above
  return { v: 1, ['config']: { ...rest, texts } };
};

/** The exact string whose SHA-256 identifies a policy: JSON with keys sorted at every level. */
export const canonicalPolicy = (doc: PolicyDoc): string => stableStringify(doc);

/**
 * The consent cookie's fingerprint of a published policy, for the mode the visitor got:
 * 32-bit FNV of the mode and the canonical JSON. Language-independent (a visitor who switches
 * language keeps their choice), mode-dependent (a notice acknowledged in Japan is not consent
 * in the EU). The server computes the same when it sets the cookie itself.
 */
export const policyFingerprint = (canonical: string, mode: string): string => hash32(`${mode}|${canonical}`);

/**
 * The policy's Learn More link as the visitor's browser resolved it on `site`: a relative
 * link against the site, never against wherever the record is read (a receipt server on
 * another host). Null when it does not resolve.
 */
export const learnMoreUrl = (href: string, site: string): string | null => {
  try {
    return new URL(href, site).href;
  } catch {
    return null;
  }
};

/** The config a published policy renders: its texts are already complete, so no preset is needed. */
// biome-ignore lint/complexity/useLiteralKeys: quoted for the banner's minifier, as in policyDoc.
export const configOf = (doc: PolicyDoc): Config => doc['config'] as Config;

const SHA256_RE = /^[0-9a-f]{64}$/;
/** A policy's identity: 64 lower-case hex digits. */
export const isSha256 = (s: unknown): s is string => typeof s === 'string' && SHA256_RE.test(s);
