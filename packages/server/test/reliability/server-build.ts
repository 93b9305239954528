import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/**
 * The server's CLI compiled once per test file into one ES module (esbuild, the TypeScript
 * compiler tsx uses itself), so each of the many server processes a reliability test starts
 * (kills, restarts, four at once) loads one file instead of compiling and resolving a hundred
 * through tsx's loader hooks: a start took 4–12 s on a loaded 2-core machine, about half that
 * this way. The code is the same: packages/server/src with @assent/core inlined, the npm
 * dependencies imported from node_modules as they are at run time. `bin/assent-server.js`
 * itself (tsx) is what the CLI tests (cli-config, health, chain) start.
 *
 * Laid out as src/ is, so what the server finds beside its own module still resolves: the
 * writer and reader threads (store/sqlite-writer.mjs, sqlite-reader.mjs), the consent page's assets (assets/), and the banner's
 * build through node_modules (@assent/banner/dist), and the package's own package.json.
 * Removed when the test process exits.
 */
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const SRC = join(ROOT, 'packages/server/src');

let built: Promise<string> | undefined;

/** The compiled CLI's path: `node <it> start …` is `assent-server start …`. */
export const serverBuild = (): Promise<string> =>
  (built ??= (async () => {
    const out = join(ROOT, 'node_modules/.cache/assent-server-test', `${process.pid}`);
    rmSync(out, { recursive: true, force: true });
    process.once('exit', () => rmSync(out, { recursive: true, force: true }));
    const entry = join(out, 'src/store/assent-server.mjs');
    await build({
      entryPoints: [join(SRC, 'cli.ts')],
      outfile: entry,
      bundle: true,
      conditions: ['@assent/source'],
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'error',
      plugins: [
        {
          // The workspace's own packages (TypeScript sources) are inlined; npm packages are not.
          name: 'npm-external',
          setup: (b) =>
            b.onResolve({ filter: /^[^./]/ }, (a) =>
              a.path.startsWith('@assent/') ? undefined : { path: a.path, external: true },
            ),
        },
      ],
    });
    mkdirSync(join(out, 'src/store'), { recursive: true });
    for (const t of ['sqlite-writer.mjs', 'sqlite-reader.mjs'])
      cpSync(join(SRC, 'store', t), join(out, 'src/store', t));
    cpSync(join(SRC, 'assets'), join(out, 'src/assets'), { recursive: true });
    // openapi.ts reads the package's version one level above its own module: from the bundle
    // (in src/store/) that is src/package.json.
    cpSync(join(SRC, '../package.json'), join(out, 'src/package.json'));
    return entry;
  })());
