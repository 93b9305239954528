import { ruleById } from '../rules/index.js';
import type { Classification, PageResult, PhaseRecord, RuleId, ScanReport } from '../types.js';
import { findingLabel } from './verdict.js';

const h = (s: string | number | null | undefined) =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

const PHASE_TITLE = {
  before: '1. First visit, before any choice',
  reject: '2. After clicking “Reject”',
  accept: '3. After clicking “Accept”',
  gpc: '4. First visit with Global Privacy Control (Sec-GPC: 1)',
} as const;

const KIND_WORDS: Record<Classification['kind'], string> = {
  tracker: 'tracker — needs consent',
  functional: 'functional third party',
  'unknown-third-party': 'unknown third party — treated as needing consent',
  'first-party': 'the site’s own',
  consent: 'the consent record',
  allowed: 'declared essential by the site',
};

const who = (c: Classification) =>
  c.tracker
    ? `${h(c.tracker.name)}${c.tracker.organization ? ` (${h(c.tracker.organization)})` : ''}, ${h(c.tracker.category.replace(/_/g, ' '))}`
    : h(c.site);

const flag = (c: Classification) =>
  c.kind === 'tracker' || c.kind === 'unknown-third-party' ? ' class="bad"' : '';

/** A script's stack under who wrote it: every frame, innermost first, readable on paper too. */
const stackOf = (stack: readonly string[] | undefined) =>
  stack && stack.length > 1
    ? `<br><small class="stack">stack: ${stack.map((f) => `<code class="url">${h(f)}</code>`).join(' ← ')}</small>`
    : stack?.length === 1
      ? `<br><small class="stack">at <code class="url">${h(stack[0])}</code></small>`
      : '';

const table = (head: string[], rows: string[][], empty: string) =>
  rows.length
    ? `<table><thead><tr>${head.map((x) => `<th>${x}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.join('')}</tr>`).join('')}</tbody></table>`
    : `<p class="none">${empty}</p>`;

const phaseSection = (p: PhaseRecord, images: ReadonlyMap<string, Buffer>) => {
  const shot = p.screenshot?.file ? images.get(p.screenshot.file) : undefined;
  const choice = p.choice
    ? `<p>Choice: ${p.choice.clicked ? `clicked through ${h(p.choice.method)}` : 'nothing could be clicked'}${p.choice.effective === false ? ' — <strong class="bad">it did not work</strong>' : ''}${p.choice.note ? ` (${h(p.choice.note)})` : ''}.</p>`
    : '';
  const cookies = table(
    ['Cookie', 'Domain', 'Party', 'What it is', 'Lifetime', 'Set by'],
    p.cookies.map((c) => [
      `<td${flag(c.classification)}><code>${h(c.name)}</code></td>`,
      `<td>${h(c.domain)}</td>`,
      `<td>${c.classification.party}</td>`,
      `<td>${who(c.classification)}<br><small>${KIND_WORDS[c.classification.kind]}</small></td>`,
      `<td>${c.lifetimeDays === null ? 'session' : `${Math.round(c.lifetimeDays)} days`}${c.requestedLifetimeDays && c.requestedLifetimeDays > (c.lifetimeDays ?? 0) + 1 ? ` (asked ${Math.round(c.requestedLifetimeDays)})` : ''}</td>`,
      `<td>${c.setBy ? `${c.setBy.via}: <code>${h(c.setBy.url)}</code>${stackOf(c.setBy.stack)}` : 'unknown'}</td>`,
    ]),
    'No cookies.',
  );
  const storage = table(
    ['Key', 'Where', 'What it is', 'Written by'],
    p.storage.map((s) => [
      `<td${flag(s.classification)}><code>${h(s.key)}</code></td>`,
      `<td>${s.area}<br><small>${h(s.origin)}</small></td>`,
      `<td>${who(s.classification)}<br><small>${KIND_WORDS[s.classification.kind]}</small></td>`,
      `<td>${s.setBy ? `<code>${h(s.setBy.url)}</code>${stackOf(s.setBy.stack)}` : 'unknown'}</td>`,
    ]),
    'Nothing stored in localStorage, sessionStorage or IndexedDB.',
  );
  const requests = table(
    ['Request to a third party', 'Type', 'Who', 'Started by', p.name === 'before' ? '' : 'After the click'],
    p.thirdPartyRequests.map((q) => [
      `<td${flag(q.classification)}><code class="url">${h(q.url)}</code></td>`,
      `<td>${h(q.type)}</td>`,
      `<td>${who(q.classification)}<br><small>${KIND_WORDS[q.classification.kind]}</small></td>`,
      `<td>${q.initiator ? `${h(q.initiator.type)}${q.initiator.url ? `: <code class="url">${h(q.initiator.url)}</code>` : ''}` : ''}</td>`,
      `<td>${p.name === 'before' ? '' : q.afterChoice ? 'yes' : 'no'}</td>`,
    ]),
    `No requests to third parties (${p.firstPartyRequestCount} to the site itself).`,
  );
  const extra = [
    p.secondPage
      ? `<p>Next page of the site after the choice: <code class="url">${h(p.secondPage.url)}</code> — the banner ${p.secondPage.bannerShown ? '<strong class="bad">came back</strong>' : 'stayed away'}.</p>`
      : '',
    p.heldAfterChoice?.length
      ? `<p class="bad">Still held after accepting all: ${p.heldAfterChoice.map((x) => `<code>${h(x)}</code>`).join(', ')}.</p>`
      : '',
    p.gpc
      ? `<p>Global Privacy Control: header ${p.gpc.headerSent ? 'sent' : 'not sent'}, <code>navigator.globalPrivacyControl</code> ${p.gpc.navigatorFlag ? 'true' : 'false'}; the page ${p.gpc.displayed ? `says “${h(p.gpc.displayed)}”` : 'shows no text about it'}${p.gpc.recorded !== undefined ? `; ${p.gpc.recorded === null ? 'no receipt was posted after a reject on this visit' : p.gpc.recorded.gpc ? `the receipt of a reject on this visit records it (<code>signals.gpc: true</code>, <code class="url">${h(p.gpc.recorded.receipt)}</code>)` : `<strong class="bad">the receipt of a reject on this visit leaves it out</strong> (<code class="url">${h(p.gpc.recorded.receipt)}</code>)`}` : ''}.</p>`
      : '',
  ].join('');
  const detections = table(
    ['Detector', 'What', 'Script', 'Details'],
    (p.detections ?? []).map((d) => [
      `<td>${h(d.detector)}</td>`,
      `<td>${h(d.name)}</td>`,
      `<td>${d.script ? `<code class="url">${h(d.script)}</code>${stackOf(d.stack)}` : 'unknown'}</td>`,
      `<td>${h(d.detail)}${d.url ? `<br><code class="url">${h(d.url)}</code>` : ''}</td>`,
    ]),
    'Nothing detected (pixels, session replay, keylogging, fingerprinting, personal data in URLs).',
  );
  return `<section class="phase"><h3>${PHASE_TITLE[p.name]}</h3>${choice}${extra}
${shot ? `<figure><img alt="The page in this phase" src="data:image/jpeg;base64,${shot.toString('base64')}"><figcaption>Screenshot, SHA-256 <code>${h(p.screenshot!.sha256)}</code></figcaption></figure>` : ''}
<h4>Cookies</h4>${cookies}<h4>Storage</h4>${storage}<h4>Requests to third parties</h4>${requests}<h4>Detected</h4>${detections}</section>`;
};

const pageSection = (p: PageResult, images: ReadonlyMap<string, Buffer>, failOn: readonly RuleId[]) => {
  const b = p.banner;
  const banner =
    b.kind === 'none'
      ? '<strong class="bad">No consent banner was found.</strong>'
      : `${h(b.cmp)}${b.rejectOnFirstLayer === false ? ' — <strong class="bad">no reject option on the first layer</strong>' : b.rejectOnFirstLayer ? ' — reject and accept on the first layer' : ''}`;
  const findings = table(
    ['', 'Problem', 'When', 'Details', 'Why it matters'],
    p.findings.map((f) => [
      // Words, not emoji: readable without an emoji font and on paper.
      `<td>${((l) => (l === 'allowed' ? l : l === 'FAIL' ? '<strong class="bad">FAIL</strong>' : '<strong>WARN</strong>'))(findingLabel(f, failOn))}</td>`,
      `<td>${h(ruleById(f.rule).title)}<br><small><code>${f.rule}</code> · ${ruleById(f.rule).severity}</small></td>`,
      `<td>${f.phase}</td>`,
      `<td>${h(f.message)}${f.allowed ? `<br><em>Allowed by the site’s configuration: ${h(f.allowed.reason)}</em>` : ''}</td>`,
      `<td><small>${h(ruleById(f.rule).why)}</small></td>`,
    ]),
    'No problems found on this page.',
  );
  return `<article><h2>${h(p.title || p.url)}</h2><p><a href="${h(p.url)}">${h(p.url)}</a> · banner: ${banner} · rules applied: ${h(p.mode)}</p>
<h3>Findings</h3>${findings}${
    p.unchecked?.length
      ? `<h3>Not checked</h3><p>The visits could not show whether these hold: they are not passed.</p><ul>${p.unchecked
          .map(
            (u) =>
              `<li>${h(ruleById(u.rule).title)} <small><code>${u.rule}</code></small>: ${h(u.reason)}</li>`,
          )
          .join('')}</ul>`
      : ''
  }
${[p.phases.before, p.phases.reject, p.phases.accept, p.phases.gpc].map((x) => phaseSection(x, images)).join('\n')}</article>`;
};

/**
 * The report for a lawyer or a DPO: one self-contained file (screenshots inlined), plain
 * words, the legal reason beside each problem, and per-phase evidence tables.
 */
export const toHtml = (r: ScanReport, images: ReadonlyMap<string, Buffer> = new Map()): string => {
  const s = r.summary;
  const verdict =
    s.exitCode === 0
      ? 'No problems found'
      : s.exitCode === 1
        ? `${s.violations} problem(s) found`
        : 'The scan could not complete';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Consent audit: ${h(verdict)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
h1{margin-bottom:.2rem}table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}.bad{color:#a40000}.none{color:#555;font-style:italic}code{font-size:.85em}.url{word-break:break-all}
figure{margin:.5rem 0}img{max-width:100%;border:1px solid #999}article{border-top:3px solid #333;margin-top:2rem}
.meta{color:#444}.phase{margin-left:1rem}
@media print{body{max-width:none;margin:0;font-size:11px}article,section.phase,figure{break-inside:avoid-page}a{color:inherit}}
</style></head><body>
<h1>Consent audit: ${h(verdict)}</h1>
<p class="meta">${s.pages} page(s) visited four times each in a fresh ${h(r.tool.browser)}: before any choice, after rejecting, after accepting, and with Global Privacy Control. Scanned ${h(r.startedAt)} by ${h(r.tool.name)} ${h(r.tool.version)}. ${s.violations} problem(s), ${s.allowed} allowed by configuration, ${s.errors} error(s).</p>
<p class="meta">How to read this: a <em>first party</em> is the site itself (same registrable domain); a <em>third party</em> is anyone else. Trackers are named from ${r.tool.trackerDb.enabled ? 'the Ghostery Tracker Database (WhoTracks.me, CC-BY-NC-SA-4.0)' : 'no tracker database (not installed), so every third party is “unknown”'}. Cookie values are never recorded.</p>
${r.errors.map((e) => `<p class="bad">Error (${h(e.code)}): ${h(e.message)}</p>`).join('\n')}
${(r.redirects ?? []).map((d) => `<p>${h(d.url)} redirected to ${h(d.origin)}: the crawl went on from there (its links and its sitemap).</p>`).join('\n')}
${r.pages.map((p) => pageSection(p, images, r.failOn)).join('\n')}
</body></html>
`;
};
