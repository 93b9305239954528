// Where the banner's gzipped bytes go, per source module: `npm run bench:bytes`.
// For each module, the bundle is gzipped again without the characters the source map says
// came from it; the difference is what that module costs in gzip (its *marginal* cost, so the
// column does not add up to the total: shared strings compress against each other).
// Uses the options of packages/banner/build.mjs (imported from there): esbuild, then UglifyJS
// carrying esbuild's source map through. Without the build's Closure pass (its source map is
// too coarse to attribute characters), so totals here are ~70 B above the shipped file's.
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import {
  common,
  dropInOptions,
  prefsFile,
  prefsOptions,
  squeeze,
} from '../packages/banner/build-options.mjs';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** For each character of the (one-line) output, the index of the source it came from. */
const owners = (js, mappings) => {
  const owner = new Int32Array(js.length).fill(-1);
  let src = 0;
  let col = 0;
  const line = mappings.split(';')[0] ?? '';
  const segs = [];
  for (const seg of line.split(',')) {
    if (!seg) continue;
    const vals = [];
    let v = 0;
    let shift = 0;
    for (const ch of seg) {
      const d = B64.indexOf(ch);
      v += (d & 31) << shift;
      if (d & 32) shift += 5;
      else {
        vals.push(v & 1 ? -(v >> 1) : v >> 1);
        v = 0;
        shift = 0;
      }
    }
    col += vals[0];
    if (vals.length > 1) src += vals[1];
    segs.push([col, src]);
  }
  for (const [i, [c, s]] of segs.entries())
    owner.fill(s, c, i + 1 < segs.length ? segs[i + 1][0] : js.length);
  return owner;
};

for (const isLite of [true, false, 'vendors']) {
  const r = await build({
    ...(isLite === 'vendors'
      ? { ...common, entryPoints: ['src/vendors.ts'], format: 'iife', write: false }
      : dropInOptions(isLite)),
    mangleCache: {},
    sourcemap: 'external',
    outfile: '/tmp/assent-bytes.js',
    // The IIFE's trailing newline would start a second, empty source-map line.
  });
  const s = squeeze(
    r.outputFiles.find((f) => f.path.endsWith('.js')).text,
    r.outputFiles.find((f) => f.path.endsWith('.map')).text,
  );
  const js = s.code;
  const map = JSON.parse(s.map);
  const owner = owners(js, map.mappings);
  const gz = (s) => gzipSync(s, { level: 9 }).length;
  const total = gz(js);
  const rows = map.sources
    .map((name, i) => {
      const without = [...js].filter((_, k) => owner[k] !== i).join('');
      return [name.replace(/^.*?\/(packages\/)/, '$1'), js.length - without.length, total - gz(without)];
    })
    .filter(([, raw]) => raw > 0)
    .sort((a, b) => b[2] - a[2]);
  console.log(
    `\n${isLite === 'vendors' ? 'assent.vendors.min.js (add-on)' : isLite ? 'assent.min.js' : 'assent.full.min.js'}: ${js.length} B raw, ${total} B gzip -9\n`,
  );
  console.log('| module | raw B | gzip B (marginal) |\n|---|---:|---:|');
  for (const [n, raw, g] of rows) console.log(`| ${n} | ${raw} | ${g} |`);
  if (isLite === 'vendors') continue;
  // The stylesheet is a string start.ts adopts (an esbuild define): its share of start.ts.
  const css = js.indexOf(':root{--assent');
  const end = js.indexOf("'", css);
  console.log(
    `| of which the CSS (in start.ts) | ${end - css} | ${total - gz(js.slice(0, css) + js.slice(end))} |`,
  );
  // The preferences dialog, a file of its own fetched on first open (banner src/open.ts).
  const p = await build({ ...prefsOptions(isLite, r.mangleCache), outfile: '/tmp/assent-prefs.js' });
  const prefs = squeeze(p.outputFiles[0].text).code;
  console.log(`\n${prefsFile(isLite)} (on demand): ${prefs.length} B raw, ${gz(prefs)} B gzip -9`);
}
