/**
 * The demo news site's pages, as plain HTML strings. No framework: what a site owner pastes
 * is visible here as is — the banner's script tag, its JSON config, held scripts, a held embed.
 */
import { parseShortcode } from '@assent/core';
import { ARTICLES, type Article, SEED_SHORTCODE } from './content.js';
import { declarationTable } from './cookie-declaration.js';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const SITE = 'The Daily Ledger';

/**
 * The site's consent policy, published by its receipt server: the seed's shortcode
 * (`buttons=(Accept !) days=(20)`: the words and the 20 days) on top of this JSON for the
 * categories, services and cookies the site really has (stand-ins for Google Analytics, an
 * ad network and YouTube, served locally: the demo makes no outside requests). The pages
 * hold no config of their own: they load the published policy with the banner in one tag.
 */
export const demoPolicy = () => {
  const { config, errors } = parseShortcode(SEED_SHORTCODE, demoConfig());
  if (errors.length)
    throw new Error(`demo policy: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`);
  return config;
};

export const demoConfig = () => ({
  policy: '2026-11',
  learnMoreHref: '/privacy',
  // EU/EEA/UK/CH opt-in, US states with opt-out laws opt-out, elsewhere the seed's notice.
  regions: { EU: 'opt-in', 'US-OPT-OUT': 'opt-out', '*': 'notice' },
  // Advanced, said outright (unset, the banner works it out from the markup and asks on the
  // console to say so): the Google tag stand-in runs live under the denied default and lists
  // each update, as a real gtag.js would send cookieless pings until consent.
  googleConsentMode: { mode: 'advanced', adsDataRedaction: true, urlPassthrough: true },
  categories: [
    {
      id: 'analytics',
      services: [
        {
          id: 'stats',
          title: 'Ledger Stats',
          description:
            'Counts page views so we know which articles are read (a stand-in for Google Analytics).',
          cookies: ['_demo_stats'],
        },
      ],
    },
    {
      id: 'marketing',
      services: [
        {
          id: 'ads',
          title: 'Ad network',
          description: 'Shows and measures ads (a stand-in for an ad tag).',
          cookies: ['_demo_ads'],
        },
        {
          id: 'video',
          title: 'YouTube',
          description: 'Plays embedded videos; YouTube may set its own cookies (a local stand-in here).',
        },
      ],
    },
  ],
});

export interface PageOptions {
  nonce: string;
  /** Where the receipt server's API is, seen from the page: `/v1/` (the demo), `/assent/v1/` behind a proxy. */
  assent?: string;
  /** The site's origin, when the receipt server is on another one (it cannot tell by itself). */
  site?: string;
  /** Demo only: `?region=US-CA` shows the mode a visitor from there gets. */
  region?: string;
}

const layout = (title: string, main: string, o: PageOptions) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} — ${SITE}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/site.css">
<script src="/assent.vendors.min.js"></script>
<script src="/demo/vendors-standin.js"></script>
<script src="${o.assent ?? '/v1/'}assent.js${o.site ? `?site=${encodeURIComponent(o.site)}` : ''}"${o.region ? ` data-assent-region="${esc(o.region)}"` : ''}></script>
<script src="/demo/gtag-standin.js"></script>
<script type="text/plain" data-assent-category="analytics" data-assent-service="stats" src="/demo/analytics.js"></script>
<script type="text/plain" data-assent-category="marketing" data-assent-service="ads" src="/demo/ads.js"></script>
<script type="text/plain" data-assent-category="analytics" nonce="${o.nonce}">document.documentElement.dataset.inlineAnalytics = 'ran';</script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="masthead">
  <a class="logo" href="/">${SITE}</a>
  <nav aria-label="Sections"><a href="/">Home</a> <a href="/articles/${ARTICLES[0]!.slug}">World</a> <a href="/privacy">Privacy</a></nav>
</header>
<main id="main">
${main}
</main>
<aside class="inspector" aria-labelledby="inspector-h">
  <h2 id="inspector-h">Behind the scenes (demo)</h2>
  <p>View this page as a visitor from:
    <a href="?region=DE">Germany (opt-in)</a> ·
    <a href="?region=US-CA">California (opt-out)</a> ·
    <a href="?region=JP">Japan (notice)</a>.
    Current: <strong>${o.region ? esc(o.region) : 'from the server (unknown here → opt-in)'}</strong>.</p>
  <p>Google tag (a local stand-in) has received:</p>
  <ol id="gtag-log"><li>nothing yet</li></ol>
  <p>Microsoft UET, Microsoft Clarity, Meta Pixel and TikTok (local stand-ins) have received:</p>
  <ol id="vendor-log"><li>nothing yet</li></ol>
</aside>
<footer class="footer">
  <p>© 2026 ${SITE} · <a href="/privacy">Privacy policy</a> · <a href="/privacy#cookies" data-assent-open>Cookie settings</a></p>
</footer>
</body>
</html>
`;

const ad = `<aside class="ad" aria-label="Advertisement"><p id="ad-slot">Advertisement space — filled only with marketing consent.</p></aside>`;

const articlePage = (a: Article, o: PageOptions) =>
  layout(
    a.title,
    `<article class="article">
  <p class="section">${esc(a.section)}</p>
  <h1>${esc(a.title)}</h1>
  <p class="dek">${esc(a.dek)}</p>
  <p class="byline">By the Ledger staff · <time datetime="${a.date}">${a.date}</time></p>
  ${a.paragraphs.map((p) => `<p>${esc(p)}</p>`).join('\n  ')}
  ${
    a.video
      ? `<figure class="video"><iframe data-assent-src="/demo/video" data-assent-category="marketing" data-assent-service="video" data-assent-provider="YouTube" title="Video: the library's reading room" width="560" height="315"></iframe><figcaption>The reading room after the refurbishment.</figcaption></figure>`
      : ''
  }
</article>
${ad}
<section class="more" aria-labelledby="more-h"><h2 id="more-h">More from the Ledger</h2><ul>${ARTICLES.filter(
      (x) => x !== a,
    )
      .map((x) => `<li><a href="/articles/${x.slug}">${esc(x.title)}</a></li>`)
      .join('')}</ul></section>`,
    o,
  );

const home = (o: PageOptions) =>
  layout(
    'Home',
    `<h1 class="visually-hidden">Latest news</h1>
<ul class="teasers">${ARTICLES.map(
      (a) =>
        `<li><p class="section">${esc(a.section)}</p><h2><a href="/articles/${a.slug}">${esc(a.title)}</a></h2><p>${esc(a.dek)}</p></li>`,
    ).join('')}</ul>
${ad}`,
    o,
  );

const privacy = (o: PageOptions) =>
  layout(
    'Privacy policy',
    `<article class="article">
<h1>Privacy policy</h1>
<p>This is the page the banner's “Learn More” link opens. It says what we collect, why, and how to change your mind.</p>
<h2 id="cookies">Cookies and similar technologies</h2>
<p>The table below is not written by hand: Assent's scanner generated it from what a browser stores after visiting every page of this site and accepting all (<code>npm run -w demo declaration</code>), and a test scans the site again to make sure it still tells the truth.</p>
${declarationTable()}<h2>Your choice</h2>
<p id="consent-state">Your current choice is shown here once the page has loaded.</p>
<p><button type="button" class="button" data-assent-open>Change cookie settings</button></p>
<p>Withdrawing consent is as easy as giving it: open the settings and choose “Reject all”. Cookies of the categories you refuse are deleted at once; scripts already running stop at the next page load.</p>
<h2>Proof of consent</h2>
<p>Each choice is stored as a signed receipt under a random consent ID, so that we can show what you were asked and what you chose. We never store your IP address, only a keyed hash of it that changes daily.</p>
</article>
<script src="/demo/privacy.js" defer></script>`,
    o,
  );

export type Rendered = { status: number; type: string; body: string };

/** Renders a demo page, or undefined when `path` is not one. */
export const renderPage = (path: string, o: PageOptions): Rendered | undefined => {
  if (o.region && !/^[A-Z]{2}(-[A-Z0-9]{1,3})?$/.test(o.region)) o = { ...o, region: undefined };
  const html = (body: string, status = 200) => ({ status, type: 'text/html; charset=utf-8', body });
  if (path === '/') return html(home(o));
  if (path === '/privacy') return html(privacy(o));
  const m = /^\/articles\/([a-z0-9-]+)$/.exec(path);
  const a = m && ARTICLES.find((x) => x.slug === m[1]);
  if (a) return html(articlePage(a, o));
  return undefined;
};

/**
 * The demo's Content-Security-Policy: strict, with a per-response nonce for held inline scripts.
 * A receipt server on another origin (`assent`, absolute) is allowed to serve the banner and
 * to be called; nothing else is.
 */
export const demoCsp = (nonce: string, assent?: string) => {
  const api = assent && /^https?:/.test(assent) ? ` ${new URL(assent).origin}` : '';
  return `default-src 'self'; script-src 'self'${api} 'nonce-${nonce}'; style-src 'self'; img-src 'self' data:; frame-src 'self'; connect-src 'self'${api}; base-uri 'none'; form-action 'self'; frame-ancestors 'self'; object-src 'none'`;
};
