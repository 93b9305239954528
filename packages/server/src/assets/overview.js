// The overview: consent rates from GET /v1/admin/stats, and the signed export.
(() => {
  const { api, ready, problem } = window.assentAdmin;
  const $ = (id) => document.getElementById(id);
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
  const site = () => $('site').value.trim();
  const show = async () => {
    status.textContent = 'Loading…';
    const q = site() ? `&site=${encodeURIComponent(site())}` : '';
    const res = await Promise.all(
      ['method', 'category', 'day', 'region'].map((by) => api(`/v1/admin/stats?by=${by}${q}`)),
    );
    const bad = res.find((r) => !r.ok);
    if (bad) {
      status.textContent = `Error: ${await problem(bad)}`;
      out.replaceChildren();
      return;
    }
    const data = await Promise.all(res.map((r) => r.json()));
    out.replaceChildren(...data.map((d) => table(d.by, d.rows)));
    status.textContent = `Updated ${new Date().toLocaleTimeString()}.`;
  };
  const download = async (format) => {
    const r = await api(
      `/v1/admin/receipts?format=${format}${site() ? `&site=${encodeURIComponent(site())}` : ''}`,
    );
    if (!r.ok) {
      status.textContent = `Export failed: ${await problem(r)}`;
      return;
    }
    const a = document.createElement('a');
    a.href = URL.createObjectURL(await r.blob());
    a.download = `receipts.${format}`;
    a.click();
    URL.revokeObjectURL(a.href);
  };
  $('filter').addEventListener('submit', (e) => {
    e.preventDefault();
    show();
  });
  for (const b of document.querySelectorAll('[data-export]'))
    b.addEventListener('click', () => download(b.dataset.export));
  ready.then(
    (me) => {
      // Exports are for owners and auditors (an editor changes policies, not evidence).
      $('exports').hidden = !['owner', 'auditor'].includes(me.role);
      return show();
    },
    (e) => {
      status.textContent = `Error: ${e.message}`;
    },
  );
})();
