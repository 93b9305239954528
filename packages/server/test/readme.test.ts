import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

// The README's embedding example, compiled as a user's TypeScript: `tsc --strict --module
// nodenext`, in a directory of its own, importing '@assent/server' (this checkout's sources).
const SERVER = join(import.meta.dirname, '..');
const ROOT = join(SERVER, '../..');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

/**
 * What the example takes as given, with the types the README's comments give them: the site's
 * Assent config, the signing key (PEM or KeyObject), the IP secret's bytes.
 */
const GIVEN = `import type { KeyObject } from 'node:crypto';
declare const assentConfig: unknown;
declare const pemOrKeyObject: string | KeyObject;
declare const secretBytes: Uint8Array;
`;

describe("@assent/server's README", () => {
  it('the createServer example compiles under tsc --strict --module nodenext', () => {
    const readme = readFileSync(join(SERVER, 'README.md'), 'utf8');
    const example = /## Embedding: `createServer`[^\n]*\n\n```ts\n([\s\S]*?)\n```/.exec(readme)?.[1];
    assert.ok(example, 'a ```ts block under ## Embedding');
    assert.match(example, /ipSecret: secretBytes/);
    const dir = mkdtempSync(join(tmpdir(), 'assent-server-readme-'));
    try {
      mkdirSync(join(dir, 'node_modules/@assent'), { recursive: true });
      symlinkSync(SERVER, join(dir, 'node_modules/@assent/server'));
      writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
      writeFileSync(join(dir, 'example.ts'), `${GIVEN}${example}\n`);
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
          // A user's project has @types/node; this directory borrows the workspace's.
          '--typeRoots',
          join(ROOT, 'node_modules/@types'),
          '--types',
          'node',
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
