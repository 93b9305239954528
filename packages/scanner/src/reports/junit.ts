import { REGISTRY } from '../rules/index.js';
import type { ScanReport } from '../types.js';

const x = (s: string) =>
  s
    .replace(
      /[&<>"']/g,
      (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!,
    )
    // biome-ignore lint/suspicious/noControlCharactersInRegex: XML 1.0 forbids these characters
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

/**
 * JUnit XML for CI systems: one test suite per page, one test case per rule of the registry.
 * A rule in `--fail-on` with violations fails (allowed findings do not); findings of rules
 * outside it are the case's output; a rule the page's visits could not test is `<skipped>`
 * with the reason; scanner errors are `<error>` cases.
 */
export const toJUnit = (r: ScanReport): string => {
  const suites: string[] = [];
  for (const p of r.pages) {
    const cases = REGISTRY.map(({ id: rule, title }) => {
      const hits = p.findings.filter((f) => f.rule === rule);
      const failing = hits.filter((f) => !f.allowed && r.failOn.includes(f.rule));
      let body = failing.length
        ? `<failure message="${x(`${failing.length} violation(s)`)}" type="${rule}">${x(failing.map((f) => `[${f.phase}] ${f.message}`).join('\n'))}</failure>`
        : '';
      // A rule the visits could not test is skipped, not passed (CI shows it as such).
      const skipped = p.unchecked?.find((u) => u.rule === rule);
      if (!failing.length && skipped) body = `<skipped message="${x(`not checked: ${skipped.reason}`)}"/>`;
      const other = hits.filter((f) => !failing.includes(f));
      const out = other.length
        ? `<system-out>${x(other.map((f) => (f.allowed ? `allowed: ${f.message} (${f.allowed.reason})` : `not failing (--fail-on): ${f.message}`)).join('\n'))}</system-out>`
        : '';
      return `    <testcase classname="${x(p.url)}" name="${rule}" file="${x(title)}">${body}${out}</testcase>`;
    });
    const failures = cases.filter((c) => c.includes('<failure')).length;
    const skipped = cases.filter((c) => c.includes('<skipped')).length;
    suites.push(
      `  <testsuite name="${x(p.url)}" tests="${REGISTRY.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${(p.durationMs / 1000).toFixed(3)}">\n${cases.join('\n')}\n  </testsuite>`,
    );
  }
  if (r.errors.length) {
    const cases = r.errors.map(
      (e) =>
        `    <testcase classname="${x(e.url)}" name="scan"><error type="${e.code}" message="${x(e.message)}"/></testcase>`,
    );
    suites.push(
      `  <testsuite name="scanner errors" tests="${cases.length}" failures="0" errors="${cases.length}">\n${cases.join('\n')}\n  </testsuite>`,
    );
  }
  const failures = r.pages.reduce(
    (n, p) =>
      n + new Set(p.findings.filter((f) => !f.allowed && r.failOn.includes(f.rule)).map((f) => f.rule)).size,
    0,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="assent-scan" tests="${r.pages.length * REGISTRY.length + r.errors.length}" failures="${failures}" errors="${r.errors.length}" time="${(r.durationMs / 1000).toFixed(3)}">\n${suites.join('\n')}\n</testsuites>\n`;
};
