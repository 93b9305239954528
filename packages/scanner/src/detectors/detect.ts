import { needsConsent } from '../classify.js';
import type { Classification, Detection } from '../types.js';
import { describeGoogleConsent, googleConsent } from './google-consent.js';
import { hostIn, PIXELS, SESSION_REPLAY } from './vendor-lists.js';

/** One request as the detectors see it: first or third party, with its body and the script behind it. */
export interface SeenRequest {
  readonly url: string;
  readonly postData: string | null;
  readonly script: string | null;
  readonly classification: Classification;
  /** When it was sent (ms since the epoch). */
  readonly at: number;
}

/** A pixel's event sent from the page's code (Meta's `fbq('track', 'Purchase')`), as the instrumentation saw it. */
export interface PixelCall {
  readonly vendor: string;
  /** The call, as written: `fbq('track', 'Purchase')`. */
  readonly call: string;
  readonly event: string;
  /** The calling script (the stack's first frame). */
  readonly script: string;
  /** Script frames, innermost first, `url:line:column`. */
  readonly stack: readonly string[];
}

export interface DetectInput {
  readonly requests: readonly SeenRequest[];
  readonly pageUrl: string;
  readonly title: string;
  /** When the sentinels were typed into the page's fields; `null` when nothing was typed. */
  readonly typedAt: number | null;
  readonly sentinels: readonly string[];
  /**
   * Reports from the page's instrumentation: canvas / audio read-backs, font probing, each
   * saying whether it came after the choice (a read-back before an opt-out is not one after it).
   */
  readonly fingerprints: readonly {
    readonly name: string;
    readonly script: string;
    readonly afterChoice?: boolean;
  }[];
  /** Pixel events the page's code sent through the vendor's function (fbq). */
  readonly calls?: readonly PixelCall[];
}

const EMAIL = /[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}/i;

const hostOf = (url: string) => {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
};

/** URL and body, decoded as far as they decode: `%20`, `+`, nested encodings. */
const readable = (url: string, body: string | null): string => {
  let s = `${url}\n${body ?? ''}`.replace(/\+/g, ' ');
  for (let i = 0; i < 3; i++) {
    try {
      const d = decodeURIComponent(s);
      if (d === s) break;
      s = d;
    } catch {
      break;
    }
  }
  return s.toLowerCase();
};

/** The parameters of a query string and, for form or text bodies, of the body. */
const paramsOf = (url: string, body: string | null): URLSearchParams => {
  const p = new URLSearchParams(new URL(url).search);
  if (body && /^[^{<\s][^\s]*=/.test(body)) for (const [k, v] of new URLSearchParams(body)) p.append(k, v);
  return p;
};

/**
 * Everything the detectors found in one phase, each naming the script behind it: pixels (with
 * the event and Google's consent state), session-replay services, keylogging (a typed
 * sentinel leaving before any submit), fingerprinting (from the instrumentation) and personal
 * data in third-party URLs (the page's path or title, an e-mail address).
 */
export const detect = (input: DetectInput): Detection[] => {
  const out: Detection[] = [];
  const page = new URL(input.pageUrl);
  const path = decodeURIComponent(page.pathname).toLowerCase();
  // Only a path or title that says something: `/` or `/index.html` describes no one's reading.
  const tellingPath = path.length >= 12 && /[a-z]{3,}[-_/][a-z]{3,}/.test(path) ? path : null;
  const title = input.title.trim().toLowerCase();
  const tellingTitle = title.length >= 12 ? title : null;
  const replay = new Set<string>();

  for (const q of input.requests) {
    const host = hostOf(q.url);
    const third = q.classification.party === 'third';
    const pixel = third
      ? PIXELS.find((p) => hostIn(host, [p.host]) && new RegExp(p.path).test(new URL(q.url).pathname))
      : undefined;
    if (pixel) {
      const params = paramsOf(q.url, q.postData);
      const event = params.get(pixel.event);
      const google = googleConsent(params);
      out.push({
        detector: 'pixel',
        name: pixel.vendor,
        script: q.script,
        url: q.url,
        detail: [
          event ? `event ${event}` : 'no event name',
          google ? `consent sent to Google: ${describeGoogleConsent(google)}` : '',
        ]
          .filter(Boolean)
          .join('; '),
        ...(google ? { google } : {}),
      });
    }
    const vendor = third ? SESSION_REPLAY.find((v) => hostIn(host, v.hosts)) : undefined;
    if (vendor && !replay.has(vendor.vendor)) {
      replay.add(vendor.vendor);
      out.push({
        detector: 'session-replay',
        name: vendor.vendor,
        script: q.script ?? q.url,
        url: q.url,
        detail: `${vendor.vendor} records what the visitor does on the page (session replay)`,
      });
    }
    if (input.typedAt !== null && q.at >= input.typedAt) {
      const text = readable(q.url, q.postData);
      const hit = input.sentinels.find((s) => text.includes(s.toLowerCase()));
      if (hit)
        out.push({
          detector: 'keylogging',
          name: third ? q.classification.site : 'the site itself',
          script: q.script,
          url: q.url,
          detail: `text typed into a field (never submitted) left the page: "${hit}"`,
        });
    }
    if (third && needsConsentOrUnknown(q.classification)) {
      const text = readable(q.url, q.postData);
      const found = [
        tellingPath && text.includes(path) ? 'the page’s path' : null,
        tellingTitle && text.includes(tellingTitle) ? 'the page’s title' : null,
        EMAIL.test(text.replace(/^[^\n]*@[^\n]*\/\//, '')) ? 'an e-mail address' : null,
      ].filter((x): x is string => x !== null);
      if (found.length)
        out.push({
          detector: 'personal-data-in-url',
          name: q.classification.tracker?.name ?? q.classification.site,
          script: q.script,
          url: q.url,
          detail: `carries ${found.join(' and ')} to a third party`,
        });
    }
  }
  // One detection per call site and event: a page view tracked on load and again after the
  // reload is the same finding.
  const calls = new Set<string>();
  for (const c of input.calls ?? []) {
    const k = `${c.call}|${c.stack[0] ?? c.script}`;
    if (calls.has(k)) continue;
    calls.add(k);
    out.push({
      detector: 'pixel',
      name: c.vendor,
      script: c.script,
      url: null,
      detail: `event ${c.event}, sent from the page’s code: ${c.call} at ${c.stack[0] ?? c.script}`,
      stack: c.stack,
    });
  }
  const fp = new Set<string>();
  for (const f of input.fingerprints) {
    // Once before the choice and once after at most: the rules judge each by its time.
    const k = `${f.name}|${f.script}|${f.afterChoice}`;
    if (fp.has(k)) continue;
    fp.add(k);
    out.push({
      detector: 'fingerprinting',
      name: f.name,
      script: f.script,
      url: null,
      detail: `${f.name} by ${f.script}`,
      ...(f.afterChoice !== undefined ? { afterChoice: f.afterChoice } : {}),
    });
  }
  return out;
};

/** Known trackers and unknown third parties; a functional CDN or the consent record carries no one's reading. */
const needsConsentOrUnknown = (c: Classification): boolean => needsConsent(c);
