import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Store } from '../store/types.js';
import { entryText } from './entries.js';

/** The banner builds the server hands out (routes/policies.ts): their SHA-256 go in the log. */
const FILES = ['assent.full.min.js', 'assent.full.prefs.min.js'];

/** SHA-256 of each banner build present, by file name. */
export const bannerBuilds = (): { file: string; sha256: string }[] => {
  const out: { file: string; sha256: string }[] = [];
  for (const file of FILES) {
    try {
      const path = createRequire(import.meta.url).resolve(`@assent/banner/dist/${file}`);
      out.push({ file, sha256: createHash('sha256').update(readFileSync(path)).digest('hex') });
    } catch {
      // not built: nothing is served, nothing to log
    }
  }
  return out;
};

/**
 * Appends each banner build to each site's log unless the site's latest entry for that file
 * already names the same SHA-256 (at start: a new build is logged once per site). Returns how
 * many entries were appended.
 */
export const logBannerBuilds = async (
  store: Store,
  sites: Iterable<string>,
  builds = bannerBuilds(),
  at = new Date().toISOString(),
): Promise<number> => {
  let n = 0;
  for (const site of sites) {
    const recent = (await store.logEntries(site, 200)).map(
      (e) => JSON.parse(e.entry) as Record<string, unknown>,
    );
    const fresh = builds.filter((b) => {
      const last = recent.find((e) => e.type === 'banner' && e.file === b.file);
      return last?.sha256 !== b.sha256;
    });
    if (!fresh.length) continue;
    await store.logAppend(
      site,
      fresh.map((b) => entryText({ type: 'banner', file: b.file, sha256: b.sha256, at })),
    );
    n += fresh.length;
  }
  return n;
};
