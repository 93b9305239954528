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
  /** The message of an API error, for the status line. */
  const problem = async (r) => {
    const e = await r.json().catch(() => ({}));
    return e.message ? `${e.field ? `${e.field}: ` : ''}${e.message}` : `the server answered ${r.status}`;
  };
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
  window.assentAdmin = { api, ready, problem, failed };
})();
