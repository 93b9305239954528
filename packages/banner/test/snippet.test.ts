import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

// `npm run -w @assent/banner snippet` is `node snippet.mjs`: spawned here as the script runs,
// without a browser (test/sri.test.ts loads the printed tag in Chromium).
const SNIPPET = join(import.meta.dirname, '../snippet.mjs');
const snippet = (args: string[], script = SNIPPET) => {
  const r = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

/** One line, `snippet: …`, exit 2: never a parseArgs stack trace. */
const refused = (args: string[], message: RegExp, script = SNIPPET) => {
  const r = snippet(args, script);
  assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^snippet: [^\n]+\n$/, `one line: ${r.stderr}`);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /\bat |TypeError|ERR_PARSE_ARGS/);
};

describe('the CDN snippet script (npm run -w @assent/banner snippet)', () => {
  it('prints the pinned tag from dist/sri.json, lite by default and full with --full', () => {
    const sri = JSON.parse(readFileSync(join(import.meta.dirname, '../dist/sri.json'), 'utf8')) as {
      version: string;
      files: Record<string, string>;
    };
    const lite = snippet([]);
    assert.equal(lite.code, 0, lite.stderr);
    assert.equal(
      lite.stdout,
      `<script src="https://cdn.jsdelivr.net/npm/@assent/banner@${sri.version}/dist/assent.min.js" integrity="${sri.files['assent.min.js']}" data-prefs="${sri.files['assent.prefs.min.js']}" crossorigin="anonymous" data-assent="buttons=(Accept !) days=(20)" defer></script>\n`,
    );
    const full = snippet(['--full', '--base', 'https://cdn.example/assent/']);
    assert.equal(full.code, 0, full.stderr);
    assert.match(full.stdout, /^<script src="https:\/\/cdn\.example\/assent\/assent\.full\.min\.js" /);
    assert.ok(full.stdout.includes(`integrity="${sri.files['assent.full.min.js']}"`));
  });

  it('an unknown option, a missing value or a stray argument exits 2 with one line naming it', () => {
    refused(['--bogus'], /^snippet: Unknown option '--bogus' \(the options: --full, --base /);
    refused(['--base'], /^snippet: Option '--base <value>' argument missing/);
    refused(['cdn.example'], /^snippet: Unexpected argument 'cdn\.example'/);
    refused(['--full=yes'], /--full/);
  });

  it('a --base that is not an https:// directory URL exits 2, as before', () => {
    refused(['--base', 'http://cdn.example/'], /^snippet: --base must be an https:\/\/ URL ending in \//);
    refused(['--base=https://cdn.example/assent.min.js'], /--base must be an https:\/\/ URL/);
  });

  it('without a build (no dist/sri.json) it says to build first', () => {
    const dir = mkdtempSync(join(tmpdir(), 'assent-snippet-'));
    try {
      copyFileSync(SNIPPET, join(dir, 'snippet.mjs'));
      refused(
        [],
        /^snippet: cannot read dist\/sri\.json \(ENOENT\): build the banner first/,
        join(dir, 'snippet.mjs'),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
