// The policy editor's form: the draft config (core's format, as published) as labelled fields,
// each bound to its path in the config (`categories[0].services[1].cookies`), so an error the
// server's check names by that path is shown beside the field it is about. No validation
// here: core's validator, through POST /v1/admin/policies/check, is the only one.
(() => {
  // Which modes, Consent Mode signals and texts a policy has is core's to say, not this
  // file's: the server serves core's lists as vocabulary.js (dashboard.ts). Only the labels
  // are the editor's own; a text core adds before it gets a label shows by its key.
  const { modes: MODES, signals: SIGNALS, texts } = window.assentVocabulary;
  /** The labels of the texts a visitor reads (core gives their order: the banner's). */
  const LABELS = {
    message: 'Message',
    learnMore: 'Learn More link',
    accept: 'Accept button',
    reject: 'Reject button',
    preferences: 'Preferences button',
    label: 'Accessible name of the notice',
    title: 'Preferences title',
    intro: 'Preferences introduction',
    save: 'Save button',
    acceptAll: 'Accept all button',
    rejectAll: 'Reject all button',
    close: 'Close button',
    alwaysOn: 'Always on',
    settings: 'Floating button',
    doNotSell: 'Do not sell (opt-out mode)',
    gpc: 'GPC notice (first layer and dialog, when the browser sends GPC)',
    gpcHonored: 'GPC status',
    consentId: 'Consent ID label',
    embed: 'Embed placeholder',
    loadEmbed: 'Load embed button',
    acceptCategory: 'Accept category button',
  };
  const TEXTS = texts.map((k) => [k, LABELS[k] ?? k]);
  const MODE_LABELS = {
    'opt-in': 'ask before anything non-essential',
    'opt-out': 'on until the visitor opts out',
    notice: 'inform only',
  };

  const parts = (path) => path.replace(/\[(\d+)\]/g, '.$1').split('.');
  const get = (o, path) => parts(path).reduce((x, k) => (x == null ? undefined : x[k]), o);
  const set = (o, path, v) => {
    const ks = parts(path);
    let x = o;
    for (const [i, k] of ks.slice(0, -1).entries()) {
      if (x[k] == null) x[k] = /^\d+$/.test(ks[i + 1]) ? [] : {};
      x = x[k];
    }
    const last = ks.at(-1);
    if (v === undefined) delete x[last];
    else x[last] = v;
  };
  const list = (s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);

  let uid = 0;
  const el = (tag, attrs = {}, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== false) e.setAttribute(k, v);
    e.append(...children.filter((c) => c !== null && c !== undefined));
    return e;
  };

  /**
   * A form over `draft`. `changed()` runs after every edit; `readOnly` disables every field
   * (an auditor, or an old version being viewed).
   */
  const createForm = (root, { changed, readOnly = () => false }) => {
    let draft = {};
    let lang = 'en';
    const edited = () => changed(draft);

    /** One labelled field bound to `path`; `kind`: text, number, list (comma-separated), bool, select. */
    const field = (label, path, kind = 'text', options) => {
      const id = `f${++uid}`;
      const v = get(draft, path);
      let input;
      if (kind === 'select') {
        input = el('select', { id });
        for (const [value, text] of options) input.add(new Option(text, value, false, (v ?? '') === value));
      } else if (kind === 'textarea') input = el('textarea', { id, rows: '3' });
      else
        input = el('input', {
          id,
          type: kind === 'number' ? 'number' : kind === 'bool' ? 'checkbox' : 'text',
        });
      if (kind === 'bool') input.checked = v === true;
      else if (kind !== 'select')
        input.value = v === undefined ? '' : Array.isArray(v) ? v.join(', ') : String(v);
      input.dataset.field = path;
      input.disabled = readOnly();
      input.addEventListener(kind === 'bool' || kind === 'select' ? 'change' : 'input', () => {
        const raw = input.value;
        const value =
          kind === 'bool'
            ? input.checked
            : kind === 'list'
              ? raw.trim()
                ? list(raw)
                : undefined
              : kind === 'number'
                ? raw === ''
                  ? undefined
                  : Number(raw)
                : raw === ''
                  ? undefined
                  : raw;
        set(draft, path, value);
        edited();
      });
      const box = el('p', { class: `field${kind === 'bool' ? ' check' : ''}` });
      const lab = el('label', { for: id }, label);
      if (kind === 'bool') box.append(input, ' ', lab);
      else box.append(lab, el('br'), input);
      return box;
    };
    const button = (text, onclick) => {
      const b = el('button', { type: 'button' }, text);
      b.disabled = readOnly();
      b.addEventListener('click', () => {
        onclick();
        render();
        edited();
      });
      return b;
    };
    const fieldset = (legend, ...children) => el('fieldset', {}, el('legend', {}, legend), ...children);

    const general = () =>
      fieldset(
        'General',
        field('Policy version (a new one asks every visitor again)', 'policy'),
        field(
          'Default mode',
          'mode',
          'select',
          MODES.map((m) => [m, MODE_LABELS[m] ? `${m} (${MODE_LABELS[m]})` : m]),
        ),
        field('Days a choice is kept', 'days', 'number'),
        field('Privacy policy link (Learn More)', 'learnMoreHref'),
      );

    const texts = () => {
      const langs = Object.keys(draft.texts ?? {});
      if (!langs.includes(lang)) lang = langs[0] ?? 'en';
      const pick = el('select', { id: 'text-lang' });
      for (const l of langs.length ? langs : ['en']) pick.add(new Option(l, l, false, l === lang));
      pick.disabled = false;
      pick.addEventListener('change', () => {
        lang = pick.value;
        render();
        edited();
      });
      const add = el('input', { id: 'new-lang', size: '8', placeholder: 'de' });
      add.disabled = readOnly();
      return fieldset(
        'Texts per language',
        el(
          'p',
          {},
          el('label', { for: 'text-lang' }, 'Language'),
          ' ',
          pick,
          ' ',
          el('label', { for: 'new-lang' }, 'Add a language'),
          ' ',
          add,
          ' ',
          button('Add language', () => {
            const l = add.value.trim().toLowerCase();
            if (!l) return;
            draft.texts = { ...draft.texts, [l]: draft.texts?.[l] ?? {} };
            lang = l;
          }),
        ),
        ...TEXTS.map(([k, label]) =>
          field(
            `${label} (${lang})`,
            `texts.${lang}.${k}`,
            k === 'message' || k === 'intro' ? 'textarea' : 'text',
          ),
        ),
      );
    };

    const item = (path, what) => [
      field(`${what} id`, `${path}.id`),
      field(`${what} title`, `${path}.title`),
      field(`${what} description`, `${path}.description`, 'textarea'),
      field(`${what} cookies (comma-separated; a trailing * matches a prefix)`, `${path}.cookies`, 'list'),
    ];

    const categories = () => {
      const cats = (draft.categories ??= []);
      return fieldset(
        'Categories and services',
        el('p', { class: 'note' }, 'Strictly necessary cookies are implicit and always on.'),
        ...cats.map((c, i) => {
          const name = c.title || c.id || `category ${i + 1}`;
          const services = (c.services ??= []);
          return el(
            'fieldset',
            { class: 'category' },
            el('legend', {}, `Category: ${name}`),
            ...item(`categories[${i}]`, 'Category'),
            ...services.map((s, j) =>
              el(
                'fieldset',
                { class: 'service' },
                el('legend', {}, `Service: ${s.title || s.id || `service ${j + 1}`} (in ${name})`),
                ...item(`categories[${i}].services[${j}]`, 'Service'),
                button(`Remove service ${s.title || s.id || j + 1}`, () => services.splice(j, 1)),
              ),
            ),
            el(
              'p',
              {},
              button(`Add a service to ${name}`, () => services.push({ id: '' })),
              ' ',
              button(`Remove category ${name}`, () => cats.splice(i, 1)),
            ),
          );
        }),
        el(
          'p',
          {},
          button('Add a category', () => cats.push({ id: '' })),
        ),
      );
    };

    const regions = () => {
      const rows = Object.entries(draft.regions ?? {});
      const key = el('input', { id: 'new-region', size: '8', placeholder: 'US-CA' });
      const mode = el('select', { id: 'new-region-mode' });
      for (const m of MODES) mode.add(new Option(m, m));
      key.disabled = mode.disabled = readOnly();
      return fieldset(
        'Modes per region',
        el(
          'p',
          { class: 'note' },
          'A country (FR), a US state (US-CA), a group (EU, US-OPT-OUT) or * for everyone else; without a match, the default mode.',
        ),
        ...rows.map(([r]) =>
          el(
            'div',
            { class: 'row' },
            field(
              `Mode in ${r}`,
              `regions.${r}`,
              'select',
              MODES.map((m) => [m, m]),
            ),
            button(`Remove region ${r}`, () => {
              delete draft.regions[r];
              if (!Object.keys(draft.regions).length) delete draft.regions;
            }),
          ),
        ),
        el(
          'p',
          {},
          el('label', { for: 'new-region' }, 'Region'),
          ' ',
          key,
          ' ',
          el('label', { for: 'new-region-mode' }, 'its mode'),
          ' ',
          mode,
          ' ',
          button('Add region', () => {
            const r = key.value.trim().toUpperCase();
            if (r) draft.regions = { ...draft.regions, [r]: mode.value };
          }),
        ),
      );
    };

    const gcm = () => {
      const on = el('input', { id: 'gcm-on', type: 'checkbox' });
      on.checked = draft.googleConsentMode !== undefined;
      on.disabled = readOnly();
      on.addEventListener('change', () => {
        if (on.checked) draft.googleConsentMode = {};
        else delete draft.googleConsentMode;
        render();
        edited();
      });
      const body = [];
      if (draft.googleConsentMode)
        body.push(
          field('Implementation', 'googleConsentMode.mode', 'select', [
            ['', 'as the page marks it'],
            ['advanced', 'advanced (cookieless pings before consent)'],
            ['basic', 'basic (Google tags held until consent)'],
          ]),
          field('Wait for update (milliseconds)', 'googleConsentMode.waitForUpdate', 'number'),
          field('Ads data redaction', 'googleConsentMode.adsDataRedaction', 'bool'),
          field('URL passthrough', 'googleConsentMode.urlPassthrough', 'bool'),
          el(
            'p',
            { class: 'note' },
            `Signals granted by each category, comma-separated (${SIGNALS.join(', ')}); empty: the default mapping.`,
          ),
          ...(draft.categories ?? [])
            .filter((c) => c.id)
            .map((c) => field(`Signals of ${c.title || c.id}`, `googleConsentMode.map.${c.id}`, 'list')),
        );
      return fieldset(
        'Google Consent Mode',
        el(
          'p',
          { class: 'field check' },
          on,
          ' ',
          el('label', { for: 'gcm-on' }, 'Send Google Consent Mode v2 signals'),
        ),
        ...body,
      );
    };

    /**
     * Draws the form again. Focus stays on the same control (by its path, its id, or a
     * button's words): a button that adds or removes, or the language picker, must not drop
     * keyboard focus to <body>. A control gone with the change (Remove category) hands it to
     * the last button of its part of the form (Add a category).
     */
    const render = () => {
      const a = document.activeElement;
      const inside = a && a !== root && root.contains(a);
      const part = inside ? [...root.children].findIndex((c) => c.contains(a)) : -1;
      const same = !inside
        ? null
        : a.dataset.field
          ? (n) => n.dataset.field === a.dataset.field
          : a.id && !/^f\d+$/.test(a.id)
            ? (n) => n.id === a.id
            : a.localName === 'button'
              ? (n) => n.localName === 'button' && n.textContent === a.textContent
              : null;
      root.replaceChildren(general(), texts(), categories(), regions(), gcm());
      if (!inside) return;
      const all = [...root.querySelectorAll('input, select, textarea, button')];
      const buttons = [...(root.children[part]?.querySelectorAll('button') ?? [])];
      (all.find((n) => same?.(n)) ?? buttons.at(-1))?.focus();
    };

    return {
      /** Replaces the draft (a copy is kept) and draws the form again. */
      load(config) {
        draft = structuredClone(config);
        render();
      },
      get draft() {
        return draft;
      },
      get lang() {
        return lang;
      },
      render,
      /**
       * Shows each error beside the field its path names (or the nearest field above it:
       * `categories[1]` goes to that category's id); returns the errors no field shows.
       */
      showErrors(errors) {
        for (const n of root.querySelectorAll('.field-error')) n.remove();
        for (const n of root.querySelectorAll('[aria-invalid]')) {
          n.removeAttribute('aria-invalid');
          n.removeAttribute('aria-describedby');
        }
        const rest = [];
        for (const e of errors) {
          const fields = [...root.querySelectorAll('[data-field]')];
          const input =
            fields.find((f) => f.dataset.field === e.field) ??
            fields.find((f) => f.dataset.field === `${e.field}.id`) ??
            fields.find(
              (f) => f.dataset.field.startsWith(`${e.field}.`) || f.dataset.field.startsWith(`${e.field}[`),
            );
          if (!input) {
            rest.push(e);
            continue;
          }
          const id = `err${++uid}`;
          input.setAttribute('aria-invalid', 'true');
          input.setAttribute('aria-describedby', id);
          input
            .closest('.field')
            .append(el('span', { class: 'field-error', id }, ` ${e.field}: ${e.message}`));
        }
        return rest;
      },
    };
  };
  window.assentPolicyForm = { createForm, get, set };
})();
