// A receipt's detail: its choices, the policy wording the visitor was shown (from the
// registry, in their language), its place in its site's chain, and whether it verifies.
(() => {
  const { api, ready, problem, failed, wrapTable } = window.assentAdmin;
  const $ = (id) => document.getElementById(id);
  const status = $('status');
  const out = $('detail');
  const el = (tag, text) => {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const list = (pairs) => {
    const dl = el('dl');
    for (const [k, v, lang] of pairs) dl.append(el('dt', k), lang ? inLang(el('dd', v), lang) : el('dd', v));
    return dl;
  };
  /** Languages written right to left (the page is English: their texts are marked so). */
  const RTL = new Set(['ar', 'arc', 'ckb', 'dv', 'fa', 'he', 'ku', 'ps', 'sd', 'syr', 'ug', 'ur', 'yi']);
  /**
   * Marks `e` as holding text in `lang` (the policy's words as the visitor read them): its
   * language for speech and its direction for display (right to left for Arabic, Hebrew…).
   */
  const inLang = (e, lang) => {
    e.lang = lang;
    e.dir = RTL.has(String(lang).toLowerCase().split('-')[0]) ? 'rtl' : 'auto';
    return e;
  };
  const link = (id, text) => {
    if (!id) return el('span', `${text}: none`);
    const a = el('a', text);
    a.href = `/admin/receipt?id=${encodeURIComponent(id)}`;
    return a;
  };
  const yes = (b) => (b === null ? 'not checked' : b ? 'yes, verifies' : 'NO, does not verify');
  // Who is signed in (console.js): owners may carry out a visitor's erasure request.
  let me = null;
  const erasure = (site, consentId) => {
    const b = el('button', 'Erase this consent…');
    b.type = 'button';
    b.addEventListener('click', async () => {
      if (
        !confirm(
          `Erase every receipt of consent ID ${consentId} on ${site}? Their choices, pages and IP hashes are deleted for good; the chain and the consent log keep verifying.`,
        )
      )
        return;
      b.disabled = true;
      const r = await api('/v1/admin/erasures', { method: 'POST', body: { site, consentId } });
      if (!r.ok) {
        status.textContent = `Error: ${await problem(r)}`;
        b.disabled = false;
        return;
      }
      const d = await r.json();
      await show();
      status.textContent = `Erased ${d.erased} receipt${d.erased === 1 ? '' : 's'} of that consent ID on ${d.site}.`;
      // The button is gone with the page drawn again: focus goes to the status that says so.
      status.focus();
    });
    return [
      el('h2', 'Erasure request'),
      el(
        'p',
        'When the visitor asks for their data to be erased (GDPR Art. 17): every receipt of this consent ID on this site loses its personal data now, and the audit log records it. This cannot be undone.',
      ),
      b,
    ];
  };
  const show = async () => {
    const id = new URLSearchParams(location.search).get('id') ?? '';
    const r = await api(`/v1/admin/receipts/${encodeURIComponent(id)}`);
    if (!r.ok) {
      status.textContent = `Error: ${await problem(r)}`;
      return;
    }
    const d = await r.json();
    const x = d.receipt;
    document.title = `Receipt ${id} — Assent admin`;
    const h = el('h2', 'Verification');
    const v = list([
      ['Hash matches its content', yes(d.verification.hash)],
      ['Signature', yes(d.verification.signature)],
      ['Signing key', `${d.verification.kid} (${d.verification.key})`],
    ]);
    const c = el('h2', 'Place in the chain');
    const chain = list([
      ['Site', d.chain.site],
      ['Position', `${d.chain.seq} of ${d.chain.head}`],
      ['Previous hash', d.chain.prev],
      ['This hash', d.chain.hash],
    ]);
    const nav = el('p');
    nav.append(link(d.chain.prevId, 'Previous receipt'), ' · ', link(d.chain.nextId, 'Next receipt'));
    const parts = [
      el('h2', 'The choice'),
      x
        ? list([
            ['When (UTC)', x.at],
            ['Consent ID', x.consentId],
            ['How', x.method],
            ['Mode', x.mode],
            ['Region', x.region ?? 'unknown'],
            ['Language', x.lang],
            ['Global Privacy Control', x.signals.gpc ? 'sent' : 'not sent'],
            ['Page', `${x.page.origin}${x.page.path}`],
            ['Policy', `${x.policy.version} (${x.policy.sha256})`],
          ])
        : el(
            'p',
            'This receipt was purged (its retention period ended, or an erasure request): its links and signature remain.',
          ),
    ];
    if (x) {
      // The file the visitor gets from their consent page: for a data-protection authority.
      const a = el('a', 'Download the proof file');
      a.href = `/v1/admin/receipts/${encodeURIComponent(id)}/proof`;
      const p = el('p');
      p.append(
        a,
        ' — the receipt, its place in the log and the wording shown, as the visitor can download it; anyone checks it offline with ',
        el('code', 'assent-server verify-receipt'),
        '.',
      );
      parts.push(p);
    }
    if (d.policy) {
      const shown = d.policy.shown;
      parts.push(el('h2', `What the visitor was shown (${d.policy.lang})`));
      // The first layer under the receipt's mode: its message with the Learn More link, and
      // the buttons the visitor chose between; then every category and service.
      const lang = d.policy.lang;
      const first = inLang(el('blockquote'), lang);
      const message = el('p', `${shown.message} `);
      const more = el('a', shown.learnMore);
      more.href = shown.learnMoreHref;
      more.rel = 'noreferrer';
      message.append(more);
      first.append(message);
      parts.push(
        first,
        list([
          [`Buttons (${shown.mode} mode)`, shown.buttons.join(' · ') || '—', lang],
          ['Learn More link', `${shown.learnMore} → ${shown.learnMoreHref}`, lang],
        ]),
      );
      const t = el('table');
      t.createCaption().textContent = 'Categories and services, and the choice made';
      const head = t.createTHead().insertRow();
      for (const k of ['Category or service', 'Wording shown', 'Choice']) {
        const th = el('th', k);
        th.scope = 'col';
        head.append(th);
      }
      const b = t.createTBody();
      /** A cell of the policy's own words, in its language. */
      const worded = (row, text) => {
        inLang(row.insertCell(), lang).textContent = text;
      };
      if (shown.necessary) {
        const row = b.insertRow();
        worded(row, shown.necessary.title);
        worded(row, shown.necessary.description || '—');
        worded(row, shown.necessary.note);
      }
      for (const cat of d.policy.categories) {
        const row = b.insertRow();
        worded(row, cat.title);
        worded(row, cat.description || '—');
        row.insertCell().textContent = cat.granted ? 'allowed' : 'refused';
        for (const s of cat.services) {
          const sr = b.insertRow();
          // The service's and category's titles are the policy's; "in" is the page's.
          const name = sr.insertCell();
          name.append(inLang(el('span', s.title), lang), ' (in ', inLang(el('span', cat.title), lang), ')');
          worded(sr, s.description || '—');
          sr.insertCell().textContent = s.granted ? 'allowed' : 'refused';
        }
      }
      parts.push(wrapTable(t));
    }
    const erase = x && me?.role === 'owner' ? erasure(d.chain.site, x.consentId) : [];
    out.replaceChildren(...parts, h, v, c, chain, nav, ...erase);
    status.textContent = '';
  };
  ready.then(
    (who) => {
      me = who;
      return show().catch(failed('Loading the receipt'));
    },
    (e) => {
      status.textContent = `Error: ${e.message}`;
    },
  );
})();
