import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';
import { errorSchema } from '../errors.js';
import { textReply } from '../schemas.js';

const asset = (name: string) => readFileSync(new URL(`../assets/${name}`, import.meta.url));
/** uPlot (MIT, ~50 KB), served from this server like every other file of the console. */
const uplot = (file: string) => readFileSync(createRequire(import.meta.url).resolve(`uplot/dist/${file}`));

/** The console's files: no inline script or style anywhere, nothing from another origin. */
const ASSETS: Record<string, { type: string; body: Buffer }> = Object.fromEntries(
  [
    'console.js',
    'sign-in.js',
    'overview.js',
    'users.js',
    'audit.js',
    'receipts.js',
    'receipt.js',
    'admin.css',
    'icon.svg',
  ].map((f) => [
    f,
    {
      type: f.endsWith('.css')
        ? 'text/css; charset=utf-8'
        : f.endsWith('.svg')
          ? 'image/svg+xml'
          : 'text/javascript; charset=utf-8',
      body: asset(f),
    },
  ]),
);
ASSETS['uPlot.iife.min.js'] = { type: 'text/javascript; charset=utf-8', body: uplot('uPlot.iife.min.js') };
ASSETS['uPlot.min.css'] = { type: 'text/css; charset=utf-8', body: uplot('uPlot.min.css') };

/** Same policy as the consent page: no inline script or style, nothing from elsewhere. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/** The pages of the console, in the order of its navigation; `roles` says who sees the link. */
const NAV = [
  { path: '/admin', label: 'Overview', roles: 'owner editor auditor' },
  { path: '/admin/receipts', label: 'Receipts', roles: 'owner auditor' },
  { path: '/admin/audit', label: 'Audit log', roles: 'owner auditor' },
  { path: '/admin/users', label: 'Users', roles: 'owner' },
] as const;

const shell = (o: {
  title: string;
  path: string;
  script: string;
  body: string;
  signedIn?: boolean;
  charts?: boolean;
}) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${o.title} — Assent admin</title>
<link rel="stylesheet" href="/consent/assets/consent.css">
<link rel="stylesheet" href="/admin/assets/admin.css">
<link rel="icon" href="/admin/assets/icon.svg">
${o.charts ? '<link rel="stylesheet" href="/admin/assets/uPlot.min.css">\n<script src="/admin/assets/uPlot.iife.min.js" defer></script>\n' : ''}${o.signedIn === false ? '' : '<script src="/admin/assets/console.js" defer></script>\n'}<script src="/admin/assets/${o.script}" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="bar">
<p class="brand">Assent admin</p>
${
  o.signedIn === false
    ? ''
    : `<nav aria-label="Admin console"><ul>${NAV.map(
        (n) =>
          `<li data-roles="${n.roles}" hidden><a href="${n.path}"${n.path === o.path ? ' aria-current="page"' : ''}>${n.label}</a></li>`,
      ).join('')}</ul></nav>
<p class="who"><span id="who"></span> <button type="button" id="sign-out" hidden>Sign out</button></p>`
}
</header>
<main id="main" tabindex="-1">
<h1>${o.title}</h1>
${o.body}
</main>
</body>
</html>
`;

const PAGES: Record<string, string> = {
  '/admin/sign-in': shell({
    title: 'Sign in',
    path: '/admin/sign-in',
    script: 'sign-in.js',
    signedIn: false,
    body: `<form id="sign-in">
<p><label for="email">Email</label><br><input id="email" name="email" type="email" autocomplete="username" required></p>
<p><label for="password">Password</label><br><input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><button type="submit">Sign in</button></p>
</form>
<p id="status" class="status" role="status"></p>
<p class="note">Scripts and the command line use the admin token instead (<code>Authorization: Bearer …</code>); a first owner is created with <code>assent-server user add --role owner --email …</code>.</p>`,
  }),
  '/admin': shell({
    title: 'Overview',
    path: '/admin',
    script: 'overview.js',
    charts: true,
    body: `<form id="filter">
<p><label for="site">Site (origin, optional)</label><br><input id="site" type="url" placeholder="https://news.example"></p>
<p><label for="from">From (UTC, inclusive)</label> <input id="from" type="date"> <label for="to">to (exclusive)</label> <input id="to" type="date"> <button type="submit">Show</button></p>
</form>
<p id="status" class="status" role="status"></p>
<p class="note">Counted per consent: each visitor's latest choice in the range (an acceptance later withdrawn counts once, as withdrawn), with the receipts beside.</p>
<div id="exports" hidden><p>Export every receipt (signed, hash-chained; check with <code>assent-server verify</code>):
<button type="button" data-export="ndjson">NDJSON</button> <button type="button" data-export="csv">CSV</button></p></div>
<figure id="chart-box" hidden><figcaption>Latest choices per day, by outcome (each line has its own dash pattern; the numbers are in the table below)</figcaption><div id="chart"></div></figure>
<section id="stats" aria-label="Statistics"></section>`,
  }),
  '/admin/receipts': shell({
    title: 'Receipts',
    path: '/admin/receipts',
    script: 'receipts.js',
    body: `<form id="filter">
<p><label for="consent">Consent ID</label><br><input id="consent" autocomplete="off" spellcheck="false" maxlength="22" size="26"></p>
<p><label for="site">Site (origin)</label><br><input id="site" type="url" placeholder="https://news.example"></p>
<p><label for="from">From (UTC, inclusive)</label><br><input id="from" type="date"> <label for="to">to (exclusive)</label> <input id="to" type="date"></p>
<p><label for="method">How the choice was made</label><br><select id="method"><option value="">any</option><option>accept-all</option><option>reject-all</option><option>custom</option><option>gpc</option><option>withdraw</option><option>notice-ack</option></select></p>
<p><button type="submit">Search</button></p>
</form>
<p id="status" class="status" role="status"></p>
<table id="receipts"><caption>Receipts, newest first</caption><thead><tr><th scope="col">When (UTC)</th><th scope="col">Site</th><th scope="col">Method</th><th scope="col">Mode</th><th scope="col">Region</th><th scope="col">Granted</th><th scope="col">Receipt</th></tr></thead><tbody></tbody></table>
<p><button type="button" id="older" hidden>Older receipts</button></p>`,
  }),
  '/admin/receipt': shell({
    title: 'Receipt',
    path: '/admin/receipt',
    script: 'receipt.js',
    body: `<p id="status" class="status" role="status"></p>
<div id="detail"></div>`,
  }),
  '/admin/audit': shell({
    title: 'Audit log',
    path: '/admin/audit',
    script: 'audit.js',
    body: `<p>Every admin action and sign-in attempt, newest first: append-only, each entry hash-chained to the one before and signed with the server's key (check an export offline with <code>assent-server verify-audit audit.ndjson --public-key signing-key.pub.pem</code>).</p>
<p><button type="button" id="verify">Verify the chain</button> <button type="button" id="export">Download NDJSON</button></p>
<p id="status" class="status" role="status"></p>
<table id="audit"><caption>Audit log entries</caption><thead><tr><th scope="col">#</th><th scope="col">When (UTC)</th><th scope="col">Who</th><th scope="col">Role</th><th scope="col">Action</th><th scope="col">On</th><th scope="col">Details</th></tr></thead><tbody></tbody></table>
<p><button type="button" id="older" hidden>Older entries</button></p>`,
  }),
  '/admin/users': shell({
    title: 'Users',
    path: '/admin/users',
    script: 'users.js',
    body: `<p>Owners can do everything; editors publish policies; auditors read receipts, exports and the audit log. A change of role or password, and a removal, sign that person out everywhere.</p>
<p id="status" class="status" role="status"></p>
<table id="users"><caption>People who can sign in</caption><thead><tr><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Added</th><th scope="col">Actions</th></tr></thead><tbody></tbody></table>
<h2>Add a user</h2>
<form id="add-user">
<p><label for="new-email">Email</label><br><input id="new-email" type="email" autocomplete="off" required></p>
<p><label for="new-role">Role</label><br><select id="new-role"><option value="auditor">auditor</option><option value="editor">editor</option><option value="owner">owner</option></select></p>
<p><label for="new-password">Password (at least 12 characters)</label><br><input id="new-password" type="password" autocomplete="new-password" minlength="12" required></p>
<p><button type="submit">Add user</button></p>
</form>`,
  }),
};

/** The admin console's pages and files (its data comes from the admin API). */
export const dashboardRoutes = () => async (app: FastifyInstance) => {
  for (const [path, html] of Object.entries(PAGES))
    app.get(
      path,
      {
        config: { rateLimit: false },
        schema: {
          summary: `Admin console page ${path}`,
          description:
            'A page of the admin console (strict CSP, no inline script); its data comes from the admin API, so the page itself needs no sign-in.',
          tags: ['admin console'],
          response: { 200: textReply('The page.', 'text/html') },
        },
      },
      async (_req, reply) =>
        reply
          .type('text/html; charset=utf-8')
          .header('content-security-policy', CSP)
          .header('cache-control', 'no-store')
          .header('x-frame-options', 'DENY')
          .send(html),
    );
  app.get<{ Params: { file: string } }>(
    '/admin/assets/:file',
    {
      config: { rateLimit: false },
      schema: {
        summary: "The admin console's scripts and styles",
        description: 'Static assets of the admin console.',
        tags: ['admin console'],
        params: {
          type: 'object',
          required: ['file'],
          properties: {
            file: { type: 'string', description: 'An asset of the console, e.g. `console.css`.' },
          },
        },
        response: {
          200: {
            description: 'The asset.',
            content: {
              'text/javascript': { schema: { type: 'string' } },
              'text/css': { schema: { type: 'string' } },
            },
          },
          404: { ...errorSchema, description: 'No such asset (ASSENT_NOT_FOUND).' },
        },
      },
    },
    async (req, reply) => {
      const a = ASSETS[req.params.file];
      if (!a) return reply.callNotFound();
      return reply.type(a.type).header('cache-control', 'no-cache').send(a.body);
    },
  );
};
