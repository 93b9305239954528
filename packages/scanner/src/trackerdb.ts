import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Tracker } from './types.js';

/**
 * Ghostery's tracker database, loaded only when it is installed.
 *
 * Why optional: its data is licensed CC-BY-NC-SA-4.0 (non-commercial, share-alike). Assent is
 * MIT and companies run the scanner in their CI, which is commercial use, so the scanner must
 * not force that licence on anyone who installs it. Without the database the scanner still
 * works: every third party is then an "unknown third party", which is flagged the same way.
 * See the README's "Tracker database and its licence".
 */
export interface TrackerDb {
  match(url: string, type: string, pageUrl: string): Tracker | null;
}

interface Match {
  readonly pattern?: { readonly key: string; readonly name: string; readonly category: string } | null;
  readonly category?: { readonly key: string } | null;
  readonly organization?: { readonly name: string } | null;
}
interface Engine {
  matchUrl(req: { url: string; type: string; sourceUrl: string }, o: { getDomainMetadata: boolean }): Match[];
}

const MODULE = '@ghostery/trackerdb';

/** Playwright resource types → the request types the adblocker engine knows. */
const TYPES: Record<string, string> = {
  document: 'sub_frame',
  xhr: 'xmlhttprequest',
  fetch: 'xmlhttprequest',
  eventsource: 'xmlhttprequest',
  ping: 'ping',
  websocket: 'websocket',
};

let loading: Promise<TrackerDb | null> | undefined;

/** Loads the database once per process; `null` when the package is not installed. */
export const loadTrackerDb = (): Promise<TrackerDb | null> => {
  loading ??= (async () => {
    let entry: string;
    try {
      entry = createRequire(import.meta.url).resolve(MODULE);
    } catch {
      return null;
    }
    // A variable specifier keeps the type checker (and bundlers) from requiring the package.
    const spec: string = MODULE;
    const mod = (await import(spec)) as { default: (bytes: Uint8Array) => Promise<Engine> };
    const bytes = await readFile(join(dirname(entry), '..', 'trackerdb.engine'));
    const engine = await mod.default(bytes);
    return {
      match(url, type, pageUrl) {
        let matches: Match[];
        try {
          matches = engine.matchUrl(
            { url, type: TYPES[type] ?? type, sourceUrl: pageUrl },
            { getDomainMetadata: true },
          );
        } catch {
          return null;
        }
        const m = matches.find((x) => x.pattern);
        if (!m?.pattern) return null;
        return {
          key: m.pattern.key,
          name: m.pattern.name,
          category: m.category?.key ?? m.pattern.category,
          organization: m.organization?.name ?? null,
        };
      },
    };
  })();
  return loading;
};

export const TRACKERDB_LICENCE = 'CC-BY-NC-SA-4.0';
