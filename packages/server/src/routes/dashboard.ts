import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { EN, MODES, SIGNALS } from '@assent/core';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { apiError, errorSchema } from '../errors.js';
import { textReply } from '../schemas.js';
import { WEBHOOK_EVENTS } from '../webhooks/store.js';

const asset = (name: string) => readFileSync(new URL(`../assets/${name}`, import.meta.url));
/** uPlot (MIT, ~50 KB), served from this server like every other file of the console. */
const uplot = (file: string) => readFileSync(createRequire(import.meta.url).resolve(`uplot/dist/${file}`));

/**
 * The console's files: no inline script or style anywhere, nothing from another origin. A Map,
 * not an object: `/admin/assets/__proto__` or `…/toString` must be an unknown file (404), not
 * a property every object has.
 */
const ASSETS = new Map<string, { type: string; body: Buffer }>(
  [
    'console.js',
    'fields.js',
    'sign-in.js',
    'overview.js',
    'users.js',
    'audit.js',
    'receipts.js',
    'receipt.js',
    'webhooks.js',
    'policies.js',
    'policy-form.js',
    'policy-preview.js',
    'policies.css',
    'sites.js',
    'admin.css',
    'icon.svg',
  ].map((f): [string, { type: string; body: Buffer }] => [
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
/**
 * What the policy editor's fields are for, from core: the modes, the Consent Mode signals and
 * the texts (in the banner's order) a policy may have. policy-form.js had its own copies.
 */
ASSETS.set('vocabulary.js', {
  type: 'text/javascript; charset=utf-8',
  body: Buffer.from(
    `window.assentVocabulary = ${JSON.stringify({
      modes: MODES,
      signals: SIGNALS,
      texts: Object.keys(EN).filter((k) => k !== 'cats'),
    })};\n`,
  ),
});
ASSETS.set('uPlot.iife.min.js', { type: 'text/javascript; charset=utf-8', body: uplot('uPlot.iife.min.js') });
ASSETS.set('uPlot.min.css', { type: 'text/css; charset=utf-8', body: uplot('uPlot.min.css') });

/** Same policy as the consent page: no inline script or style, nothing from elsewhere. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/** The pages of the console, in the order of its navigation; `roles` says who sees the link. */
const NAV = [
  { path: '/admin', label: 'Overview', roles: 'owner editor auditor' },
  { path: '/admin/receipts', label: 'Receipts', roles: 'owner auditor' },
  { path: '/admin/policies', label: 'Policies', roles: 'owner editor auditor' },
  { path: '/admin/sites', label: 'Sites', roles: 'owner editor auditor' },
  { path: '/admin/audit', label: 'Audit log', roles: 'owner auditor' },
  { path: '/admin/webhooks', label: 'Webhooks', roles: 'owner editor auditor' },
  { path: '/admin/users', label: 'Users', roles: 'owner' },
] as const;

const shell = (o: {
  title: string;
  path: string;
  script: string;
  body: string;
  /** Scripts and stylesheets the page loads before its own (console.js first). */
  before?: string;
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
${o.charts ? '<link rel="stylesheet" href="/admin/assets/uPlot.min.css">\n<script src="/admin/assets/uPlot.iife.min.js" defer></script>\n' : ''}${o.signedIn === false ? '' : '<script src="/admin/assets/console.js" defer></script>\n'}<script src="/admin/assets/fields.js" defer></script>
${o.before ?? ''}<script src="/admin/assets/${o.script}" defer></script>
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

/** The policy editor: the draft form, the preview beside it, publishing, versions, import. */
const POLICIES_BODY = `<p><label for="site">Site</label><br><select id="site"></select></p>
<p id="status" class="status" role="status" tabindex="-1"></p>
<p id="read-only" hidden>Your role can read the policies and their versions, not publish them.</p>
<div id="viewing" tabindex="-1" hidden><p id="viewing-text"></p>
<h2>Changed since this version</h2><ul id="diff"></ul>
<p><button type="button" id="back">Back to the draft</button></p></div>
<div class="editor">
<section aria-labelledby="draft-h">
<h2 id="draft-h">Draft</h2>
<p id="draft-state"></p>
<p id="error-count" role="status"></p>
<div id="errors-box" hidden><ul id="errors"></ul></div>
<form id="form" novalidate></form>
<details><summary>Advanced: the draft as JSON</summary>
<p><label for="json">The whole config (core's format; what publishing sends)</label><br><textarea id="json" rows="16" spellcheck="false" aria-describedby="json-error"></textarea></p>
<p id="json-error" class="json-error"></p>
<p><button type="button" id="apply-json">Apply the JSON to the draft</button></p>
</details>
<div id="editing" hidden>
<h2>Import the scanner's suggestions</h2>
<p><label for="import">Suggested config from <code>assent-scan --declaration</code> (assent-config.suggested.json): its categories, services and cookies are added to the draft</label><br><input type="file" id="import" accept="application/json,.json"></p>
<ul id="imported" aria-label="Added by the import"></ul>
<h2>Publish</h2>
<p>Publishing makes the draft the site's policy: a new version, kept with the old ones, and every visitor is asked again.</p>
<p><button type="button" id="publish" disabled>Publish this version</button></p>
</div>
</section>
<section aria-labelledby="preview-h" class="preview-box">
<h2 id="preview-h">Preview</h2>
<p><label for="preview-region">Visitor's region</label> <select id="preview-region"><option value="">unknown (the default mode)</option><option>FR</option><option>DE</option><option>GB</option><option>US-CA</option><option>US-TX</option><option>US</option><option>JP</option><option>BR</option></select></p>
<p class="note">The banner as visitors see it, in the language of the texts being edited. Nothing is stored and no receipt is sent from here.</p>
<iframe id="preview" title="Banner preview" sandbox="allow-scripts"></iframe>
</section>
</div>
<h2>Published versions</h2>
<div class="table-scroll"><table id="versions"><caption>Versions of this site's policy, newest first</caption><thead><tr><th scope="col">Version</th><th scope="col">SHA-256</th><th scope="col">Published at (UTC)</th><th scope="col">By</th><th scope="col">Actions</th></tr></thead><tbody></tbody></table></div>`;

/**
 * The preview frame's page: empty until the editor posts a policy, then the banner. Framed by
 * the console only; no request may leave it (connect-src 'none').
 */
const PREVIEW = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Banner preview</title>
<script src="/admin/assets/policy-preview.js"></script>
</head>
<body>
<main><h1>A page of the site</h1><p>The banner below renders the draft policy.</p></main>
</body>
</html>
`;
const PREVIEW_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'none'; form-action 'none'; base-uri 'none'; frame-ancestors 'self'";
/** The editor frames the preview: the console's policy plus frame-src 'self'. */
const EDITOR_CSP = `${"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"}; frame-src 'self'`;

/** The banner's build for the preview, read on first use (a build made later counts). */
const bannerFiles = new Map<string, Buffer>();
const bannerFile = (file: string): Buffer | null => {
  try {
    let b = bannerFiles.get(file);
    if (!b)
      bannerFiles.set(
        file,
        (b = readFileSync(createRequire(import.meta.url).resolve(`@assent/banner/dist/${file}`))),
      );
    return b;
  } catch {
    return null;
  }
};

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
<p id="status" class="status" role="status" tabindex="-1"></p>
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
<p id="status" class="status" role="status" tabindex="-1"></p>
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
<p id="status" class="status" role="status" tabindex="-1"></p>
<div class="table-scroll"><table id="receipts"><caption>Receipts, newest first</caption><thead><tr><th scope="col">When (UTC)</th><th scope="col">Site</th><th scope="col">Method</th><th scope="col">Mode</th><th scope="col">Region</th><th scope="col">Granted</th><th scope="col">Receipt</th></tr></thead><tbody></tbody></table></div>
<p><button type="button" id="older" hidden>Older receipts</button></p>`,
  }),
  '/admin/receipt': shell({
    title: 'Receipt',
    path: '/admin/receipt',
    script: 'receipt.js',
    body: `<p id="status" class="status" role="status" tabindex="-1"></p>
<div id="detail"></div>`,
  }),
  '/admin/policies': shell({
    title: 'Policies',
    path: '/admin/policies',
    script: 'policies.js',
    before:
      '<link rel="stylesheet" href="/admin/assets/policies.css">\n<script src="/admin/assets/vocabulary.js" defer></script>\n<script src="/admin/assets/policy-form.js" defer></script>\n',
    body: POLICIES_BODY,
  }),
  '/admin/sites': shell({
    title: 'Sites',
    path: '/admin/sites',
    script: 'sites.js',
    body: `<p>The sites this server serves and you may see. Sites and their API keys are declared in the server's config file (<code>sites</code>, <code>apiKeys</code>): no one signed in here can add a site (publishing is for the sites listed below). A key is shown by the first 8 hex digits of its SHA-256, never itself.</p>
<p id="status" class="status" role="status" tabindex="-1"></p>
<div class="table-scroll"><table id="sites"><caption>Sites</caption><thead><tr><th scope="col">Site</th><th scope="col">Policy (versions)</th><th scope="col">API key</th><th scope="col">Consents</th><th scope="col">Receipts</th><th scope="col">Log checkpoint</th><th scope="col">Pages</th></tr></thead><tbody></tbody></table></div>`,
  }),
  '/admin/audit': shell({
    title: 'Audit log',
    path: '/admin/audit',
    script: 'audit.js',
    body: `<p>Every admin action and sign-in attempt, newest first: append-only, each entry hash-chained to the one before and signed with the server's key (check an export offline with <code>assent-server verify-audit audit.ndjson --public-key signing-key.pub.pem</code>).</p>
<p><button type="button" id="verify">Verify the chain</button> <button type="button" id="export">Download NDJSON</button></p>
<p id="status" class="status" role="status" tabindex="-1"></p>
<div class="table-scroll"><table id="audit"><caption>Audit log entries</caption><thead><tr><th scope="col">#</th><th scope="col">When (UTC)</th><th scope="col">Who</th><th scope="col">Role</th><th scope="col">Action</th><th scope="col">On</th><th scope="col">Details</th></tr></thead><tbody></tbody></table></div>
<p><button type="button" id="older" hidden>Older entries</button></p>`,
  }),
  '/admin/webhooks': shell({
    title: 'Webhooks',
    path: '/admin/webhooks',
    script: 'webhooks.js',
    body: `<p>A webhook receives each new receipt, each withdrawal and each erasure of its site, in order, as a signed POST (HMAC-SHA256 with its secret, and Ed25519 with this server's receipt-signing key), retried with backoff until the receiver answers 2xx. The server's README, "Webhooks", shows how a receiver checks the signature.</p>
<p id="status" class="status" role="status" tabindex="-1"></p>
<div class="table-scroll"><table id="webhooks"><caption>Webhooks</caption><thead><tr><th scope="col">Site</th><th scope="col">Receiver</th><th scope="col">Events</th><th scope="col">State</th><th scope="col">Waiting</th><th scope="col">Last error</th><th scope="col">Actions</th></tr></thead><tbody></tbody></table></div>
<details><summary>Public key of the Ed25519 signatures</summary><pre id="public-key"></pre></details>
<section id="add" aria-labelledby="add-title" hidden>
<h2 id="add-title">Add a webhook</h2>
<form id="add-webhook">
<p><label for="hook-site">Site (origin)</label><br><input id="hook-site" type="url" required placeholder="https://news.example" size="40"></p>
<p><label for="hook-url">Receiver URL (http or https)</label><br><input id="hook-url" type="url" required placeholder="https://example.com/hooks/assent" size="60"></p>
<fieldset id="hook-events"><legend>Events</legend>
${WEBHOOK_EVENTS.map((e) => `<label><input type="checkbox" value="${e}" checked> ${e}</label>`).join('\n')}
</fieldset>
<p><button type="submit">Add webhook</button></p>
</form>
<div id="secret-box" hidden><p>The new webhook's secret, shown this once (keep it where the receiver reads it): <code id="secret"></code></p></div>
</section>
<h2>Recent deliveries</h2>
<p><label for="hook-pick">Webhook</label> <select id="hook-pick"></select> <button type="button" id="refresh">Refresh</button></p>
<div class="table-scroll"><table id="deliveries"><caption>Delivery attempts, newest first</caption><thead><tr><th scope="col">When (UTC)</th><th scope="col">Kind</th><th scope="col">What (seq)</th><th scope="col">Attempt</th><th scope="col">Answer</th><th scope="col">Time (ms)</th><th scope="col">Outcome</th></tr></thead><tbody></tbody></table></div>
<p><button type="button" id="older" hidden>Older attempts</button></p>`,
  }),
  '/admin/users': shell({
    title: 'Users',
    path: '/admin/users',
    script: 'users.js',
    body: `<p>Owners can do everything; editors publish policies; auditors read receipts, exports and the audit log. An editor or auditor can be limited to some sites; without a limit they see every site. A change of role, sites or password, and a removal, sign that person out everywhere.</p>
<p id="status" class="status" role="status" tabindex="-1"></p>
<div class="table-scroll"><table id="users"><caption>People who can sign in</caption><thead><tr><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Sites</th><th scope="col">Added</th><th scope="col">Actions</th></tr></thead><tbody></tbody></table></div>
<h2>Add a user</h2>
<form id="add-user">
<p><label for="new-email">Email</label><br><input id="new-email" type="email" autocomplete="off" required></p>
<p><label for="new-role">Role</label><br><select id="new-role"><option value="auditor">auditor</option><option value="editor">editor</option><option value="owner">owner</option></select></p>
<p><label for="new-password">Password (at least 12 characters)</label><br><input id="new-password" type="password" autocomplete="new-password" minlength="12" required></p>
<fieldset id="new-sites"><legend>Sites (none ticked: every site; owners always have every site)</legend></fieldset>
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
          .header('content-security-policy', path === '/admin/policies' ? EDITOR_CSP : CSP)
          .header('cache-control', 'no-store')
          .header('x-frame-options', 'DENY')
          .send(html),
    );
  app.get<{ Querystring: { n?: string } }>(
    '/admin/policies/preview',
    {
      config: { rateLimit: false },
      schema: {
        summary: "The policy editor's preview page",
        description:
          "The page the editor's sandboxed preview frame loads: empty until the editor posts a draft policy, then the real banner rendering it (stores nothing, sends nothing).",
        tags: ['admin console'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { n: { type: 'string', maxLength: 12, description: 'Reload counter (ignored)' } },
        },
        response: {
          200: textReply('The preview page.', 'text/html'),
          400: { ...errorSchema, description: 'An unknown query parameter (ASSENT_BAD_FIELD).' },
        },
      } as FastifySchema,
    },
    async (_req, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', PREVIEW_CSP)
        .header('cache-control', 'no-store')
        .header('x-frame-options', 'SAMEORIGIN')
        .send(PREVIEW),
  );
  app.get<{ Params: { file: string } }>(
    '/admin/preview/:file',
    {
      config: { rateLimit: false },
      schema: {
        summary: "The banner's build for the preview",
        description:
          "The banner's full build and its preferences file, served to the editor's preview frame.",
        tags: ['admin console'],
        params: {
          type: 'object',
          required: ['file'],
          properties: { file: { type: 'string', enum: ['assent.full.min.js', 'assent.full.prefs.min.js'] } },
        },
        response: {
          200: textReply('The file.', 'text/javascript'),
          400: { ...errorSchema, description: 'Not one of the two files (ASSENT_BAD_FIELD).' },
          503: { ...errorSchema, description: "The banner's build is missing (ASSENT_UNAVAILABLE)." },
        },
      } as FastifySchema,
    },
    async (req, reply) => {
      const b = bannerFile(req.params.file);
      if (!b)
        return reply
          .code(503)
          .send(apiError('ASSENT_UNAVAILABLE', null, "the banner's build is missing: run npm run build"));
      return reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(b);
    },
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
        // A cast: TypeScript picks a route overload here that lacks @fastify/swagger's schema keys.
      } as FastifySchema,
    },
    async (req, reply) => {
      const a = ASSETS.get(req.params.file);
      if (!a) return reply.callNotFound();
      return reply.type(a.type).header('cache-control', 'no-cache').send(a.body);
    },
  );
};
