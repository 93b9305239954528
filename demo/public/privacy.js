// Shows the visitor their current choice on the privacy page, live (Assent.get() and
// the assent:change event). A plain file, not an inline script: the demo runs a strict CSP.
(() => {
  const out = document.getElementById('consent-state');
  const show = (s) => {
    if (!out || !s) return;
    const on = Object.keys(s.granted).filter((k) => s.granted[k] && !k.includes(':'));
    out.textContent = s.consentId
      ? `Consent ID ${s.consentId}: ${on.join(', ')} allowed (${s.method}), until ${new Date(s.expiresAt).toLocaleDateString()}.`
      : 'You have not made a choice yet: only necessary cookies are used.';
  };
  const start = () => {
    show(window.Assent?.get());
    document.addEventListener('assent:change', (e) => show(e.detail));
  };
  if (window.Assent) start();
  else document.addEventListener('assent:ready', start, { once: true });
})();
