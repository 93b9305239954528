import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parseScanConfig, RULES, type ScanConfig } from './config.js';
import { FILE_NAMES, FORMATS, type Format, render, writeReports } from './reports/index.js';
import { type ProgressEvent, scan, VERSION, validUrl } from './scan.js';
import type { RuleId } from './types.js';

const USAGE = `assent-scan ${VERSION}: audit a site's consent in headless Chromium

Usage: assent-scan <url> [more urls] [options]

  --pages N           scan up to N pages per URL: sitemap.xml, then same-origin links (default 1)
  --config FILE       JSON config: allow-list with reasons, selectors, essential hosts…
  --format LIST       json, md, html, junit (comma-separated or repeated).
                      Default: all of them with --out, md on stdout without.
  --out DIR           write the reports and screenshots into DIR
  --fail-on LIST      rules that fail the scan: all (default), none, or rule ids
  --concurrency N     pages scanned at once (default 1; each runs three browser contexts)
  --no-trackerdb      do not use the Ghostery tracker database even when installed
  --progress          print a line per page and phase (default when stderr is a terminal)
  --quiet             no progress lines
  -h, --help          this help
  -v, --version       the version

Exit codes: 0 clean, 1 violations, 2 scanner error (bad URL, site down, bad config).
Rules: ${RULES.join(', ')}
Chromium: /usr/bin/chromium (install it with scripts/install-chromium.sh).`;

class UsageError extends Error {}

const list = (values: string[] | undefined) =>
  (values ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);

const positiveInt = (name: string, v: string | undefined, dflt: number): number => {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < 1)
    throw new UsageError(`--${name} must be a whole number of at least 1, got ${JSON.stringify(v)}`);
  return Number(v);
};

const readConfig = async (file: string | undefined): Promise<Partial<ScanConfig>> => {
  if (!file) return {};
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UsageError(`cannot read the config file ${file}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  const { config, errors } = parseScanConfig(json);
  if (errors.length) throw new UsageError(`${file}:\n  ${errors.join('\n  ')}`);
  return config;
};

const progressLine = (e: ProgressEvent): string => {
  if (e.type === 'phase') return `[${e.page}] ${e.phase.padEnd(6)} ${e.url} (${(e.ms / 1000).toFixed(1)} s)`;
  if (e.type === 'page')
    return `[${e.page}] ${e.violations ? '✗' : '✓'} ${e.url}: ${e.violations} violation(s) (${(e.ms / 1000).toFixed(1)} s)`;
  return `error: ${e.message}`;
};

/**
 * Runs the CLI and returns its exit code: 0 clean, 1 violations, 2 scanner error. Never
 * throws and never prints a stack trace (set ASSENT_DEBUG=1 to see one).
 */
export const main = async (
  argv: readonly string[],
  io = { out: process.stdout, err: process.stderr },
): Promise<number> => {
  try {
    let args: ReturnType<typeof parse>;
    try {
      args = parse(argv);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const o = args.values;
    if (o.help) {
      io.out.write(`${USAGE}\n`);
      return 0;
    }
    if (o.version) {
      io.out.write(`${VERSION}\n`);
      return 0;
    }
    const urls = args.positionals;
    if (!urls.length) throw new UsageError('give at least one URL to scan (see --help)');
    const bad = urls.filter((u) => !validUrl(u));
    if (bad.length) throw new UsageError(`not an http(s) URL: ${bad.join(', ')}`);
    const formats = list(o.format);
    for (const f of formats)
      if (!FORMATS.includes(f as Format))
        throw new UsageError(`unknown --format ${f} (use ${FORMATS.join(', ')})`);
    const chosen = (formats.length ? formats : o.out ? FORMATS : ['md']) as Format[];
    const failOnList = list(o['fail-on']);
    let failOn: readonly RuleId[] = RULES;
    if (failOnList.includes('none')) failOn = [];
    else if (failOnList.length && !failOnList.includes('all')) {
      const unknown = failOnList.filter((r) => !RULES.includes(r as RuleId));
      if (unknown.length)
        throw new UsageError(`unknown rule in --fail-on: ${unknown.join(', ')} (known: ${RULES.join(', ')})`);
      failOn = failOnList as RuleId[];
    }
    const config = await readConfig(o.config);
    const showProgress = !o.quiet && (o.progress || io.err.isTTY === true);

    const result = await scan(urls, {
      ...config,
      pages: positiveInt('pages', o.pages, 1),
      concurrency: positiveInt('concurrency', o.concurrency, 1),
      failOn,
      trackerDb: !o['no-trackerdb'],
      ...(showProgress ? { onProgress: (e: ProgressEvent) => io.err.write(`${progressLine(e)}\n`) } : {}),
    });
    const { report } = result;
    if (o.out) {
      const files = await writeReports(result, o.out, chosen);
      io.err.write(`reports: ${files.join(', ')}\n`);
    } else {
      for (const f of chosen) io.out.write(render(f, result).replace(/\n?$/, '\n'));
    }
    for (const e of report.errors) io.err.write(`assent-scan: ${e.message}\n`);
    const s = report.summary;
    if (!o.quiet) {
      io.err.write(
        s.exitCode === 2
          ? `assent-scan: ${s.errors} error(s); exit 2\n`
          : `assent-scan: ${s.pages} page(s), ${s.violations} violation(s), ${s.allowed} allowed; exit ${s.exitCode}\n`,
      );
    }
    return s.exitCode;
  } catch (e) {
    if (e instanceof UsageError) io.err.write(`assent-scan: ${e.message}\n`);
    else {
      io.err.write(`assent-scan: internal error: ${(e as Error)?.message ?? String(e)}\n`);
      if (process.env.ASSENT_DEBUG) io.err.write(`${(e as Error)?.stack}\n`);
    }
    return 2;
  }
};

const parse = (argv: readonly string[]) =>
  parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      pages: { type: 'string' },
      config: { type: 'string' },
      format: { type: 'string', multiple: true },
      out: { type: 'string' },
      'fail-on': { type: 'string', multiple: true },
      concurrency: { type: 'string' },
      'no-trackerdb': { type: 'boolean' },
      progress: { type: 'boolean' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });

export { FILE_NAMES };
