import { constants } from 'node:fs';
import { access, chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { badChromiumArg, MODES, parseScanConfig, type ScanConfig } from './config.js';
import { buildDeclaration } from './declaration/build.js';
import { declarationHtml, declarationJson, declarationMarkdown } from './declaration/render.js';
import { newKeyPair, privateKey, publicKey, sealEvidence, verifyEvidence } from './evidence.js';
import { FILE_NAMES, FORMATS, type Format, render, writeReports } from './reports/index.js';
import { DEFAULT_FAIL_ON, isRuleId, REGISTRY, RULES } from './rules/index.js';
import { type ProgressEvent, scan, VERSION, validUrl } from './scan.js';
import type { RuleId, SiteMode } from './types.js';

const USAGE = `assent-scan ${VERSION}: audit a site's consent in headless Chromium

Usage: assent-scan <url> [more urls] [options]
       assent-scan verify <dir> --public-key FILE   check a signed evidence pack (exit 0 intact, 1 not)
       assent-scan keygen <prefix>                  write <prefix>.key.pem and <prefix>.pub.pem (Ed25519)
       assent-scan --version                        print the version

Options of a scan (verify takes only --public-key, keygen none: another command's option exits 2):
  --pages N           scan up to N pages per URL: sitemap.xml, then same-origin links (default 1)
  --config FILE       JSON config: allow-list with reasons, selectors, essential hosts…
  --format LIST       json, md, html, junit (comma-separated or repeated).
                      Default: all of them with --out, md on stdout without.
  --out DIR           write the reports and screenshots into DIR
  --fail-on LIST      rules that fail the scan: errors (default: every rule of severity
                      error), all (warnings too), none, or rule ids; errors,RULE… adds
                      those rules to the default; an unknown word exits 2
  --mode MODE         the rules to apply: opt-in, opt-out (GPC honoured and shown) or
                      notice (default: what Assent's banner says, else opt-in)
  --chromium-arg=FLAG one more Chromium flag, repeatable; write it with "=", as
                      --chromium-arg=--ignore-certificate-errors (a flag after a space
                      is read as one of assent-scan's own)
  --har               record a HAR per phase (request bodies included) into DIR/har
  --sign-key FILE     sign DIR/manifest.json (SHA-256 of every file) with this Ed25519
                      private key (PEM) into DIR/manifest.sig
  --declaration       write the cookie declaration seen after accept into DIR:
                      declaration.html, .md, .json and assent-config.suggested.json
  --concurrency N     pages busy at once (default 1; each runs three browser contexts; the
                      next page starts when the current one only waits for late requests)
  --no-trackerdb      do not use the Ghostery tracker database even when installed
  --progress          print a line per page and phase (default when stderr is a terminal)
  --quiet             no progress lines

Any command:
  -h, --help          this help
  -v, --version       print the version

Exit codes: 0 clean, 1 violations, 2 scanner error (bad URL or option, site down, bad config).
Rules:
${REGISTRY.map((r) => `  ${r.id.padEnd(24)} ${r.severity.padEnd(8)} ${r.title}`).join('\n')}
Browser: $ASSENT_CHROMIUM, else /usr/bin/chromium-headless-shell, else /usr/bin/chromium
(install both with scripts/install-chromium.sh).`;

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
    return `[${e.page}] ${e.violations ? 'FAIL' : 'ok'} ${e.url}: ${e.violations} violation(s) (${(e.ms / 1000).toFixed(1)} s)`;
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
    const command = commandOf(args.positionals);
    checkOptions(command, args.tokens);
    if (command === 'verify') return await verifyCommand(args.positionals.slice(1), o['public-key'], io);
    if (command === 'keygen') return await keygenCommand(args.positionals.slice(1), io);
    const urls = args.positionals;
    if (!urls.length) throw new UsageError('give at least one URL to scan (see --help)');
    for (const opt of ['har', 'sign-key', 'declaration'] as const)
      if (o[opt] && !o.out) throw new UsageError(`--${opt} needs --out DIR: the files go there`);
    const signKey = o['sign-key'] ? await readKey(o['sign-key'], 'sign-key', privateKey) : null;
    const bad = urls.filter((u) => !validUrl(u));
    if (bad.length) throw new UsageError(`not an http(s) URL: ${bad.join(', ')}`);
    const formats = list(o.format);
    for (const f of formats)
      if (!FORMATS.includes(f as Format))
        throw new UsageError(`unknown --format ${f} (use ${FORMATS.join(', ')})`);
    const chosen = (formats.length ? formats : o.out ? FORMATS : ['md']) as Format[];
    // Every word is checked, beside a keyword too (a typo never passes silently); `errors`
    // adds the default rules to any named ones; `none` and `all` stand alone.
    const failOnList = list(o['fail-on']);
    if (o['fail-on'] && !failOnList.length)
      throw new UsageError('--fail-on is empty: name rules, or errors, all or none');
    const KEYWORDS = ['none', 'all', 'errors'];
    const unknown = failOnList.filter((r) => !KEYWORDS.includes(r) && !isRuleId(r));
    if (unknown.length)
      throw new UsageError(
        `unknown rule in --fail-on: ${unknown.join(', ')} (known: ${[...KEYWORDS, ...RULES].join(', ')})`,
      );
    for (const k of ['none', 'all'])
      if (failOnList.includes(k) && failOnList.length > 1)
        throw new UsageError(`--fail-on ${k} stands alone, got ${failOnList.join(',')}`);
    const named = failOnList.filter(isRuleId);
    let failOn: readonly RuleId[] = DEFAULT_FAIL_ON;
    if (failOnList.includes('none')) failOn = [];
    else if (failOnList.includes('all')) failOn = RULES;
    else if (failOnList.includes('errors')) failOn = [...new Set([...DEFAULT_FAIL_ON, ...named])];
    else if (named.length) failOn = named;
    const mode = o.mode;
    if (mode !== undefined && !MODES.includes(mode as SiteMode))
      throw new UsageError(`--mode must be one of ${MODES.join(', ')}, got ${JSON.stringify(mode)}`);
    for (const a of o['chromium-arg'] ?? []) {
      const why = badChromiumArg(a);
      if (why) throw new UsageError(`--chromium-arg: ${why}`);
    }
    const config = await readConfig(o.config);
    if (o.out) await checkOut(o.out);
    const chromiumArgs = [...(config.chromiumArgs ?? []), ...(o['chromium-arg'] ?? [])];
    const showProgress = !o.quiet && (o.progress || io.err.isTTY === true);

    const result = await scan(urls, {
      ...config,
      pages: positiveInt('pages', o.pages, 1),
      concurrency: positiveInt('concurrency', o.concurrency, 1),
      failOn,
      trackerDb: !o['no-trackerdb'],
      chromiumArgs,
      har: o.har === true,
      ...(mode ? { mode: mode as SiteMode } : {}),
      ...(showProgress ? { onProgress: (e: ProgressEvent) => io.err.write(`${progressLine(e)}\n`) } : {}),
    });
    const { report } = result;
    if (o.out) {
      const files = await writeReports(result, o.out, chosen);
      if (o.declaration) {
        const d = buildDeclaration(report);
        const out = o.out;
        const write = async (name: string, text: string) => {
          await writeFile(join(out, name), text);
          files.push(join(out, name));
        };
        await write('declaration.html', declarationHtml(d));
        await write('declaration.md', declarationMarkdown(d));
        await write('declaration.json', declarationJson(d));
        await write('assent-config.suggested.json', `${JSON.stringify(d.suggestedConfig, null, 2)}\n`);
        // Not checked is not passed: a page whose accept did not take has no after-accept
        // cookies to declare, and the owner must know the declaration may miss some.
        for (const u of d.unchecked ?? [])
          io.err.write(`assent-scan: declaration: not seen after accept on ${u.page}: ${u.reason}\n`);
      }
      // Every file's SHA-256, and a signature when the owner gave a key: the evidence pack,
      // exactly the files this scan wrote (reports, declaration, screenshots, HARs). Absolute:
      // these paths already start with --out, and a relative one would be read inside it again.
      const images = [...result.images, ...(result.files ?? [])].map(([rel]) => join(o.out!, rel));
      await sealEvidence(o.out, `assent-scan ${VERSION}`, signKey, {
        files: [...files, ...images].map((f) => resolve(f)),
      });
      files.push(join(o.out, 'manifest.json'), ...(signKey ? [join(o.out, 'manifest.sig')] : []));
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

/**
 * `--out` must be a directory that can be written (made when missing): checked before the
 * scan, so a wrong path costs no minutes of scanning and the error names the option.
 */
const checkOut = async (dir: string): Promise<void> => {
  const s = await stat(dir).catch(() => null);
  if (s && !s.isDirectory()) throw new UsageError(`--out ${dir} exists and is not a directory`);
  if (!s)
    await mkdir(dir, { recursive: true }).catch((e: NodeJS.ErrnoException) => {
      throw new UsageError(`--out ${dir}: cannot create the directory (${e.code ?? e.message})`);
    });
  await access(dir, constants.W_OK).catch(() => {
    throw new UsageError(`--out ${dir}: the directory cannot be written`);
  });
};

/** Reads a PEM key named by an option; a wrong file or key type is a usage error naming it. */
const readKey = async <T>(file: string, option: string, parse: (pem: Buffer) => T): Promise<T> => {
  let pem: Buffer;
  try {
    pem = await readFile(file);
  } catch {
    throw new UsageError(`--${option}: cannot read ${file}`);
  }
  try {
    return parse(pem);
  } catch (e) {
    throw new UsageError(
      `--${option}: ${file} is not an Ed25519 key in PEM (${(e as Error).message.split('\n')[0]})`,
    );
  }
};

const verifyCommand = async (
  rest: string[],
  keyFile: string | undefined,
  io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream },
): Promise<number> => {
  if (rest.length !== 1)
    throw new UsageError('verify takes one directory: assent-scan verify <dir> --public-key FILE');
  if (!keyFile) throw new UsageError('verify needs --public-key FILE (the Ed25519 public key, PEM)');
  const key = await readKey(keyFile, 'public-key', publicKey);
  const problems = await verifyEvidence(rest[0]!, key);
  if (problems.length) {
    for (const p of problems) io.err.write(`assent-scan verify: ${p}\n`);
    return 1;
  }
  io.out.write(`${rest[0]}: intact — every file matches manifest.json, signed by this key\n`);
  return 0;
};

const keygenCommand = async (
  rest: string[],
  io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream },
): Promise<number> => {
  if (rest.length !== 1) throw new UsageError('keygen takes one file prefix: assent-scan keygen <prefix>');
  const { privatePem, publicPem } = newKeyPair();
  const key = `${rest[0]}.key.pem`;
  await writeFile(key, privatePem, { mode: 0o600, flag: 'wx' }).catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(e.code === 'EEXIST' ? `${key} exists; not overwritten` : `cannot write ${key}`);
  });
  await chmod(key, 0o600);
  await writeFile(`${rest[0]}.pub.pem`, publicPem);
  io.out.write(
    `private key: ${key} (keep it secret)\npublic key: ${rest[0]}.pub.pem (give it to whoever verifies)\n`,
  );
  return 0;
};

const OPTIONS = {
  pages: { type: 'string' },
  config: { type: 'string' },
  format: { type: 'string', multiple: true },
  out: { type: 'string' },
  'fail-on': { type: 'string', multiple: true },
  concurrency: { type: 'string' },
  mode: { type: 'string' },
  'chromium-arg': { type: 'string', multiple: true },
  har: { type: 'boolean' },
  'sign-key': { type: 'string' },
  'public-key': { type: 'string' },
  declaration: { type: 'boolean' },
  'no-trackerdb': { type: 'boolean' },
  progress: { type: 'boolean' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

type Option = keyof typeof OPTIONS;
type Command = 'scan' | 'verify' | 'keygen';

/** Accepted by every command: they print and exit before the command runs. */
const GLOBAL_OPTIONS: readonly Option[] = ['help', 'version'];

/**
 * Each command's own options. An option of another command is refused (exit 2, naming it):
 * parsed silently, `--public-key` on a scan would leave the pack unsigned while the user
 * believes it signed.
 */
const COMMAND_OPTIONS: Record<Command, readonly Option[]> = {
  scan: [
    'pages',
    'config',
    'format',
    'out',
    'fail-on',
    'concurrency',
    'mode',
    'chromium-arg',
    'har',
    'sign-key',
    'declaration',
    'no-trackerdb',
    'progress',
    'quiet',
  ],
  verify: ['public-key'],
  keygen: [],
};

const commandOf = (positionals: readonly string[]): Command =>
  positionals[0] === 'verify' ? 'verify' : positionals[0] === 'keygen' ? 'keygen' : 'scan';

const checkOptions = (command: Command, tokens: ReturnType<typeof parse>['tokens']): void => {
  const allowed = new Set<string>([...GLOBAL_OPTIONS, ...COMMAND_OPTIONS[command]]);
  const others = [
    ...new Set(tokens.flatMap((t) => (t.kind === 'option' && !allowed.has(t.name) ? [t.name] : []))),
  ];
  if (!others.length) return;
  // Named by the command each belongs to: "--out, --har (options of a scan)".
  const named = (['scan', 'verify'] as const)
    .map((owner) => {
      const mine = others.filter((o) => COMMAND_OPTIONS[owner].includes(o as Option));
      const whose = owner === 'scan' ? 'a scan' : owner;
      return mine.length
        ? `${mine.map((o) => `--${o}`).join(', ')} (${mine.length > 1 ? 'options' : 'an option'} of ${whose})`
        : '';
    })
    .filter(Boolean)
    .join(', ');
  const takes =
    command === 'scan'
      ? 'a scan does not take'
      : command === 'verify'
        ? 'verify takes only --public-key FILE, not'
        : 'keygen takes no options, not';
  // The likeliest slip: the verifier's key given to a scan, meant to sign the pack.
  const hint =
    command === 'scan' && others.includes('public-key')
      ? '; to sign the evidence pack, give --sign-key FILE (the private key)'
      : '';
  throw new UsageError(`${takes} ${named}${hint}`);
};

const parse = (argv: readonly string[]) =>
  parseArgs({ args: [...argv], allowPositionals: true, strict: true, tokens: true, options: OPTIONS });

export { FILE_NAMES };
