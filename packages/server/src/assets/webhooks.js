// Webhooks: the list (everyone who may read it), adding (owners), pausing, testing and removing
// (owners and editors), and each webhook's recent delivery attempts.
(() => {
  const { api, ready, problem, errorOf, refocus } = window.assentAdmin;
  const fields = window.assentFields;
  /** The add form's fields by the API's names for them. */
  const HOOK_FIELDS = { site: 'hook-site', url: 'hook-url', events: 'hook-events' };
  const $ = (id) => document.getElementById(id);
  const status = $('status');
  const hooks = $('webhooks').tBodies[0];
  const deliveries = $('deliveries').tBodies[0];
  const pick = $('hook-pick');
  const older = $('older');
  let manage = false;
  let next = null;
  /** `focus`: its key, for focus to come back to it when the table is drawn again. */
  const button = (label, onClick, focus) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    if (focus) b.dataset.focus = focus;
    b.addEventListener('click', onClick);
    return b;
  };
  const when = (at) => `${at.slice(0, 10)} ${at.slice(11, 19)}`;

  const loadDeliveries = async (before) => {
    const id = pick.value;
    if (!before) deliveries.replaceChildren();
    if (!id) {
      deliveries.insertRow().insertCell().textContent = 'No webhook yet.';
      older.hidden = true;
      return;
    }
    const q = new URLSearchParams(before ? { before } : {});
    const r = await api(`/v1/admin/webhooks/${encodeURIComponent(id)}/deliveries?${q}`);
    if (!r.ok) {
      status.textContent = `Error: ${await problem(r)}`;
      return;
    }
    const page = await r.json();
    for (const d of page.deliveries) {
      const tr = deliveries.insertRow();
      const seqs =
        d.first_seq === null
          ? '—'
          : d.first_seq === d.last_seq
            ? d.first_seq
            : `${d.first_seq}–${d.last_seq}`;
      for (const v of [
        when(d.at),
        d.kind,
        d.kind === 'test'
          ? 'test event'
          : d.kind === 'erasures'
            ? `audit ${seqs} (${d.events})`
            : `${seqs} (${d.events})`,
        d.attempt,
        d.status === null ? d.error : `HTTP ${d.status}`,
        d.duration_ms,
        d.outcome,
      ])
        tr.insertCell().textContent = String(v);
    }
    if (!deliveries.rows.length) deliveries.insertRow().insertCell().textContent = 'No delivery yet.';
    next = page.next;
    older.hidden = next === null;
  };

  /**
   * Draws the table again; then focus on `data-focus="<focus>"` (Resume after Pause), or the
   * status line when that control is gone (a removal).
   */
  const load = async (focus) => {
    const r = await api('/v1/admin/webhooks');
    if (!r.ok) {
      status.textContent = `Error: ${await problem(r)}`;
      if (focus !== undefined) refocus(null);
      return;
    }
    const { webhooks, publicKey } = await r.json();
    $('public-key').textContent = publicKey;
    const chosen = pick.value;
    hooks.replaceChildren();
    pick.replaceChildren();
    for (const w of webhooks) {
      const tr = hooks.insertRow();
      for (const v of [
        w.site,
        w.url,
        w.events.join(' '),
        w.state,
        w.erasures_pending ? `${w.pending} receipts, ${w.erasures_pending} erasures` : w.pending,
        w.last_error ?? '—',
      ])
        tr.insertCell().textContent = String(v);
      const actions = tr.insertCell();
      if (manage) {
        const resume = w.state !== 'active';
        actions.append(
          button(
            `${resume ? 'Resume' : 'Pause'} ${w.url}`,
            async () => {
              const res = await api(`/v1/admin/webhooks/${encodeURIComponent(w.id)}`, {
                method: 'PATCH',
                body: { state: resume ? 'active' : 'paused' },
              });
              status.textContent = res.ok
                ? `${w.url} is ${resume ? 'active' : 'paused'}.`
                : `Error: ${await problem(res)}`;
              await load(`state-${w.id}`);
            },
            `state-${w.id}`,
          ),
          ' ',
          button(
            `Send a test event to ${w.url}`,
            async () => {
              status.textContent = 'Sending…';
              const res = await api(`/v1/admin/webhooks/${encodeURIComponent(w.id)}/test`, {
                method: 'POST',
              });
              if (!res.ok) {
                status.textContent = `Error: ${await problem(res)}`;
                return;
              }
              const d = await res.json();
              status.textContent = `Test event: ${d.status === null ? d.error : `HTTP ${d.status}`} in ${d.duration_ms} ms.`;
              pick.value = w.id;
              await loadDeliveries();
            },
            `test-${w.id}`,
          ),
          ' ',
          button(
            `Remove ${w.url}`,
            async () => {
              if (!confirm(`Remove the webhook to ${w.url} and its delivery log?`)) return;
              const res = await api(`/v1/admin/webhooks/${encodeURIComponent(w.id)}`, { method: 'DELETE' });
              status.textContent = res.ok ? `${w.url} was removed.` : `Error: ${await problem(res)}`;
              await load(res.ok ? null : `remove-${w.id}`);
            },
            `remove-${w.id}`,
          ),
        );
      } else actions.textContent = '—';
      pick.add(new Option(`${w.site} → ${w.url}`, w.id, false, w.id === chosen));
    }
    if (!webhooks.length) hooks.insertRow().insertCell().textContent = 'No webhook yet.';
    if (focus !== undefined) refocus(focus);
    await loadDeliveries();
  };

  $('add-webhook').addEventListener('submit', async (e) => {
    e.preventDefault();
    // None checked is sent as none: the server's 400 names `events` (it would otherwise default to all).
    const events = [...$('hook-events').querySelectorAll('input:checked')].map((c) => c.value);
    status.textContent = 'Adding…';
    fields.clear($('add-webhook'));
    const r = await api('/v1/admin/webhooks', {
      method: 'POST',
      body: { site: $('hook-site').value, url: $('hook-url').value, events },
    });
    if (!r.ok) {
      // Beside the field it names (a receiver on a private network, an unknown site), focused.
      const err = await errorOf(r);
      status.textContent = `Error: ${err.text}`;
      fields.show($('add-webhook'), HOOK_FIELDS, err);
      return;
    }
    const w = await r.json();
    $('secret').textContent = w.secret;
    $('secret-box').hidden = false;
    status.textContent = `The webhook to ${w.url} was added: it receives ${w.site}'s receipts from now on.`;
    $('add-webhook').reset();
    pick.add(new Option(`${w.site} → ${w.url}`, w.id, true, true));
    await load();
  });
  pick.addEventListener('change', () => loadDeliveries());
  $('refresh').addEventListener('click', () => load());
  older.addEventListener('click', () => loadDeliveries(next));
  ready.then(
    (me) => {
      manage = me.role === 'owner' || me.role === 'editor';
      // Where a site's receipts go is the owner's decision (the server refuses anyone else).
      $('add').hidden = me.role !== 'owner';
      return load();
    },
    (e) => {
      status.textContent = `Error: ${e.message}`;
    },
  );
})();
