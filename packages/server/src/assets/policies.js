// The policy editor: pick a site, edit its policy as a draft (policy-form.js) or as JSON,
// check it with core's validator on the server as you type, see the banner render it (the real
// build, in a sandboxed frame: policy-preview.js), publish it as a new version, browse the
// versions, and import the scanner's suggested config into the draft.
(() => {
  const { api, ready, problem } = window.assentAdmin;
  const { createForm } = window.assentPolicyForm;
  const $ = (id) => document.getElementById(id);
  const status = $('status');
  const say = (s) => {
    status.textContent = s;
  };

  let me = null;
  let site = null;
  let current = null; // { sha256, version, config } of the site's current policy
  let viewing = null; // a version shown read-only, or null for the draft
  let draftBackup = null;
  let checked = null; // the last check's answer for the draft
  let pristine = null; // the draft as a site's opening made it (JSON): edited when it differs
  let opener = null; // the View button that showed `viewing`: focus goes back to it
  const canPublish = () => me && ['owner', 'editor'].includes(me.role);

  const form = createForm($('form'), {
    changed: () => {
      $('json').value = JSON.stringify(form.draft, null, 2);
      schedule();
    },
    readOnly: () => !canPublish() || viewing !== null,
  });

  /** "v3" → "v4", "1" → "2", "2024-05" → "2024-06"; otherwise ".1" appended. */
  const next = (v) => {
    const m = /^(.*?)(\d+)$/.exec(v);
    return m ? `${m[1]}${Number(m[2]) + 1}` : `${v}.1`.slice(0, 32);
  };

  // The preview: a sandboxed frame (no allow-same-origin: an opaque origin, no cookie, no
  // storage, no credentials) that asks for the policy when it has loaded; reloaded per change.
  const frame = $('preview');
  let shown = null; // what the frame renders: { doc, sha256 }
  let loads = 0;
  const reloadPreview = () => {
    if (!shown) return;
    const q = new URLSearchParams({ n: String(++loads) });
    frame.src = `/admin/policies/preview?${q}`;
  };
  window.addEventListener('message', (e) => {
    if (e.source !== frame.contentWindow || e.data !== 'assent-preview-ready' || !shown) return;
    // The frame's origin is opaque ("null"): '*' is the only target that reaches it, and what
    // is sent is this draft, which the frame renders and nothing else reads.
    frame.contentWindow.postMessage(
      {
        site,
        sha256: shown.sha256,
        doc: shown.doc,
        lang: form.lang,
        region: $('preview-region').value,
      },
      '*',
    );
  });
  $('preview-region').addEventListener('change', reloadPreview);

  let timer = 0;
  let seq = 0;
  /** Checks the draft (debounced): errors beside their fields, or a preview of it. */
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(check, 250);
  };
  const check = async () => {
    if (viewing) return;
    const mine = ++seq;
    const r = await api('/v1/admin/policies/check', { method: 'POST', body: { site, config: form.draft } });
    if (mine !== seq) return;
    if (!r.ok) {
      say(`Error: ${await problem(r)}`);
      return;
    }
    checked = await r.json();
    const rest = form.showErrors(checked.errors);
    const summary = $('errors');
    summary.replaceChildren(
      ...rest.map((e) =>
        Object.assign(document.createElement('li'), { textContent: `${e.field}: ${e.message}` }),
      ),
    );
    $('errors-box').hidden = !rest.length;
    // A live region (role=status): said when the count changes, not at every keystroke.
    const count = checked.ok
      ? ''
      : `${checked.errors.length} problem${checked.errors.length === 1 ? '' : 's'} to fix before publishing.`;
    if ($('error-count').textContent !== count) $('error-count').textContent = count;
    $('publish').disabled = !checked.ok || !checked.changed || !canPublish();
    $('draft-state').textContent = checked.ok
      ? checked.changed
        ? `Draft: version ${checked.version}, SHA-256 ${checked.sha256.slice(0, 12)}…, not published yet.`
        : 'The draft is the current policy: nothing to publish.'
      : 'The draft has problems (see beside the fields).';
    if (checked.ok) {
      shown = { doc: checked.doc, sha256: checked.sha256 };
      reloadPreview();
    }
  };

  const cell = (tr, text) => {
    tr.insertCell().textContent = text;
  };

  /** Fields whose values differ between two configs, as paths. */
  const diff = (a, b, path = '', out = []) => {
    if (JSON.stringify(a) === JSON.stringify(b)) return out;
    if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)]))
        diff(a[k], b[k], Array.isArray(a) ? `${path}[${k}]` : path ? `${path}.${k}` : k, out);
      return out;
    }
    out.push({ path, was: a, now: b });
    return out;
  };
  const show = (v) => (v === undefined ? '(none)' : JSON.stringify(v));

  const versions = async () => {
    const r = await api(`/v1/admin/policies/versions?site=${encodeURIComponent(site)}`);
    if (!r.ok) return say(`Error: ${await problem(r)}`);
    const o = await r.json();
    const body = $('versions').tBodies[0];
    body.replaceChildren();
    for (const v of o.versions) {
      const tr = body.insertRow();
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = `${v.version ?? '?'}${v.sha256 === o.current ? ' (current)' : ''}`;
      tr.append(th);
      const code = document.createElement('code');
      code.textContent = v.sha256;
      tr.insertCell().append(code);
      cell(tr, v.publishedAt.replace('T', ' ').slice(0, 19));
      cell(tr, v.publishedBy ?? 'server config file');
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = `View version ${v.version ?? v.sha256.slice(0, 8)}`;
      b.dataset.focus = `view-${v.sha256}`;
      b.addEventListener('click', () => view(v.sha256));
      tr.insertCell().append(b);
    }
    return o;
  };

  /** Shows a published version read-only, with what differs from the current one. */
  const view = async (sha256) => {
    const r = await api(`/v1/admin/policies/versions/${sha256}`);
    if (!r.ok) return say(`Error: ${await problem(r)}`);
    const v = await r.json();
    if (!viewing) draftBackup = structuredClone(form.draft);
    opener = document.activeElement;
    viewing = v;
    form.load(v.config);
    form.showErrors([]);
    $('json').value = JSON.stringify(v.config, null, 2);
    $('json').readOnly = true;
    $('viewing').hidden = false;
    $('viewing-text').textContent = `Viewing version ${v.version} (SHA-256 ${v.sha256}), read-only.`;
    const changes = diff(v.config, current.config);
    $('diff').replaceChildren(
      ...(changes.length
        ? changes.map((c) =>
            Object.assign(document.createElement('li'), {
              textContent: `${c.path}: ${show(c.was)} in this version, ${show(c.now)} now`,
            }),
          )
        : [
            Object.assign(document.createElement('li'), {
              textContent: 'Nothing: this is the current policy.',
            }),
          ]),
    );
    $('publish').disabled = true;
    shown = { doc: { v: 1, config: v.config }, sha256: v.sha256 };
    reloadPreview();
    say(`Version ${v.version} shown.`);
    $('viewing').focus();
  };
  $('back').addEventListener('click', () => {
    viewing = null;
    $('viewing').hidden = true;
    $('json').readOnly = !canPublish();
    form.load(draftBackup);
    $('json').value = JSON.stringify(form.draft, null, 2);
    schedule();
    say('Back to the draft.');
    // The box holding this button is hidden: focus goes back to the View button that opened
    // it (or the status line), not to <body>.
    (opener?.isConnected && !opener.disabled ? opener : status).focus();
    opener = null;
  });

  /** Loads a site: its versions, and a draft from its current policy with the next version. */
  const open = async (s) => {
    site = s;
    viewing = null;
    $('viewing').hidden = true;
    const o = await versions();
    if (!o) return;
    const r = await api(`/v1/admin/policies/versions/${o.current}`);
    if (!r.ok) return say(`Error: ${await problem(r)}`);
    current = await r.json();
    form.load({ ...current.config, policy: next(current.version) });
    pristine = JSON.stringify(form.draft);
    $('json').value = JSON.stringify(form.draft, null, 2);
    $('json').readOnly = !canPublish();
    await check();
    say(`Editing the policy of ${site} (current version ${current.version}).`);
  };
  /** Whether the draft holds changes of the person editing it (viewing a version or not). */
  const edited = () => pristine !== null && JSON.stringify(viewing ? draftBackup : form.draft) !== pristine;
  // Choosing another site opens its policy; an edited draft is not thrown away unasked (the
  // select changes with one arrow key).
  $('site').addEventListener('change', () => {
    const pick = $('site');
    if (
      canPublish() &&
      edited() &&
      !confirm(`Open ${pick.value}'s policy and discard the edited draft of ${site}'s?`)
    ) {
      pick.value = site;
      say(`The draft of ${site} is kept.`);
      return;
    }
    open(pick.value);
  });

  $('apply-json').addEventListener('click', () => {
    let v;
    try {
      v = JSON.parse($('json').value);
    } catch (e) {
      $('json-error').textContent = `Not JSON: ${e.message}`;
      $('json').setAttribute('aria-invalid', 'true');
      return;
    }
    $('json-error').textContent = '';
    $('json').removeAttribute('aria-invalid');
    form.load(v);
    schedule();
    say('The JSON was applied to the draft.');
  });

  $('publish').addEventListener('click', async () => {
    $('publish').disabled = true;
    say('Publishing…');
    const r = await api('/v1/admin/policies', { method: 'POST', body: { site, config: form.draft } });
    if (!r.ok) {
      const e = await r.json().catch(() => ({}));
      // `config.categories[1].id` → beside that field.
      const rest = form.showErrors(
        e.field?.startsWith('config.') ? [{ field: e.field.slice(7), message: e.message }] : [],
      );
      say(
        `Error: ${e.message ? `${e.field ? `${e.field}: ` : ''}${e.message}` : `the server answered ${r.status}`}`,
      );
      $('publish').disabled = false;
      // Focus on the field at fault, or back on the button.
      const bad =
        e.field?.startsWith('config.') && !rest.length ? $('form').querySelector('[aria-invalid]') : null;
      (bad ?? $('publish')).focus();
      return;
    }
    const out = await r.json();
    await open(site);
    say(`Published version ${out.version} (SHA-256 ${out.sha256}). Visitors are asked again.`);
    // The button is disabled now (nothing left to publish): focus goes to the status line.
    status.focus();
  });

  // The scanner's suggested config: its categories, services and cookies merged into the draft.
  $('import').addEventListener('change', async () => {
    const file = $('import').files[0];
    if (!file) return;
    let s;
    try {
      s = JSON.parse(await file.text());
    } catch (e) {
      $('imported').replaceChildren();
      say(`Error: ${file.name} is not JSON (${e.message})`);
      return;
    }
    const added = [];
    const cats = (form.draft.categories ??= []);
    for (const c of Array.isArray(s?.categories) ? s.categories : []) {
      if (!c?.id) continue;
      const mine = cats.find((x) => x.id === c.id);
      if (!mine) {
        cats.push(structuredClone(c));
        added.push(
          `category ${c.id}${c.services?.length ? ` with ${c.services.map((x) => x.id).join(', ')}` : ''}`,
        );
        continue;
      }
      const union = (target, cookies, where) => {
        for (const k of cookies ?? [])
          if (!(target.cookies ??= []).includes(k)) {
            target.cookies.push(k);
            added.push(`cookie ${k} on ${where}`);
          }
      };
      union(mine, c.cookies, `category ${c.id}`);
      for (const sv of c.services ?? []) {
        if (!sv?.id) continue;
        const have = (mine.services ??= []).find((x) => x.id === sv.id);
        if (!have) {
          mine.services.push(structuredClone(sv));
          added.push(`service ${sv.title ?? sv.id} in ${c.id}`);
        } else union(have, sv.cookies, `service ${sv.id}`);
      }
    }
    form.render();
    $('json').value = JSON.stringify(form.draft, null, 2);
    schedule();
    $('imported').replaceChildren(
      ...(added.length ? added : ['nothing: the draft already has everything it suggests']).map((t) =>
        Object.assign(document.createElement('li'), { textContent: t }),
      ),
    );
    say(`Imported ${file.name}: ${added.length} addition${added.length === 1 ? '' : 's'} to the draft.`);
    $('import').value = '';
  });

  ready.then(
    async (who) => {
      me = who;
      $('editing').hidden = !canPublish();
      $('read-only').hidden = canPublish();
      const r = await api('/v1/admin/policies/sites');
      if (!r.ok) return say(`Error: ${await problem(r)}`);
      const { sites } = await r.json();
      const pick = $('site');
      for (const s of sites) pick.add(new Option(`${s.site} (version ${s.version})`, s.site));
      const wanted = new URLSearchParams(location.search).get('site');
      if (wanted && sites.some((s) => s.site === wanted)) pick.value = wanted;
      if (sites.length) await open(pick.value);
      else
        say('This server serves no site yet: publish one with POST /v1/admin/policies or the config file.');
    },
    (e) => say(`Error: ${e.message}`),
  );
})();
