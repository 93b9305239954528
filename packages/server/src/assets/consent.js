// The Withdraw button of /consent/:id, without leaving the page. Served as a file so the
// page's Content-Security-Policy can forbid inline script; the form works without it too.
const form = document.querySelector('form[data-consent-id]');
const status = document.getElementById('status');
// Back after a withdrawal (this script reloads the page with ?done=withdrawn; the form without
// JavaScript is redirected there): the result is in the status message, already in the page, so
// a live region would not announce it. Focus moves to it, and a screen reader reads it.
if (status?.textContent.trim() && new URLSearchParams(location.search).has('done')) status.focus();
if (form && status) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector('button');
    button.disabled = true;
    status.textContent = 'Recording your withdrawal…';
    try {
      const id = encodeURIComponent(form.dataset.consentId);
      // Relative: the server may be reverse-proxied under a prefix of the site (/assent/).
      const res = await fetch(`../v1/consents/${id}/withdraw`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ source: 'consent-page' }),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      location.assign(`${location.pathname}?done=withdrawn`);
    } catch {
      button.disabled = false;
      status.textContent = 'Your withdrawal could not be recorded. Please try again.';
      status.focus();
    }
  });
}
