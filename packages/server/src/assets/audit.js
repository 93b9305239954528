// The audit log (owners and auditors): pages newest first (keyset on seq), verification of
// the whole chain, and the NDJSON download.
(() => {
  const { api, ready, problem, failed } = window.assentAdmin;
  const $ = (id) => document.getElementById(id);
  const status = $('status');
  const body = $('audit').tBodies[0];
  const older = $('older');
  let next = null;
  const details = (d) =>
    Object.entries(d)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ');
  const load = (before) => entries(before).catch(failed('Loading the audit log'));
  const entries = async (before) => {
    const r = await api(`/v1/admin/audit${before ? `?before=${before}` : ''}`);
    if (!r.ok) {
      status.textContent = `Error: ${await problem(r)}`;
      return;
    }
    const page = await r.json();
    if (!before) body.replaceChildren();
    for (const e of page.entries) {
      const tr = body.insertRow();
      const when = `${e.at.slice(0, 10)} ${e.at.slice(11, 19)}`;
      for (const v of [
        e.seq,
        when,
        e.actor,
        e.role ?? '—',
        e.action,
        e.target ?? '—',
        details(e.detail) || '—',
      ])
        tr.insertCell().textContent = String(v);
    }
    if (!body.rows.length) body.insertRow().insertCell().textContent = 'No entries yet.';
    next = page.next;
    older.hidden = next === null;
  };
  older.addEventListener('click', () => load(next));
  const verify = async () => {
    status.textContent = 'Verifying…';
    const r = await api('/v1/admin/audit/verify');
    if (!r.ok) {
      status.textContent = `Error: ${await problem(r)}`;
      return;
    }
    const v = await r.json();
    status.textContent = v.ok
      ? `The chain verifies: ${v.entries} entries, each hash and signature (key ${v.kid}) checked.`
      : `The chain is BROKEN at entry ${v.seq ?? '?'}: ${v.reason}.`;
  };
  $('verify').addEventListener('click', () => verify().catch(failed('Verifying the chain')));
  const download = async () => {
    status.textContent = 'Exporting the audit log…';
    const r = await api('/v1/admin/audit/export');
    if (!r.ok) {
      status.textContent = `Export failed: ${await problem(r)}`;
      return;
    }
    const a = document.createElement('a');
    a.href = URL.createObjectURL(await r.blob());
    a.download = 'audit.ndjson';
    a.click();
    URL.revokeObjectURL(a.href);
    status.textContent = 'The audit log is downloaded.';
    // The export is itself an audited action: show it.
    await load();
  };
  $('export').addEventListener('click', () => download().catch(failed('The audit log export')));
  ready.then(
    () => load(),
    (e) => {
      status.textContent = `Error: ${e.message}`;
    },
  );
})();
