// Users (owners only): the list, each one's role and sites, removal, and adding someone.
(() => {
  const { api, ready, problem } = window.assentAdmin;
  const $ = (id) => document.getElementById(id);
  const status = $('status');
  const body = $('users').tBodies[0];
  const ROLES = ['owner', 'editor', 'auditor'];
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
  const load = async () => {
    const s = await api('/v1/admin/sites?counts=no');
    if (s.ok) allSites = (await s.json()).sites.map((x) => x.site);
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
        save.addEventListener('click', async () => {
          const sites = ticked(box);
          const res = await api(`/v1/admin/users/${encodeURIComponent(u.id)}`, {
            method: 'PATCH',
            body: { sites },
          });
          status.textContent = res.ok
            ? `${u.email} now sees ${sites.length ? sites.join(', ') : 'every site'}.`
            : `Error: ${await problem(res)}`;
          await load();
        });
        sitesCell.append(box, save);
      }
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
      body: {
        email: $('new-email').value,
        role: $('new-role').value,
        password: $('new-password').value,
        sites: ticked($('new-sites')),
      },
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
