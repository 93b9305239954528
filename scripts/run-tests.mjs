// Runs every test file of the workspace with Node's own test runner (TypeScript through tsx;
// `@assent/*` imports resolve to each package's src/ through the `@assent/source` condition).
// Usage: node scripts/run-tests.mjs [path-filter …]
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['packages', 'demo', 'deploy', 'test'];
const files = [];
const walk = (dir) => {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const e of entries) {
    if (e === 'node_modules' || e === 'dist' || e.startsWith('.')) continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.test\.tsx?$/.test(e)) files.push(p);
  }
};
roots.forEach(walk);
const filters = process.argv.slice(2);
const chosen = files.sort().filter((f) => !filters.length || filters.some((x) => f.includes(x)));
if (!chosen.length) {
  console.error('no test files matched');
  process.exit(1);
}
const r = spawnSync(
  process.execPath,
  ['--conditions=@assent/source', '--import', 'tsx', '--test', '--test-concurrency=2', ...chosen],
  {
    stdio: 'inherit',
  },
);
process.exit(r.status ?? 1);
