import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  allowed,
  type ConsentId,
  isConsentId,
  learnMoreUrl,
  type Method,
  REVALIDATE_SECONDS,
  type SignedReceipt,
} from '@assent/core';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Context, formToken, ownOrigin, senderOrigin } from '../context.js';
import { errorSchema, FieldError } from '../errors.js';
import type { PolicyVersion } from '../policies.js';
import { emptyReply, textReply } from '../schemas.js';
import { idParams, pageOf, withdraw } from './consents.js';

/** Receipts per page of the consent page's history. */
const PAGE_SIZE = 20;

const asset = (name: string) => readFileSync(new URL(`../assets/${name}`, import.meta.url));
const JS = asset('consent.js');
const CSS = asset('consent.css');

/** No inline script or style anywhere: the page's JS and CSS are files from this origin. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Languages written right to left (by their primary subtag). */
const RTL = new Set(['ar', 'arc', 'ckb', 'dv', 'fa', 'he', 'ku', 'ps', 'sd', 'syr', 'ug', 'ur', 'yi']);
/**
 * `lang` and `dir` for text in a policy's language inside this English page: right to left for
 * Arabic, Hebrew, Persian, Urdu…, else `auto` (its own first strong character decides).
 */
const langAttrs = (lang: string) =>
  `lang="${esc(lang)}" dir="${RTL.has(lang.toLowerCase().split('-')[0]!) ? 'rtl' : 'auto'}"`;

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

/** Human titles for choice keys, from the policy the receipt names (in the language it was shown in). */
const titles = (v: PolicyVersion | null, lang: string, keys: readonly string[]): string => {
  if (!keys.length) return 'nothing';
  const p = v?.inLanguage(lang) ?? null;
  const title = (k: string) => {
    const [c, s] = k.split(':');
    const cat = p?.categories.find((x) => x.id === c);
    if (!s) return cat?.title ?? k;
    return `${cat?.services.find((x) => x.id === s)?.title ?? s} (${cat?.title ?? c})`;
  };
  // Stored receipts are canonical JSON (keys sorted): show them in the policy's own order.
  const order = (k: string) => {
    const i = p?.keys.indexOf(k) ?? -1;
    return i === -1 ? 1e9 : i;
  };
  return [...keys]
    .sort((a, b) => order(a) - order(b))
    .map(title)
    .map(esc)
    .join(', ');
};

/**
 * The receipt's choices as core decides them (`allowed`): a key the receipt leaves out is not
 * granted, and a granted category grants its services. Over every category and service of the
 * policy the visitor was shown (the receipt's own keys when the policy is not known).
 */
const decided = (
  r: SignedReceipt,
  v: PolicyVersion | null,
): { readonly granted: string[]; readonly refused: string[] } => {
  const keys = v?.inLanguage(r.lang).keys ?? Object.keys(r.choices);
  const granted: string[] = [];
  const refused: string[] = [];
  for (const k of keys) {
    if (k === 'necessary') continue;
    const [category = k, service] = k.split(':');
    (allowed(r.choices, category, service) ? granted : refused).push(k);
  }
  return { granted, refused };
};

/**
 * The policy's Learn More link as the visitor's browser resolved it: a relative one against
 * the site (as core's standard records do), never against this server's own address.
 */

/**
 * What the visitor was shown, from the registry, in the language they saw: the first layer's
 * words, the categories and services with their descriptions, and the policy's identity.
 */
const shown = (r: SignedReceipt, v: PolicyVersion | null): string => {
  if (!v)
    return `<p>The words shown with this choice are not available: it was recorded before the server kept published policies${r.policy.version ? ` (policy version ${esc(r.policy.version)})` : ''}.</p>`;
  const p = v.inLanguage(r.lang);
  const t = p.texts;
  const item = (title: string, description: string, extra = '') =>
    `<li><strong>${esc(title)}</strong>${description ? `: ${esc(description)}` : ''}${extra}</li>`;
  const necessary = t.cats.necessary;
  return `<details>
<summary>What you were shown</summary>
<blockquote ${langAttrs(p.lang)}><p>${esc(t.message)} <a href="${esc(learnMoreUrl(v.config.learnMoreHref, r.site) ?? v.config.learnMoreHref)}" rel="noreferrer">${esc(t.learnMore)}</a></p></blockquote>
<ul ${langAttrs(p.lang)}>
${necessary ? item(necessary[0], necessary[1], ` (${esc(t.alwaysOn)})`) : ''}
${p.categories
  .map((c) =>
    item(
      c.title,
      c.description,
      c.services.length ? `<ul>${c.services.map((s) => item(s.title, s.description)).join('')}</ul>` : '',
    ),
  )
  .join('\n')}
</ul>
<p class="note">Policy version ${esc(v.config.policy)}, ${esc(r.mode)} mode, choices kept ${v.config.days} days. Its exact text: <a href="../v1/policies/${v.sha256}">SHA-256 <code>${v.sha256}</code></a>.</p>
</details>`;
};

/** `base`: where `assets/` is from the page's URL (`../` under /consent/:id/withdraw). */
const layout = (title: string, body: string, base = '') => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${esc(title)}</title>
<link rel="stylesheet" href="${base}assets/consent.css">
<script src="${base}assets/consent.js" defer></script>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;

/**
 * When a change made here reaches the site, truthfully for this deployment: at once when this
 * server shares the site's origin (it has just set the site's cookie), else at the banner's
 * next check (the policy's `revalidate`).
 */
const applies = (sameOrigin: boolean, site: string, v: PolicyVersion | null): string => {
  if (sameOrigin)
    return `It takes effect on ${esc(site)} from your next page view: this page shares the site's address and has updated the choice your browser keeps for it.`;
  const minutes = Math.max(1, Math.round((v?.config.revalidate ?? REVALIDATE_SECONDS) / 60));
  return `${esc(site)} checks this record when you visit it: it takes effect at your next page view there if you came here from the site's cookie settings, and otherwise within ${minutes} minute${minutes === 1 ? '' : 's'} of your next visit.`;
};

/** Links to the newer and older pages of the history, when there are any. */
const pager = (page: number, pages: number): string => {
  if (pages <= 1) return '';
  const links = [
    page > 1 ? `<a href="?page=${page - 1}" rel="prev">Newer choices</a>` : '',
    `<span>Page ${page} of ${pages}</span>`,
    page < pages ? `<a href="?page=${page + 1}" rel="next">Older choices</a>` : '',
  ];
  return `<nav class="pager" aria-label="History pages">${links.filter(Boolean).join(' ')}</nav>`;
};

/**
 * The page: what applies now (the consent's latest receipt), then one page of its history,
 * newest first. `total` is how many receipts the consent has; `offset` where this page starts.
 */
const render = async (
  ctx: Context,
  req: FastifyRequest,
  id: ConsentId,
  last: SignedReceipt,
  history: readonly SignedReceipt[],
  at: { readonly page: number; readonly offset: number; readonly total: number },
  done: boolean,
): Promise<string> => {
  const pages = Math.ceil(at.total / PAGE_SIZE);
  const versions = new Map<string, PolicyVersion | null>();
  for (const r of [last, ...history])
    if (r.policy.sha256 && !versions.has(r.policy.sha256))
      versions.set(r.policy.sha256, await ctx.policies.get(r.policy.sha256));
  const vOf = (r: SignedReceipt) => (r.policy.sha256 ? (versions.get(r.policy.sha256) ?? null) : null);
  const v = vOf(last);
  const sameOrigin = ownOrigin(req) === last.site;
  const withdrawn = last.method === 'withdraw';
  const now = decided(last, v);
  // `?done=withdrawn` says what was just done; shown only while it is still true (the URL may
  // be reloaded, bookmarked or shared after a later choice).
  const confirmed = done && withdrawn;
  const rows = history
    .map(
      (r) =>
        `<li><p><strong>${esc(when(r.at))}</strong>, on ${esc(r.site)}${esc(r.page.path)}: you ${esc(DID[r.method])}. Allowed: ${titles(vOf(r), r.lang, decided(r, vOf(r)).granted)}.</p>
${shown(r, vOf(r))}
<p class="note"><a href="../v1/consents/${esc(id)}/receipts/${esc(r.id)}/proof" download>Download the proof of this choice</a>: the signed record, and proof that it is in the site's public log (check it with <code>assent-server verify-receipt</code>).</p></li>`,
    )
    .join('\n');
  return layout(
    'Your consent record',
    `<h1>Your consent record</h1>
<p>Consent ID: <code>${esc(id)}</code></p>
<p class="status" id="status" role="status" tabindex="-1"${confirmed ? ' autofocus' : ''}>${confirmed ? `Your withdrawal was recorded. ${applies(sameOrigin, last.site, v)}` : ''}</p>
<section aria-labelledby="now">
<h2 id="now">What applies now</h2>
<p>On ${esc(when(last.at))}, on ${esc(last.site)}, you ${esc(DID[last.method])}.</p>
<p>You allowed: ${titles(v, last.lang, now.granted)}.</p>
<p>You refused: ${titles(v, last.lang, now.refused)}.</p>
<p>Strictly necessary cookies are always on: the site cannot work without them.</p>
<p>The site will ask you again after ${esc(when(last.expiresAt))}.</p>
${
  withdrawn
    ? `<p>You have withdrawn your consent. ${confirmed ? '' : applies(sameOrigin, last.site, v)} You can change your mind at any time in the cookie settings of the site.</p>`
    : `<form method="post" action="${esc(id)}/withdraw" data-consent-id="${esc(id)}">
<input type="hidden" name="token" value="${formToken(ctx, id)}">
<p>Withdrawing is as easy as giving consent: one button. It records that you refuse everything non-essential from now on. ${applies(sameOrigin, last.site, v)}</p>
<button type="submit">Withdraw my consent</button>
</form>`
}
<p><a href="${esc(last.page.origin)}${esc(last.page.path)}" rel="noreferrer">Back to ${esc(last.site)}</a></p>
</section>
<section aria-labelledby="history">
<h2 id="history">History</h2>
<p>Every choice recorded with this consent ID (${at.total}), newest first, each with what you were shown.</p>
${history.length ? `<ol reversed start="${at.total - at.offset}">\n${rows}\n</ol>` : '<p>No choices on this page.</p>'}
${pager(at.page, pages)}
</section>
<p class="note">What is kept: the time, your choices, the exact policy you were shown (its words are kept as long as any record names them), the page, your browser family and country, and a keyed, daily-changing hash of your IP address, never the address itself. Each record is signed and linked to the one before it so nobody can change it afterwards.</p>`,
  );
};

/**
 * An error as a page for people: `title`, then `body` (HTML). With the consent page's headers
 * (its CSP…) set here, for the server's own not-found handler too, outside this plugin.
 */
const errorPage = (reply: FastifyReply, code: number, title: string, body: string, base = '') =>
  reply
    .code(code)
    .type('text/html; charset=utf-8')
    .header('content-security-policy', CSP)
    .header('x-frame-options', 'DENY')
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'same-origin')
    .send(layout(title, `<h1>${esc(title)}</h1>\n${body}`, base));

const notFound = (
  reply: FastifyReply,
  code: number,
  message: string,
  title = 'Consent record not found',
  base = '',
  more = '',
) =>
  errorPage(
    reply,
    code,
    title,
    `<p>${esc(message)}</p>${more}<p>Your consent ID is shown in the cookie settings of the site.</p>`,
    base,
  );

/** Whether a request takes a page (a browser's navigation or form), not only JSON (a script's). */
const acceptsHtml = (req: FastifyRequest) => /\btext\/html\b/.test(req.headers.accept ?? '');

/** Whether a request is a browser's asking for a page (not a script's asking for JSON). */
const wantsHtml = (req: FastifyRequest) =>
  (req.method === 'GET' || req.method === 'HEAD') && acceptsHtml(req);

/**
 * The server's not-found answer for people: a request for a page under `/consent/` or
 * `/admin` that accepts HTML (a mistyped or cut link, opened in a browser) gets a page saying
 * so, not the API's JSON. Null for every other request (the caller answers JSON).
 */
export const notFoundPage = (req: FastifyRequest, reply: FastifyReply): FastifyReply | null => {
  const path = req.url.split('?')[0]!;
  if (!wantsHtml(req)) return null;
  if (/^\/admin(\/|$)/.test(path))
    // The console's pages name their files from the root (dashboard.ts): so does this one.
    return errorPage(
      reply,
      404,
      'Page not found',
      '<p>There is no page of the admin console at this address. Check it for a typing mistake, or start again from <a href="/admin">the overview</a>.</p>',
      '/consent/',
    );
  if (path.startsWith('/consent/')) {
    // assets/ beside the consent pages, relative (the server may be under a prefix of a site):
    // /consent/a/b → ../assets/.
    const depth = path.split('/').length - 3;
    return notFound(
      reply,
      404,
      'There is no page at this address. Check the link for a typing mistake, or open your consent record again from the site.',
      'Page not found',
      '../'.repeat(Math.max(0, depth)),
    );
  }
  return null;
};

/**
 * What a failure the server's error handler answered in the API's JSON (429 rate limited, 503
 * database away or disk full, 500, a refused form field) says to a person whose browser asked
 * for a page: the page opened, or the Withdraw form sent without JavaScript. A visitor pressing
 * Withdraw during an outage read `{"error":"ASSENT_UNAVAILABLE",…}`; now a page saying that
 * nothing was recorded and to try again. Null when a script asked (it gets the JSON) or the
 * answer is already a page. The handler has logged it and counted it as before.
 */
const failurePage = (req: FastifyRequest, reply: FastifyReply, payload: unknown): string | null => {
  if (reply.statusCode < 400 || typeof payload !== 'string') return null;
  if (!acceptsHtml(req)) return null;
  if (!String(reply.getHeader('content-type') ?? '').startsWith('application/json')) return null;
  let message = '';
  try {
    message = String((JSON.parse(payload) as { message?: unknown }).message ?? '');
  } catch {}
  const withdrawing = req.method === 'POST';
  const code = reply.statusCode;
  const title = withdrawing ? 'Your withdrawal was not recorded' : 'Your consent record could not be shown';
  const retry = Number(reply.getHeader('retry-after'));
  const why =
    code === 429
      ? `Too many requests came from your network${retry > 0 ? `: wait ${retry} seconds` : ': wait a minute'}, then try again.`
      : code >= 500
        ? 'The consent service is unavailable at the moment. Try again in a few minutes.'
        : `The request was not understood${message ? ` (${message})` : ''}. Open your consent record again from the site.`;
  const nothing = withdrawing ? '<p>Nothing was changed: your previous choice still applies.</p>' : '';
  // assets/ relative to the page, as notFoundPage resolves them (/consent/a/withdraw → ../).
  const depth = req.url.split('?')[0]!.split('/').length - 3;
  reply.type('text/html; charset=utf-8');
  return layout(
    title,
    `<h1>${esc(title)}</h1>\n<p>${esc(why)}</p>${nothing}`,
    '../'.repeat(Math.max(0, depth)),
  );
};

/**
 * Query parameters links add on their way through mail, newsletters and social networks
 * (`utm_source`, Facebook's `fbclid`, Google's `gclid`, Microsoft's `msclkid`): the consent
 * page ignores them instead of refusing its own link. Every other unknown one is refused.
 */
const TRACKING_PARAMS = {
  fbclid: { type: 'string', maxLength: 512, description: 'Ignored (added by Facebook to links).' },
  gclid: { type: 'string', maxLength: 512, description: 'Ignored (added by Google Ads to links).' },
  msclkid: { type: 'string', maxLength: 512, description: 'Ignored (added by Microsoft Ads to links).' },
} as const;
const UTM = '^utm_[A-Za-z0-9_]{1,32}$';

/** What a refused part of the consent page's address is, in words. */
const refusal = (err: FastifyError): { title: string; message: string } | null => {
  const first = err.validation?.[0] as { keyword?: string; params?: Record<string, unknown> } | undefined;
  if (!first) return null;
  if (err.validationContext === 'params')
    return { title: 'Consent record not found', message: 'This is not a valid consent ID.' };
  if (first.keyword === 'additionalProperties')
    return {
      title: 'Address not understood',
      message: `The address of this page has a part it does not take: “${String(first.params?.additionalProperty)}”. Open it without that part.`,
    };
  return {
    title: 'Address not understood',
    message: 'A part of the address of this page is not valid. Open the link again from the site.',
  };
};

/**
 * The page's refusals are HTML pages in plain language; a parameter that fails its schema is
 * the API's JSON error, like everywhere else.
 */
const pageError = (description: string) =>
  ({
    description,
    content: { 'text/html': { schema: { type: 'string' } }, 'application/json': { schema: errorSchema } },
  }) as const;

/** `/consent/:id`: the visitor's record in plain language, with a Withdraw button. */
export const pageRoutes = (ctx: Context) => async (app: FastifyInstance) => {
  const serverErrors = app.errorHandler;
  app.addHook('onSend', async (req, reply, payload) => {
    reply.header('content-security-policy', CSP);
    reply.header('x-frame-options', 'DENY');
    reply.header('cache-control', 'no-store');
    // The URL holds the consent ID: never sent to another origin. Same-origin requests keep
    // their Origin header (with no-referrer, a form's POST says "Origin: null"), which the
    // withdraw form's anti-forgery check needs.
    reply.header('referrer-policy', 'same-origin');
    return failurePage(req, reply, payload) ?? payload;
  });
  // The no-JavaScript path of the Withdraw form: its one field is the anti-forgery token.
  // Every field is kept, for the route's schema to refuse what it does not take (by name), and
  // a field given twice is refused here: which one would count is not the sender's to guess.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 1024 },
    (_r, body, done) => {
      // No prototype: a "__proto__" field is a field like any other, refused by name.
      const fields: Record<string, string> = Object.create(null);
      for (const [k, v] of new URLSearchParams(body as string)) {
        if (Object.hasOwn(fields, k)) return done(new FieldError(k, 'is given more than once'), undefined);
        fields[k] = v;
      }
      done(null, fields);
    },
  );

  const tags = ['consent page'];
  app.get(
    '/consent/assets/consent.js',
    {
      schema: {
        summary: "The consent page's script",
        description: 'Static asset of the consent page.',
        tags,
        response: { 200: textReply('The script.', 'text/javascript') },
      },
    },
    (_req, reply) =>
      reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(JS),
  );
  app.get(
    '/consent/assets/consent.css',
    {
      schema: {
        summary: "The consent page's style sheet",
        description: 'Static asset of the consent page.',
        tags,
        response: { 200: textReply('The style sheet.', 'text/css') },
      },
    },
    (_req, reply) => reply.type('text/css; charset=utf-8').send(CSS),
  );

  app.get<{ Params: { id: string }; Querystring: { done?: string; page?: string } }>(
    '/consent/:id',
    {
      // A browser's refused address (`?bogus=1`) is a page naming the part refused; a script's
      // is the API's JSON error, like everywhere else (the server's handler, thrown to).
      errorHandler: (err: FastifyError, req, reply) => {
        const why = wantsHtml(req) ? refusal(err) : null;
        // Everything else to the server's handler, called, not thrown to: rethrown, the rate
        // limiter's 429 went out as a 200 carrying the error as its body.
        if (!why) return serverErrors.call(app, err, req, reply);
        return notFound(reply, 400, why.message, why.title);
      },
      schema: {
        summary: "The visitor's consent page",
        description:
          "The consent's current choices and history in plain language (a page at a time), with a Withdraw button. Never cached; the URL is never sent to another origin. The parameters links gain in mail and social media (`utm_*`, `fbclid`, `gclid`, `msclkid`) are ignored; any other unknown one is refused (an HTML page naming it for a browser, the JSON error otherwise).",
        tags,
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } } },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            done: { type: 'string', maxLength: 16, description: '`withdrawn` after a withdrawal.' },
            page: { type: 'string', maxLength: 8, description: 'Page of the history, 1 the newest.' },
            ...TRACKING_PARAMS,
          },
          // `utm_source`, `utm_medium`… (ignored, as TRACKING_PARAMS).
          patternProperties: { [UTM]: { type: 'string', maxLength: 512 } },
        },
        response: {
          200: textReply('The page.', 'text/html'),
          400: pageError(
            'Not a consent ID, not a page of the history (past the last included), or an unknown parameter.',
          ),
          404: pageError('No choice has been recorded with this consent ID.'),
        },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      if (!isConsentId(id)) return notFound(reply, 400, 'This is not a valid consent ID.');
      const page = req.query.page;
      if (page !== undefined && !/^[1-9][0-9]{0,6}$/.test(page))
        return notFound(reply, 400, 'This is not a page of the history.', 'Page not found');
      const p = pageOf({ page, limit: String(PAGE_SIZE) }, PAGE_SIZE)!;
      // One page (the order reads every receipt of the consent: ~5 ms at 5,000, see
      // kysely-store.ts newestFirst); the latest receipt (what applies now)
      // is page 1's first, or one more row on later pages.
      const { total, receipts } = await ctx.store.history(id, p);
      if (!total) return notFound(reply, 404, 'No choice has been recorded with this consent ID.');
      // Past the last page (an old link, a typed number): refused as ?page=0 is, with the way back.
      const pages = Math.ceil(total / PAGE_SIZE);
      if (p.page > pages)
        return notFound(
          reply,
          400,
          `This history has ${pages} page${pages === 1 ? '' : 's'}: there is no page ${p.page}.`,
          'Page not found',
          '',
          `<p><a href="?page=${pages}">Go to the last page (${pages})</a></p>`,
        );
      const last = p.page === 1 ? receipts[0] : await ctx.store.latest(id);
      if (!last) return notFound(reply, 404, 'No choice has been recorded with this consent ID.');
      return reply
        .type('text/html; charset=utf-8')
        .send(
          await render(
            ctx,
            req,
            id,
            last,
            receipts,
            { page: p.page, offset: p.offset, total },
            req.query.done === 'withdrawn',
          ),
        );
    },
  );

  // `/consent/<id>/` (a link that gained a slash): to the page, its query string kept.
  app.get<{ Params: { id: string } }>(
    '/consent/:id/',
    {
      schema: {
        summary: 'The consent page, with a trailing slash',
        description: 'Redirects `/consent/:id/` to `/consent/:id` (relative, query string kept).',
        tags,
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } } },
        response: { 301: emptyReply('To `/consent/:id`.') },
      },
    },
    (req, reply) => {
      const q = req.url.indexOf('?');
      return reply.redirect(
        `../${encodeURIComponent(req.params.id)}${q === -1 ? '' : req.url.slice(q)}`,
        301,
      );
    },
  );

  app.post<{ Params: { id: ConsentId }; Body: { token?: string } | undefined }>(
    '/consent/:id/withdraw',
    // The form's body is one token: 1 KiB, JSON or form, refused beyond before parsing.
    {
      bodyLimit: 1024,
      schema: {
        summary: 'Withdraw from the consent page',
        description:
          "The consent page's Withdraw form (works without JavaScript): its one field is the page's anti-forgery token, and it must come from the page's own origin. Redirects back to the page.",
        tags,
        params: idParams,
        body: {
          content: {
            'application/x-www-form-urlencoded': {
              schema: {
                type: 'object',
                additionalProperties: false,
                properties: { token: { type: 'string', description: "The page's anti-forgery token." } },
              },
            },
            'application/json': {
              schema: {
                type: ['object', 'null'],
                additionalProperties: false,
                properties: { token: { type: 'string', description: "The page's anti-forgery token." } },
              },
            },
          },
        },
        response: {
          303: emptyReply('Recorded: back to the consent page (`?done=withdrawn`).'),
          400: pageError('Not a consent ID (ASSENT_BAD_FIELD).'),
          403: pageError('The form did not come from this consent page (origin or token).'),
          404: pageError('No choice has been recorded with this consent ID.'),
        },
      },
    },
    async (req, reply) => {
      // Cross-site posting: the form must come from this very page (its origin, and the token
      // only this server can make for this consent ID). Browsers send Origin with every form POST.
      const token = Buffer.from(req.body?.token ?? '');
      const expected = Buffer.from(formToken(ctx, req.params.id));
      if (
        senderOrigin(req) !== ownOrigin(req) ||
        token.length !== expected.length ||
        !timingSafeEqual(token, expected)
      )
        return notFound(
          reply,
          403,
          'This withdrawal did not come from your consent page, so it was not recorded. Open the page and press the button there.',
          'Withdrawal refused',
          '../',
        );
      const r = await withdraw(ctx, req, reply, req.params.id, 'consent-page');
      if (!r)
        return notFound(
          reply,
          404,
          'No choice has been recorded with this consent ID.',
          'Consent record not found',
          '../',
        );
      return reply.redirect(`../${req.params.id}?done=withdrawn`, 303);
    },
  );
};
