// The admin dashboard: consent rates from GET /v1/admin/stats, and the signed export.
// The token stays in this tab (sessionStorage) and is only ever sent as a bearer header.
(() => {
  const $ = (id) => document.getElementById(id);
  const form = $('login');
  const out = $('stats');
  const status = $('status');
  const pct = (a, t) => (t ? `${Math.round((100 * a) / t)}%` : '—');
  const LABEL = { day: 'Day', category: 'Category', region: 'Region', method: 'How the choice was made' };
  const table = (by, rows) => {
    const t = document.createElement('table');
    const cap = t.createCaption();
    cap.textContent =
      by === 'category' ? 'Consent rate per category' : `Choices by ${LABEL[by].toLowerCase()}`;
    const head = t.createTHead().insertRow();
    for (const h of [LABEL[by], 'Choices', 'Granting', 'Rate']) {
      const th = document.createElement('th');
      th.scope = 'col';
      th.textContent = h;
      head.append(th);
    }
    const body = t.createTBody();
    for (const r of rows) {
      const tr = body.insertRow();
      for (const v of [r.key, r.total, r.accepted, pct(r.accepted, r.total)])
        tr.insertCell().textContent = String(v);
    }
    if (!rows.length) body.insertRow().insertCell().textContent = 'No receipts yet.';
    return t;
  };
  const get = (url, token) => fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const show = async (token) => {
    status.textContent = 'Loading…';
    const site = $('site').value.trim();
    const q = site ? `&site=${encodeURIComponent(site)}` : '';
    const res = await Promise.all(
      ['method', 'category', 'day', 'region'].map((by) => get(`/v1/admin/stats?by=${by}${q}`, token)),
    );
    const bad = res.find((r) => !r.ok);
    if (bad) {
      const e = await bad.json().catch(() => ({}));
      status.textContent =
        bad.status === 401 ? 'That token was refused.' : `Error: ${e.message ?? bad.status}`;
      out.replaceChildren();
      return;
    }
    sessionStorage.setItem('assent-admin', token);
    const data = await Promise.all(res.map((r) => r.json()));
    out.replaceChildren(...data.map((d) => table(d.by, d.rows)));
    status.textContent = `Updated ${new Date().toLocaleTimeString()}.`;
    $('exports').hidden = false;
  };
  const download = async (format) => {
    const token = sessionStorage.getItem('assent-admin');
    const site = $('site').value.trim();
    const r = await get(
      `/v1/admin/receipts?format=${format}${site ? `&site=${encodeURIComponent(site)}` : ''}`,
      token,
    );
    if (!r.ok) {
      status.textContent = `Export failed (${r.status}).`;
      return;
    }
    const a = document.createElement('a');
    a.href = URL.createObjectURL(await r.blob());
    a.download = `receipts.${format}`;
    a.click();
    URL.revokeObjectURL(a.href);
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    show($('token').value);
  });
  for (const b of document.querySelectorAll('[data-export]'))
    b.addEventListener('click', () => download(b.dataset.export));
  const saved = sessionStorage.getItem('assent-admin');
  if (saved) show(saved);
})();
