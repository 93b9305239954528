import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ScanReport, scan } from '../src/index.js';

// The demo news site (demo/, `npm start`) must come out clean. Loaded by a variable specifier
// so the scanner's type-check does not pull the demo's sources into its own project.
interface Demo {
  readonly url: string;
  readonly server: { close(): Promise<unknown> };
}
const DEMO_SERVER = '../../../demo/src/server.js';

describe('scanning the demo news site', () => {
  let demo: Demo;
  let report: ScanReport;
  before(async () => {
    process.env.ASSENT_DEMO_DATA = mkdtempSync(join(tmpdir(), 'assent-demo-'));
    const { startDemo } = (await import(DEMO_SERVER)) as {
      startDemo(o: { port: number; host: string; quiet: boolean }): Promise<Demo>;
    };
    demo = await startDemo({ port: 0, host: '127.0.0.1', quiet: true });
    ({ report } = await scan([demo.url], { pages: 3 }));
  });
  after(() => demo?.server.close());

  it('finds no violation on the home page and the first articles it links to', () => {
    assert.deepEqual(report.errors, []);
    assert.equal(report.pages.length, 3);
    assert.deepEqual(
      report.pages.flatMap((p) => p.findings),
      [],
    );
    assert.equal(report.summary.exitCode, 0);
  });

  it('sees Assent on every page, with reject on the first layer, and the choices stick', () => {
    for (const p of report.pages) {
      assert.deepEqual(p.banner, {
        kind: 'assent',
        cmp: 'Assent',
        rejectOnFirstLayer: true,
        acceptOnFirstLayer: true,
      });
      assert.equal(p.phases.reject.choice?.effective, true);
      assert.equal(p.phases.accept.choice?.effective, true);
      assert.deepEqual(p.phases.before.cookies, []);
      assert.deepEqual(
        p.phases.reject.cookies.map((c) => [c.name, c.classification.kind]),
        [['assent', 'consent']],
      );
    }
  });

  it('on the GPC visit (opt-in here) the banner says it saw the signal, and its receipt records it', () => {
    for (const p of report.pages) {
      assert.equal(p.mode, 'opt-in');
      assert.match(p.phases.gpc.gpc?.displayed ?? '', /Global Privacy Control/);
      assert.equal(p.phases.gpc.gpc?.recorded?.gpc, true, p.url);
    }
  });

  it('sees the held analytics and ad stand-ins run only after accept', () => {
    const home = report.pages[0]!;
    const names = home.phases.accept.cookies.map((c) => c.name);
    assert.ok(names.includes('_demo_stats') && names.includes('_demo_ads'), names.join(', '));
  });

  it("?region=JP (notice mode): what runs after the notice is acknowledged is granted, as core's decide() grants it", async () => {
    const jp = (await scan([`${demo.url}?region=JP`])).report;
    assert.deepEqual(jp.errors, []);
    assert.equal(jp.pages[0]?.mode, 'notice');
    assert.deepEqual(
      jp.pages.flatMap((p) => p.findings),
      [],
    );
  });
});
