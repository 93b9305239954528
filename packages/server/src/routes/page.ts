import { readFileSync } from 'node:fs';
import { type ConsentId, grantedKeys, isConsentId, type Method, type SignedReceipt } from '@assent/core';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Context, Site } from '../context.js';
import { idParams, withdraw } from './consents.js';

const asset = (name: string) => readFileSync(new URL(`../assets/${name}`, import.meta.url));
const JS = asset('consent.js');
const CSS = asset('consent.css');

/** No inline script or style anywhere: the page's JS and CSS are files from this origin. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const when = (iso: string) =>
  `${new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' }).format(new Date(iso))} UTC`;

const DID: Record<Method, string> = {
  'accept-all': 'accepted all cookies',
  'reject-all': 'refused all non-essential cookies',
  custom: 'chose which cookies to allow',
  gpc: 'sent a Global Privacy Control signal, which refuses the sale and sharing of your data',
  withdraw: 'withdrew your consent',
  'notice-ack': 'acknowledged the cookie notice',
};

/** Human titles for choice keys, from the site's config. */
const titles = (site: Site | undefined, keys: readonly string[]): string => {
  if (!keys.length) return 'nothing';
  const title = (k: string) => {
    const [c, s] = k.split(':');
    const cat = site?.policy.categories.find((x) => x.id === c);
    if (!s) return cat?.title ?? k;
    return `${cat?.services.find((x) => x.id === s)?.title ?? s} (${cat?.title ?? c})`;
  };
  // Stored receipts are canonical JSON (keys sorted): show them in the site's own order.
  const order = (k: string) => site?.keys.indexOf(k) ?? -1;
  return [...keys]
    .sort((a, b) => (order(a) === -1 ? 1e9 : order(a)) - (order(b) === -1 ? 1e9 : order(b)))
    .map(title)
    .map(esc)
    .join(', ');
};

const refused = (r: SignedReceipt) =>
  Object.keys(r.choices).filter((k) => k !== 'necessary' && !r.choices[k]);

const layout = (title: string, body: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${esc(title)}</title>
<link rel="stylesheet" href="/consent/assets/consent.css">
<script src="/consent/assets/consent.js" defer></script>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;

const render = (ctx: Context, id: ConsentId, history: readonly SignedReceipt[], done: boolean): string => {
  const last = history.at(-1)!;
  const site = ctx.sites.get(last.site);
  const withdrawn = last.method === 'withdraw';
  const rows = [...history]
    .reverse()
    .map(
      (r) =>
        `<tr><td>${esc(when(r.at))}</td><td>You ${esc(DID[r.method])}</td><td>${titles(site, grantedKeys(r.choices))}</td><td>${esc(r.site)}${esc(r.page.path)}</td></tr>`,
    )
    .join('\n');
  return layout(
    'Your consent record',
    `<h1>Your consent record</h1>
<p>Consent ID: <code>${esc(id)}</code></p>
<p class="status" id="status" role="status" tabindex="-1">${done ? 'Your withdrawal was recorded.' : ''}</p>
<section aria-labelledby="now">
<h2 id="now">What applies now</h2>
<p>On ${esc(when(last.at))}, on ${esc(last.site)}, you ${esc(DID[last.method])}.</p>
<p>You allowed: ${titles(site, grantedKeys(last.choices))}.</p>
<p>You refused: ${titles(site, refused(last))}.</p>
<p>Strictly necessary cookies are always on: the site cannot work without them.</p>
<p>The site will ask you again after ${esc(when(last.expiresAt))}.</p>
${
  withdrawn
    ? '<p>You have withdrawn your consent. You can change your mind at any time in the cookie settings of the site.</p>'
    : `<form method="post" action="/consent/${esc(id)}/withdraw" data-consent-id="${esc(id)}">
<p>Withdrawing is as easy as giving consent: one button. It records that you refuse everything non-essential from now on. The site applies it the next time it reads your choice; you can also change your choice in the site's cookie settings.</p>
<button type="submit">Withdraw my consent</button>
</form>`
}
</section>
<section aria-labelledby="history">
<h2 id="history">History</h2>
<table>
<caption>Every choice recorded with this consent ID, newest first</caption>
<thead><tr><th scope="col">When</th><th scope="col">What you did</th><th scope="col">Allowed</th><th scope="col">Page</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</section>
<p class="note">What is kept: the time, your choices, the version of the text you were shown, the page, your browser family and country, and a keyed, daily-changing hash of your IP address, never the address itself. Each record is signed and linked to the one before it so nobody can change it afterwards.</p>`,
  );
};

const notFound = (reply: FastifyReply, code: number, message: string) =>
  reply
    .code(code)
    .type('text/html; charset=utf-8')
    .send(
      layout(
        'Consent record not found',
        `<h1>Consent record not found</h1><p>${esc(message)}</p><p>Your consent ID is shown in the cookie settings of the site.</p>`,
      ),
    );

/** `/consent/:id`: the visitor's record in plain language, with a Withdraw button. */
export const pageRoutes = (ctx: Context) => async (app: FastifyInstance) => {
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('content-security-policy', CSP);
    reply.header('x-frame-options', 'DENY');
    reply.header('cache-control', 'no-store');
    return payload;
  });
  // The no-JavaScript path of the Withdraw form; its fields are not needed.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 1024 },
    (_r, _b, done) => done(null, {}),
  );

  app.get('/consent/assets/consent.js', { schema: {} }, (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(JS),
  );
  app.get('/consent/assets/consent.css', { schema: {} }, (_req, reply) =>
    reply.type('text/css; charset=utf-8').send(CSS),
  );

  app.get<{ Params: { id: string }; Querystring: { done?: string } }>(
    '/consent/:id',
    {
      schema: {
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } } },
        querystring: { type: 'object', properties: { done: { type: 'string', maxLength: 16 } } },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      if (!isConsentId(id)) return notFound(reply, 400, 'This is not a valid consent ID.');
      const history = await ctx.store.byConsent(id);
      if (!history.length) return notFound(reply, 404, 'No choice has been recorded with this consent ID.');
      return reply
        .type('text/html; charset=utf-8')
        .send(render(ctx, id, history, req.query.done === 'withdrawn'));
    },
  );

  app.post<{ Params: { id: ConsentId } }>(
    '/consent/:id/withdraw',
    { schema: { params: idParams } },
    async (req, reply) => {
      const r = await withdraw(ctx, req, req.params.id, 'consent-page');
      if (!r) return notFound(reply, 404, 'No choice has been recorded with this consent ID.');
      return reply.redirect(`/consent/${req.params.id}?done=withdrawn`, 303);
    },
  );
};
