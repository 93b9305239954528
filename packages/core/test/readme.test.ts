import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

// The README's example, compiled as a user's TypeScript: `tsc --strict --module nodenext`, in a
// directory of its own, importing '@assent/core' (this checkout's sources).
const CORE = join(import.meta.dirname, '..');
const TSC = join(CORE, '../../node_modules/typescript/bin/tsc');

describe("@assent/core's README", () => {
  it('the example compiles under tsc --strict --module nodenext', () => {
    const readme = readFileSync(join(CORE, 'README.md'), 'utf8');
    const example = /## Example\n\n```ts\n([\s\S]*?)\n```/.exec(readme)?.[1];
    assert.ok(example, 'a ```ts block under ## Example');
    const dir = mkdtempSync(join(tmpdir(), 'assent-core-readme-'));
    try {
      mkdirSync(join(dir, 'node_modules/@assent'), { recursive: true });
      symlinkSync(CORE, join(dir, 'node_modules/@assent/core'));
      writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
      writeFileSync(join(dir, 'example.ts'), example);
      const r = spawnSync(
        process.execPath,
        [
          TSC,
          '--strict',
          '--module',
          'nodenext',
          '--noEmit',
          '--skipLibCheck',
          '--customConditions',
          '@assent/source',
          'example.ts',
        ],
        { cwd: dir, encoding: 'utf8' },
      );
      assert.equal(r.status, 0, r.stdout + r.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
