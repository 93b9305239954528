import { allowed, format, isSafeHref } from '@assent/core';
import { btn, doc, h, panel } from './dom.js';
import { S } from './state.js';

/**
 * Holds back scripts and embeds until their category (or service) is granted.
 *
 *   <script type="text/plain" data-assent-category="analytics" src="/a.js"></script>
 *   <iframe data-assent-src="https://www.youtube-nocookie.com/embed/…" data-assent-category="marketing"
 *           data-assent-provider="YouTube" title="…"></iframe>
 *
 * A `text/plain` script is inert by itself — the browser neither fetches nor runs it — so
 * holding needs no race with the parser. Activation re-creates each script with
 * `createElement` (a cloned or retyped node would not run; vanilla-cookieconsent #32) and
 * waits for each external one to load before the next, so they run in document order.
 */
export const HELD = 'script[type="text/plain"][data-assent-category]';
const EMBED = 'iframe[data-assent-src]';

/** The Google tag (gtag.js or Google Tag Manager), by its URL or its inline loader, and its inline `gtag(…)` calls. */
export const GOOGLE_TAG = /googletagmanager\.com\/(gtag\/js|gtm\.js)|\bgtag\(/;

/** Consent Mode `advanced` (full build): Google tags are never held back (see gcm.ts). */
const ok = (el: HTMLElement) =>
  allowed(S._granted, el.dataset.assentCategory!, el.dataset.assentService) ||
  (!globalThis.ASSENT_LITE &&
    S._policy.config.googleConsentMode?.mode === 'advanced' &&
    // Its URL or its code, never another attribute (a note mentioning gtag() released a tracker).
    GOOGLE_TAG.test(el.getAttribute('src')! + el.textContent));

let queue = Promise.resolve();

/** Activates whatever is now allowed. Safe to call often: runs are serialised. */
export const activate = (): void => {
  queue = queue.then(run);
};

/** A URL a held element may load: http(s) or a path of this site (see core's isSafeHref). */
const safe = (url: string | undefined) => {
  if (url && !isSafeHref(url)) throw `unsafe ${url}`;
  return url;
};

const run = async () => {
  // An embed can fail (a malformed or unsafe data-assent-src): it is reported, naming the
  // element, and skipped; the others still load or get their placeholder.
  for (const f of doc.querySelectorAll<HTMLIFrameElement>(EMBED))
    try {
      // Held without a category: never loaded (it would otherwise count as necessary).
      if (!f.dataset.assentCategory) throw 'no category';
      (ok(f) ? load : hold)(f);
    } catch (e) {
      console.error('assent:', f, e);
    }
  let t = Date.now();
  for (const old of doc.querySelectorAll<HTMLScriptElement>(HELD)) {
    if (!ok(old) || !old.isConnected) continue;
    // A long run gives the page a turn every 50 ms: 20,000 held inline scripts (which run
    // without waiting for anything) would otherwise hold the main thread for seconds.
    if (Date.now() - t > 50) {
      await new Promise((r) => setTimeout(r));
      t = Date.now();
    }
    // An external script is awaited, so the next one runs after it. One the browser will not
    // run (nomodule, a type that is not JavaScript: text/babel …) fires neither load nor
    // error, and one whose server never answers may not for minutes: neither holds the rest
    // for longer than 10 s. One that cannot be activated at all (Trusted Types refusing its
    // text …) is reported, naming it, and the others still run.
    await new Promise((done) => {
      const s = doc.createElement('script');
      for (const a of old.attributes)
        if (!/^(type$|data-assent)/.test(a.name)) s.setAttribute(a.name, a.value);
      // The nonce attribute is hidden after parsing; only the property still holds it.
      s.nonce = old.nonce ?? '';
      const { assentType: type, assentSrc: src } = old.dataset;
      if (type) s.type = type;
      // A script's src is fetched, never run as a URL (`javascript:` there is inert).
      if (src) s.src = src;
      s.text = old.text;
      s.async = false;
      s.onload = s.onerror = done;
      old.replaceWith(s);
      if (!s.src || s.noModule || !/^(module|.*script|)$/i.test(s.type)) done(0);
      setTimeout(done, 1e4);
    }).catch((e) => console.error('assent:', old, e));
  }
};

/**
 * Loads an embed; an unsafe `data-assent-src` throws (on "Load content", the console shows it).
 * `focus`: the visitor's "Load content" had it, and it goes to the embed, not lost to the page.
 */
export const load = (f: HTMLIFrameElement, focus?: boolean) => {
  const placeholder = f.previousElementSibling;
  f.src = safe(f.dataset.assentSrc)!;
  delete f.dataset.assentSrc;
  f.hidden = false;
  if (placeholder?.matches('.assent-embed')) placeholder.remove();
  if (focus) f.focus();
};

/** An accessible stand-in: who hosts it, load this one embed, or accept its category. */
const hold = (f: HTMLIFrameElement) => {
  if (f.hidden) return;
  const p = S._policy;
  const t = p.texts;
  const {
    assentCategory: cat = '',
    assentProvider: provider = new URL(f.dataset.assentSrc!, location.href).hostname,
  } = f.dataset;
  const title = p.categories.find((c) => c.id === cat)?.title ?? cat;
  // The iframe's own box (its width and height attributes, or the page's CSS for it): the
  // placeholder keeps it, so the page does not move when the embed loads. CSSOM, not a
  // style attribute: allowed under a strict CSP.
  const { width, height } = f.getBoundingClientRect();
  const ph = panel(
    'div',
    // Its language, as the banner's: a page in another has no preset for (full build).
    globalThis.ASSENT_LITE
      ? { class: 'assent assent-embed', role: 'group', 'aria-label': f.title || provider }
      : { class: 'assent assent-embed', role: 'group', 'aria-label': f.title || provider, lang: p.lang },
    h('p', {}, format(t.embed, provider, title)),
    // Through the page's one click listener (api.ts), as the Accept button: a placeholder a
    // router cloned back (Turbo's restoration visits) loses a handler set on the element.
    btn(t.loadEmbed, { 'data-assent-load': '1' }),
    btn(format(t.acceptCategory, provider, title), { 'data-assent-accept': cat }),
  );
  if (width) {
    ph.style.width = `${width}px`;
    ph.style.aspectRatio = `${width}/${height}`;
  }
  f.hidden = true;
  f.before(ph);
};

/**
 * Held elements added after start-up (by other scripts, late HTML, a single-page app's next
 * view, alone or inside what was added) are seen too: `seen(true)` first (they may name a
 * new category), then activation. `seen(false)` for any other change (a router that swapped
 * the body took the banner with it).
 */
export const observe = (seen: (held: boolean) => void): void => {
  const q = `${HELD},${EMBED}`;
  new MutationObserver((records) => {
    const held = records.some((r) =>
      [...r.addedNodes].some((n) => (n as Element).matches?.(q) || (n as Element).querySelector?.(q)),
    );
    seen(held);
    if (held) activate();
  }).observe(doc.documentElement, { childList: true, subtree: true });
};
