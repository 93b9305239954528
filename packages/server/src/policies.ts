import { createHash } from 'node:crypto';
import {
  type Config,
  type ConfigError,
  canonicalPolicy,
  configOf,
  createPolicy,
  encodeConsent,
  formatError,
  LANG_MAX,
  MAX_KEYS,
  type Mode,
  modesOf,
  type Policy,
  type PolicyDoc,
  policyDoc,
  policyFingerprint,
  type SignedReceipt,
  toBits,
  validateConfig,
} from '@assent/core';
import { PRESETS } from '@assent/core/i18n';
import { type AuditRow, AuditStale } from './store/admin-store.js';
import type { Publication, Store } from './store/types.js';

const DAY = 86_400_000;

/** One published policy, with everything the server derives from it once. */
export interface PolicyVersion {
  readonly sha256: string;
  readonly doc: PolicyDoc;
  /** The exact JSON whose SHA-256 is `sha256`. */
  readonly canonical: string;
  readonly config: Config;
  /** Rendered in its default language: category and service titles, the valid choice keys. */
  readonly policy: Policy;
  /** Rendered in a visitor's language (the consent page), once per language. */
  inLanguage(lang: string): Policy;
  /** The modes a visitor can get under it: its own, and each region's. */
  readonly modes: readonly Mode[];
}

const sha256Of = (s: string) => createHash('sha256').update(s).digest('hex');

/** Everything derived from a document, computed once per policy. */
export const versionOf = (doc: PolicyDoc, canonical = canonicalPolicy(doc)): PolicyVersion => {
  const config = configOf(doc);
  const rendered = new Map<string, Policy>();
  return {
    sha256: sha256Of(canonical),
    doc,
    canonical,
    config,
    policy: createPolicy(config),
    inLanguage(lang) {
      let p = rendered.get(lang);
      if (!p) rendered.set(lang, (p = createPolicy(config, [lang])));
      return p;
    },
    modes: modesOf(config),
  };
};

/**
 * A site owner's config as a policy to publish. Unlike the banner, which prints a bad field
 * and goes on with its safe default, publishing refuses it: the owner must fix it. Texts are
 * resolved with every language preset (`@assent/core/i18n`), as the banner renders them.
 */
export const publishable = (
  raw: unknown,
):
  | { ok: true; version: PolicyVersion }
  | { ok: false; errors: string[]; problems: readonly ConfigError[] } => {
  const { config, errors: valid } = validateConfig(raw);
  const keys = config.categories.reduce((n, c) => n + 1 + (c.services?.length ?? 0), 0);
  const errors: ConfigError[] = [...valid];
  if (keys > MAX_KEYS)
    errors.push({
      field: 'categories',
      message: `has ${keys} categories and services: at most ${MAX_KEYS} (the consent cookie keeps one bit for each; more could not be stored, and every visitor would be asked again on every page)`,
    });
  // A forced language the policy does not publish would render English: say so instead. (A
  // page's own config could not render it either without the preset file, and the two
  // documents must be the same: so the language is listed, not added here.)
  const langs = ['en', ...Object.keys(config.texts)];
  const forced = config.lang?.toLowerCase();
  if (forced && !langs.includes(forced) && !langs.includes(forced.split('-')[0]!))
    errors.push({
      field: 'lang',
      message: `"${config.lang}" is not a language this policy publishes (${langs.join(', ')}): add "texts": { "${forced.split('-')[0]}": {} } to publish it with its preset`,
    });
  // A language longer than a receipt may name: every receipt in it would be refused.
  for (const [field, lang] of [
    ['lang', config.lang ?? ''],
    ...Object.keys(config.texts).map((k) => [`texts.${k}`, k]),
  ])
    if (lang!.length > LANG_MAX)
      errors.push({
        field: field!,
        message: `is a language tag of ${lang!.length} characters: at most ${LANG_MAX}`,
      });
  // `problems` name their field (`categories[1].id`): the policy editor shows each beside it.
  if (errors.length) return { ok: false, errors: errors.map((e) => formatError(e)), problems: errors };
  return { ok: true, version: versionOf(policyDoc(config, PRESETS)) };
};

/**
 * The consent cookie the site's banner would write for a receipt: the same codec, the same
 * fingerprint (policyFingerprint of the policy and the visitor's mode), the same bits. The
 * server writes it with Set-Cookie when it shares the site's origin, and hands it to a banner
 * on another origin that revalidates (GET /v1/consents/:id/cookie).
 */
export const cookieOf = (
  r: SignedReceipt,
  v: PolicyVersion,
  skew = 0,
): { value: string; expiresAt: number } => {
  const givenAt = Math.floor(Date.parse(r.at) / 1000) * 1000;
  const expiresAt = Date.parse(r.expiresAt);
  return {
    // `skew`: the visitor's clock less the server's (context.ts deviceSkew); the banner reads
    // these times against the visitor's clock.
    value: encodeConsent({
      id: r.consentId,
      hash: policyFingerprint(v.canonical, r.mode),
      bits: toBits(v.policy, r.choices),
      method: r.method,
      gpc: r.signals.gpc,
      givenAt: givenAt + skew,
      expiresAt: expiresAt + skew,
    }),
    expiresAt,
  };
};

/**
 * Who published each of a site's versions (`pubs` newest first, as `Store.publications` gives
 * them): the `policy-publish` audit entry naming its SHA-256, recorded from its publication until
 * the next one; null for the server's config file, which publishes at start, unaudited.
 */
export const publishers = (
  pubs: readonly Publication[],
  entries: readonly Pick<AuditRow, 'at' | 'detail' | 'actor'>[],
): (string | null)[] =>
  pubs.map(
    (p, i) =>
      entries.find(
        (e) =>
          e.at >= p.at &&
          (i === 0 || e.at <= pubs[i - 1]!.at) &&
          (JSON.parse(e.detail) as { sha256?: string }).sha256 === p.sha256,
      )?.actor ?? null,
  );

/** When a choice made now under `v` expires: the policy's `days` from now. */
export const expiryOf = (v: PolicyVersion, at: number): string =>
  new Date(at + v.config.days * DAY).toISOString();

/**
 * The policy registry: each site's current policy in memory, every version by SHA-256 from the
 * store (append-only: a published policy is never deleted, so every receipt's policy can be
 * shown and verified for as long as the receipt exists).
 *
 * Several server processes may share one PostgreSQL: a receipt naming a policy this process
 * does not know as current makes it read the site's current policy again before refusing, so
 * a policy published by another process is honoured at once.
 */
export class PolicyRegistry {
  private readonly current = new Map<string, PolicyVersion>();
  private readonly versions = new Map<string, PolicyVersion>();
  /** Sites the config file retired (`"origin": false`): kept for their history, served no more. */
  private readonly retiredSites = new Set<string>();

  constructor(private readonly store: Store) {}

  /**
   * Retires sites: their banners and policy are no longer served, their receipts no longer
   * taken (CORS, `POST /v1/receipts`, `GET /v1/policy`, publishing). What they collected stays:
   * the console, exports, proofs, the consent page (a visitor may still withdraw) and erasure.
   */
  retire(origins: Iterable<string>): void {
    for (const o of origins) this.retiredSites.add(o);
  }

  retired(origin: string): boolean {
    return this.retiredSites.has(origin);
  }

  /** Whether the site's banner is served and its receipts taken: published and not retired. */
  serves(origin: string): boolean {
    return this.current.has(origin) && !this.retiredSites.has(origin);
  }

  private loaded = 0;
  private loading: Promise<void> | undefined;

  /** Reads every site's current policy (at start, then now and then: see `refresh`). */
  async load(): Promise<void> {
    for (const row of await this.store.currentPolicies()) this.remember(row.site, row.doc);
    this.loaded = Date.now();
  }

  /**
   * Reads every site's current policy again, at most once a second however often it is asked
   * (a flood of receipts naming bogus policies costs one query a second, not one each).
   */
  private reload(): Promise<void> {
    if (Date.now() - this.loaded < 1000) return this.loading ?? Promise.resolve();
    this.loaded = Date.now();
    this.loading = this.load().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  /**
   * Keeps several processes on one database in step: every `ms` (default 10 s) each reads the
   * sites' current policies, so a policy or a site published by another process is served here
   * too within that time (and at once when a receipt names it, see `refresh`).
   */
  follow(ms = 10_000): { stop(): void } {
    const t = setInterval(() => this.reload().catch(() => {}), ms);
    t.unref();
    return { stop: () => clearInterval(t) };
  }

  private remember(site: string | null, doc: string): PolicyVersion {
    const v = versionOf(JSON.parse(doc) as PolicyDoc, doc);
    this.versions.set(v.sha256, v);
    if (site) this.current.set(site, v);
    return v;
  }

  /**
   * Publishes `v` for `site` (a no-op when it is already current); returns whether it changed.
   * With `audit`, its audit entry is written in the same transaction (Store.publish).
   */
  async publish(
    site: string,
    v: PolicyVersion,
    at = new Date().toISOString(),
    audit?: { readonly row: AuditRow; readonly changed: boolean },
  ): Promise<boolean> {
    let changed: boolean;
    try {
      changed = await this.store.publish(site, { sha256: v.sha256, doc: v.canonical }, at, audit);
    } catch (e) {
      if (audit) {
        // Another process published for this site at the same moment (PostgreSQL's unique
        // key on (site, seq)): what the entry says may no longer hold, so the caller reads again.
        const code = String((e as { code?: unknown } | null)?.code ?? '');
        if (code === '23505' || code.startsWith('SQLITE_CONSTRAINT')) throw new AuditStale();
        throw e;
      }
      // Another process published for this site at the same moment (the (site, seq) key took
      // one of us): publish again after it, once.
      await this.load();
      if (this.current.get(site)?.sha256 === v.sha256) return false;
      changed = await this.store.publish(site, { sha256: v.sha256, doc: v.canonical }, at).catch(() => {
        throw e;
      });
    }
    this.versions.set(v.sha256, v);
    this.current.set(site, v);
    return changed;
  }

  /** The site's current policy, as this process last knew it. */
  site(origin: string): PolicyVersion | undefined {
    return this.current.get(origin);
  }

  sites(): IterableIterator<string> {
    return this.current.keys();
  }

  has(origin: string): boolean {
    return this.current.has(origin);
  }

  /** The site's current policy read from the store again (another process may have published). */
  async refresh(origin: string): Promise<PolicyVersion | undefined> {
    await this.reload();
    return this.current.get(origin);
  }

  /** Any version ever published, by SHA-256. */
  async get(sha256: string): Promise<PolicyVersion | null> {
    const known = this.versions.get(sha256);
    if (known) return known;
    const row = await this.store.policy(sha256);
    return row ? this.remember(null, row.doc) : null;
  }
}
