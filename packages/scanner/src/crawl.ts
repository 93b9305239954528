import type { Browser, BrowserContext } from 'playwright-core';

/**
 * Breadth-first, same-origin crawling: the start URL, then the sitemap's URLs (when the site
 * has a `/sitemap.xml`), then the links found on each scanned page, up to a page budget.
 */

/** The URL a page is visited at: no fragment, no trailing slash; its query as linked. */
const pageUrl = (url: string): string => {
  const u = new URL(url);
  u.hash = '';
  if (u.pathname !== '/' && u.pathname.endsWith('/')) u.pathname = u.pathname.slice(0, -1);
  return u.href;
};

/** Query parameters that say where a visitor came from, not which page they see. */
const TRACKING_PARAM = /^(utm_.*|gclid|fbclid|msclkid)$/i;

/**
 * A page's identity for de-duplication: no fragment, no trailing slash difference, its query
 * parameters sorted (`?sort=asc&page=1` is `?page=1&sort=asc`) and without campaign tags
 * (`utm_*`, `gclid`, `fbclid`, `msclkid`), so variants of one page do not use up `--pages`.
 */
export const normalise = (url: string): string => {
  const u = new URL(pageUrl(url));
  if (u.search) {
    const kept = [...u.searchParams].filter(([k]) => !TRACKING_PARAM.test(k));
    // Stable: a repeated key keeps its values in their order.
    kept.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    u.search = new URLSearchParams(kept).toString();
  }
  return u.href;
};

/** Same origin, http(s), and not obviously a file download. */
export const crawlable = (url: string, origin: string): boolean => {
  try {
    const u = new URL(url);
    return (
      u.origin === origin &&
      /^https?:$/.test(u.protocol) &&
      !/\.(pdf|zip|jpe?g|png|gif|svg|webp|mp4|mp3|xml|json|css|js)$/i.test(u.pathname)
    );
  } catch {
    return false;
  }
};

/** The `<loc>` URLs of a sitemap (or sitemap index) document. */
export const sitemapUrls = (xml: string): string[] =>
  [...xml.matchAll(/<loc>\s*([^<\s]+)\s*<\/loc>/gi)].map((m) =>
    m[1]!
      .replace(/&amp;/g, '&')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'"),
  );

/**
 * Fetches `/sitemap.xml` through the scan's browser, so its `--host-resolver-rules` (a staging
 * host mapped to an address) apply as they do to the pages, and redirects are followed as a
 * visitor's browser follows them. An absent or broken sitemap is simply no URLs. Every `<loc>`
 * is returned: the frontier keeps those of the origin it crawls.
 */
export const fetchSitemap = async (origin: string, browser: Browser, timeoutMs = 5000): Promise<string[]> => {
  let context: BrowserContext | undefined;
  try {
    context = await browser.newContext({ serviceWorkers: 'block' });
    const page = await context.newPage();
    const got = await page.goto(`${origin}/sitemap.xml`, { timeout: timeoutMs, waitUntil: 'commit' });
    if (!got?.ok() || !/xml/i.test(got.headers()['content-type'] ?? 'xml')) return [];
    return sitemapUrls(await got.text());
  } catch {
    return [];
  } finally {
    await context?.close().catch(() => {});
  }
};

/**
 * A breadth-first frontier with a page budget, on one origin: URLs of other origins (a link
 * away, a sitemap of another host) stay queued, unvisited, until the frontier is rebased on
 * their origin — the one the start URL redirected to (`http://example.com` → `https://www.example.com`).
 */
export class Frontier {
  private readonly seen = new Set<string>();
  private readonly queue: { url: string; force: boolean }[] = [];
  private taken = 0;
  /** Until settle(): only the start URL is handed out (its final origin is not known yet). */
  private held = false;
  /** The start URL (the first one forced in), as visited. */
  start: string | null = null;

  constructor(
    private base: string,
    private readonly budget: number,
  ) {}

  /** The origin crawled. */
  get origin(): string {
    return this.base;
  }

  /** Crawls `origin` from now on: the start URL ended there (a redirect). */
  rebase(origin: string): void {
    this.base = origin;
  }

  /** Hands out the start URL only, until settle(): where it ends decides the origin crawled. */
  hold(): void {
    this.held = true;
  }

  /** The origin is known (rebased or not): the rest of the queue may go. */
  settle(): void {
    this.held = false;
  }

  /**
   * Queues a page once (by its normalised identity, visited at the URL first seen for it);
   * `force` skips the crawlability check (for the start URL).
   */
  add(url: string, force = false): void {
    let id: string;
    try {
      id = normalise(url);
    } catch {
      return; // not a URL
    }
    if (this.seen.has(id)) return;
    this.seen.add(id);
    const visit = pageUrl(url);
    if (force) this.start ??= visit;
    this.queue.push({ url: visit, force });
  }

  /** The next page to scan, or `undefined` when the queue has none on the origin or the budget is spent. */
  next(): string | undefined {
    if (this.taken >= this.budget) return undefined;
    const i = this.queue.findIndex((q) => q.force || (!this.held && crawlable(q.url, this.base)));
    if (i < 0) return undefined;
    this.taken++;
    return this.queue.splice(i, 1)[0]!.url;
  }
}
