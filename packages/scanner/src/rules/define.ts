import type { BannerInfo, Classification, Finding, PageResult, SiteMode } from '../types.js';
import type { ConsentCookies } from './consent-cookies.js';

/** How much a rule's finding weighs: an `error` fails the scan by default, a `warning` only when named in `--fail-on`. */
export type Severity = 'error' | 'warning';

/** What every rule sees: one page's phases, as recorded, and what the scan learnt about the site. */
export interface RuleContext {
  readonly banner: BannerInfo;
  readonly mode: SiteMode;
  readonly phases: PageResult['phases'];
  readonly cc: ConsentCookies;
}

/** One finding as a rule reports it; the registry adds the rule id and the allow-list verdict. */
export interface Hit {
  readonly phase: Finding['phase'];
  readonly subject: Finding['subject'];
  readonly message: string;
  readonly classification?: Classification | null;
}

/**
 * One rule, defined once: its id (stable, used by `--fail-on`, allow-lists and JUnit), its
 * title and legal reference in words a DPO reads, its severity, and its check. Reports, JUnit
 * cases and the CLI's rule list are all derived from the registry of these.
 */
export interface Rule<Id extends string = string> {
  readonly id: Id;
  readonly title: string;
  /** The provision or guidance, short: "ePrivacy Directive Art. 5(3)". */
  readonly law: string;
  /** Why it matters, in one or two sentences quoting `law`. */
  readonly why: string;
  readonly severity: Severity;
  /** Pure: the same context gives the same hits. */
  readonly check: (ctx: RuleContext) => readonly Hit[];
  /**
   * Why this page's visits could not show whether the rule holds (the reports say "not
   * checked" with it, JUnit a skipped case), or null when they could. A rule without it is
   * always checked. No finding is not the same as checked: a scan must not pass in silence a
   * rule it never tested.
   */
  readonly unchecked?: (ctx: RuleContext) => string | null;
}

/** Keeps the id's literal type so the registry can derive the `RuleId` union. */
export const rule = <const Id extends string>(r: Rule<Id>): Rule<Id> => r;

/** The tracker or site behind a classification, for messages. */
export const who = (c: Classification): string => {
  const fp = c.fingerprinter ? ', fingerprinting vendor' : '';
  if (c.tracker) {
    const org = c.tracker.organization ? `${c.tracker.organization}, ` : '';
    const named = `${c.tracker.name} (${org}${c.tracker.category.replace(/_/g, ' ')}${fp})`;
    // A write by a tag manager (classify.ts, judgedByWriter): its tags' doing, not essential.
    return c.kind === 'unknown-third-party'
      ? `written through ${named}, which vouches for none of the tags it runs (judged as an unknown third party)`
      : named;
  }
  return c.kind === 'unknown-third-party' ? `unknown third party ${c.site}` : c.site;
};
