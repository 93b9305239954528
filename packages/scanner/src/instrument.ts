import { PRESETS } from '@assent/core/i18n';

/**
 * Runs in every frame before the page's own scripts: wraps the ways a script can store
 * something on the visitor's device and reports who did it, so each cookie and storage key
 * can name the script that wrote it (the stack trace's first script URL) and the whole stack
 * (every script frame as `url:line:column`, innermost first: a tag manager's inline call
 * shows under the tag it loaded). The values never leave the page: only names and the
 * attributes of `document.cookie` writes are reported.
 *
 * Kept as a plain string so it runs unchanged in the page (no bundler, no TypeScript helpers).
 */
export const BINDING = '__assentScanReport';

export const INSTRUMENT = `(() => {
  const B = ${JSON.stringify(BINDING)};
  const send = (m) => { try { const f = globalThis[B]; if (typeof f === 'function') f(m); } catch {} };
  // Script frames only: this instrumentation runs as an init script, whose frames carry no
  // http(s) URL, so the first frame left is the page's code that made the call.
  const stack = () => {
    let st = '';
    const limit = Error.stackTraceLimit;
    try { Error.stackTraceLimit = 40; st = String(new Error().stack || ''); } catch {} finally { Error.stackTraceLimit = limit; }
    const out = [];
    for (const l of st.split('\\n').slice(1)) {
      const m = /(https?:\\/\\/[^\\s()]+?:\\d+:\\d+)\\)?\\s*$/.exec(l);
      if (m && out.length < 20) out.push(m[1]);
    }
    return out;
  };
  const urlOf = (frame) => frame.replace(/:\\d+:\\d+$/, '');
  const source = (st = stack()) => (st.length ? urlOf(st[0]) : location.href);
  const cookie = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
  if (cookie && cookie.set) {
    Object.defineProperty(Document.prototype, 'cookie', {
      configurable: true,
      enumerable: cookie.enumerable,
      get() { return cookie.get.call(this); },
      set(v) {
        const s = String(v);
        const i = s.indexOf(';');
        const st = stack();
        send({ t: 'cookie', name: s.slice(0, s.indexOf('=')).trim(), attrs: i < 0 ? '' : s.slice(i + 1), src: source(st), stack: st, at: location.href });
        return cookie.set.call(this, v);
      },
    });
  }
  const setItem = Storage.prototype.setItem;
  Storage.prototype.setItem = function (k, v) {
    let area = 'sessionStorage';
    try { if (this === globalThis.localStorage) area = 'localStorage'; } catch {}
    const st = stack();
    send({ t: 'storage', area, name: String(k), src: source(st), stack: st, at: location.origin });
    return setItem.call(this, k, v);
  };
  // An image a script creates (a tracking pixel: new Image().src = …) is fetched later by
  // the image loader, and Chromium then names the document, not the script, as its
  // initiator: the script is recorded here.
  const img = globalThis.HTMLImageElement && Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, 'src');
  if (img && img.set) {
    Object.defineProperty(HTMLImageElement.prototype, 'src', {
      configurable: true,
      enumerable: img.enumerable,
      get() { return img.get.call(this); },
      set(v) {
        const s = source();
        if (s !== location.href) { try { send({ t: 'load', name: new URL(String(v), document.baseURI).href, src: s }); } catch {} }
        return img.set.call(this, v);
      },
    });
  }
  // Fingerprinting (as Blacklight and OpenWPM detect it): reading back a canvas that had text
  // drawn on it, rendering audio offline, measuring text in many fonts. Each technique is
  // reported once per script.
  const fpSeen = {};
  const fp = (name) => { const s = source(); if (!fpSeen[name + s]) { fpSeen[name + s] = 1; send({ t: 'fp', name, src: s }); } };
  const texted = new WeakSet();
  const big = (c) => c && c.width >= 16 && c.height >= 16;
  const fonts = new Set();
  // The 2D context of a canvas in the page and of an OffscreenCanvas (the same drawing and
  // read-back, off the DOM: a fingerprinting script's way around a watched <canvas>).
  for (const C2D of [globalThis.CanvasRenderingContext2D, globalThis.OffscreenCanvasRenderingContext2D]) {
    if (!C2D) continue;
    for (const m of ['fillText', 'strokeText']) {
      const o = C2D.prototype[m];
      C2D.prototype[m] = function (...a) { try { texted.add(this.canvas); } catch {} return o.apply(this, a); };
    }
    const gid = C2D.prototype.getImageData;
    C2D.prototype.getImageData = function (...a) { if (texted.has(this.canvas) && big(this.canvas)) fp('canvas read-back'); return gid.apply(this, a); };
    const mt = C2D.prototype.measureText;
    C2D.prototype.measureText = function (...a) { fonts.add(this.font); if (fonts.size >= 20) fp('font probing'); return mt.apply(this, a); };
  }
  for (const [C, methods] of [[globalThis.HTMLCanvasElement, ['toDataURL', 'toBlob']], [globalThis.OffscreenCanvas, ['convertToBlob']]]) {
    if (!C) continue;
    for (const m of methods) {
      const o = C.prototype[m];
      if (typeof o !== 'function') continue;
      C.prototype[m] = function (...a) { if (texted.has(this) && big(this)) fp('canvas read-back'); return o.apply(this, a); };
    }
  }
  if (globalThis.OfflineAudioContext) {
    const sr = OfflineAudioContext.prototype.startRendering;
    OfflineAudioContext.prototype.startRendering = function (...a) { fp('audio read-back'); return sr.apply(this, a); };
  }
  if (globalThis.IDBFactory) {
    const open = IDBFactory.prototype.open;
    IDBFactory.prototype.open = function (name, ...rest) {
      const st = stack();
      send({ t: 'storage', area: 'indexedDB', name: String(name), src: source(st), stack: st, at: location.origin });
      return open.call(this, name, ...rest);
    };
  }
  // Meta Pixel events as the page's code sends them (fbq('track', 'Purchase', …)), with the
  // calling script's stack: the /tr request names only Meta's library as its initiator. The
  // snippet assigns window.fbq, or Assent's vendors add-on catches that assignment and
  // defines the property itself: a function arriving either way is wrapped in a Proxy that
  // forwards everything else (Meta's library sets callMethod, queue… on the function).
  const wrapped = new WeakSet();
  const wrapFbq = (fn) => {
    if (typeof fn !== 'function' || wrapped.has(fn)) return fn;
    const p = new Proxy(fn, {
      apply(target, self, args) {
        try {
          const m = args[0];
          const i = m === 'track' || m === 'trackCustom' ? 1 : m === 'trackSingle' || m === 'trackSingleCustom' ? 2 : 0;
          if (i && typeof args[i] === 'string') { const st = stack(); send({ t: 'fbq', name: args[i], method: m, src: source(st), stack: st }); }
        } catch {}
        return Reflect.apply(target, self, args);
      },
    });
    wrapped.add(p);
    return p;
  };
  try {
    let fbq;
    Object.defineProperty(globalThis, 'fbq', { configurable: true, enumerable: true, get() { return fbq; }, set(v) { fbq = wrapFbq(v); } });
    const dp = Object.defineProperty;
    Object.defineProperty = function defineProperty(o, k, d) {
      if (o === globalThis && k === 'fbq' && d && 'value' in d) d = Object.assign({}, d, { value: wrapFbq(d.value) });
      return dp.call(this, o, k, d);
    };
  } catch {}
})();`;

/** Lists every web storage key and IndexedDB database of the frame it runs in. */
export const LIST_STORAGE = `(async () => {
  const items = [];
  for (const area of ['localStorage', 'sessionStorage']) {
    try { const s = globalThis[area]; for (let i = 0; i < s.length; i++) items.push({ area, key: s.key(i) }); } catch {}
  }
  try { for (const db of await indexedDB.databases()) if (db.name) items.push({ area: 'indexedDB', key: db.name }); } catch {}
  return { origin: location.origin, items };
})()`;

/** Scrolls down a page in viewport steps (lazy-loaded trackers fire on scroll), then back up. */
export const SCROLL = `(async () => {
  const wait = (ms) => new Promise((r) => setTimeout(r, ms));
  const h = () => Math.max(document.body ? document.body.scrollHeight : 0, document.documentElement.scrollHeight);
  for (let y = 0, n = 0; y < h() && n < 12; y += innerHeight, n++) { scrollTo(0, y); await wait(80); }
  scrollTo(0, h());
  await wait(100);
  scrollTo(0, 0);
})()`;

/** The GPC visit: \`navigator.globalPrivacyControl\` as a browser that sends \`Sec-GPC: 1\` defines it. */
export const GPC_SIGNAL = `Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { configurable: true, enumerable: true, get: () => true });`;

/** Assent's own sentence for it, in every language it ships (core's presets): one truth. */
const HONORED = [
  ...new Set(Object.values(PRESETS).flatMap((t) => (t.gpcHonored ? [t.gpcHonored.toLowerCase()] : []))),
];

/**
 * The visible sentence that tells the visitor their GPC opt-out was honoured (CCPA regulations
 * §7025(c)(6)): Assent's status element (`.assent-gpc`, the site's own words), else a block of
 * text naming Global Privacy Control or GPC, saying an opt-out request was honoured, or
 * Assent's own sentence in any of its languages. `null` when there is none.
 */
export const GPC_TEXT = `(() => {
  // Assent's own status element first, if it is seen: it holds the site's texts.gpcHonored,
  // whatever the words (a theme that hides it shows nothing, and counts as nothing).
  const own = document.querySelector('.assent-gpc');
  if (own && own.getClientRects().length && getComputedStyle(own).visibility === 'visible' && own.innerText.trim())
    return own.innerText.trim().slice(0, 300);
  const re = /global privacy control|\\bGPC\\b|opt-?out (request )?(was |has been )?hono(u)?red/i;
  const honored = ${JSON.stringify(HONORED)};
  const text = (document.body && document.body.innerText) || '';
  for (const line of text.split(/\\n+/))
    if (re.test(line) || honored.some((h) => line.toLowerCase().includes(h))) return line.trim().slice(0, 300);
  return null;
})()`;

/**
 * Elements still held back for consent, as \`tag category src\`: Assent's (\`type="text/plain"\`
 * with \`data-assent-category\`, \`data-assent-src\` iframes) and the usual markup of other
 * CMPs (vanilla-cookieconsent's \`data-category\`, Cookiebot's \`data-cookieconsent\`,
 * Complianz's \`data-category\`/\`data-service\`).
 */
export const HELD_AFTER_CHOICE = `(() => {
  const q = 'script[type="text/plain"][data-assent-category], iframe[data-assent-src], script[type="text/plain"][data-category], script[type="text/plain"][data-cookieconsent], script[type="text/plain"][data-service]';
  return [...document.querySelectorAll(q)].map((el) => {
    const d = el.dataset;
    const cat = d.assentCategory || d.category || d.cookieconsent || d.service || '';
    const src = d.assentSrc || el.getAttribute('src') || (el.textContent || '').trim().slice(0, 60) || '(inline)';
    return el.tagName.toLowerCase() + ' ' + cat + ' ' + src;
  });
})()`;
