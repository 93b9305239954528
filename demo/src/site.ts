/**
 * The demo site as one framework-free request handler: pages, the demo's static files and
 * the banner's build. The demo server mounts it next to the receipt server.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { demoCsp, renderPage } from './pages.js';

const DEMO = join(import.meta.dirname, '..');
const BANNER = join(DEMO, '../packages/banner/dist');

const STATIC: Record<string, [file: string, type: string]> = {
  '/site.css': [join(DEMO, 'public/site.css'), 'text/css'],
  '/demo/analytics.js': [join(DEMO, 'public/analytics.js'), 'text/javascript'],
  '/demo/ads.js': [join(DEMO, 'public/ads.js'), 'text/javascript'],
  '/demo/privacy.js': [join(DEMO, 'public/privacy.js'), 'text/javascript'],
  '/demo/gtag-standin.js': [join(DEMO, 'public/gtag-standin.js'), 'text/javascript'],
  '/demo/vendors-standin.js': [join(DEMO, 'public/vendors-standin.js'), 'text/javascript'],
  '/demo/video': [join(DEMO, 'public/video.html'), 'text/html; charset=utf-8'],
  // The demo uses Consent Mode and regions: the full build.
  '/assent.full.min.js': [join(BANNER, 'assent.full.min.js'), 'text/javascript'],
  '/assent.full.prefs.min.js': [join(BANNER, 'assent.full.prefs.min.js'), 'text/javascript'],
  // The vendors' consent APIs (UET, Clarity, Meta, TikTok): an add-on, first in <head>.
  '/assent.vendors.min.js': [join(BANNER, 'assent.vendors.min.js'), 'text/javascript'],
};
for (const lang of ['de', 'fr', 'es', 'it', 'nl', 'pl', 'pt'])
  STATIC[`/i18n/${lang}.js`] = [join(BANNER, `i18n/${lang}.js`), 'text/javascript'];

export interface Response {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

const SECURITY = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'strict-origin-when-cross-origin',
};

export interface SiteOptions {
  /** Where the receipt server's API is, seen from the page (default `/v1/`). */
  assent?: string;
  /** The site's own origin, for a receipt server on another origin. */
  site?: string;
  /** `?region=` of the request (demo only). */
  region?: string;
}

/** Answers a GET for the demo site, or undefined when the path is not the site's. */
export const demoSite = (path: string, o: SiteOptions = {}): Response | undefined => {
  const nonce = randomBytes(16).toString('base64');
  const page = renderPage(path, { nonce, ...o });
  if (page)
    return {
      status: page.status,
      headers: {
        'content-type': page.type,
        'content-security-policy': demoCsp(nonce, o.assent),
        'cache-control': 'no-store',
        ...SECURITY,
      },
      body: page.body,
    };
  const f = STATIC[path];
  if (!f) return undefined;
  return {
    status: 200,
    headers: { 'content-type': f[1], 'cache-control': 'no-cache', ...SECURITY },
    body: readFileSync(f[0]),
  };
};
