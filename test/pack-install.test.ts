/**
 * The packages as a user gets them: `npm pack` of every published package, one `npm install`
 * of the five tarballs into an empty directory outside the repository, then what the READMEs
 * tell a user to run. Nothing here reaches back into the checkout but the tarballs and the
 * TypeScript compiler: a file the package forgot to ship, a dependency it forgot to declare or
 * a development tool it needs at run time fails here.
 *
 * The install is real: dependencies come from the npm registry (through npm's cache, which
 * `npm ci` filled, so `--prefer-offline` rarely goes out), and better-sqlite3's install script
 * runs as on a user's machine: prebuild-install downloads the prebuilt addon for this Node.
 * Its usual host is GitHub, which this machine cannot reach, so the test serves the same
 * download from 127.0.0.1 (prebuild-install's documented binary-host mirror,
 * `npm_config_better_sqlite3_binary_host`): a tarball of the addon the workspace's own install
 * built, named and laid out as the project's releases are. Compiling it again from source
 * (node-gyp) took about 3 minutes of CPU, most of this test's time, and proved nothing about
 * our packages.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../test-support/ports.js';

const ROOT = realpathSync(join(import.meta.dirname, '..'));
const PACKAGES = ['@assent/core', '@assent/banner', '@assent/server', '@assent/scanner', '@assent/react'];
const ORIGIN = 'https://shop.example';

interface Packed {
  name: string;
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string }[];
}

/** Where the prebuilt addon is served from (see the file's comment); set in before(). */
let binaryHost = '';

/** npm's own settings for a fresh install (see the file's comment), passed as npm_config_*. */
const installEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, npm_config_better_sqlite3_binary_host: binaryHost };
  // The workspace's ~/.npmrc may say build-from-source: a user's does not.
  delete env.npm_config_build_from_source;
  // Nothing of the workspace's: this test runs under its loader and source condition.
  delete env.NODE_OPTIONS;
  return env;
};

/**
 * better-sqlite3's prebuilt addon for this Node, as its releases publish it
 * (`v<version>/better-sqlite3-v<version>-node-v<abi>-<platform>-<arch>.tar.gz`, holding
 * `build/Release/better_sqlite3.node`), served by a child process on 127.0.0.1 (the installs
 * below block this process). Returns the host and how to stop it.
 */
const serveBinary = async (
  dir: string,
): Promise<{ host: string; stop: () => void; served: () => string[]; tarball: string }> => {
  const require = createRequire(join(ROOT, 'packages/server/package.json'));
  const pkgDir = dirname(require.resolve('better-sqlite3/package.json'));
  const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string };
  const addon = join(pkgDir, 'build/Release/better_sqlite3.node');
  assert.ok(existsSync(addon), `${addon} is missing: the workspace's install did not build better-sqlite3`);
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  mkdirSync(join(dir, `v${version}`), { recursive: true });
  run(
    'tar',
    ['-czf', join(dir, `v${version}`, name), '-C', pkgDir, 'build/Release/better_sqlite3.node'],
    dir,
  );
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      '-e',
      `const {createServer}=require('node:http'),{createReadStream,existsSync}=require('node:fs'),{join,normalize}=require('node:path');
       createServer((q,s)=>{const f=join(process.argv[1],normalize(decodeURIComponent(q.url.split('?')[0])));
         if(!f.startsWith(process.argv[1])||!existsSync(f)){s.writeHead(404).end();return;}
         console.log('served '+q.url);s.writeHead(200,{'content-type':'application/gzip'});createReadStream(f).pipe(s);}).listen(${port},'127.0.0.1',()=>console.log('up'));`,
      dir,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('up')) resolve();
    });
    child.once('exit', (c) => reject(new Error(`binary host exited ${c}`)));
  });
  return {
    host: `http://127.0.0.1:${port}`,
    stop: () => child.kill(),
    served: () => [...out.matchAll(/^served (\S+)$/gm)].map((m) => m[1]!),
    tarball: `/v${version}/${name}`,
  };
};

const run = (cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = installEnv()) => {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
};

const kB = (n: number) => `${(n / 1024).toFixed(1)} kB`;

describe('the published packages, packed and installed outside the repository', () => {
  const work = mkdtempSync(join(tmpdir(), 'assent-pack-'));
  const app = join(work, 'app');
  let packed: Packed[] = [];
  let installSeconds = 0;

  let stopHost = () => {};
  before(async () => {
    const mirror = await serveBinary(join(work, 'binary-host'));
    binaryHost = mirror.host;
    stopHost = mirror.stop;
    for (const dist of ['core', 'banner', 'server', 'scanner', 'react'])
      assert.ok(
        existsSync(join(ROOT, 'packages', dist, 'dist')),
        `packages/${dist}/dist is missing: npm run build`,
      );
    const tarballs = join(work, 'tarballs');
    mkdirSync(tarballs);
    packed = JSON.parse(
      run(
        'npm',
        [
          'pack',
          '--json',
          '--ignore-scripts',
          '--pack-destination',
          tarballs,
          ...PACKAGES.flatMap((p) => ['-w', p]),
        ],
        ROOT,
      ),
    ) as Packed[];
    mkdirSync(app);
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({
        name: 'app',
        private: true,
        type: 'module',
        // npm 11 asks each dependency's install script to be approved (a warning for now).
        allowScripts: { 'better-sqlite3': true },
      }),
    );
    const started = performance.now();
    run(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        ...packed.map((p) => join(tarballs, p.filename)),
      ],
      app,
    );
    installSeconds = (performance.now() - started) / 1000;
    // better-sqlite3's install took the prebuilt addon (it did not fall back to compiling).
    // The host's log arrives on its pipe once this process's event loop runs again.
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(mirror.served(), [mirror.tarball], 'prebuild-install downloaded the addon');
    const lines = packed.map(
      (p) => `${p.name}: ${kB(p.size)} packed, ${kB(p.unpackedSize)} unpacked, ${p.files.length} files`,
    );
    console.log(`${lines.join('\n')}\nnpm install of the five tarballs: ${installSeconds.toFixed(1)} s`);
  });
  after(() => {
    stopHost();
    rmSync(work, { recursive: true, force: true });
  });

  it('each tarball holds its build and what it reads at run time, never its sources, tests or build info', () => {
    assert.deepEqual(packed.map((p) => p.name).sort(), [...PACKAGES].sort());
    const files = (name: string) => packed.find((p) => p.name === name)!.files.map((f) => f.path);
    for (const p of packed) {
      const bad = p.files.filter((f) => /^(src|test)\/|tsbuildinfo|^tsconfig/.test(f.path));
      assert.deepEqual(bad, [], `${p.name} ships ${bad.join(', ')}`);
    }
    // MIT asks for its notice in every copy: each package carries the repository's LICENSE.
    const licence = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    assert.match(licence, /^MIT License\n/);
    for (const p of packed) {
      assert.ok(files(p.name).includes('LICENSE'), `${p.name} ships no LICENSE`);
      const dir = join(ROOT, 'packages', p.name.replace('@assent/', ''));
      assert.equal(
        readFileSync(join(dir, 'LICENSE'), 'utf8'),
        licence,
        `${dir}/LICENSE differs from LICENSE`,
      );
      assert.equal(
        (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { license?: string }).license,
        'MIT',
      );
    }
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/i18n/index.js'])
      assert.ok(files('@assent/core').includes(f));
    for (const f of [
      'bin/assent-server.js',
      'dist/cli.js',
      'dist/store/sqlite-writer.mjs',
      'dist/store/sqlite-reader.mjs',
      'dist/assets/consent.js',
    ])
      assert.ok(files('@assent/server').includes(f), `@assent/server lacks ${f}`);
    for (const f of ['bin/assent-scan.js', 'dist/cli.js', 'data/pixels.json'])
      assert.ok(files('@assent/scanner').includes(f), `@assent/scanner lacks ${f}`);
    for (const f of ['dist/assent.min.js', 'dist/assent.d.ts', 'dist/sri.json'])
      assert.ok(files('@assent/banner').includes(f), `@assent/banner lacks ${f}`);
  });

  it('the packages depend on each other as installed from the tarballs, not on copies from the registry', () => {
    const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string; resolved?: string }>;
    };
    const assent = Object.entries(lock.packages).filter(([path]) => /node_modules\/@assent\//.test(path));
    assert.deepEqual(assent.map(([path]) => path).sort(), PACKAGES.map((p) => `node_modules/${p}`).sort());
    for (const [path, entry] of assent) assert.match(entry.resolved ?? '', /^file:/, path);
  });

  it('npx assent-server start on SQLite answers /healthz, stores a receipt and serves the banner and the consent page', async () => {
    const data = join(work, 'data');
    const config = join(work, 'assent-server.json');
    writeFileSync(
      config,
      JSON.stringify({ sites: { [ORIGIN]: { policy: 'v1', categories: [{ id: 'analytics' }] } } }),
    );
    const port = await freePort();
    const child: ChildProcess = spawn(
      'npx',
      ['assent-server', 'start', '--config', config, '--data-dir', data, '--port', String(port)],
      {
        cwd: app,
        env: { ...installEnv(), ASSENT_LOG_LEVEL: 'warn', ASSENT_ADMIN_TOKEN: 'pack-install-test-token' },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      },
    );
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const base = `http://127.0.0.1:${port}`;
    try {
      let health: Response | undefined;
      // npx and a first start are slow on a loaded machine: two minutes before giving up.
      for (const until = Date.now() + 120_000; !health && Date.now() < until; ) {
        assert.equal(child.exitCode, null, `assent-server exited: ${out}`);
        health = await fetch(`${base}/healthz`).catch(() => undefined);
        if (!health) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(health?.status, 200, out);

      // The writer thread (dist/store/sqlite-writer.mjs) signs and stores it.
      const policy = (await (await fetch(`${base}/v1/policy?site=${encodeURIComponent(ORIGIN)}`)).json()) as {
        sha256: string;
      };
      const receipt = await fetch(`${base}/v1/receipts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: ORIGIN },
        body: JSON.stringify({
          consentId: 'AAAAAAAAAAAAAAAAAAAAAA',
          policy: { version: 'v1', sha256: policy.sha256 },
          mode: 'opt-in',
          choices: { analytics: true },
          method: 'accept-all',
          source: 'banner',
          signals: { gpc: false },
          page: { origin: ORIGIN, path: '/' },
          lang: 'en',
        }),
      });
      assert.equal(receipt.status, 201, await receipt.clone().text());
      // The console's counts come from the reader thread (dist/store/sqlite-reader.mjs).
      const overview = await fetch(`${base}/v1/admin/overview?site=${encodeURIComponent(ORIGIN)}`, {
        headers: { authorization: 'Bearer pack-install-test-token' },
      });
      assert.equal(overview.status, 200, await overview.clone().text());
      assert.equal(((await overview.json()) as { consents: number }).consents, 1);
      // The banner comes from the installed @assent/banner, the page's script from dist/assets.
      const banner = await fetch(`${base}/v1/assent.js?site=${encodeURIComponent(ORIGIN)}`);
      assert.equal(banner.status, 200);
      assert.match(await banner.text(), /^self\.assentPolicy=/);
      const asset = await fetch(`${base}/consent/assets/consent.js`);
      assert.equal(asset.status, 200);
      assert.equal(
        await asset.text(),
        readFileSync(join(app, 'node_modules/@assent/server/dist/assets/consent.js'), 'utf8'),
      );
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM');
    }
  });

  it('npx assent-scan --help exits 0 with its usage', () => {
    const usage = run('npx', ['assent-scan', '--help'], app);
    assert.match(usage, /^Usage: assent-scan <url>/m);
  });

  it("the banner's files resolve and TypeScript accepts a file using its types and core's", () => {
    const require = createRequire(join(app, 'index.js'));
    const min = require.resolve('@assent/banner/dist/assent.min.js');
    assert.ok(min.startsWith(join(app, 'node_modules')), min);
    assert.ok(readFileSync(min, 'utf8').length > 1000);
    const sri = JSON.parse(readFileSync(require.resolve('@assent/banner/dist/sri.json'), 'utf8')) as {
      files: Record<string, string>;
    };
    assert.match(sri.files['assent.min.js'] ?? '', /^sha384-/);

    writeFileSync(
      join(app, 'check.ts'),
      [
        "import { init, type AssentApi } from '@assent/banner';",
        "import { parseShortcode } from '@assent/core';",
        "import type { ServerOptions } from '@assent/server';",
        "const api: AssentApi = init('categories=(analytics)');",
        'const granted: boolean = api.get().granted.analytics ?? false;',
        "const parsed = parseShortcode('categories=(analytics)');",
        'export const checked: [boolean, unknown, ServerOptions | null] = [granted, parsed, null];',
        // A wrong use must fail, or this check proves nothing.
        '// @ts-expect-error: init takes a config, not a number',
        'init(42);',
      ].join('\n'),
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          lib: ['es2022', 'dom'],
          types: [],
          skipLibCheck: true,
        },
        files: ['check.ts'],
      }),
    );
    run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', app], app);
  });

  it('@assent/react, @assent/core, @assent/server and @assent/scanner import in Node', () => {
    const script = [
      "const react = await import('@assent/react');",
      "const core = await import('@assent/core');",
      "const i18n = await import('@assent/core/i18n');",
      "const server = await import('@assent/server');",
      "const scanner = await import('@assent/scanner');",
      'console.log(JSON.stringify([typeof react.useConsent, typeof react.ConsentGate, typeof core.decide,',
      '  typeof i18n, typeof server.createServer, typeof scanner.scan]));',
    ].join('\n');
    const out = run(process.execPath, ['--input-type=module', '-e', script], app);
    assert.deepEqual(JSON.parse(out), ['function', 'function', 'function', 'object', 'function', 'function']);
  });
});
