import type { ButtonLook } from '../types.js';
import { rule } from './define.js';

/** The consent interface's design, as the EDPB Cookie Banner Taskforce and the CNIL check it. */

/** What makes reject look less than accept, in words; empty when they are equal enough. */
export const weaker = (accept: ButtonLook, reject: ButtonLook): string[] => {
  const out: string[] = [];
  const area = (b: ButtonLook) => b.width * b.height;
  if (area(reject) < 0.75 * area(accept))
    out.push(`smaller (${reject.width}×${reject.height} px against ${accept.width}×${accept.height})`);
  if (reject.fontSize < 0.9 * accept.fontSize)
    out.push(`smaller text (${reject.fontSize} px against ${accept.fontSize})`);
  if (reject.fontWeight + 200 <= accept.fontWeight)
    out.push(`lighter text (weight ${reject.fontWeight} against ${accept.fontWeight})`);
  if (reject.textContrast < Math.min(4.5, 0.7 * accept.textContrast))
    out.push(`fainter text (contrast ${reject.textContrast}:1 against ${accept.textContrast}:1)`);
  if (accept.faceContrast >= 1.5 && reject.faceContrast < accept.faceContrast / 1.5)
    out.push(`no button face (${reject.faceContrast}:1 against ${accept.faceContrast}:1 for accept)`);
  return out;
};

export const rejectLessProminent = rule({
  id: 'reject-less-prominent',
  title: 'Reject looks less than accept',
  law: 'EDPB Cookie Banner Taskforce report (2023), types D and E; CNIL 2020; CCPA regs §7004 (Honda, 2025)',
  why: 'Refusing must be as easy and as visible as accepting: same size, weight and contrast, not a faint link beside a bright button (EDPB Cookie Banner Taskforce, deceptive button colours and contrast; CCPA regulations §7004 on symmetry in choice).',
  severity: 'error',
  check: (ctx) => {
    const b = ctx.phases.before.bannerDesign?.buttons;
    if (ctx.mode !== 'opt-in' || !b) return [];
    const why = weaker(b.accept, b.reject);
    return why.length
      ? [
          {
            phase: 'before',
            subject: { type: 'banner', name: ctx.banner.cmp ?? ctx.banner.kind },
            message: `Reject is ${why.join(', ')} than accept in ${ctx.banner.cmp}.`,
          },
        ]
      : [];
  },
  unchecked: (ctx) => {
    const d = ctx.phases.before.bannerDesign;
    if (ctx.mode !== 'opt-in' || !d || d.buttons || ctx.banner.kind === 'none') return null;
    return ctx.banner.kind === 'autoconsent'
      ? `the buttons of ${ctx.banner.cmp ?? 'a CMP autoconsent recognised'} are not measured (name them with "selectors" in the config to measure them)`
      : 'accept and reject were not both visible on the first layer, so they could not be compared';
  },
});

export const multipleConsentInterfaces = rule({
  id: 'multiple-consent-interfaces',
  title: 'More than one consent interface',
  law: 'GDPR Art. 4(11), 7(2) (a clear, distinguishable request)',
  why: 'Two banners at once (a leftover CMP beside the new one) make the request for consent unclear, and a choice in one is not known to the other (GDPR Art. 4(11), 7(2)).',
  severity: 'warning',
  check: (ctx) => {
    const found = ctx.phases.before.bannerDesign?.interfaces ?? [];
    return found.length > 1
      ? [
          {
            phase: 'before',
            subject: { type: 'banner', name: found.join(' + ') },
            message: `${found.length} consent interfaces are visible at once: ${found.join(', ')}.`,
          },
        ]
      : [];
  },
});

export const preTickedChoices = rule({
  id: 'pre-ticked-choices',
  title: 'Non-essential purposes ticked in advance',
  law: 'GDPR Art. 4(11); CJEU C-673/17 Planet49 (2019)',
  why: 'Consent is an affirmative act: a box ticked in advance is not consent (CJEU, Planet49, C-673/17).',
  severity: 'error',
  check: (ctx) => {
    const ticked = ctx.phases.before.bannerDesign?.preTicked ?? [];
    // Opt-out mode is on until the visitor opts out: its boxes are ticked by design.
    return ctx.mode === 'opt-in' && ticked.length
      ? [
          {
            phase: 'before',
            subject: { type: 'banner', name: ticked.join(', ') },
            message: `The second layer opens with non-essential purposes already ticked: ${ticked.join(', ')}.`,
          },
        ]
      : [];
  },
  unchecked: (ctx) => {
    const d = ctx.phases.before.bannerDesign;
    if (ctx.mode !== 'opt-in' || !d || d.preTicked !== null) return null;
    return d.secondLayerNotInspected ?? null;
  },
});
