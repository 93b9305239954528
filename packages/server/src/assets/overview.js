// The overview: consent outcomes counted per consent (GET /v1/admin/overview) for a site and
// date range, as a uPlot chart over time and as tables (the numbers, readable without the
// chart or its colours), and the signed export.
(() => {
  const { api, ready, problem, failed } = window.assentAdmin;
  const $ = (id) => document.getElementById(id);
  const out = $('stats');
  const status = $('status');
  // A link from the sites page names its site (/admin?site=…).
  $('site').value = new URLSearchParams(location.search).get('site') ?? '';
  const pct = (a, t) => (t ? `${Math.round((100 * a) / t)}%` : '—');
  // Each outcome has its own dash pattern and colour: the lines differ without colour.
  const STYLE = {
    'accept-all': { stroke: '#1b5e20', dash: [] },
    'reject-all': { stroke: '#b71c1c', dash: [10, 5] },
    custom: { stroke: '#0d47a1', dash: [2, 4] },
    withdraw: { stroke: '#4a148c', dash: [12, 4, 2, 4] },
    gpc: { stroke: '#e65100', dash: [6, 2] },
    'notice-ack': { stroke: '#37474f', dash: [1, 8] },
  };
  const table = (caption, head, rows) => {
    const t = document.createElement('table');
    t.createCaption().textContent = caption;
    const hr = t.createTHead().insertRow();
    for (const h of head) {
      const th = document.createElement('th');
      th.scope = 'col';
      th.textContent = h;
      hr.append(th);
    }
    const body = t.createTBody();
    for (const r of rows) {
      const tr = body.insertRow();
      r.forEach((v, i) => {
        if (i === 0) {
          const th = document.createElement('th');
          th.scope = 'row';
          th.textContent = String(v);
          tr.append(th);
        } else tr.insertCell().textContent = String(v);
      });
    }
    if (!rows.length) body.insertRow().insertCell().textContent = 'No choices in this range.';
    return t;
  };
  let plot = null;
  const chart = (o) => {
    plot?.destroy();
    plot = null;
    const box = $('chart-box');
    box.hidden = !o.days.length || !window.uPlot;
    if (box.hidden) return;
    const xs = o.days.map((d) => Date.parse(`${d.day}T00:00:00Z`) / 1000);
    const data = [xs, ...o.outcomes.map((x) => o.days.map((d) => d.counts[x.method] ?? 0))];
    plot = new window.uPlot(
      {
        width: Math.min(900, $('chart').clientWidth || 800),
        height: 280,
        // A range of one day (a new site, the demo) would otherwise stretch to years: keep
        // at least a week around the data, so a single day reads as a day.
        scales: {
          x: {
            time: true,
            range: (_u, min, max) =>
              max - min < 7 * 86400 ? [min - 3 * 86400, max + 3 * 86400] : [min, max],
          },
        },
        series: [
          { label: 'Day' },
          ...o.outcomes.map((x) => ({
            label: x.label,
            stroke: STYLE[x.method].stroke,
            dash: STYLE[x.method].dash,
            width: 2,
            points: { show: true, size: 7 },
          })),
        ],
        axes: [{}, { label: 'Consents' }],
      },
      data,
      $('chart'),
    );
  };
  const field = (id) => $(id).value.trim();
  const query = () => {
    const q = new URLSearchParams();
    for (const k of ['site', 'from', 'to']) if (field(k)) q.set(k, field(k));
    return q;
  };
  const show = async () => {
    status.textContent = 'Loading…';
    const r = await api(`/v1/admin/overview?${query()}`);
    if (!r.ok) {
      status.textContent = `Error: ${await problem(r)}`;
      out.replaceChildren();
      $('chart-box').hidden = true;
      return;
    }
    const o = await r.json();
    const receipts = o.outcomes.reduce((n, x) => n + x.receipts, 0);
    const labels = o.outcomes.map((x) => x.label);
    out.replaceChildren(
      table(
        'Outcomes per consent (latest choice)',
        ['Outcome', 'Consents', 'Share', 'Receipts'],
        [
          ...o.outcomes.map((x) => [x.label, x.consents, pct(x.consents, o.consents), x.receipts]),
          ['All', o.consents, o.consents ? '100%' : '—', receipts],
        ],
      ),
      table(
        'Latest choices per day',
        ['Day', ...labels],
        o.days.map((d) => [d.day, ...o.outcomes.map((x) => d.counts[x.method] ?? 0)]),
      ),
      table(
        'Latest choices per region',
        ['Region', ...labels],
        o.regions.map((d) => [d.region, ...o.outcomes.map((x) => d.counts[x.method] ?? 0)]),
      ),
      table(
        'Latest choices per mode',
        ['Mode', ...labels],
        o.modes.map((d) => [d.mode, ...o.outcomes.map((x) => d.counts[x.method] ?? 0)]),
      ),
      table(
        'Consents granting each category',
        ['Category', 'Granting', 'Consents', 'Rate'],
        o.categories.map((c) => [c.title, c.granting, c.consents, pct(c.granting, c.consents)]),
      ),
    );
    chart(o);
    status.textContent = `${o.consents} consent${o.consents === 1 ? '' : 's'} in range. Updated ${new Date().toLocaleTimeString()}.`;
  };
  const download = async (format) => {
    const q = query();
    q.set('format', format);
    status.textContent = `Exporting ${format.toUpperCase()}…`;
    const r = await api(`/v1/admin/receipts?${q}`);
    if (!r.ok) {
      status.textContent = `Export failed: ${await problem(r)}`;
      return;
    }
    const a = document.createElement('a');
    a.href = URL.createObjectURL(await r.blob());
    a.download = `receipts.${format}`;
    a.click();
    URL.revokeObjectURL(a.href);
    status.textContent = `The ${format.toUpperCase()} export is downloaded.`;
  };
  const load = () => show().catch(failed('Loading the overview'));
  $('filter').addEventListener('submit', (e) => {
    e.preventDefault();
    load();
  });
  for (const b of document.querySelectorAll('[data-export]'))
    b.addEventListener('click', () =>
      download(b.dataset.export).catch(failed(`The ${b.dataset.export.toUpperCase()} export`)),
    );
  ready.then(
    (me) => {
      // Exports are for owners and auditors (an editor changes policies, not evidence).
      $('exports').hidden = !['owner', 'auditor'].includes(me.role);
      return load();
    },
    (e) => {
      status.textContent = `Error: ${e.message}`;
    },
  );
})();
