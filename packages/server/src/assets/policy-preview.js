// The policy editor's preview frame: the real banner build rendering the draft policy the
// editor posts. The frame is sandboxed without allow-same-origin (an opaque origin: the
// browser gives it no cookie and no storage, and its requests carry no session) and its CSP
// says connect-src 'none': no receipt, no check with the server can leave it. The banner
// reads and writes document.cookie and localStorage, which throw in an opaque origin: memory
// stands in for both, and is gone when the frame reloads.
(() => {
  const jar = new Map();
  Object.defineProperty(document, 'cookie', {
    configurable: true,
    get: () => [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
    set: (s) => {
      const [pair, ...attrs] = String(s).split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      if (attrs.some((a) => /^\s*max-age=0\s*$/i.test(a))) jar.delete(name);
      else jar.set(name, pair.slice(i + 1));
    },
  });
  const kept = {};
  Object.defineProperty(kept, 'getItem', { value: (k) => (k in kept ? kept[k] : null) });
  Object.defineProperty(kept, 'setItem', { value: (k, v) => (kept[k] = String(v)) });
  Object.defineProperty(kept, 'removeItem', { value: (k) => delete kept[k] });
  Object.defineProperty(window, 'localStorage', { configurable: true, value: kept });

  // The editor is this page's parent, on the origin this page's URL names.
  const editor = new URL(location.href).origin;
  addEventListener('message', (e) => {
    if (e.source !== parent || e.origin !== editor || self.assentPolicy) return;
    const { site, sha256, doc, lang, region } = e.data ?? {};
    if (!doc || typeof sha256 !== 'string') return;
    self.assentPolicy = { site, sha256, doc };
    document.documentElement.lang = lang || 'en';
    const s = document.createElement('script');
    s.src = '/admin/preview/assent.full.min.js';
    // Always a region: without one the banner would ask the server's /v1/config for it (CSP
    // connect-src 'none': refused, logged). "XX" is the unknown region (core's modeForRegion:
    // opt-in when the policy has regions; its own mode when it has none).
    s.dataset.assentRegion = region || 'XX';
    document.head.append(s);
  });
  parent.postMessage('assent-preview-ready', editor);
})();
