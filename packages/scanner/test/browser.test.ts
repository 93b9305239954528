import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { HEADLESS_SHELL, launch, mergeFeatureFlags, scanExecutable } from '../src/browser.js';

/** The command line of the Chromium this process launched (Linux: read from /proc). */
const browserCommandLine = (): string[] => {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {}
  }
  const mine = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p))
      if (p === process.pid) return true;
    return false;
  };
  for (const [pid] of parent) {
    if (!mine(pid)) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (args.includes('--remote-debugging-pipe') && !args.some((a) => a.startsWith('--type='))) return args;
  }
  throw new Error('no Chromium browser process under this test');
};

const values = (args: string[], flag: string): string[][] =>
  args.filter((a) => a.startsWith(flag)).map((a) => a.slice(flag.length).split(','));

describe('the project’s Chromium', () => {
  let browser: Browser;
  before(async () => {
    browser = await launch(null, [
      '--disable-features=BackForwardCache',
      '--enable-features=NetworkServiceInProcess',
    ]);
  });
  after(async () => {
    await browser?.close();
  });

  // Chromium keeps only the last --disable-features (and --enable-features) of its command
  // line: ours must hold Playwright's own list, and an owner's chromiumArgs add to both.
  it('keeps Playwright’s feature flags and the owner’s in the flag Chromium reads', () => {
    const args = browserCommandLine();
    for (const flag of ['--disable-features=', '--enable-features=']) {
      const all = values(args, flag);
      assert.ok(all.length >= 2, `Playwright's ${flag} and ours are both on the command line`);
      const playwrights = all[0]!;
      const effective = all.at(-1)!;
      for (const f of playwrights.filter(Boolean)) assert.ok(effective.includes(f), `${flag}: ${f} is kept`);
    }
    const disabled = values(args, '--disable-features=').at(-1)!;
    assert.ok(disabled.includes('BackForwardCache'), 'the owner’s --disable-features is merged in');
    assert.ok(disabled.includes('WebUIOmniboxAimPopup'), 'the project’s own list is kept');
    assert.ok(values(args, '--enable-features=').at(-1)!.includes('NetworkServiceInProcess'));
  });

  it('builds no hidden browser UI for a context (each cost ~1.5 s of CPU)', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto('data:text/html,<p>hello</p>');
    const cdp = await browser.newBrowserCDPSession();
    const { targetInfos } = (await cdp.send('Target.getTargets', { filter: [{}] } as never)) as {
      targetInfos: { type: string; url: string }[];
    };
    await cdp.detach();
    await context.close();
    assert.ok(
      targetInfos.some((t) => t.type === 'page' && t.url.startsWith('data:')),
      'the page itself is listed',
    );
    assert.deepEqual(
      targetInfos.filter((t) => t.type === 'browser_ui').map((t) => t.url),
      [],
      'no browser_ui target (chrome:// pages a headless browser never shows)',
    );
  });
});

describe('mergeFeatureFlags', () => {
  it('merges every --disable-features and --enable-features into one each, in order, once', () => {
    assert.deepEqual(
      mergeFeatureFlags([
        '--a',
        '--disable-features=X,Y',
        '--enable-features=E',
        '--b=1',
        '--disable-features=Y,Z',
        '--disable-features=',
      ]),
      ['--a', '--b=1', '--disable-features=X,Y,Z', '--enable-features=E'],
    );
    assert.deepEqual(mergeFeatureFlags(['--a']), ['--a']);
  });
});

describe('scanExecutable', () => {
  it('is ASSENT_CHROMIUM when set, else the headless shell when installed, else Chromium', () => {
    const yes = () => true;
    const no = () => false;
    assert.equal(scanExecutable({ ASSENT_CHROMIUM: '/opt/chrome' }, yes), '/opt/chrome');
    assert.equal(scanExecutable({}, yes), HEADLESS_SHELL);
    assert.equal(scanExecutable({}, no), '/usr/bin/chromium');
  });
});
