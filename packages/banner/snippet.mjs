// Prints the tags that load the banner from a CDN, pinned by Subresource Integrity, from the
// build's dist/sri.json (one source for the hashes; nothing to copy by hand).
//
//   npm run -w @assent/banner snippet                       # lite, jsDelivr
//   npm run -w @assent/banner snippet -- --full --base https://cdn.example/assent/0.1.0/
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

/** A bad option or value is one line naming it and exit 2, never a stack trace. */
const fail = (message) => {
  process.stderr.write(`snippet: ${message}\n`);
  process.exit(2);
};

let values;
try {
  ({ values } = parseArgs({
    options: { full: { type: 'boolean', default: false }, base: { type: 'string' } },
  }));
} catch (e) {
  fail(`${e.message} (the options: --full, --base https://cdn.example/assent/)`);
}
if (values.base !== undefined && !/^https:\/\/.+\/$/.test(values.base))
  fail('--base must be an https:// URL ending in / (the directory of the files)');
let sri;
try {
  sri = JSON.parse(readFileSync(new URL('dist/sri.json', import.meta.url), 'utf8'));
} catch (e) {
  fail(
    `cannot read dist/sri.json (${e.code ?? e.message}): build the banner first, npm run -w @assent/banner build`,
  );
}
const { version, files } = sri;
const base = values.base ?? `https://cdn.jsdelivr.net/npm/@assent/banner@${version}/dist/`;
const main = values.full ? 'assent.full.min.js' : 'assent.min.js';
const prefs = values.full ? 'assent.full.prefs.min.js' : 'assent.prefs.min.js';
process.stdout.write(
  `<script src="${base}${main}" integrity="${files[main]}" data-prefs="${files[prefs]}" crossorigin="anonymous" data-assent="buttons=(Accept !) days=(20)" defer></script>\n`,
);
