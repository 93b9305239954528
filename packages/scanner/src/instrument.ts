/**
 * Runs in every frame before the page's own scripts: wraps the ways a script can store
 * something on the visitor's device and reports who did it, so each cookie and storage key
 * can name the script that wrote it (a stack trace's first URL). The values never leave the
 * page: only names and the attributes of `document.cookie` writes are reported.
 *
 * Kept as a plain string so it runs unchanged in the page (no bundler, no TypeScript helpers).
 */
export const BINDING = '__assentScanReport';

export const INSTRUMENT = `(() => {
  const B = ${JSON.stringify(BINDING)};
  const send = (m) => { try { const f = globalThis[B]; if (typeof f === 'function') f(m); } catch {} };
  const source = () => {
    const lines = String(new Error().stack || '').split('\\n').slice(3);
    for (const l of lines) {
      const m = /(https?:\\/\\/[^\\s()]+?):\\d+:\\d+\\)?\\s*$/.exec(l);
      if (m) return m[1];
    }
    return location.href;
  };
  const cookie = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
  if (cookie && cookie.set) {
    Object.defineProperty(Document.prototype, 'cookie', {
      configurable: true,
      enumerable: cookie.enumerable,
      get() { return cookie.get.call(this); },
      set(v) {
        const s = String(v);
        const i = s.indexOf(';');
        send({ t: 'cookie', name: s.slice(0, s.indexOf('=')).trim(), attrs: i < 0 ? '' : s.slice(i + 1), src: source(), at: location.href });
        return cookie.set.call(this, v);
      },
    });
  }
  const setItem = Storage.prototype.setItem;
  Storage.prototype.setItem = function (k, v) {
    let area = 'sessionStorage';
    try { if (this === globalThis.localStorage) area = 'localStorage'; } catch {}
    send({ t: 'storage', area, name: String(k), src: source(), at: location.origin });
    return setItem.call(this, k, v);
  };
  if (globalThis.IDBFactory) {
    const open = IDBFactory.prototype.open;
    IDBFactory.prototype.open = function (name, ...rest) {
      send({ t: 'storage', area: 'indexedDB', name: String(name), src: source(), at: location.origin });
      return open.call(this, name, ...rest);
    };
  }
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
