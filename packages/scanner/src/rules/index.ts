import { allowedBy, type ScanConfig } from '../config.js';
import type { Finding } from '../types.js';
import { multipleConsentInterfaces, preTickedChoices, rejectLessProminent } from './banner-design.js';
import {
  acceptIneffective,
  bannerMissing,
  consentCookieTooLong,
  rejectIneffective,
  rejectMissing,
} from './consent-ui.js';
import type { Rule, RuleContext } from './define.js';
import { fingerprinting, keylogging, personalDataInUrl } from './detected.js';
import {
  cookieAfterReject,
  cookieBeforeConsent,
  requestAfterReject,
  requestBeforeConsent,
  storageAfterReject,
  storageBeforeConsent,
} from './device.js';
import { gpcIgnored, gpcNotRecorded, gpcNotShown } from './gpc.js';

/**
 * Every rule, once. The order is the reports' order. Adding a rule here is all it takes for
 * `--fail-on`, the allow-list, the JUnit cases and the reports' rule texts to know it; the
 * registry test then asks for a fixture that triggers it.
 */
export const REGISTRY = [
  bannerMissing,
  rejectMissing,
  rejectIneffective,
  acceptIneffective,
  rejectLessProminent,
  multipleConsentInterfaces,
  preTickedChoices,
  cookieBeforeConsent,
  cookieAfterReject,
  storageBeforeConsent,
  storageAfterReject,
  requestBeforeConsent,
  requestAfterReject,
  consentCookieTooLong,
  gpcIgnored,
  gpcNotShown,
  gpcNotRecorded,
  fingerprinting,
  keylogging,
  personalDataInUrl,
] as const;

/** Rule ids are stable: configs, allow-lists and CI filters refer to them. */
export type RuleId = (typeof REGISTRY)[number]['id'];

export const RULES: readonly RuleId[] = REGISTRY.map((r) => r.id);

/** The rules that fail a scan when `--fail-on` is not given: every `error`. */
export const DEFAULT_FAIL_ON: readonly RuleId[] = REGISTRY.filter((r) => r.severity === 'error').map(
  (r) => r.id,
);

const BY_ID = new Map<string, Rule<RuleId>>(REGISTRY.map((r) => [r.id, r]));

export const ruleById = (id: RuleId): Rule<RuleId> => BY_ID.get(id)!;

export const isRuleId = (id: string): id is RuleId => BY_ID.has(id);

/** Title and legal reason by rule, as the reports quote them (kept for the library's users). */
export const RULE_TEXT = Object.fromEntries(
  REGISTRY.map((r) => [r.id, { title: r.title, why: r.why }]),
) as Record<RuleId, { title: string; why: string }>;

/** Every rule, applied to one page. Pure: the same input gives the same findings. */
export const findingsFor = (pageUrl: string, ctx: RuleContext, config: ScanConfig): Finding[] =>
  REGISTRY.flatMap((r) =>
    r.check(ctx).map((h): Finding => {
      const f = {
        rule: r.id,
        phase: h.phase,
        subject: h.subject,
        message: h.message,
        tracker: h.classification?.tracker ?? null,
        kind: h.classification?.kind ?? null,
      };
      const a = allowedBy(config.allow, f, pageUrl);
      return { ...f, allowed: a ? { reason: a.reason } : null };
    }),
  );

/** The rules one page's visits could not test, with why (Rule.unchecked), in registry order. */
export const uncheckedFor = (ctx: RuleContext): { rule: RuleId; reason: string }[] =>
  REGISTRY.flatMap((r) => {
    const reason = r.unchecked?.(ctx) ?? null;
    return reason ? [{ rule: r.id, reason }] : [];
  });

export { type ConsentCookies, consentCookies, declaredCategory, isConsentCookie } from './consent-cookies.js';
export type { Hit, Rule, RuleContext, Severity } from './define.js';
