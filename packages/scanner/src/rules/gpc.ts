import type { Classification } from '../types.js';
import { declaredCategory, isConsentCookie } from './consent-cookies.js';
import { type Hit, type RuleContext, rule, who } from './define.js';

/**
 * Global Privacy Control: in opt-out mode (US state laws) the signal is an opt-out of sale
 * and sharing, and since 1 January 2026 California requires the site to show that it was
 * honoured (CCPA regulations §7025(c)(6)).
 */

/** Tracker database categories that are selling or sharing personal information for advertising. */
export const SALE_TRACKER_CATEGORIES: readonly string[] = ['advertising', 'social_media', 'pornvertising'];

export const isSaleOrSharing = (c: Classification): boolean =>
  c.fingerprinter === true || (c.tracker !== null && SALE_TRACKER_CATEGORIES.includes(c.tracker.category));

const applies = (ctx: RuleContext) => ctx.mode === 'opt-out';

export const gpcIgnored = rule({
  id: 'gpc-ignored',
  title: 'Global Privacy Control ignored',
  law: 'CCPA regulations §7025; Cal. Civ. Code §1798.120, §1798.135',
  why: 'A browser’s GPC signal is a valid request to opt out of sale and sharing: with it, no advertising or sharing tracker may run (CCPA regulations §7025(b)–(c)).',
  severity: 'error',
  check: (ctx) => {
    if (!applies(ctx)) return [];
    const p = ctx.phases.gpc;
    const out: Hit[] = [];
    const seen = new Set<string>();
    for (const q of p.thirdPartyRequests) {
      if (!isSaleOrSharing(q.classification) || seen.has(q.url)) continue;
      seen.add(q.url);
      out.push({
        phase: 'gpc',
        subject: { type: 'request', name: q.url },
        message: `${q.type} request to ${who(q.classification)} although the browser sent GPC: ${q.url}`,
        classification: q.classification,
      });
    }
    for (const c of p.cookies) {
      const declared = declaredCategory(c.name, ctx.cc);
      // What the site's own banner refuses under GPC (core's isSale, from its config).
      const sale = declared !== undefined && !!ctx.cc.sale?.includes(declared.split(':')[0]!);
      if (isConsentCookie(c, ctx.cc) || !(isSaleOrSharing(c.classification) || sale)) continue;
      out.push({
        phase: 'gpc',
        subject: { type: 'cookie', name: c.name },
        message: `Cookie ${c.name} (${c.domain}): ${sale && !isSaleOrSharing(c.classification) ? `declared as "${declared}" in the site's Assent config` : who(c.classification)}, although the browser sent GPC.`,
        classification: c.classification,
      });
    }
    return out;
  },
});

export const gpcNotShown = rule({
  id: 'gpc-not-shown',
  title: 'The page does not say the GPC opt-out was honoured',
  law: 'CCPA regulations §7025(c)(6) (from 1 January 2026)',
  why: 'A business must display whether it has processed the consumer’s GPC opt-out, e.g. “Opt-Out Request Honored” (CCPA regulations §7025(c)(6)).',
  severity: 'error',
  check: (ctx) =>
    applies(ctx) && ctx.phases.gpc.gpc && ctx.phases.gpc.gpc.displayed === null
      ? [
          {
            phase: 'gpc',
            subject: { type: 'signal', name: 'Sec-GPC' },
            message:
              'The browser sent GPC, but the page shows no text saying the opt-out was honoured (looked for “Global Privacy Control”, “GPC” or “opt-out … honored”).',
          },
        ]
      : [],
});

export const gpcNotRecorded = rule({
  id: 'gpc-not-recorded',
  title: 'The consent record leaves out the GPC signal',
  law: 'GDPR Art. 7(1); CCPA regulations §7025',
  why: 'Where consent is asked first (opt-in), GPC changes nothing the visitor is asked, but the record of their choice must keep the signal their browser sent: it is part of what the site must be able to demonstrate (GDPR Art. 7(1)), and the proof that a GPC opt-out was processed (CCPA regulations §7025).',
  severity: 'warning',
  check: (ctx) => {
    const r = ctx.phases.gpc.gpc?.recorded;
    return ctx.mode === 'opt-in' && r && !r.gpc
      ? [
          {
            phase: 'gpc',
            subject: { type: 'signal', name: 'Sec-GPC' },
            message: `The browser sent GPC; the receipt of the choice made on that visit, posted to ${r.receipt}, says signals.gpc is not true.`,
          },
        ]
      : [];
  },
});
