// Prints the tags that load the banner from a CDN, pinned by Subresource Integrity, from the
// build's dist/sri.json (one source for the hashes; nothing to copy by hand).
//
//   npm run -w @assent/banner snippet                       # lite, jsDelivr
//   npm run -w @assent/banner snippet -- --full --base https://cdn.example/assent/0.1.0/
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { full: { type: 'boolean', default: false }, base: { type: 'string' } },
});
const { version, files } = JSON.parse(readFileSync(new URL('dist/sri.json', import.meta.url), 'utf8'));
const base = values.base ?? `https://cdn.jsdelivr.net/npm/@assent/banner@${version}/dist/`;
if (!/^https:\/\/.+\/$/.test(base)) {
  process.stderr.write('snippet: --base must be an https:// URL ending in / (the directory of the files)\n');
  process.exit(2);
}
const main = values.full ? 'assent.full.min.js' : 'assent.min.js';
const prefs = values.full ? 'assent.full.prefs.min.js' : 'assent.prefs.min.js';
process.stdout.write(
  `<script src="${base}${main}" integrity="${files[main]}" data-prefs="${files[prefs]}" crossorigin="anonymous" data-assent="buttons=(Accept !) days=(20)" defer></script>\n`,
);
