import { MAX_DAYS } from '@assent/core';
import { isConsentCookie } from './consent-cookies.js';
import { type Hit, type RuleContext, rule } from './define.js';
import {
  acceptNotMade,
  nonEssentialCookies,
  nonEssentialRequests,
  nonEssentialStorage,
  rejectNotMade,
} from './device.js';

/** The consent interface itself: is there one when it is needed, can one refuse, does each choice work. */

const cmpName = (ctx: RuleContext) => ctx.banner.cmp ?? ctx.banner.kind;

/** The page did something that needs consent on its first visit (a page that needs no banner must not fail CI). */
const needsABanner = (ctx: RuleContext): boolean => {
  const p = ctx.phases.before;
  return (
    nonEssentialCookies(p, ctx).length > 0 ||
    nonEssentialStorage(p).length > 0 ||
    nonEssentialRequests(p).length > 0
  );
};

export const bannerMissing = rule({
  id: 'banner-missing',
  title: 'No consent banner',
  law: 'ePrivacy Directive Art. 5(3); GDPR Art. 4(11), 7',
  why: 'Consent must be asked before non-essential cookies or trackers are used (ePrivacy Directive Art. 5(3); GDPR Art. 4(11), 7).',
  severity: 'error',
  check: (ctx) =>
    ctx.banner.kind === 'none' && ctx.mode === 'opt-in' && needsABanner(ctx)
      ? [
          {
            phase: 'before',
            subject: { type: 'banner', name: 'banner' },
            message:
              'No consent banner was found (Assent, a CMP autoconsent knows, or the configured selectors), yet the page stores or sends something that needs consent.',
          },
        ]
      : [],
});

export const rejectMissing = rule({
  id: 'reject-missing',
  title: 'No reject option on the first layer',
  law: 'EDPB Cookie Banner Taskforce report (2023); CNIL 2020 guidelines',
  why: 'Refusing must be as easy as accepting, on the same layer (EDPB Cookie Banner Taskforce report, 2023, type A; CNIL 2020 guidelines).',
  severity: 'error',
  // Opt-out mode has no reject by design (its refusal is "Do not sell" and GPC), and a
  // notice asks nothing that could be refused.
  check: (ctx) =>
    ctx.mode === 'opt-in' && ctx.banner.kind !== 'none' && ctx.banner.rejectOnFirstLayer === false
      ? [
          {
            phase: 'before',
            subject: { type: 'banner', name: cmpName(ctx) },
            message: `${ctx.banner.cmp} offers no reject option on its first layer.`,
          },
        ]
      : [],
  // Another CMP: whether its first layer has a reject control is told by the clicks its
  // opt-out took (autoconsent counts them). A rule that calls the CMP's API clicks nothing.
  unchecked: (ctx) => {
    if (ctx.mode !== 'opt-in' || ctx.banner.kind !== 'autoconsent' || ctx.banner.rejectOnFirstLayer !== null)
      return null;
    const c = ctx.phases.reject.choice;
    if (!c?.clicked) return rejectNotMade(ctx);
    return c.clicks === 0
      ? "reject made through the CMP's API, not a control"
      : `autoconsent did not count the clicks its opt-out rule for ${ctx.banner.cmp} took`;
  },
});

export const rejectIneffective = rule({
  id: 'reject-ineffective',
  title: 'Reject does not work',
  law: 'GDPR Art. 7(3); CNIL 2020 recommendation',
  why: 'A refusal must be respected and remembered like an acceptance, on every page of the site (GDPR Art. 7(3); CNIL 2020 recommendation).',
  severity: 'error',
  // A reject a visitor can see but not click (covered, `pointer-events: none`) does not work
  // either: the choice says so with `effective: false` though nothing was clicked.
  check: (ctx) => {
    const r = ctx.phases.reject.choice;
    return r?.effective === false
      ? [
          {
            phase: 'reject',
            subject: { type: 'banner', name: cmpName(ctx) },
            message: r.clicked
              ? `Clicking reject in ${ctx.banner.cmp} did not work: ${r.note ?? 'the choice was not kept'}.`
              : `Reject in ${ctx.banner.cmp} is shown but cannot be clicked: ${r.note ?? 'the click did not reach it'}.`,
          },
        ]
      : [];
  },
  unchecked: (ctx) => (ctx.phases.reject.choice?.effective === false ? null : rejectNotMade(ctx)),
});

export const acceptIneffective = rule({
  id: 'accept-ineffective',
  title: 'Accept does not release what was held',
  law: 'GDPR Art. 7(1) (the controller must be able to act on, and show, the consent it obtained)',
  why: 'After “Accept all” the scripts and embeds held for consent must run: otherwise the site collects nothing it asked for, and the banner misstates what it does (often a category the config does not declare).',
  severity: 'error',
  check: (ctx) => {
    const a = ctx.phases.accept;
    // An accept that did not take leaves everything held, whoever is at fault (a CMP not
    // ready for the click, a choice it forgot): not checked, said so, never a pass.
    if (ctx.mode === 'notice' || acceptNotMade(ctx)) return [];
    return (a.heldAfterChoice ?? []).map(
      (el): Hit => ({
        phase: 'accept',
        subject: { type: 'element', name: el },
        message: `Still held after accepting all in ${ctx.banner.cmp}: ${el}.`,
      }),
    );
  },
  unchecked: acceptNotMade,
});

export const consentCookieTooLong = rule({
  id: 'consent-cookie-too-long',
  title: 'Consent remembered longer than 13 months',
  law: 'CNIL 2020 recommendation',
  why: `The consent cookie may live at most 13 months (${MAX_DAYS} days) before asking again (CNIL 2020 recommendation).`,
  severity: 'error',
  check: (ctx) =>
    (['reject', 'accept'] as const).flatMap((phase) =>
      ctx.phases[phase].cookies.flatMap((c): Hit[] => {
        if (!isConsentCookie(c, ctx.cc) || c.lifetimeDays === null) return [];
        const days = Math.max(c.lifetimeDays, c.requestedLifetimeDays ?? 0);
        return days > MAX_DAYS
          ? [
              {
                phase,
                subject: { type: 'cookie', name: c.name },
                message: `Consent cookie ${c.name} lives ${Math.round(days)} days (at most ${MAX_DAYS}).`,
                classification: c.classification,
              },
            ]
          : [];
      }),
    ),
});
