// Sites (every role, limited to the caller's sites): each site's policy, API key fingerprint,
// counts and latest log checkpoint, with links to its overview and receipts.
(() => {
  const { api, ready, problem } = window.assentAdmin;
  const $ = (id) => document.getElementById(id);
  const status = $('status');
  const body = $('sites').tBodies[0];
  const ago = (s) =>
    s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
  const link = (href, text, label) => {
    const a = document.createElement('a');
    a.href = href;
    a.textContent = text;
    a.setAttribute('aria-label', label);
    return a;
  };
  const load = async () => {
    status.textContent = 'Loading…';
    const r = await api('/v1/admin/sites');
    if (!r.ok) {
      status.textContent = `Error: ${await problem(r)}`;
      return;
    }
    const { sites } = await r.json();
    body.replaceChildren();
    for (const x of sites) {
      const tr = body.insertRow();
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = x.retired ? `${x.site} (retired)` : x.site;
      tr.append(th);
      const p = x.policy;
      const cells = [
        p.version
          ? `${p.version} (${p.versions} version${p.versions === 1 ? '' : 's'}; ${p.sha256.slice(0, 12)}…)`
          : 'none published',
        x.apiKey.configured ? `SHA-256 ${x.apiKey.fingerprint}…` : 'none',
        String(x.consents),
        String(x.receipts),
        x.log.size === null ? 'none yet' : `size ${x.log.size}, ${ago(x.log.ageSeconds)}`,
      ];
      for (const c of cells) tr.insertCell().textContent = c;
      tr.insertCell().append(
        link(x.links.overview, 'Overview', `Overview of ${x.site}`),
        ' ',
        link(x.links.receipts, 'Receipts', `Receipts of ${x.site}`),
      );
    }
    status.textContent = `${sites.length} site${sites.length === 1 ? '' : 's'}.`;
  };
  ready.then(load, (e) => {
    status.textContent = `Error: ${e.message}`;
  });
})();
