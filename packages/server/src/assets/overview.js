// The overview: consent outcomes counted per consent (GET /v1/admin/overview) for a site and
// date range, as a uPlot chart over time and as tables (the numbers, readable without the
// chart or its colours), and the signed export.
(() => {
  const { api, ready, problem, errorOf, failed, wrapTable } = window.assentAdmin;
  const fields = window.assentFields;
  /** The filter's fields, by the API's names for them. */
  const FILTER = { site: 'site', from: 'from', to: 'to' };
  let asked = false; // the filter was just submitted: focus may move to a field it names
  const $ = (id) => document.getElementById(id);
  const out = $('stats');
  const status = $('status');
  // A link from the sites page names its site (/admin?site=…).
  $('site').value = new URLSearchParams(location.search).get('site') ?? '';
  const pct = (a, t) => (t ? `${Math.round((100 * a) / t)}%` : '—');
  // Each outcome has its own dash pattern and colour: the lines differ without colour. Two
  // palettes, each at least 3:1 against its scheme's background (the pages follow the
  // browser's light or dark scheme: `color-scheme: light dark`).
  const STYLE = {
    'accept-all': { light: '#1b5e20', dark: '#81c784', dash: [] },
    'reject-all': { light: '#b71c1c', dark: '#ef9a9a', dash: [10, 5] },
    custom: { light: '#0d47a1', dark: '#90caf9', dash: [2, 4] },
    withdraw: { light: '#4a148c', dark: '#ce93d8', dash: [12, 4, 2, 4] },
    gpc: { light: '#bf360c', dark: '#ffb74d', dash: [6, 2] },
    'notice-ack': { light: '#37474f', dark: '#cfd8dc', dash: [1, 8] },
  };
  const darkScheme = matchMedia('(prefers-color-scheme: dark)');
  const strokeOf = (method) => STYLE[method][darkScheme.matches ? 'dark' : 'light'];
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
    return wrapTable(t);
  };
  /**
   * The chart's key, as text: which line is which outcome (its colour and dash pattern beside
   * its name). uPlot's own legend is off: it toggles lines with the mouse only, and the
   * tables below hold every number.
   */
  const key = (outcomes) => {
    const ul = document.createElement('ul');
    ul.className = 'chart-key';
    ul.setAttribute('aria-label', 'Key');
    const NS = 'http://www.w3.org/2000/svg';
    for (const x of outcomes) {
      const svg = document.createElementNS(NS, 'svg');
      svg.setAttribute('width', '32');
      svg.setAttribute('height', '10');
      svg.setAttribute('aria-hidden', 'true');
      const line = document.createElementNS(NS, 'line');
      for (const [k, v] of Object.entries({
        x1: 0,
        y1: 5,
        x2: 32,
        y2: 5,
        stroke: strokeOf(x.method),
        'stroke-width': 2,
        'stroke-dasharray': STYLE[x.method].dash.join(' ') || 'none',
      }))
        line.setAttribute(k, String(v));
      svg.append(line);
      const li = document.createElement('li');
      li.append(svg, ` ${x.label}`);
      ul.append(li);
    }
    return ul;
  };
  let plot = null;
  let drawn = null; // the overview the chart shows, to draw again when the scheme changes
  const chart = (o) => {
    plot?.destroy();
    plot = null;
    drawn = o;
    const box = $('chart-box');
    box.hidden = !o.days.length || !window.uPlot;
    $('chart-key')?.remove();
    if (box.hidden) return;
    const xs = o.days.map((d) => Date.parse(`${d.day}T00:00:00Z`) / 1000);
    const data = [xs, ...o.outcomes.map((x) => o.days.map((d) => d.counts[x.method] ?? 0))];
    // The axes in the page's text colour (CanvasText of the scheme in use), not uPlot's black.
    const ink = getComputedStyle($('chart')).color;
    const axis = {
      stroke: ink,
      grid: { stroke: ink.replace(/^rgb\((.*)\)$/, 'rgba($1, 0.15)') },
      ticks: { stroke: ink },
    };
    plot = new window.uPlot(
      {
        width: Math.min(900, $('chart').clientWidth || 800),
        height: 280,
        legend: { show: false },
        // A range of one day (a new site, the demo) would otherwise stretch to years: keep at
        // least a week around the data, so a single day reads as a day. From the data itself:
        // uPlot widens a single point by 1,000 days before it asks `range`.
        scales: {
          x: {
            time: true,
            range: (u) => {
              const min = u.data[0][0];
              const max = u.data[0].at(-1);
              return max - min < 7 * 86400 ? [min - 3 * 86400, max + 3 * 86400] : [min, max];
            },
          },
        },
        series: [
          { label: 'Day' },
          ...o.outcomes.map((x) => ({
            label: x.label,
            stroke: strokeOf(x.method),
            dash: STYLE[x.method].dash,
            width: 2,
            points: { show: true, size: 7 },
          })),
        ],
        axes: [axis, { ...axis, label: 'Consents' }],
      },
      data,
      $('chart'),
    );
    const k = key(o.outcomes);
    k.id = 'chart-key';
    $('chart').after(k);
  };
  darkScheme.addEventListener('change', () => {
    if (drawn) chart(drawn);
  });
  const field = (id) => $(id).value.trim();
  const query = () => {
    const q = new URLSearchParams();
    for (const k of ['site', 'from', 'to']) if (field(k)) q.set(k, field(k));
    return q;
  };
  const show = async () => {
    status.textContent = 'Loading…';
    const r = await api(`/v1/admin/overview?${query()}`);
    const focus = asked;
    asked = false;
    if (!r.ok) {
      // Beside the filter's field it names (a site this server does not serve, a date).
      const err = await errorOf(r);
      status.textContent = `Error: ${err.text}`;
      fields.show($('filter'), FILTER, err, { focus });
      out.replaceChildren();
      $('chart-box').hidden = true;
      return;
    }
    fields.clear($('filter'));
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
    asked = true;
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
