import type { Detection, DetectorName, PhaseName } from '../types.js';
import { type Hit, type RuleContext, rule } from './define.js';
import { acceptNotMade, beforeConsentPhases, judged, rejectMade } from './device.js';

/** Rules on what the detectors found (see detectors/detect.ts); pixels and session replay are reported, and judged by the request rules. */

const hits = (
  ctx: RuleContext,
  phases: readonly PhaseName[],
  detector: DetectorName,
  message: (d: Detection, phase: PhaseName) => string,
): Hit[] => {
  const out: Hit[] = [];
  for (const phase of phases) {
    // The same request sent again (after the click, then after the reload) is one finding.
    const seen = new Set<string>();
    for (const d of judged(phase, ctx).detections ?? []) {
      const key = `${d.name}|${d.script}|${d.url}|${d.detail}`;
      // After the click, only what happened after it: a read-back made before an opt-out is
      // not one made after it (the before phase judged it, where the mode asks for that).
      if (d.detector !== detector || seen.has(key) || (phase === 'reject' && d.afterChoice === false))
        continue;
      seen.add(key);
      out.push({
        phase,
        subject: { type: d.url ? 'request' : 'element', name: d.url ?? `${d.name} ${d.script ?? ''}`.trim() },
        message: message(d, phase),
      });
    }
  }
  return out;
};

const WHEN: Record<PhaseName, string> = {
  before: 'before consent',
  reject: 'after reject',
  accept: 'after accept',
  gpc: 'with GPC',
};

const rejected = (ctx: RuleContext): PhaseName[] => (rejectMade(ctx) ? ['reject'] : []);

export const fingerprinting = rule({
  id: 'fingerprinting',
  title: 'Browser fingerprinting without consent',
  law: 'ePrivacy Directive Art. 5(3); EDPB Guidelines 2/2023 §2.4',
  why: 'Reading back a canvas or an audio rendering, or probing the installed fonts, reads information from the device to single it out: it needs consent like a cookie (ePrivacy Art. 5(3); EDPB Guidelines 2/2023).',
  severity: 'error',
  check: (ctx) =>
    hits(
      ctx,
      [...beforeConsentPhases(ctx), ...rejected(ctx)],
      'fingerprinting',
      (d, phase) => `${d.name} by ${d.script ?? 'an inline script'}, ${WHEN[phase]}.`,
    ),
});

export const keylogging = rule({
  id: 'keylogging',
  title: 'Text typed into a form left the page before it was submitted',
  law: 'GDPR Art. 5(1)(a), (c); ePrivacy Directive Art. 5(1)',
  why: 'What a visitor types and never sends is not theirs to collect: capturing it is neither transparent nor minimal, with consent or without (GDPR Art. 5(1)(a), (c)), and reading it in transit to a third party is interception (ePrivacy Art. 5(1)).',
  severity: 'error',
  check: (ctx) =>
    hits(
      ctx,
      ['before', 'accept'],
      'keylogging',
      (d, phase) =>
        `${d.detail}, sent to ${d.name}${d.script ? ` by ${d.script}` : ''}, ${WHEN[phase]}: ${d.url}`,
    ),
  unchecked: (ctx) => {
    // Fields that took no sentinel at all: nothing was typed that a keylogger could send.
    const missed = (['before', 'accept'] as const).filter((p) => {
      const s = ctx.phases[p].sentinels;
      return s !== undefined && s.typed === 0;
    });
    const s = missed.length ? ctx.phases[missed[0]!].sentinels! : undefined;
    const typed = s
      ? `no sentinel could be typed into the page's ${s.fields} visible text field(s) ${missed.map((p) => WHEN[p]).join(' or ')}`
      : null;
    // Fields typed into after an accept that did not take: the trackers it would have
    // started never ran, so what they would send was never seen.
    const fields = ctx.phases.accept.sentinels ?? ctx.phases.before.sentinels;
    const noAccept = ctx.banner.kind !== 'none' && fields ? acceptNotMade(ctx) : null;
    const accept = noAccept ? `after accept: ${noAccept}` : null;
    return [typed, accept].filter(Boolean).join('; ') || null;
  },
});

export const personalDataInUrl = rule({
  id: 'personal-data-in-url',
  title: 'What the visitor reads, or their e-mail, sent to a third party',
  law: 'GDPR Art. 5(1)(b), (c); CCPA §1798.100 (Healthline, 2025)',
  why: 'A page’s path or title says what a visitor reads (on a health or news site, sensitive data); sending it, or an e-mail address, to a tracker goes beyond what a visitor expects, even with consent (GDPR Art. 5(1)(b)-(c); the Healthline settlement, California 2025).',
  severity: 'warning',
  check: (ctx) =>
    hits(
      ctx,
      ['before', 'reject', 'accept', 'gpc'],
      'personal-data-in-url',
      (d, phase) =>
        `Request to ${d.name}${d.script ? ` (sent by ${d.script})` : ''} ${d.detail}, ${WHEN[phase]}: ${d.url}`,
    ),
});
