// Users (owners only): the list, each one's role and sites, removal, and adding someone.
// Every change is a button press, never a select's `change` (one arrow key on a role would
// demote an owner); after each one the list is drawn again and focus goes to the same
// control in it, or to the status line when it is gone.
(() => {
  const { api, ready, problem, errorOf, refocus } = window.assentAdmin;
  const fields = window.assentFields;
  const $ = (id) => document.getElementById(id);
  const status = $('status');
  const body = $('users').tBodies[0];
  const ROLES = ['owner', 'editor', 'auditor'];
  /** The add form's fields by the API's names for them. */
  const USER_FIELDS = { email: 'new-email', role: 'new-role', password: 'new-password', sites: 'new-sites' };
  let allSites = [];
  /** One checkbox per site of the server, ticked for `chosen`; none ticked means every site. */
  const siteBoxes = (box, prefix, chosen) => {
    box.querySelectorAll('label').forEach((l) => {
      l.remove();
    });
    allSites.forEach((site, i) => {
      const l = document.createElement('label');
      const c = document.createElement('input');
      c.type = 'checkbox';
      c.id = `${prefix}-${i}`;
      c.value = site;
      c.checked = chosen.includes(site);
      l.append(c, ` ${site} `);
      box.append(l);
    });
  };
  const ticked = (box) => [...box.querySelectorAll('input:checked')].map((c) => c.value);
  /** Draws the list again; then focus on `data-focus="<focus>"`, or the status line. */
  const load = async (focus) => {
    const s = await api('/v1/admin/sites?counts=no');
    if (s.ok) allSites = (await s.json()).sites.map((x) => x.site);
    const r = await api('/v1/admin/users');
    if (!r.ok) {
      status.textContent = `Error: ${await problem(r)}`;
      if (focus !== undefined) refocus(null);
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
      const change = document.createElement('button');
      change.type = 'button';
      change.textContent = 'Change role';
      change.setAttribute('aria-label', `Change role of ${u.email}`);
      change.dataset.focus = `role-${u.id}`;
      change.addEventListener('click', async () => {
        if (sel.value === u.role) {
          status.textContent = `${u.email} is already ${u.role}: choose another role first.`;
          return;
        }
        const res = await api(`/v1/admin/users/${encodeURIComponent(u.id)}`, {
          method: 'PATCH',
          body: { role: sel.value },
        });
        status.textContent = res.ok ? `${u.email} is now ${sel.value}.` : `Error: ${await problem(res)}`;
        await load(`role-${u.id}`);
      });
      roleCell.append(sel, ' ', change);
      const sitesCell = tr.insertCell();
      if (u.role === 'owner') sitesCell.textContent = 'every site';
      else {
        const box = document.createElement('fieldset');
        const legend = document.createElement('legend');
        legend.textContent = `Sites of ${u.email} (none ticked: every site)`;
        box.append(legend);
        siteBoxes(box, `sites-${u.id}`, u.sites);
        const save = document.createElement('button');
        save.type = 'button';
        save.textContent = 'Save sites';
        save.setAttribute('aria-label', `Save sites of ${u.email}`);
        save.dataset.focus = `sites-${u.id}`;
        save.addEventListener('click', async () => {
          const sites = ticked(box);
          const res = await api(`/v1/admin/users/${encodeURIComponent(u.id)}`, {
            method: 'PATCH',
            body: { sites },
          });
          status.textContent = res.ok
            ? `${u.email} now sees ${sites.length ? sites.join(', ') : 'every site'}.`
            : `Error: ${await problem(res)}`;
          await load(`sites-${u.id}`);
        });
        sitesCell.append(box, save);
      }
      tr.insertCell().textContent = u.created_at.slice(0, 10);
      const rm = document.createElement('button');
      rm.type = 'button';
      rm.textContent = `Remove ${u.email}`;
      rm.dataset.focus = `remove-${u.id}`;
      rm.addEventListener('click', async () => {
        if (!confirm(`Remove ${u.email}? They are signed out at once.`)) return;
        const res = await api(`/v1/admin/users/${encodeURIComponent(u.id)}`, { method: 'DELETE' });
        status.textContent = res.ok ? `${u.email} was removed.` : `Error: ${await problem(res)}`;
        // Its row is gone: focus goes to the status line that says so.
        await load(res.ok ? null : `remove-${u.id}`);
      });
      tr.insertCell().append(rm);
    }
    if (focus !== undefined) refocus(focus);
  };
  $('add-user').addEventListener('submit', async (e) => {
    e.preventDefault();
    status.textContent = 'Adding…';
    fields.clear($('add-user'));
    const r = await api('/v1/admin/users', {
      method: 'POST',
      body: {
        email: $('new-email').value,
        role: $('new-role').value,
        password: $('new-password').value,
        sites: ticked($('new-sites')),
      },
    });
    if (!r.ok) {
      // Beside the field it names (an email already in use, a short password), focused.
      const err = await errorOf(r);
      status.textContent = `Error: ${err.text}`;
      fields.show($('add-user'), USER_FIELDS, err);
      return;
    }
    const u = await r.json();
    status.textContent = `${u.email} was added as ${u.role}.`;
    $('add-user').reset();
    await load();
  });
  ready.then(
    async () => {
      await load();
      siteBoxes($('new-sites'), 'new-site', []);
    },
    (e) => {
      status.textContent = `Error: ${e.message}`;
    },
  );
})();
