import {
  createPolicy,
  type Decision,
  decide,
  decodeConsent,
  formatError,
  fromBits,
  type Mode,
  modeForRegion,
  type StoredConsent,
  type Texts,
  type Validated,
} from '@assent/core';
import { type AssentApi, api, delegate } from './api.js';
import { activate, observe } from './blocker.js';
import { clean, readCookie } from './cookies.js';
import { discover } from './discover.js';
import { adopt, doc, onReady, win } from './dom.js';
import { emit } from './events.js';
import { gcmHint, gcmStart, gcmUpdate, tagEvent } from './gcm.js';
import { showBanner, showFab } from './notice.js';
import { newId, S } from './state.js';
import { due, type PublishedPolicy, published, revalidate, api as serverApi, within } from './sync.js';

declare global {
  interface Window {
    /** Language presets (`i18n/de.js` …) register here before the banner starts. */
    assentTexts?: Record<string, Partial<Texts>>;
  }
  interface Navigator {
    globalPrivacyControl?: boolean;
  }
}

/** Crawlers and automation that announce themselves; only used with `hideFromBots`. */
const BOT = /bot|crawl|spider|slurp|lighthouse/i;

/**
 * Starts the banner from a validated config. A config error is printed, naming the field,
 * and the banner goes on with the safe default for that field: nothing non-essential runs.
 *
 * @param region the visitor's region when the site knows it (`data-assent-region`).
 */
export const start = (v: Validated, mode?: Mode, region?: string, pub?: PublishedPolicy): AssentApi => {
  // init() twice (ESM): the same banner and one set of listeners, so one click is one choice.
  // (The drop-in starts once.)
  if (!globalThis.ASSENT_LITE && S._policy) return api;
  // Another Assent on the page (a drop-in tag beside init()): two banners would ask twice,
  // with two cookie fingerprints, on every page. The first one stays; this one says so.
  // (Another Assent has `allowed`: a page's own global of that name, or an element with
  // id="Assent", is no banner, and stopped this one from starting at all.)
  if (!globalThis.ASSENT_LITE && win.Assent?.allowed && win.Assent !== api) {
    console.error('assent: another Assent runs on this page: this one does not start');
    return win.Assent;
  }
  // The lite build's copy of that: a second tag (a plugin and a theme both adding it) stops
  // here, said by main.ts's guard; before, two banners asked, under two consent IDs.
  if (globalThis.ASSENT_LITE && win.Assent?.allowed) throw 'loaded twice';
  // Full build: not ready until the banner reports (see types/assent.d.ts).
  if (!globalThis.ASSENT_LITE) api.ready = false;
  for (const e of v.errors) console.error(formatError(e));
  // Receipts name the published policy the page renders (full build): the server's, or the
  // page's own config exactly as the server would publish it.
  if (!globalThis.ASSENT_LITE && (pub || v.config.endpoint)) {
    const r = published(v.config, pub);
    v = { config: r.config, errors: [] };
    canonical = r.canonical;
  }
  const { regions, endpoint, googleConsentMode: gcm } = v.config;
  // The lite build has no regions: esbuild folds ASSENT_LITE to true and drops them.
  if (!globalThis.ASSENT_LITE && regions && !mode) {
    // Nothing says the region: opt-in for everyone, whatever `regions` says; said.
    if (!region && !endpoint)
      console.error(
        'assent: regions: no data-assent-region, and no endpoint to ask: every visitor gets opt-in',
      );
    mode = region || !endpoint ? modeForRegion(regions, region) : mode;
  }
  // Two cases wait. The region comes from the receipt server (full build: it reads a trusted
  // CDN header); never long: on a timeout or an error the mode is opt-in. And a banner without
  // `defer` in <head>: the page is still parsing, and the work waits for it, so the page's
  // first paint does not wait for the banner (bench/results/profile.md) — unless Consent Mode
  // is on: a returning visitor's update must precede the Google tag's first event.
  const ask = !globalThis.ASSENT_LITE && regions && !mode;
  // (The lite build has no mode to pass: one argument fewer in the file every visitor loads.)
  if (!ask && (doc.readyState !== 'loading' || (!globalThis.ASSENT_LITE && gcm)))
    return globalThis.ASSENT_LITE ? run(v) : run(v, mode);
  // Meanwhile a defined state from the first moment: the API answers at once, nothing is
  // granted (the safe default) and Consent Mode says "denied".
  if (!globalThis.ASSENT_LITE) gcmStart(gcm, {});
  S._policy = globalThis.ASSENT_LITE
    ? createPolicy(v.config, [], {}, 'opt-in')
    : createPolicy(v.config, [], {}, 'opt-in', canonical);
  // (No record yet: `_record` is unset, as null.)
  S._id = newId();
  // Every key false: what decide() gives an opt-in policy with nothing stored.
  S._granted = fromBits(S._policy, 0);
  win.Assent = api;
  const go = (r?: string) =>
    onReady(() => (globalThis.ASSENT_LITE ? run(v) : run(v, ask ? modeForRegion(regions!, r) : mode, true)));
  // 1.5 s at most, as the revalidation (`within`): AbortSignal.timeout, used here before, is
  // missing in Chromium 99–102, where the banner then did not start at all.
  if (ask)
    within(
      fetch(serverApi('config')).then((r) => r.json() as Promise<{ region?: string }>),
      1500,
    ).then(
      (j) => go(j?.region),
      () => go(),
    );
  else go();
  return api;
};

/** The canonical JSON of the published policy the page renders, when it posts receipts. */
let canonical: string | undefined;

const run = (v: Validated, mode?: Mode, late?: boolean): AssentApi => {
  const { config } = v;
  const nav = navigator;
  const root = doc.documentElement;
  // GPC is the full build's (the lite build has no US features): `_gpc` stays false there.
  const gpc = !globalThis.ASSENT_LITE && (S._gpc = nav.globalPrivacyControl === true);
  const cookie = () => readCookie(config.cookieName);
  const load = (s: StoredConsent | null) =>
    decide(S._policy, {
      kind: 'load',
      stored: s,
      now: Date.now(),
      ...(!globalThis.ASSENT_LITE && { gpc }),
    });
  /**
   * The policy as this page names it (with the categories only held elements name, see
   * discover.ts) and the stored choice under it. Again once the page is parsed and when held
   * elements are added: a category no one asked about makes a new policy, which asks again.
   * Returns the decision when the policy changed.
   */
  const learn = () => {
    const s = decodeConsent((S._c = cookie()));
    const p = createPolicy(
      discover(config, !globalThis.ASSENT_LITE && !!canonical, !!s),
      [root.lang, ...nav.languages],
      // A published policy's texts are complete: no preset is used, none can add a language.
      !globalThis.ASSENT_LITE && canonical ? {} : win.assentTexts,
      // The lite build has neither a mode to force nor a published policy: no arguments.
      ...((globalThis.ASSENT_LITE ? [] : [mode, canonical]) as [Mode?, string?]),
    );
    // (The first time, always: the provisional policy of start() is not this one.)
    if (last && p.hash === S._policy.hash) return;
    S._policy = p;
    // (`accept-all` otherwise, from the start: see state.ts. A page's mode never changes.)
    if (p.mode === 'notice') S._acceptMethod = 'notice-ack';
    stored = s;
    // One visitor keeps one consent ID across choices, so their receipts form one history.
    S._id = stored?.id ?? S._id ?? newId();
    const d = load(stored);
    S._granted = d.granted;
    S._record = d.record ?? (d.show ? null : stored);
    // The dialog is built again for the new list.
    S._dialog = S._dialog?.remove() as undefined;
    return (last = d);
  };
  // (Set by the first learn(), below.)
  let stored!: StoredConsent | null;
  let last: Decision | undefined;
  const loading = doc.readyState === 'loading';
  const d = learn()!;
  // A stored choice is checked with the receipt server now and then (full build): until the
  // answer (1.5 s at most) nothing is granted — held scripts stay held, Consent Mode keeps its
  // default, the API answers "not granted" and `assent:ready` waits — so a withdrawal made on
  // the consent page reaches no tracker, vendor or listener as a grant first. (A visitor with
  // no choice stored has nothing to check: nothing is sent for them.)
  const check =
    !globalThis.ASSENT_LITE && stored && !d.show && config.endpoint && due() ? revalidate() : undefined;
  const gcm = config.googleConsentMode;
  if (!globalThis.ASSENT_LITE) {
    const fresh = d.show || !stored;
    if (late) check || gcmUpdate(gcm, d.granted);
    // A returning visitor: the default a new visitor gets, then their stored choice as an update.
    // While the check is under way the default grants nothing, whatever the mode: opt-out's
    // default (everything) would reach a visitor who refused as a grant until the answer.
    else
      gcmStart(
        gcm,
        fresh ? d.granted : check ? {} : load(null).granted,
        fresh || check ? undefined : d.granted,
      );
    // Unchanged after the check: the stored choice's update now. (Changed: adopt() sent it; a
    // choice made meanwhile sends its own, once its receipt is accepted.)
    const r = S._record;
    check?.then((changed) => changed || S._record !== r || gcmUpdate(gcm, S._granted));
  }
  win.Assent = api;
  delegate();
  // The back/forward cache restores a page as it was left, its trackers running: after a
  // choice made on another page (a withdrawal) it went on granting what was withdrawn, and one
  // "Save" in its stale dialog granted it again. Restored under another choice, it reloads.
  // (Against the cookie as this page last read or wrote it.)
  addEventListener('pageshow', (e) => e.persisted && S._c !== cookie() && location.reload());
  /**
   * The page changed. A single-page app's router that swapped the body (Turbo, Astro's view
   * transitions) took the banner or the button with it: they go back, once each. Held
   * elements added may name a new category: then the visitor is asked again.
   */
  const seen = (held: boolean) => {
    const { _banner: b, _fab: f, _record: r } = S;
    if (!r && b && !b.isConnected) doc.body.prepend(b);
    if (f && !f.isConnected) doc.body.append(f);
    if (!held || !learn()?.show) return;
    if (!globalThis.ASSENT_LITE) gcmUpdate(gcm, S._granted);
    S._fab = S._fab?.remove() as undefined;
    if (!S._banner?.isConnected) showBanner();
    // Asked again: what was granted no longer is, for every listener (React, the vendors).
    emit('change');
  };
  onReady(() => {
    // Held elements the parser adds are activated below, all at once; the observer is for
    // those added later. Observing while the parser runs (a banner without `defer`) meant one
    // activation pass per parsed element: 2,000 held scripts added 3.9 s to the page's load.
    observe(seen);
    adopt(ASSENT_CSS);
    // Without `defer` the page was not parsed at start: its held elements count now. A new
    // category asks again, and Consent Mode hears that the stored choice no longer applies.
    if (loading && learn() && !globalThis.ASSENT_LITE) gcmUpdate(gcm, S._granted);
    if (!globalThis.ASSENT_LITE) gcmHint(gcm);
    const { show } = last!;
    const r = S._record;
    const go = (changed?: boolean) => {
      activate();
      // Changed by the check: adopt() did the rest. A choice made meanwhile: choose() did.
      // (The lite build has no check: go() runs once, before any choice.)
      if (globalThis.ASSENT_LITE || (!changed && S._record === r)) {
        // What is not granted now (refused, or asked again: expired, a new policy), its
        // trackers' cookies go (see clean).
        clean(S._granted, S._policy);
        if (!globalThis.ASSENT_LITE) {
          // After the check, so that its GPC status says what applies.
          if (!show) showFab();
          // Tag managers hear the state on every page view, not only on the one of a choice.
          tagEvent(gcm, S._granted, S._record?.method);
        }
      }
    };
    const ready = () => {
      // (The lite build has no region or server check to wait for: its API is ready from the
      // start, granting nothing while the page is parsed; it leaves `ready` unset.)
      if (!globalThis.ASSENT_LITE) api.ready = true;
      emit('ready');
    };
    if (check) check.then(go).then(ready);
    else go();
    if (show && !(config.hideFromBots && (nav.webdriver || BOT.test(nav.userAgent)))) showBanner();
    else if (!show && !check) showFab();
    check || ready();
  });
  return api;
};
