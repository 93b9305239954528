// Users (owners only): the list, each one's role, removal, and adding someone.
(() => {
  const { api, ready, problem } = window.assentAdmin;
  const $ = (id) => document.getElementById(id);
  const status = $('status');
  const body = $('users').tBodies[0];
  const ROLES = ['owner', 'editor', 'auditor'];
  const load = async () => {
    const r = await api('/v1/admin/users');
    if (!r.ok) {
      status.textContent = `Error: ${await problem(r)}`;
      return;
    }
    const { users } = await r.json();
    body.replaceChildren();
    for (const u of users) {
      const tr = body.insertRow();
      tr.insertCell().textContent = u.email;
      const roleCell = tr.insertCell();
      const sel = document.createElement('select');
      sel.setAttribute('aria-label', `Role of ${u.email}`);
      for (const role of ROLES) sel.add(new Option(role, role, false, role === u.role));
      sel.addEventListener('change', async () => {
        const res = await api(`/v1/admin/users/${encodeURIComponent(u.id)}`, {
          method: 'PATCH',
          body: { role: sel.value },
        });
        status.textContent = res.ok ? `${u.email} is now ${sel.value}.` : `Error: ${await problem(res)}`;
        await load();
      });
      roleCell.append(sel);
      tr.insertCell().textContent = u.created_at.slice(0, 10);
      const rm = document.createElement('button');
      rm.type = 'button';
      rm.textContent = `Remove ${u.email}`;
      rm.addEventListener('click', async () => {
        if (!confirm(`Remove ${u.email}? They are signed out at once.`)) return;
        const res = await api(`/v1/admin/users/${encodeURIComponent(u.id)}`, { method: 'DELETE' });
        status.textContent = res.ok ? `${u.email} was removed.` : `Error: ${await problem(res)}`;
        await load();
      });
      tr.insertCell().append(rm);
    }
  };
  $('add-user').addEventListener('submit', async (e) => {
    e.preventDefault();
    status.textContent = 'Adding…';
    const r = await api('/v1/admin/users', {
      method: 'POST',
      body: { email: $('new-email').value, role: $('new-role').value, password: $('new-password').value },
    });
    if (!r.ok) {
      status.textContent = `Error: ${await problem(r)}`;
      return;
    }
    const u = await r.json();
    status.textContent = `${u.email} was added as ${u.role}.`;
    $('add-user').reset();
    await load();
  });
  ready.then(load, (e) => {
    status.textContent = `Error: ${e.message}`;
  });
})();
