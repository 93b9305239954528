// The receipts table (owners and auditors): search by consent ID, filters, keyset pages.
(() => {
  const { api, ready, errorOf, failed } = window.assentAdmin;
  const fields = window.assentFields;
  /** The filter's fields, by the API's names for them. */
  const FILTER = { consent: 'consent', site: 'site', from: 'from', to: 'to', method: 'method' };
  let asked = false; // a search was just submitted: focus may move to a field it names
  const $ = (id) => document.getElementById(id);
  const status = $('status');
  const body = $('receipts').tBodies[0];
  const older = $('older');
  let next = null;
  // A link from the sites page names its site (/admin/receipts?site=…).
  $('site').value = new URLSearchParams(location.search).get('site') ?? '';
  let query = '';
  const params = () => {
    const q = new URLSearchParams();
    for (const k of ['consent', 'site', 'from', 'to', 'method']) {
      const v = $(k).value.trim();
      if (v) q.set(k, v);
    }
    return q;
  };
  const load = (after) => fetchPage(after).catch(failed('Loading the receipts'));
  const fetchPage = async (after) => {
    status.textContent = 'Loading…';
    const q = new URLSearchParams(query);
    if (after) q.set('after', after);
    const r = await api(`/v1/admin/receipts/page?${q}`);
    const focus = asked;
    asked = false;
    if (!r.ok) {
      // Beside the filter's field it names (an unknown site, a malformed consent ID).
      const err = await errorOf(r);
      status.textContent = `Error: ${err.text}`;
      fields.show($('filter'), FILTER, err, { focus });
      body.replaceChildren();
      older.hidden = true;
      return;
    }
    fields.clear($('filter'));
    const page = await r.json();
    if (!after) body.replaceChildren();
    for (const x of page.receipts) {
      const tr = body.insertRow();
      const when = `${x.at.slice(0, 10)} ${x.at.slice(11, 19)}`;
      const granted = x.purged ? '(purged)' : x.granted.length ? x.granted.join(', ') : 'nothing';
      for (const v of [when, x.site, x.method ?? '—', x.mode ?? '—', x.region ?? 'unknown', granted])
        tr.insertCell().textContent = v;
      const a = document.createElement('a');
      a.href = `/admin/receipt?id=${encodeURIComponent(x.id)}`;
      a.textContent = x.id;
      a.setAttribute('aria-label', `Receipt ${x.id}, ${x.site} seq ${x.seq}`);
      tr.insertCell().append(a);
    }
    const n = body.rows.length;
    if (!n) body.insertRow().insertCell().textContent = 'No receipt matches.';
    next = page.next;
    older.hidden = next === null;
    status.textContent = `${n} receipt${n === 1 ? '' : 's'} shown${next ? '; more are older' : ''}.`;
  };
  $('filter').addEventListener('submit', (e) => {
    e.preventDefault();
    query = params().toString();
    asked = true;
    load(null);
  });
  older.addEventListener('click', () => load(next));
  ready.then(
    () => {
      query = params().toString();
      return load(null);
    },
    (e) => {
      status.textContent = `Error: ${e.message}`;
    },
  );
})();
