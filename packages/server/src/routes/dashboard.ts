import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

const JS = readFileSync(new URL('../assets/dashboard.js', import.meta.url));

/** Same policy as the consent page: no inline script or style, nothing from elsewhere. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Consent dashboard — Assent</title>
<link rel="stylesheet" href="/consent/assets/consent.css">
<script src="/admin/assets/dashboard.js" defer></script>
</head>
<body>
<main>
<h1>Consent dashboard</h1>
<p>Consent rates from the signed receipts. The admin token is sent only as a bearer header and kept in this tab only.</p>
<form id="login">
<p><label for="token">Admin token</label> <input id="token" type="password" autocomplete="off" required></p>
<p><label for="site">Site (origin, optional)</label> <input id="site" type="url" placeholder="https://news.example"></p>
<p><button type="submit">Show statistics</button></p>
</form>
<p id="status" role="status"></p>
<div id="exports" hidden><p>Export every receipt (signed, hash-chained; check with <code>assent-server verify</code>):
<button type="button" data-export="ndjson">NDJSON</button> <button type="button" data-export="csv">CSV</button></p></div>
<section id="stats" aria-label="Statistics"></section>
</main>
</body>
</html>
`;

/** `GET /admin`: a small page over the admin API (stats tables, export buttons). */
export const dashboardRoutes = () => async (app: FastifyInstance) => {
  app.get('/admin', async (_req, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', CSP)
      .header('cache-control', 'no-store')
      .header('x-frame-options', 'DENY')
      .send(PAGE),
  );
  app.get('/admin/assets/dashboard.js', async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(JS),
  );
};
