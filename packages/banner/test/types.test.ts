import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

// The banner's public types (types/assent.d.ts, shipped as dist/assent.d.ts), compiled as a
// site's own TypeScript would use them: `tsc --strict`, in a directory of its own.
const TYPES = join(import.meta.dirname, '../types/assent.d.ts');
const TSC = join(import.meta.dirname, '../../../node_modules/typescript/bin/tsc');

const compile = (files: Record<string, string>) => {
  const dir = mkdtempSync(join(tmpdir(), 'assent-banner-types-'));
  try {
    copyFileSync(TYPES, join(dir, 'assent.d.ts'));
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          lib: ['es2022', 'dom'],
          types: [],
        },
        files: Object.keys(files),
      }),
    );
    const r = spawnSync(process.execPath, [TSC, '-p', dir], { encoding: 'utf8' });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

describe("the banner's types, as a page's TypeScript uses them", () => {
  it('declare the global Assent the README calls (Assent?.get()), possibly undefined', () => {
    const r = compile({
      // A page's script, no imports: the types come in by reference, as for a <script> tag.
      'page.ts': [
        '/// <reference path="./assent.d.ts" />',
        'const state = Assent?.get();',
        'const analytics: boolean = state?.granted.analytics ?? false;',
        "const off: (() => void) | undefined = Assent?.on('change', (s) => console.log(s.granted));",
        "if (Assent?.allowed('analytics')) Assent.accept(['analytics']);",
        'window.Assent?.open();',
        'globalThis.Assent?.reject();',
        "document.addEventListener('assent:change', (e) => console.log(e.detail.consentId));",
        // Undefined until the banner's (deferred) script has run: a bare call must not compile.
        '// @ts-expect-error: Assent is possibly undefined',
        'Assent.get();',
        'console.log(analytics, off);',
      ].join('\n'),
      // A module importing the types: the same global.
      'app.ts': [
        "import type { AssentApi, PublicState } from './assent.js';",
        'const api: AssentApi | undefined = Assent;',
        'export const current: PublicState | undefined = api?.get();',
      ].join('\n'),
    });
    assert.equal(r.code, 0, r.out);
  });
});
