import { glob } from './classify.js';
import { isRuleId, RULES } from './rules/index.js';
import type { RuleId, SiteMode } from './types.js';

export { RULES };

/** One allow-list entry: a finding the owner accepts, and why (the reason goes in the report). */
export interface Allow {
  /** A rule id; all rules when absent. */
  readonly rule?: RuleId;
  /** Glob (`*`) on the finding's subject: a cookie name, a storage key, a request URL or host. */
  readonly match?: string;
  /** Glob on the page URL; all pages when absent. */
  readonly page?: string;
  readonly reason: string;
}

/** Selectors for a banner neither Assent nor autoconsent recognise: the last resort. */
export interface Selectors {
  readonly banner: string;
  readonly accept?: string;
  readonly reject?: string;
}

/** The scanner config file (`--config`), all fields optional. */
export interface ScanConfig {
  readonly allow: readonly Allow[];
  /** Hosts (globs) that are essential to the site: its CDN, its payment provider… */
  readonly essentialHosts: readonly string[];
  /** Cookie names (globs) that are the site's consent record, besides Assent's. */
  readonly consentCookies: readonly string[];
  readonly selectors: Selectors | null;
  /** How long to wait for a banner after the page settled (ms). */
  readonly bannerTimeout: number;
  /** Per-navigation timeout (ms). */
  readonly navigationTimeout: number;
  /**
   * The most one visit of a page may take (ms): a page that stops answering (a script in an
   * endless loop) is then reported as a timeout, exit 2, instead of hanging the scan.
   */
  readonly visitTimeout: number;
  /** Use autoconsent for other CMPs (on by default). */
  readonly autoconsent: boolean;
  /** Chromium `--host-resolver-rules`, e.g. `MAP www.example.com 10.0.0.5` to scan staging. */
  readonly hostResolverRules: string | null;
  /** More Chromium flags, e.g. `--ignore-certificate-errors` for a staging site. */
  readonly chromiumArgs: readonly string[];
  /**
   * The rules to apply: `opt-in` (EU), `opt-out` (US state laws: GPC must be honoured and
   * shown) or `notice`. `null`: what Assent's banner says, else `opt-in`.
   */
  readonly mode: SiteMode | null;
}

export const MODES: readonly SiteMode[] = ['opt-in', 'opt-out', 'notice'];

/**
 * Why a Chromium flag cannot be passed, or `null` when it can: the scan owns the browser's
 * profile, its debugging pipe and its sandbox settings.
 */
export const badChromiumArg = (arg: string): string | null => {
  if (!/^--[a-z0-9][a-z0-9-]*(=.*)?$/i.test(arg) || /[\r\n]/.test(arg))
    return `${JSON.stringify(arg)} is not a Chromium flag (--name or --name=value)`;
  if (/^--(user-data-dir|remote-debugging-(pipe|port)|headless)(=|$)/.test(arg))
    return `${arg.split('=')[0]} is set by the scanner itself`;
  return null;
};

export const DEFAULT_CONFIG: ScanConfig = {
  allow: [],
  essentialHosts: [],
  consentCookies: [],
  selectors: null,
  bannerTimeout: 4000,
  navigationTimeout: 30_000,
  // A healthy visit takes 10–30 s on two shared cores; a slow one may spend a navigation
  // timeout on each of its three page loads.
  visitTimeout: 180_000,
  autoconsent: true,
  hostResolverRules: null,
  chromiumArgs: [],
  mode: null,
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

/**
 * Validates a parsed config file. Errors are values naming the field, like core's config:
 * a scan with a wrong config must stop with a clear message, not half-apply it.
 */
export const parseScanConfig = (input: unknown): { config: ScanConfig; errors: string[] } => {
  const errors: string[] = [];
  if (!isObj(input)) return { config: DEFAULT_CONFIG, errors: ['config: must be a JSON object'] };
  const c: Record<string, unknown> = { ...DEFAULT_CONFIG };
  for (const [k, v] of Object.entries(input)) {
    switch (k) {
      case '$schema':
      case 'comment':
        break;
      case 'allow':
        if (!Array.isArray(v)) {
          errors.push('allow: must be a list of {rule?, match?, page?, reason}');
          break;
        }
        c.allow = v.filter((a, i) => {
          const f = `allow[${i}]`;
          if (!isObj(a)) return errors.push(`${f}: must be an object`) && false;
          if (typeof a.reason !== 'string' || !a.reason.trim())
            return errors.push(`${f}.reason: every allowed finding needs a reason`) && false;
          if (a.rule !== undefined && !(typeof a.rule === 'string' && isRuleId(a.rule)))
            return (
              errors.push(`${f}.rule: unknown rule ${JSON.stringify(a.rule)} (known: ${RULES.join(', ')})`) &&
              false
            );
          for (const g of ['match', 'page'] as const)
            if (a[g] !== undefined && typeof a[g] !== 'string')
              return errors.push(`${f}.${g}: must be a string (a glob with *)`) && false;
          return true;
        });
        break;
      case 'essentialHosts':
      case 'consentCookies':
        if (strings(v)) c[k] = v;
        else errors.push(`${k}: must be a list of strings (globs with *)`);
        break;
      case 'selectors':
        if (
          isObj(v) &&
          typeof v.banner === 'string' &&
          ['accept', 'reject'].every((s) => v[s] === undefined || typeof v[s] === 'string')
        )
          c.selectors = v;
        else errors.push('selectors: must be {"banner": "css", "accept"?: "css", "reject"?: "css"}');
        break;
      case 'bannerTimeout':
      case 'navigationTimeout':
        if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 300_000) c[k] = v;
        else errors.push(`${k}: must be milliseconds from 0 to 300000`);
        break;
      case 'visitTimeout':
        if (typeof v === 'number' && Number.isInteger(v) && v >= 1000 && v <= 3_600_000) c[k] = v;
        else errors.push(`${k}: must be milliseconds from 1000 to 3600000`);
        break;
      case 'autoconsent':
        if (typeof v === 'boolean') c[k] = v;
        else errors.push(`${k}: must be true or false`);
        break;
      case 'hostResolverRules':
        if (typeof v === 'string' && !/[\r\n"]/.test(v)) c[k] = v;
        else errors.push(`${k}: must be a string such as "MAP www.example.com 127.0.0.1"`);
        break;
      case 'chromiumArgs':
        if (!strings(v))
          errors.push(`${k}: must be a list of Chromium flags such as "--ignore-certificate-errors"`);
        else {
          const bad = v.map(badChromiumArg).filter((e) => e !== null);
          if (bad.length) errors.push(`${k}: ${bad.join('; ')}`);
          else c[k] = v;
        }
        break;
      case 'mode':
        if (typeof v === 'string' && MODES.includes(v as SiteMode)) c[k] = v;
        else errors.push(`${k}: must be one of ${MODES.join(', ')}`);
        break;
      default:
        errors.push(`${k}: is not a known field`);
    }
  }
  return { config: c as unknown as ScanConfig, errors };
};

/** The allow-list entry that covers a finding on `page`, if any. */
export const allowedBy = (
  allow: readonly Allow[],
  finding: { rule: RuleId; subject: { name: string } },
  page: string,
): Allow | undefined =>
  allow.find(
    (a) =>
      (a.rule === undefined || a.rule === finding.rule) &&
      (a.match === undefined ||
        glob(a.match).test(finding.subject.name) ||
        hostMatch(a.match, finding.subject.name)) &&
      (a.page === undefined || glob(a.page).test(page)),
  );

const hostMatch = (pattern: string, subject: string): boolean => {
  try {
    return glob(pattern).test(new URL(subject).hostname);
  } catch {
    return false;
  }
};
