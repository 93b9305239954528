// The sign-in page: email and password to POST /v1/admin/session, which sets the session
// cookie; then on to the page the person came for (only a path of this console).
(() => {
  const $ = (id) => document.getElementById(id);
  const status = $('status');
  const next = () => {
    const n = new URLSearchParams(location.search).get('next');
    return n && /^\/admin(\/|$|\?)/.test(n) ? n : '/admin';
  };
  const signIn = async () => {
    status.textContent = 'Signing in…';
    const r = await fetch('/v1/admin/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify({ email: $('email').value, password: $('password').value }),
    });
    if (r.status !== 201) {
      const err = await r.json().catch(() => ({}));
      status.textContent =
        r.status === 401
          ? 'That email and password do not match a user of this server.'
          : (err.message ?? `The server answered ${r.status}.`);
      $('password').value = '';
      // The field the server names (the password, for a wrong one) is marked invalid and
      // described by the status line's message; focus goes to it (fields.js), or to the password.
      if (
        !window.assentFields.show(
          $('sign-in'),
          { email: 'email', password: 'password' },
          { field: err.field, message: status.textContent },
          { describedBy: 'status' },
        )
      )
        $('password').focus();
      return;
    }
    window.assentFields.clear($('sign-in'));
    // A browser keeps a Secure cookie only over HTTPS or on localhost / 127.0.0.1: say so
    // instead of looping back to this page.
    const check = await fetch('/v1/admin/session', { credentials: 'same-origin' });
    if (check.status === 401) {
      status.textContent =
        'Signed in, but this browser did not keep the session cookie: open the console over HTTPS (or on http://localhost or http://127.0.0.1).';
      return;
    }
    location.assign(next());
  };
  $('sign-in').addEventListener('submit', (e) => {
    e.preventDefault();
    signIn().catch((err) => {
      // No answer at all (the network, a reset): said, not "Signing in…" for ever.
      status.textContent = `Signing in failed: ${
        err instanceof TypeError
          ? 'the server could not be reached (a network error); try again'
          : err.message
      }`;
    });
  });
})();
