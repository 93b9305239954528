import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { BrowserContext, Frame } from 'playwright-core';

/**
 * The bridge to DuckDuckGo's autoconsent (MPL-2.0): maintained rules that detect hundreds of
 * CMPs and click their opt-out / opt-in. Its `autoconsent.playwright.js` bundle runs in every
 * frame and talks to us through `window.autoconsentSendMessage`; we answer through
 * `window.autoconsentReceiveMessage` (see the package's docs/puppeteer.md).
 *
 * We never let it act on its own (`autoAction: null`): the scanner decides when to click, so
 * it can tell requests before the choice from requests after it. Cosmetic rules (hiding a
 * popup with CSS) and heuristics (guessing buttons by their text) are off: hiding a banner
 * is not a choice, and an audit must not guess.
 */

interface Message {
  readonly type: string;
  readonly cmp?: string;
  readonly result?: boolean;
  readonly totalClicks?: number;
  readonly id?: string;
  readonly code?: string;
}

const require = createRequire(import.meta.url);
const root = dirname(require.resolve('@duckduckgo/autoconsent/rules/rules.json'));
interface Rule {
  readonly name?: string;
  readonly runContext?: { readonly urlPattern?: string };
  /** Steps that check the choice was stored (autoconsent runs them after opting out). */
  readonly test?: unknown;
}

let assets:
  | { script: string; generic: Rule[]; specific: { re: RegExp; rule: Rule }[]; genericJson: string }
  | undefined;
const load = () => {
  if (!assets) {
    // Full rules: the compact ones omit opt-in steps, and we need both.
    const all = (JSON.parse(readFileSync(join(root, 'rules.json'), 'utf8')) as { autoconsent: Rule[] })
      .autoconsent;
    // Most rules (about 600 of 800) are for one site (`urlPattern`); sending only those that
    // match the frame keeps the per-frame setup small, as autoconsent's own runner does.
    const generic = all.filter((r) => !r.runContext?.urlPattern);
    const specific = all.flatMap((rule) => {
      try {
        return rule.runContext?.urlPattern ? [{ re: new RegExp(rule.runContext.urlPattern), rule }] : [];
      } catch {
        return [];
      }
    });
    assets = {
      script: readFileSync(join(root, '..', 'dist', 'autoconsent.playwright.js'), 'utf8'),
      generic,
      specific,
      genericJson: JSON.stringify({ autoconsent: generic }),
    };
  }
  return assets;
};

const rulesFor = (url: string): string => {
  const a = load();
  const extra = a.specific.filter((s) => s.re.test(url)).map((s) => s.rule);
  return extra.length ? JSON.stringify({ autoconsent: [...a.generic, ...extra] }) : a.genericJson;
};

/**
 * The cookie names autoconsent's rule for `cmp` checks for once the choice is made (its `test`
 * steps: `cookieContains: "name=value"`): the CMP's own record of it. Names only (the part
 * before `=`); a step that tests a value's substring gives a string no cookie is named, which
 * matches nothing, and a negated one (a tracker's cookie that must be absent: AdRoll's
 * `__adroll_fpc`) is left out. Empty for a rule written in code (Cookiebot, OneTrust…), whose
 * cookie is then inferred (consent-cookies.ts).
 */
export const ruleCookieNames = (cmp: string): string[] => {
  const a = load();
  const rule = [...a.generic, ...a.specific.map((s) => s.rule)].find((r) => r.name === cmp);
  const names = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) for (const x of v) walk(x);
    else if (v && typeof v === 'object') {
      const step = v as { cookieContains?: unknown; negated?: unknown };
      if (typeof step.cookieContains === 'string' && step.negated !== true) {
        const name = step.cookieContains.split('=')[0]!.trim();
        // A cookie name is an RFC 6265 token: "advertisement:no" is a value's substring.
        if (/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) names.add(name);
      }
      for (const x of Object.values(v)) walk(x);
    }
  };
  walk(rule?.test);
  return [...names];
};

const CONFIG = {
  enabled: true,
  autoAction: null,
  disabledCmps: [],
  enablePrehide: false,
  enableCosmeticRules: false,
  enableGeneratedRules: true,
  enableHeuristicDetection: false,
  heuristicMode: 'off',
  detectRetries: 20,
  isMainWorld: true,
  prehideTimeout: 2000,
  visualTest: false,
  logs: {
    lifecycle: false,
    rulesteps: false,
    detectionsteps: false,
    evals: false,
    errors: false,
    messages: false,
    waits: false,
  },
};

export interface Popup {
  readonly cmp: string;
  readonly frame: Frame;
}

export class Autoconsent {
  private readonly messages: { msg: Message; frame: Frame; at: number }[] = [];
  private stopped = false;
  /** Frames whose `init` waits for `start()`: until answered, their autoconsent stays idle. */
  private waiting: Frame[] | null;
  /** Frames sent their config and rules (autoconsent running in them). */
  answered = 0;

  /**
   * `idle`: frames get their rules only once `start()` is called — when the page shows no
   * Assent banner (see detectBanner). Setting up some 200 generic rules in every frame and
   * polling them costs CPU a visit that finds Assent's own banner does not need.
   */
  constructor(idle = false) {
    this.waiting = idle ? [] : null;
  }

  /** Answers the frames that waited, and every frame from now on. */
  start(): void {
    const frames = this.waiting;
    if (!frames) return;
    this.waiting = null;
    for (const frame of frames) void this.init(frame);
  }

  private async init(frame: Frame): Promise<void> {
    this.answered++;
    await frame
      .evaluate(
        `autoconsentReceiveMessage({ type: 'initResp', config: ${JSON.stringify(CONFIG)}, rules: ${rulesFor(frame.url())} })`,
      )
      .catch(() => {}); // the frame navigated away or was detached
  }

  async attach(context: BrowserContext): Promise<void> {
    const { script } = load();
    await context.exposeBinding('autoconsentSendMessage', async ({ frame }, msg: Message) => {
      if (!msg || typeof msg !== 'object') return;
      // Unanswered, a frame's autoconsent never gets its config and rules: it stays idle.
      if (this.stopped && msg.type === 'init') return;
      this.messages.push({ msg, frame, at: Date.now() });
      try {
        if (msg.type === 'init') {
          if (this.waiting) this.waiting.push(frame);
          else await this.init(frame);
        } else if (msg.type === 'eval' && typeof msg.code === 'string') {
          const result = await frame.evaluate(msg.code).catch(() => false);
          await frame.evaluate(
            `autoconsentReceiveMessage(${JSON.stringify({ type: 'evalResp', id: msg.id, result })})`,
          );
        }
      } catch {
        // the frame navigated away or was detached: nothing to answer
      }
    });
    await context.addInitScript(script);
  }

  /**
   * Documents loaded from now on are left alone: once the banner is known to be one our
   * selectors find (Assent's, the configured one), setting up hundreds of rules in every
   * frame of every reload would be CPU spent on nothing. Messages already recorded stay.
   */
  stop(): void {
    this.stopped = true;
  }

  /** The most recent visible popup autoconsent found since `since` (ms epoch). */
  popup(since = 0): Popup | null {
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const m = this.messages[i]!;
      if (m.at < since) break;
      if (m.msg.type === 'popupFound' && m.msg.cmp) return { cmp: m.msg.cmp, frame: m.frame };
    }
    return null;
  }

  /** Has autoconsent recognised a CMP on the page (popup showing or not)? */
  detected(): boolean {
    return this.messages.some((m) => m.msg.type === 'cmpDetected');
  }

  /** Runs the CMP's opt-out or opt-in rule; resolves with its result and the clicks it took. */
  async choose(
    popup: Popup,
    action: 'optOut' | 'optIn',
    timeoutMs = 10_000,
  ): Promise<{ result: boolean; clicks: number | null }> {
    const since = Date.now();
    const resultType = action === 'optOut' ? 'optOutResult' : 'optInResult';
    void popup.frame.evaluate(`autoconsentReceiveMessage({ type: '${action}' })`).catch(() => {});
    const deadline = since + timeoutMs;
    let result: boolean | null = null;
    let resultAt = 0;
    while (Date.now() < deadline) {
      const recent = this.messages.filter((m) => m.at >= since);
      const r = recent.find((m) => m.msg.type === resultType);
      if (r && result === null) {
        result = r.msg.result === true;
        resultAt = Date.now();
      }
      // An intermediate rule (one layer of a multi-step CMP) reports a result but no "done".
      if (result === true && Date.now() - resultAt > 1500) return { result: true, clicks: null };
      const done = recent.find((m) => m.msg.type === 'autoconsentDone');
      if (done) return { result: true, clicks: done.msg.totalClicks ?? null };
      if (result === false) return { result: false, clicks: null };
      await new Promise((r2) => setTimeout(r2, 50));
    }
    return { result: result === true, clicks: null };
  }
}
