// The admin console's shared part, loaded before each page's own script: who is signed in
// (else to the sign-in page), the navigation their role may use, signing out, and `api`,
// which sends the session's anti-forgery token with every change.
(() => {
  let csrf = null;
  let csrfHeader = 'x-assent-csrf';
  const api = async (path, opts = {}) => {
    const headers = { ...(opts.headers ?? {}) };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (csrf && opts.method && opts.method !== 'GET') headers[csrfHeader] = csrf;
    const r = await fetch(path, {
      method: opts.method ?? 'GET',
      headers,
      credentials: 'same-origin',
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    if (r.status === 401) {
      location.assign(`/admin/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`);
      throw new Error('signed out');
    }
    return r;
  };
  /** Why a request failed on the way (no answer: the network, a reset) or otherwise. */
  const reason = (e) =>
    e instanceof TypeError
      ? 'the server could not be reached (a network error); try again'
      : (e?.message ?? String(e));
  /**
   * A handler for a request that failed without an answer (fetch or reading the body
   * rejected): says in the page's status what failed, instead of leaving "Loading…".
   */
  const failed = (what) => (e) => {
    // On the way to the sign-in page (api() answered 401): nothing failed.
    if (e?.message === 'signed out') return;
    const status = document.getElementById('status');
    if (status) status.textContent = `${what} failed: ${reason(e)}`;
  };
  // Anything a page's script leaves unhandled still reaches the status line.
  addEventListener('unhandledrejection', (e) => failed('Something on this page')(e.reason));
  /** An API error's answer: `{ field, message, text }` (`text`: for the status line). */
  const errorOf = async (r) => {
    const e = await r.json().catch(() => ({}));
    return {
      field: e.field ?? null,
      message: e.message ?? null,
      text: e.message ? `${e.field ? `${e.field}: ` : ''}${e.message}` : `the server answered ${r.status}`,
    };
  };
  /** The message of an API error, for the status line. */
  const problem = async (r) => (await errorOf(r)).text;
  /**
   * Keyboard focus after a page rebuilt what it shows (a table after a change): the new
   * control marked `data-focus="<key>"`, or the status line that says what happened (it has
   * tabindex="-1"), never <body>.
   */
  const refocus = (key) => {
    const c = key ? document.querySelector(`[data-focus="${CSS.escape(key)}"]`) : null;
    (c && !c.disabled && !c.closest('[hidden]') ? c : document.getElementById('status'))?.focus();
  };
  /**
   * A wide table scrolls inside its own box (`.table-scroll`) instead of the page (reflow at
   * 320 px): while it overflows, the box is a named region in the tab order, so it can be
   * scrolled with the keyboard; otherwise it is nothing.
   */
  const scrolls = (box) => {
    const update = () => {
      if (box.scrollWidth > box.clientWidth + 1) {
        box.tabIndex = 0;
        box.setAttribute('role', 'region');
        box.setAttribute('aria-label', box.querySelector('caption')?.textContent || 'Table');
      } else {
        box.removeAttribute('tabindex');
        box.removeAttribute('role');
        box.removeAttribute('aria-label');
      }
    };
    const o = new ResizeObserver(update);
    o.observe(box);
    const t = box.querySelector('table');
    if (t) o.observe(t);
    return box;
  };
  /** `table` in a `.table-scroll` box (see scrolls), for tables a page makes. */
  const wrapTable = (table) => {
    const box = document.createElement('div');
    box.className = 'table-scroll';
    box.append(table);
    return scrolls(box);
  };
  for (const box of document.querySelectorAll('.table-scroll')) scrolls(box);
  const ready = (async () => {
    const r = await api('/v1/admin/session');
    if (!r.ok) throw new Error(await problem(r));
    const me = await r.json();
    csrf = me.csrf;
    csrfHeader = me.csrfHeader;
    document.getElementById('who').textContent = `${me.email ?? 'admin token'} (${me.role})`;
    for (const li of document.querySelectorAll('[data-roles]'))
      li.hidden = !li.dataset.roles.split(' ').includes(me.role);
    const out = document.getElementById('sign-out');
    out.hidden = false;
    out.addEventListener('click', async () => {
      await api('/v1/admin/session', { method: 'DELETE' });
      location.assign('/admin/sign-in');
    });
    return me;
  })();
  // Handled here too: the page's own script may still be loading when a signed-out visitor's
  // 401 arrives (it then goes to the sign-in page), which is no error of the page.
  ready.catch(() => {});
  window.assentAdmin = { api, ready, problem, errorOf, failed, refocus, wrapTable };
})();
