import { createPolicy, decide, isConsentId, validateConfig } from '@assent/core';
import { needsConsent } from '../classify.js';
import type {
  Classification,
  CookieRecord,
  PhaseName,
  PhaseRecord,
  RequestRecord,
  StorageRecord,
} from '../types.js';
import { declaredCategory, isConsentCookie } from './consent-cookies.js';
import { type Hit, type RuleContext, rule, who } from './define.js';

/**
 * The six device rules: a non-essential cookie, storage key or request before consent or
 * after reject. "Non-essential" is the classifier's verdict (a tracker, a fingerprinting
 * vendor, an unknown third party) or the site's own declaration in its Assent config.
 */

/**
 * Whether acknowledging a notice grants the non-essential categories, by core's own rule
 * (`decide` with `notice-ack`, asked once of a one-category policy): the scanner judges what
 * runs after the acknowledgement exactly as the banner lets it run. Core grants them: a
 * notice informs, it asks nothing, so what runs after it is not "before consent".
 */
const NOTICE_ACK_GRANTS: boolean = (() => {
  const { config } = validateConfig({ mode: 'notice', categories: [{ id: 'analytics' }] });
  const id = 'AAAAAAAAAAAAAAAAAAAAAA';
  if (!isConsentId(id)) return false;
  return (
    decide(createPolicy(config), { kind: 'choice', method: 'notice-ack', id, now: 0 }).granted.analytics ===
    true
  );
})();

/**
 * The phases that are "before consent": the first visit; in notice mode the acknowledged
 * notice too, unless core grants what it declares on acknowledgement (it does: see above).
 */
export const beforeConsentPhases = (ctx: RuleContext): PhaseName[] =>
  ctx.mode === 'opt-out'
    ? []
    : ctx.mode === 'notice' && !NOTICE_ACK_GRANTS
      ? ['before', 'accept']
      : ['before'];

/** Reject was clicked: otherwise the reject visit is just another first visit. */
export const rejectMade = (ctx: RuleContext): boolean => ctx.phases.reject.choice?.clicked === true;

/**
 * Why the after-reject rules could not be tested on this page, or `null` when they were (or
 * do not apply: a notice offers nothing to refuse). A reject that was never made — no
 * banner found, none clickable — must not pass them in silence.
 */
export const rejectNotMade = (ctx: RuleContext): string | null => {
  if (rejectMade(ctx) || ctx.mode === 'notice') return null;
  // No banner, nothing to click: what a refusal would change was never seen either.
  if (ctx.banner.kind === 'none') return NO_BANNER_FOUND;
  const note = ctx.phases.reject.choice?.note;
  return `reject was not made${note ? `: ${note}` : ''}`;
};

/** Why the choice rules were not checked on a page where no banner was found. */
export const NO_BANNER_FOUND = 'no banner found';

/**
 * Why what runs after accept could not be judged, or `null` when it could (or there is no
 * accept to judge: a notice is acknowledged, not accepted). No banner, an accept that could
 * not be clicked, or one that did not take (the banner stayed, or came back after the reload
 * although the scan clicked twice) leaves the accept phase a first visit again.
 */
export const acceptNotMade = (ctx: RuleContext): string | null => {
  if (ctx.mode === 'notice') return null;
  if (ctx.banner.kind === 'none') return NO_BANNER_FOUND;
  const a = ctx.phases.accept.choice;
  if (!a?.clicked) return `accept was not made${a?.note ? `: ${a.note}` : ''}`;
  if (a.effective === false) return `accept did not take: ${a.note ?? 'the banner stayed'}`;
  return null;
};

/** The reject phase counts only when reject was clicked. */
const afterReject = (ctx: RuleContext): PhaseName[] => (rejectMade(ctx) ? ['reject'] : []);

/**
 * What the first visit did before any choice: the `before` record, and what the reject visit
 * did after that record but before the click (a tag loaded on the visitor's first mouse move
 * or key press fires while the banner is inspected). Each item once.
 */
export const beforeChoice = (ctx: RuleContext): PhaseRecord => {
  const b = ctx.phases.before;
  const r = ctx.phases.reject;
  const urls = new Set(b.thirdPartyRequests.map((q) => q.url));
  const cookies = new Set(b.cookies.map((c) => `${c.domain}|${c.name}`));
  const keys = new Set(b.storage.map((s) => `${s.area}|${s.origin}|${s.key}`));
  const detections = new Set((b.detections ?? []).map((d) => `${d.detector}|${d.name}|${d.script}|${d.url}`));
  return {
    ...b,
    thirdPartyRequests: [
      ...b.thirdPartyRequests,
      ...r.thirdPartyRequests.filter((q) => !q.afterChoice && !urls.has(q.url)),
    ],
    cookies: [
      ...b.cookies,
      ...r.cookies.filter((c) => c.afterChoice === false && !cookies.has(`${c.domain}|${c.name}`)),
    ],
    storage: [
      ...b.storage,
      ...r.storage.filter((s) => s.afterChoice === false && !keys.has(`${s.area}|${s.origin}|${s.key}`)),
    ],
    detections: [
      ...(b.detections ?? []),
      ...(r.detections ?? []).filter(
        (d) => d.afterChoice === false && !detections.has(`${d.detector}|${d.name}|${d.script}|${d.url}`),
      ),
    ],
  };
};

/** The phase's record as the rules judge it: before = everything before the choice (see beforeChoice). */
export const judged = (phase: PhaseName, ctx: RuleContext): PhaseRecord =>
  phase === 'before' ? beforeChoice(ctx) : ctx.phases[phase];

/**
 * After a click, only what was written after it: a cookie or key left in the jar from before
 * the choice (allowed then in opt-out mode, or already judged before consent) is not the
 * choice's doing. Written at an unknown time: judged, as the jar shows it.
 */
const sinceChoice = (phase: PhaseName, x: { afterChoice?: boolean }) =>
  phase === 'before' || phase === 'gpc' || x.afterChoice !== false;

const when = (phase: PhaseName) =>
  phase === 'reject'
    ? 'after reject'
    : phase === 'accept'
      ? 'after acknowledging the notice'
      : 'before consent';

/** A non-essential cookie in the phase, with the words that say why. */
export const nonEssentialCookies = (
  p: PhaseRecord,
  ctx: RuleContext,
): { cookie: CookieRecord; what: string }[] =>
  p.cookies.flatMap((c) => {
    const declared = declaredCategory(c.name, ctx.cc);
    if (isConsentCookie(c, ctx.cc) || !(needsConsent(c.classification) || declared)) return [];
    const what =
      needsConsent(c.classification) || !declared
        ? who(c.classification)
        : `declared as "${declared}" in the site's Assent config`;
    return [{ cookie: c, what }];
  });

export const nonEssentialStorage = (p: PhaseRecord): StorageRecord[] =>
  p.storage.filter((s) => needsConsent(s.classification));

/** Non-essential requests, each URL once (after a click: only those sent after it). */
export const nonEssentialRequests = (p: PhaseRecord): RequestRecord[] => {
  const seen = new Set<string>();
  return p.thirdPartyRequests.filter((q) => {
    if ((p.choice?.clicked && !q.afterChoice) || !needsConsent(q.classification) || seen.has(q.url))
      return false;
    seen.add(q.url);
    return true;
  });
};

/** In notice mode the acknowledged visit repeats the first one: only what is new there counts. */
const notSeenBefore = (phase: PhaseName, ctx: RuleContext, name: string, list: 'cookies' | 'storage') =>
  phase !== 'accept' ||
  !(list === 'cookies'
    ? ctx.phases.before.cookies.some((c) => c.name === name)
    : ctx.phases.before.storage.some((s) => s.key === name));

const cookieHits = (phases: PhaseName[], ctx: RuleContext): Hit[] =>
  phases.flatMap((phase) =>
    nonEssentialCookies(judged(phase, ctx), ctx)
      .filter((x) => sinceChoice(phase, x.cookie) && notSeenBefore(phase, ctx, x.cookie.name, 'cookies'))
      .map(({ cookie: c, what }) => {
        const by = c.setBy
          ? ` set by ${c.setBy.via === 'script' ? 'script' : 'response from'} ${c.setBy.url}`
          : '';
        return hit(
          phase,
          'cookie',
          c.name,
          `Cookie ${c.name} (${c.domain})${by}: ${what}, ${when(phase)}.`,
          c.classification,
        );
      }),
  );

const storageHits = (phases: PhaseName[], ctx: RuleContext): Hit[] =>
  phases.flatMap((phase) =>
    nonEssentialStorage(judged(phase, ctx))
      .filter((s) => sinceChoice(phase, s) && notSeenBefore(phase, ctx, s.key, 'storage'))
      .map((s) =>
        hit(
          phase,
          'storage',
          s.key,
          `${s.area} ${s.area === 'indexedDB' ? 'database' : 'key'} ${s.key} (${s.origin}): ${who(s.classification)}, ${when(phase)}.`,
          s.classification,
        ),
      ),
  );

const requestHits = (phases: PhaseName[], ctx: RuleContext): Hit[] =>
  phases.flatMap((phase) =>
    nonEssentialRequests(judged(phase, ctx)).map((q) => {
      const by = q.initiator?.type === 'script' && q.initiator.url ? ` (sent by ${q.initiator.url})` : '';
      return hit(
        phase,
        'request',
        q.url,
        `${q.type} request to ${who(q.classification)}, ${when(phase)}${by}: ${q.url}`,
        q.classification,
      );
    }),
  );

const hit = (
  phase: PhaseName,
  type: Hit['subject']['type'],
  name: string,
  message: string,
  classification: Classification,
): Hit => ({ phase, subject: { type, name }, message, classification });

export const cookieBeforeConsent = rule({
  id: 'cookie-before-consent',
  title: 'Non-essential cookie before consent',
  law: 'ePrivacy Directive Art. 5(3)',
  why: 'Storing non-essential information on the device needs prior consent (ePrivacy Directive Art. 5(3)).',
  severity: 'error',
  check: (ctx) => cookieHits(beforeConsentPhases(ctx), ctx),
});

export const cookieAfterReject = rule({
  id: 'cookie-after-reject',
  title: 'Non-essential cookie after reject',
  law: 'ePrivacy Directive Art. 5(3)',
  why: 'After a refusal no non-essential information may be stored (ePrivacy Directive Art. 5(3)).',
  severity: 'error',
  check: (ctx) => cookieHits(afterReject(ctx), ctx),
  unchecked: rejectNotMade,
});

export const storageBeforeConsent = rule({
  id: 'storage-before-consent',
  title: 'Non-essential storage before consent',
  law: 'ePrivacy Directive Art. 5(3); EDPB Guidelines 2/2023',
  why: 'localStorage, sessionStorage and IndexedDB are covered like cookies (ePrivacy Directive Art. 5(3); EDPB Guidelines 2/2023).',
  severity: 'error',
  check: (ctx) => storageHits(beforeConsentPhases(ctx), ctx),
});

export const storageAfterReject = rule({
  id: 'storage-after-reject',
  title: 'Non-essential storage after reject',
  law: 'ePrivacy Directive Art. 5(3); EDPB Guidelines 2/2023',
  why: 'After a refusal no non-essential information may be stored (ePrivacy Directive Art. 5(3); EDPB Guidelines 2/2023).',
  severity: 'error',
  check: (ctx) => storageHits(afterReject(ctx), ctx),
  unchecked: rejectNotMade,
});

export const requestBeforeConsent = rule({
  id: 'request-before-consent',
  title: 'Tracker or unknown third party contacted before consent',
  law: 'EDPB Guidelines 2/2023 on the technical scope of Art. 5(3)',
  why: 'A request to a tracker sends the visitor’s IP address and identifiers to a third party (EDPB Guidelines 2/2023 on the technical scope of Art. 5(3)).',
  severity: 'error',
  check: (ctx) => requestHits(beforeConsentPhases(ctx), ctx),
});

export const requestAfterReject = rule({
  id: 'request-after-reject',
  title: 'Tracker or unknown third party contacted after reject',
  law: 'EDPB Guidelines 2/2023; GDPR Art. 7(3)',
  why: 'After a refusal trackers must stay off (EDPB Guidelines 2/2023; GDPR Art. 7(3)).',
  severity: 'error',
  check: (ctx) => requestHits(afterReject(ctx), ctx),
  unchecked: rejectNotMade,
});
