import { ruleById } from '../rules/index.js';
import type { Finding, PageResult, RuleId, ScanReport } from '../types.js';
import { findingLabel } from './verdict.js';

const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

const bannerLine = (p: PageResult): string => {
  const b = p.banner;
  if (b.kind === 'none') return 'no banner found';
  const reject =
    b.rejectOnFirstLayer === null
      ? 'reject: not known'
      : b.rejectOnFirstLayer
        ? 'reject on first layer'
        : 'no reject on first layer';
  return `${b.cmp} (${b.kind}), ${reject}`;
};

const findingRow = (f: Finding, failOn: readonly RuleId[]) =>
  `| ${((l) => (l === 'allowed' ? l : `**${l}**`))(findingLabel(f, failOn))} | \`${f.rule}\` | ${f.phase} | ${esc(f.message)}${f.allowed ? ` — *${esc(f.allowed.reason)}*` : ''} |`;

/** A summary for CI logs and pull-request comments: verdict, one table per page. */
export const toMarkdown = (r: ScanReport): string => {
  const s = r.summary;
  const verdict =
    s.exitCode === 0 ? 'clean' : s.exitCode === 1 ? `FAIL, ${s.violations} violation(s)` : 'scanner error(s)';
  const out = [
    `# Assent scan: ${verdict}`,
    '',
    `${s.pages} page(s), ${s.violations} violation(s), ${s.allowed} allowed, ${s.errors} error(s) · ${r.tool.browser} · tracker database ${r.tool.trackerDb.enabled ? 'on' : 'off'} · ${(r.durationMs / 1000).toFixed(1)} s`,
    '',
  ];
  // Plain words, no emoji: a CI log or a printed report may have no emoji font.
  for (const e of r.errors) out.push(`- **error (${e.code})** ${esc(e.message)}`);
  if (r.errors.length) out.push('');
  for (const d of r.redirects ?? [])
    out.push(
      `${d.url} redirected to ${d.origin}: the crawl went on from there (its links and its sitemap).`,
      '',
    );
  for (const p of r.pages) {
    const ph = p.phases;
    out.push(`## ${p.title ? `${esc(p.title)} — ` : ''}${p.url}`, '');
    out.push(`Banner: ${bannerLine(p)}. Rules applied: ${p.mode}.`, '');
    // An accept that was not made or did not take: the after-accept phase is a visitor who
    // never accepted, and what needs an accept could not be checked (said here, not passed).
    const noAccept =
      p.banner.kind !== 'none' ? p.unchecked?.find((u) => u.rule === 'accept-ineffective') : undefined;
    if (noAccept)
      out.push(
        `**No accept took effect** (${esc(noAccept.reason)}): the after-accept phase is a visitor who never accepted, so \`accept-ineffective\`, keylogging after accept and the cookie declaration (\`--declaration\`) are not checked on this page.`,
        '',
      );
    const g = ph.gpc.gpc;
    if (g)
      out.push(
        `GPC visit: header ${g.headerSent ? 'sent' : 'not sent'}, navigator.globalPrivacyControl ${g.navigatorFlag}; shown: ${g.displayed ? `"${esc(g.displayed)}"` : 'nothing'}${g.recorded === undefined ? '' : `; recorded in the receipt: ${g.recorded === null ? 'no receipt seen' : g.recorded.gpc ? 'yes' : 'no'}`}.`,
        '',
      );
    out.push('| phase | cookies | storage keys | third-party requests |', '|---|---|---|---|');
    for (const x of [ph.before, ph.reject, ph.accept, ph.gpc]) {
      out.push(`| ${x.name} | ${x.cookies.length} | ${x.storage.length} | ${x.thirdPartyRequests.length} |`);
    }
    out.push('');
    const detected = [ph.before, ph.reject, ph.accept, ph.gpc].flatMap((x) =>
      (x.detections ?? []).map(
        (d) =>
          `- ${x.name}: **${d.detector}** ${esc(d.name)} — ${esc(d.detail)}${d.script ? ` (script ${esc(d.script)})` : ''}`,
      ),
    );
    if (detected.length) out.push('Detected:', '', ...[...new Set(detected)], '');
    if (p.unchecked?.length)
      out.push(
        'Not checked (the visits could not show it; not a pass):',
        '',
        ...p.unchecked.map((u) => `- \`${u.rule}\` — ${esc(u.reason)}`),
        '',
      );
    if (!p.findings.length) {
      out.push('No findings.', '');
      continue;
    }
    out.push(
      '| | rule | phase | finding |',
      '|---|---|---|---|',
      ...p.findings.map((f) => findingRow(f, r.failOn)),
      '',
    );
  }
  const rules = new Set(r.pages.flatMap((p) => p.findings.map((f) => f.rule)));
  if (rules.size) {
    out.push('### Rules', '');
    for (const id of rules) {
      const rule = ruleById(id);
      out.push(`- \`${id}\` (${rule.severity}) — **${rule.title}.** ${rule.why}`);
    }
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
};
