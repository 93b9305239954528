import type { BrowserContext, CDPSession, Page, Request } from 'playwright-core';
import { type Classifier, judgedByWriter } from './classify.js';
import { PAGE_CALL_MS, within } from './deadline.js';
import { detect, type PixelCall } from './detectors/detect.js';
import { BINDING, INSTRUMENT, LIST_STORAGE } from './instrument.js';
import type {
  CookieRecord,
  Detection,
  Initiator,
  RequestRecord,
  Source,
  StorageArea,
  StorageRecord,
} from './types.js';

interface Write {
  readonly source: Source;
  /** Requested lifetime in days (Max-Age or Expires), `null` for a session cookie, undefined unknown. */
  readonly days?: number | null;
  /** Written after the choice was clicked: the rules judge a cookie by when it was written. */
  readonly afterChoice: boolean;
}

/**
 * A WebSocket the page opened. Playwright reports sockets apart from requests (no `request`
 * event): they are kept here and listed with the requests, as `websocket`.
 */
interface Socket {
  readonly url: string;
  readonly afterChoice: boolean;
  readonly at: number;
  /** The page that opened it, as its initiator. */
  readonly pageUrl: string;
  /** The first frames the page sent (bounded): what the detectors read, as a request's body. */
  sent: string;
}

/** How much of what a page sends down a socket the detectors read. */
const SOCKET_BYTES = 4096;

interface Seen {
  readonly request: Request;
  readonly afterChoice: boolean;
  readonly at: number;
}

const DAY = 86_400;

/** Requested lifetime from cookie attributes (`Max-Age` wins over `Expires`, as in RFC 6265). */
export const requestedDays = (attrs: string, now = Date.now()): number | null => {
  const maxAge = /(?:^|;)\s*max-age\s*=\s*(-?\d+)/i.exec(attrs);
  if (maxAge) return Math.round((Number(maxAge[1]) / DAY) * 10) / 10;
  const expires = /(?:^|;)\s*expires\s*=\s*([^;]+)/i.exec(attrs);
  if (expires) {
    const t = Date.parse(expires[1]!);
    if (!Number.isNaN(t)) return Math.round(((t - now) / 1000 / DAY) * 10) / 10;
  }
  return null;
};

/**
 * Everything one browser context does, as evidence: every request (with Chromium's own
 * initiator), who set each cookie (a response's `Set-Cookie` or a script's `document.cookie`),
 * who wrote each storage key. One recorder per phase, attached before the first navigation.
 */
export class Recorder {
  private readonly requests: Seen[] = [];
  private readonly initiators = new Map<string, Initiator[]>();
  private readonly cookieWrites = new Map<string, Write>();
  /**
   * The last write that set each cookie (not a deletion): one the page or its CMP deleted
   * before the jar was read existed all the same — a tracker's identifier set before consent
   * and deleted at once by a CMP's clean-up (Assent deletes the declared cookies of what is not
   * granted at every start) was set before consent, and may have been read or sent meanwhile.
   */
  private readonly cookieSets = new Map<string, Write>();
  private readonly storageWrites = new Map<string, Source>();
  /** Storage keys by id: whether their last write was after the choice. */
  private readonly storageAfterChoice = new Map<string, boolean>();
  private readonly sockets: Socket[] = [];
  /** Images a script asked for (URL → script), see INSTRUMENT. */
  private readonly scriptLoads = new Map<string, string>();
  /** Fingerprinting reports from INSTRUMENT: technique and script. */
  private readonly fingerprints: { name: string; script: string; afterChoice: boolean }[] = [];
  /** Pixel calls seen in the page (Meta's fbq events), with the caller's stack. */
  private readonly pixelCalls: PixelCall[] = [];
  private typedAt: number | null = null;
  private sentinels: readonly string[] = [];
  private readonly pending = new Set<Promise<unknown>>();
  private inflight = 0;
  private lastActivity = Date.now();
  private choiceMade = false;
  /** Between a click and the reload after it: what a script writes then is the choice's doing. */
  private choiceOpen = false;
  /** Cookies a script wrote between a click and the reload after it (a CMP storing the choice). */
  private readonly choiceWrites = new Set<string>();
  /** The page the visit records: its own document requests are the page, not a third party. */
  private page: Page | null = null;

  constructor(
    private readonly context: BrowserContext,
    private readonly classifier: Classifier,
  ) {}

  async attach(): Promise<void> {
    await this.context.exposeBinding(BINDING, (_source, m: unknown) => this.onWrite(m));
    await this.context.addInitScript(INSTRUMENT);
    this.context.on('request', (request) => {
      this.requests.push({ request, afterChoice: this.choiceMade, at: Date.now() });
      this.inflight++;
      this.lastActivity = Date.now();
    });
    const done = () => {
      this.inflight = Math.max(0, this.inflight - 1);
      this.lastActivity = Date.now();
    };
    // Every page of the context, popups too: a socket is a request the rules must judge.
    this.context.on('page', (page) => {
      page.on('websocket', (ws) => {
        const s: Socket = {
          url: ws.url(),
          afterChoice: this.choiceMade,
          at: Date.now(),
          pageUrl: page.url(),
          sent: '',
        };
        this.sockets.push(s);
        this.lastActivity = Date.now();
        ws.on('framesent', ({ payload }) => {
          if (s.sent.length < SOCKET_BYTES)
            s.sent = (s.sent + (typeof payload === 'string' ? payload : payload.toString('utf8'))).slice(
              0,
              SOCKET_BYTES,
            );
        });
      });
    });
    this.context.on('requestfinished', done);
    this.context.on('requestfailed', done);
    this.context.on('response', (response) => {
      const p = response
        .headersArray()
        .then((headers) => {
          for (const h of headers) {
            if (h.name.toLowerCase() !== 'set-cookie') continue;
            for (const line of h.value.split('\n')) this.onSetCookie(line, response.url());
          }
        })
        .catch(() => {});
      this.pending.add(p);
      p.finally(() => this.pending.delete(p));
    });
  }

  /** Chromium's initiator for each request (parser, script and its URL), from DevTools events. */
  async watchInitiators(page: Page): Promise<void> {
    this.page = page;
    let cdp: CDPSession;
    try {
      cdp = await this.context.newCDPSession(page);
      await cdp.send('Network.enable');
    } catch {
      return; // initiators are a nicety: without them requests name their frame instead
    }
    cdp.on('Network.requestWillBeSent', (e) => {
      const i = e.initiator;
      const frames = i.stack?.callFrames ?? [];
      const url = i.url ?? frames.find((f) => f.url)?.url ?? null;
      const list = this.initiators.get(e.request.url) ?? [];
      list.push({ type: i.type, url: url || null });
      this.initiators.set(e.request.url, list);
    });
  }

  /** A header of the first document request (lower-case name), as sent. */
  documentHeader(name: string): string | undefined {
    const doc = this.requests.find((r) => r.request.resourceType() === 'document');
    return doc?.request.headers()[name];
  }

  /** The sentinels were typed now: requests from here on that carry one are keylogging. */
  markTyped(sentinels: readonly string[]): void {
    this.typedAt = Date.now();
    this.sentinels = sentinels;
  }

  /** What the detectors find in everything recorded so far (see detectors/detect.ts). */
  detections(pageUrl: string, title: string): Detection[] {
    const requests = this.finalRequests().flatMap(({ request, last, at, n, top }) => {
      const url = request.url();
      if (!/^https?:/.test(url) || top) return [];
      const initiator = this.initiatorOf(request, url, n, pageUrl);
      return [
        {
          url,
          postData: last.postData(),
          script: initiator?.type === 'script' ? initiator.url : null,
          classification: this.classifier.url(url, pageUrl, request.resourceType()),
          at,
        },
      ];
    });
    for (const s of this.sockets)
      requests.push({
        url: s.url,
        postData: s.sent || null,
        script: null,
        classification: this.classifier.url(s.url, pageUrl, 'websocket'),
        at: s.at,
      });
    return detect({
      requests,
      pageUrl,
      title,
      typedAt: this.typedAt,
      sentinels: this.sentinels,
      fingerprints: this.fingerprints,
      calls: this.pixelCalls,
    });
  }

  /**
   * Requests as the page sent them: a redirect chain (http → https, a tracker's hop to its
   * CDN) is one, under the URL asked for, with its last hop; `n` numbers repeats of a URL.
   */
  private finalRequests(): {
    request: Request;
    last: Request;
    afterChoice: boolean;
    at: number;
    n: number;
    top: boolean;
  }[] {
    const taken = new Map<string, number>();
    const out = [];
    for (const { request: last, afterChoice, at } of this.requests) {
      if (last.redirectedTo()) continue;
      let request = last;
      while (request.redirectedFrom()) request = request.redirectedFrom()!;
      const n = taken.get(request.url()) ?? 0;
      taken.set(request.url(), n + 1);
      out.push({ request, last, afterChoice, at, n, top: this.topLevel(last) });
    }
    return out;
  }

  /**
   * A document loaded in the recorded page's own top-level frame (the scanned page, its reload,
   * the next page), redirects included: the page itself, never judged as a request. A start
   * URL that redirects to another site (`brand.com` → `www.brand.de`) is not a third party
   * contacted before consent.
   */
  private topLevel(request: Request): boolean {
    try {
      return request.isNavigationRequest() && this.page !== null && request.frame() === this.page.mainFrame();
    } catch {
      return false; // a service worker's request has no frame
    }
  }

  /** Chromium's initiator, or the script that set an image's `src` (Chromium names the document there). */
  private initiatorOf(request: Request, url: string, n: number, pageUrl: string): Initiator | null {
    let initiator = this.initiators.get(url)?.[n] ?? null;
    const loader = this.scriptLoads.get(url);
    if (loader && (initiator?.type !== 'script' || initiator.url === pageUrl))
      initiator = { type: 'script', url: loader };
    if (initiator) return initiator;
    try {
      return { type: 'frame', url: request.frame().url() };
    } catch {
      return { type: 'frame', url: null }; // service worker requests have no frame
    }
  }

  /** The body of the last POST to `url` (query ignored), or `null` when none was sent. */
  postedTo(url: string): string | null {
    const base = url.split('?')[0];
    for (let i = this.requests.length - 1; i >= 0; i--) {
      const r = this.requests[i]!.request;
      if (r.method() === 'POST' && r.url().split('?')[0] === base) return r.postData() ?? '';
    }
    return null;
  }

  /** From now on requests count as "after the choice"; what a script writes until markReload is the choice's doing. */
  markChoice(): void {
    this.choiceMade = true;
    this.choiceOpen = true;
  }

  /** The page is reloaded after the click: writes from here on are the returning visitor's page's. */
  markReload(): void {
    this.choiceOpen = false;
  }

  /** Resolves when the network has been quiet for `quietMs`, or after `maxMs` at most. */
  async idle(quietMs = 500, maxMs = 5000): Promise<void> {
    const start = Date.now();
    this.lastActivity = Math.max(this.lastActivity, start);
    while (Date.now() - start < maxMs) {
      if (this.inflight === 0 && Date.now() - this.lastActivity >= quietMs) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private onWrite(m: unknown): void {
    if (typeof m !== 'object' || m === null) return;
    const w = m as {
      t?: unknown;
      name?: unknown;
      attrs?: unknown;
      src?: unknown;
      area?: unknown;
      at?: unknown;
      stack?: unknown;
      method?: unknown;
    };
    if (typeof w.name !== 'string' || typeof w.src !== 'string') return;
    const stack = Array.isArray(w.stack) ? w.stack.filter((f): f is string => typeof f === 'string') : [];
    const source: Source = { via: 'script', url: w.src, ...(stack.length ? { stack } : {}) };
    if (w.t === 'fbq') {
      this.pixelCalls.push({
        vendor: 'Meta Pixel',
        call: `fbq('${String(w.method)}', '${w.name}')`,
        event: w.name,
        script: w.src,
        stack,
      });
    } else if (w.t === 'fp') {
      this.fingerprints.push({ name: w.name, script: w.src, afterChoice: this.choiceMade });
    } else if (w.t === 'load') {
      if (!this.scriptLoads.has(w.name)) this.scriptLoads.set(w.name, w.src);
    } else if (w.t === 'cookie') {
      if (this.choiceOpen) this.choiceWrites.add(w.name);
      this.wrote(w.name, {
        source,
        days: requestedDays(String(w.attrs ?? '')),
        afterChoice: this.choiceMade,
      });
    } else if (w.t === 'storage' && typeof w.area === 'string') {
      const key = `${w.area}|${String(w.at)}|${w.name}`;
      if (!this.storageWrites.has(key)) this.storageWrites.set(key, source);
      this.storageAfterChoice.set(key, this.choiceMade);
    }
  }

  private onSetCookie(line: string, url: string): void {
    const eq = line.indexOf('=');
    if (eq <= 0) return;
    const semi = line.indexOf(';');
    this.wrote(line.slice(0, eq).trim(), {
      source: { via: 'response', url },
      days: requestedDays(semi < 0 ? '' : line.slice(semi + 1)),
      afterChoice: this.choiceMade,
    });
  }

  /** A cookie write: the last one of each name, and the last that set it (a lifetime not ≤ 0). */
  private wrote(name: string, w: Write): void {
    this.cookieWrites.set(name, w);
    if (w.days === null || w.days === undefined || w.days > 0) this.cookieSets.set(name, w);
  }

  /** The context's cookies now, each with its writer and classification. */
  async cookies(pageUrl: string): Promise<CookieRecord[]> {
    await Promise.all([...this.pending]);
    const now = Date.now() / 1000;
    const jar = await this.context.cookies();
    const inJar = new Set(jar.map((c) => c.name));
    const host = new URL(pageUrl).hostname;
    // Set during the visit and gone when the jar is read: deleted, but it existed (cookieSets).
    const gone = [...this.cookieSets]
      .filter(([name]) => !inJar.has(name))
      .map(
        ([name, w]): CookieRecord => ({
          name,
          domain: host,
          path: '/',
          expires: null,
          lifetimeDays: null,
          requestedLifetimeDays: w.days ?? null,
          httpOnly: false,
          secure: false,
          sameSite: 'Lax',
          setBy: w.source,
          classification: judgedByWriter(
            this.classifier.domainParty(host, pageUrl),
            this.classifier.url(w.source.url, pageUrl),
          ),
          afterChoice: w.afterChoice,
          ...(this.choiceWrites.has(name) ? { writtenAtChoice: true as const } : {}),
          deleted: true,
        }),
      );
    return [
      ...jar.map((c): CookieRecord => {
        const write = this.cookieWrites.get(c.name);
        const byDomain = this.classifier.domainParty(c.domain, pageUrl);
        const bySource = write ? this.classifier.url(write.source.url, pageUrl) : null;
        // A third-party script writing a first-party cookie (`_ga`) is judged by the script.
        const classification = judgedByWriter(byDomain, bySource);
        const expires = c.expires > 0 ? Math.round(c.expires) : null;
        return {
          name: c.name,
          domain: c.domain,
          path: c.path,
          expires,
          lifetimeDays: expires === null ? null : Math.round(((expires - now) / DAY) * 10) / 10,
          requestedLifetimeDays: write?.days ?? null,
          httpOnly: c.httpOnly,
          secure: c.secure,
          sameSite: c.sameSite,
          setBy: write?.source ?? null,
          classification,
          ...(write ? { afterChoice: write.afterChoice } : {}),
          ...(this.choiceWrites.has(c.name) ? { writtenAtChoice: true as const } : {}),
        };
      }),
      ...gone,
    ].sort((a, b) => a.domain.localeCompare(b.domain) || a.name.localeCompare(b.name));
  }

  /** Every web storage key and IndexedDB database in every frame of the page. */
  async storage(page: Page, pageUrl: string): Promise<StorageRecord[]> {
    const out = new Map<string, StorageRecord>();
    for (const frame of page.frames()) {
      let r: { origin: string; items: { area: StorageArea; key: string }[] };
      try {
        // Bounded: a frame busy in a loop never answers (see deadline.ts).
        const listed = await within(
          frame.evaluate<typeof r>(LIST_STORAGE).catch(() => null),
          PAGE_CALL_MS,
          null,
        );
        if (!listed) continue;
        r = listed;
      } catch {
        continue; // detached or opaque frame
      }
      if (!/^https?:/.test(r.origin)) continue;
      for (const it of r.items) {
        const id = `${it.area}|${r.origin}|${it.key}`;
        if (out.has(id)) continue;
        const setBy = this.storageWrites.get(id) ?? null;
        const byOrigin = this.classifier.url(r.origin, pageUrl);
        const bySource = setBy ? this.classifier.url(setBy.url, pageUrl) : null;
        const classification = judgedByWriter(byOrigin, bySource);
        const after = this.storageAfterChoice.get(id);
        out.set(id, {
          area: it.area,
          origin: r.origin,
          key: it.key,
          setBy,
          classification,
          ...(after !== undefined ? { afterChoice: after } : {}),
        });
      }
    }
    return [...out.values()];
  }

  /** Every request so far: third-party ones listed, first-party ones counted. */
  requestLog(pageUrl: string): { thirdParty: RequestRecord[]; firstPartyCount: number } {
    const thirdParty: { at: number; record: RequestRecord }[] = [];
    let firstPartyCount = 0;
    for (const { request, last, afterChoice, at, n, top } of this.finalRequests()) {
      const url = request.url();
      if (!/^https?:/.test(url)) continue;
      const classification = this.classifier.url(url, pageUrl, request.resourceType());
      if (classification.party === 'first' || top) {
        firstPartyCount++;
        continue;
      }
      thirdParty.push({
        at,
        record: {
          url,
          method: request.method(),
          type: request.resourceType(),
          initiator: this.initiatorOf(request, url, n, pageUrl),
          afterChoice,
          classification,
          ...(last !== request ? { redirectedTo: last.url() } : {}),
        },
      });
    }
    for (const s of this.sockets) {
      const classification = this.classifier.url(s.url, pageUrl, 'websocket');
      if (classification.party === 'first') {
        firstPartyCount++;
        continue;
      }
      thirdParty.push({
        at: s.at,
        record: {
          url: s.url,
          method: 'GET',
          type: 'websocket',
          initiator: { type: 'frame', url: s.pageUrl },
          afterChoice: s.afterChoice,
          classification,
        },
      });
    }
    // In the order they were sent, sockets among the requests (the sort is stable).
    return { thirdParty: thirdParty.sort((a, b) => a.at - b.at).map((x) => x.record), firstPartyCount };
  }
}
