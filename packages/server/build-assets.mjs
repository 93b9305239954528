// After tsc: copies what the compiled server reads beside its own modules, laid out as in src/
// so the same relative URLs resolve from dist/: the consent page's and the console's assets
// (routes/page.ts, routes/dashboard.ts: `../assets/`) and the SQLite writer and reader threads,
// plain JavaScript that store/sqlite-writer.ts and store/sqlite-reader.ts start as
// `./sqlite-writer.mjs` and `./sqlite-reader.mjs`.
import { cpSync } from 'node:fs';

const here = (p) => new URL(p, import.meta.url);
cpSync(here('src/assets'), here('dist/assets'), { recursive: true });
cpSync(here('src/store/sqlite-writer.mjs'), here('dist/store/sqlite-writer.mjs'));
cpSync(here('src/store/sqlite-reader.mjs'), here('dist/store/sqlite-reader.mjs'));
