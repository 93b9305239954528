/**
 * Breadth-first, same-origin crawling: the start URL, then the sitemap's URLs (when the site
 * has a `/sitemap.xml`), then the links found on each scanned page, up to a page budget.
 */

/** A page's identity for de-duplication: no fragment, no trailing slash difference. */
export const normalise = (url: string): string => {
  const u = new URL(url);
  u.hash = '';
  if (u.pathname !== '/' && u.pathname.endsWith('/')) u.pathname = u.pathname.slice(0, -1);
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

/** Fetches `/sitemap.xml`; an absent or broken sitemap is simply no URLs. */
export const fetchSitemap = async (origin: string, timeoutMs = 5000): Promise<string[]> => {
  try {
    const res = await fetch(`${origin}/sitemap.xml`, {
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'follow',
    });
    if (!res.ok || !/xml/i.test(res.headers.get('content-type') ?? 'xml')) return [];
    return sitemapUrls(await res.text()).filter((u) => crawlable(u, origin));
  } catch {
    return [];
  }
};

/** A breadth-first frontier with a page budget. */
export class Frontier {
  private readonly seen = new Set<string>();
  private readonly queue: string[] = [];
  private taken = 0;

  constructor(
    private readonly origin: string,
    private readonly budget: number,
  ) {}

  /** Queues a URL once; `force` skips the crawlability check (for the start URL). */
  add(url: string, force = false): void {
    if (!force && !crawlable(url, this.origin)) return;
    const n = normalise(url);
    if (this.seen.has(n)) return;
    this.seen.add(n);
    this.queue.push(n);
  }

  /** The next page to scan, or `undefined` when the queue is empty or the budget spent. */
  next(): string | undefined {
    if (this.taken >= this.budget) return undefined;
    const u = this.queue.shift();
    if (u !== undefined) this.taken++;
    return u;
  }
}
