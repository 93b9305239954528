/**
 * The release flow's configuration: Changesets reads .changeset/ without complaint and
 * `changeset version` (what `npm run version-packages` runs) moves every published package to
 * one new version and writes the pending changesets into each package's CHANGELOG.md. Run on a
 * copy of the workspace's package.json files, so nothing in the checkout changes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';

const ROOT = join(import.meta.dirname, '..');
const CHANGESET = join(ROOT, 'node_modules/@changesets/cli/bin.js');
const PUBLISHED = ['banner', 'core', 'react', 'scanner', 'server'];

const changeset = (cwd: string, ...args: string[]) =>
  spawnSync(process.execPath, [CHANGESET, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, CI: '1' },
  });

describe('versions and changelogs (Changesets)', () => {
  const copy = mkdtempSync(join(tmpdir(), 'assent-changesets-'));
  after(() => rmSync(copy, { recursive: true, force: true }));
  for (const f of [
    'package.json',
    'demo/package.json',
    ...PUBLISHED.map((p) => `packages/${p}/package.json`),
  ]) {
    mkdirSync(dirname(join(copy, f)), { recursive: true });
    cpSync(join(ROOT, f), join(copy, f));
  }
  cpSync(join(ROOT, '.changeset'), join(copy, '.changeset'), { recursive: true });
  // `changeset status` compares with the base branch: a repository with one commit on `main`.
  const git = (...args: string[]) => spawnSync('git', args, { cwd: copy, encoding: 'utf8' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('-c', 'user.name=test', '-c', 'user.email=test@example.invalid', 'commit', '-qm', 'copy');

  const pending = readdirSync(join(ROOT, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md');

  it('the config is valid and every pending changeset names only published packages', () => {
    const r = changeset(copy, 'status', '--output', 'status.json');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const plan = JSON.parse(readFileSync(join(copy, 'status.json'), 'utf8')) as {
      releases: { name: string; newVersion: string }[];
    };
    const names = PUBLISHED.map((p) => `@assent/${p}`);
    // Only the private demo (it depends on them) besides the published packages.
    assert.deepEqual(
      plan.releases.map((r) => r.name).filter((n) => !names.includes(n) && n !== '@assent/demo'),
      [],
    );
    if (pending.length) {
      // Fixed versioning: a change to one package releases all five, at one version.
      const published = plan.releases.filter((r) => names.includes(r.name));
      assert.deepEqual(published.map((r) => r.name).sort(), names.sort());
      assert.equal(new Set(published.map((r) => r.newVersion)).size, 1);
    }
  });

  it('version-packages gives every package one version and a CHANGELOG.md entry per pending changeset', () => {
    const r = changeset(copy, 'version');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const manifest = (p: string) =>
      JSON.parse(readFileSync(join(copy, 'packages', p, 'package.json'), 'utf8')) as {
        version: string;
        dependencies?: Record<string, string>;
      };
    const versions = new Set(PUBLISHED.map((p) => manifest(p).version));
    assert.equal(versions.size, 1, [...versions].join(', '));
    const [version] = versions;
    // The packages' dependencies on each other move with them.
    assert.equal(manifest('server').dependencies?.['@assent/core'], version);
    for (const p of pending.length ? PUBLISHED : []) {
      const log = join(copy, 'packages', p, 'CHANGELOG.md');
      assert.ok(existsSync(log), `packages/${p}/CHANGELOG.md`);
      assert.match(readFileSync(log, 'utf8'), new RegExp(`^## ${version!.replaceAll('.', '\\.')}$`, 'm'));
    }
  });
});
