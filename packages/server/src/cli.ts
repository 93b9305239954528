import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  accessSync,
  constants,
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import type { Controller } from '@assent/core';
import { AuditLog, verifyAudit } from './audit.js';
import {
  type CliConfig,
  COMMAND_OPTIONS,
  type Command,
  EXIT,
  optionProblem,
  resolveConfig,
} from './cli-config.js';
import { isOrigin, normalizeOrigin } from './context.js';
import { DATE_HINT, parseDateParam } from './dates.js';
import { EXPORT_FORMATS, type ExportFormat, exportChunks, needsController } from './export.js';
import { IP_SECRET_MIN_BYTES, signingKeyOf } from './options.js';
import { createServer } from './server.js';
import { createSigner, generateKeys } from './signer.js';
import { isHeldElsewhere, openStore, ReadOnlyError } from './store/open.js';
import { checkStore, openForCheck, pendingMigrations } from './store-check.js';
import { type Cosigner, cosignerVerifierKey, cosignLine, logOrigin, parseCosignerKey } from './tlog/note.js';
import { verifyProofFile } from './tlog/proof-file.js';
import { submitCosignature, type WitnessOk, witness } from './tlog/witness.js';
import { addUser, emailProblem, roleProblem } from './users.js';
import { SLACK_TEXT, verifyExport } from './verify.js';

/**
 * A --public-key file as a key: a missing or unreadable file, or one that is not an Ed25519
 * public key in PEM, is a usage mistake naming the option, the file and the problem (exit 2).
 */
const readKey = (path: string): KeyObject => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return die(`--public-key: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey(text);
  } catch {
    return die(`--public-key: ${path} is not a PEM public key`);
  }
  if (key.asymmetricKeyType !== 'ed25519')
    die(`--public-key: ${path} is not an Ed25519 key (it is ${key.asymmetricKeyType})`);
  return key;
};

/**
 * The keys `verify-db` checks with: every --public-key given, or else the server's own, as
 * `start` finds it in the data dir (`signing-key.pem`, or `signing-key.pub.pem` beside it).
 * Nothing is made: without either, exit 2 asking for --public-key.
 */
const verifyKeys = (): KeyObject[] => {
  if (flags['public-key']) return flags['public-key'].map(readKey);
  const privateFile = join(config.dataDir, 'signing-key.pem');
  const publicFile = join(config.dataDir, 'signing-key.pub.pem');
  if (existsSync(privateFile)) {
    const k = signingKeyOf(readSecret(privateFile).toString('utf8'));
    if (!k.ok) return die(`${privateFile}: the signing key ${k.message}`);
    return [createPublicKey(k.key)];
  }
  if (existsSync(publicFile)) return [readKey(publicFile)];
  return die(
    `verify-db: --public-key is required: the data dir ${config.dataDir} holds no signing key (give the public key(s) the receipts were signed with)`,
  );
};

/** Every --public-key given, read and checked (exit 2 naming the option when there is none). */
const publicKeys = (cmd: string): KeyObject[] =>
  (flags['public-key'] ?? die(`${cmd}: --public-key is required`)).map(readKey);

/**
 * The positionals a command takes, or exit 2 naming the ones it does not: `verify a b` used to
 * check `a` alone and say ok.
 */
const expectArgs = (n: number, usage: string) => {
  const extra = positionals.slice(n);
  if (extra.length)
    die(
      `unexpected argument${extra.length > 1 ? 's' : ''} ${extra.map((x) => JSON.stringify(x)).join(' ')}: ${usage}`,
    );
};

/**
 * The command the positionals name (`user add` is one), or exit 2: an unknown command, or
 * `user` without `add` or `list`.
 */
const commandOf = (): Command => {
  const [cmd, sub] = positionals;
  if (cmd === 'user') {
    if (sub !== 'add' && sub !== 'list') return die(`user: add or list\n\n${USAGE}`);
    return `user ${sub}`;
  }
  if (cmd === undefined || !Object.hasOwn(COMMAND_OPTIONS, cmd) || cmd.startsWith('user '))
    return die(`unknown command "${cmd}"\n\n${USAGE}`);
  return cmd as Command;
};

/**
 * The options the command takes (cli-config.ts, COMMAND_OPTIONS), or exit 2 naming one it does
 * not, before the configuration is read: a known option of another command was ignored, so
 * `user add --site X` (for --sites) made an editor of every site, `verify --site X` checked
 * every site, `keygen --out DIR` wrote into the data dir, `witness --site …` watched the URL's.
 */
const expectOptions = (cmd: Command) => {
  for (const k of Object.keys(flags)) {
    const problem = optionProblem(cmd, k);
    if (problem) die(problem);
  }
};

const errno = (e: unknown) => (e as NodeJS.ErrnoException).code ?? String(e);

/**
 * The directory `flag` names, made if missing, and writable: checked before a command does
 * anything (a witness before fetching), so a mistyped path is exit 2 naming the option.
 */
const writableDir = (flag: string, path: string) => {
  let isDir: boolean | null = null;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    // Missing (or under a file: mkdir says which).
  }
  if (isDir === false) die(`--${flag}: ${path} is not a directory`);
  if (isDir === null)
    try {
      mkdirSync(path, { recursive: true });
    } catch (e) {
      die(`--${flag}: cannot make the directory ${path}: ${errno(e)}`);
    }
  try {
    accessSync(path, constants.W_OK);
  } catch (e) {
    die(`--${flag}: cannot write in ${path}: ${errno(e)}`);
  }
};

/** An input file's lines; a file that cannot be read is exit 2 naming it. */
const readLines = (path: string) => {
  try {
    if (!statSync(path).isFile()) die(`${path} is not a file`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    die(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
};

/**
 * The origin line the witnessed checkpoint must carry: the log of the URL's \`?site=\` (as the
 * server names it, note.ts \`logOrigin\`), or \`--origin\` when the URL names no site. The
 * checkpoint's own first line is never taken on trust: a log shown under another name would
 * otherwise be a "first checkpoint seen".
 */
const expectedOrigin = (url: string): string => {
  let site: string | null;
  try {
    site = new URL(url).searchParams.get('site');
  } catch {
    return die(`witness: ${JSON.stringify(url)} is not a URL`);
  }
  const given = flags.origin;
  if (given !== undefined && !/^[^\s+]{1,300}$/.test(given))
    die(
      `--origin: must be a log's origin line such as news.example/assent-log, got ${JSON.stringify(given)}`,
    );
  if (site === null)
    return (
      given ??
      die(
        "witness: --origin is required when the URL has no ?site= (the log's origin line, e.g. news.example/assent-log, as its checkpoint's first line reads)",
      )
    );
  const s = normalizeOrigin(site);
  if (!isOrigin(s))
    die(`witness: the URL's site must be an origin such as https://example.com, got ${JSON.stringify(site)}`);
  const origin = logOrigin(s);
  if (given !== undefined && given !== origin)
    die(`--origin: ${given} is not the log of the URL's site ${s}, which is ${origin}`);
  return origin;
};

/**
 * The SQLite file of a command that reads an existing database (export, user list): a missing
 * one is a mistyped --db, refused (exit 2), never created empty. PostgreSQL is not checked here.
 */
const existingDb = (db: string): string => {
  if (!db.startsWith('sqlite:')) return db;
  const path = db.slice('sqlite:'.length);
  if (path !== ':memory:' && !existsSync(path))
    die(
      `--db: no SQLite database at ${resolve(path)} (a typo? this command reads an existing one; \`start\` or \`migrate\` creates it)`,
    );
  return db;
};

const USAGE = `assent-server — Assent's receipt server

  assent-server start   [--config file.json] [--db sqlite:path|postgres://…] [--port 8787] [--host 127.0.0.1] [--data-dir dir]
  assent-server migrate [--config file.json] [--db …] [--data-dir dir]
  assent-server keygen  [--config file.json] [--data-dir dir]
  assent-server verify  <export.ndjson> --public-key key.pem [--public-key old.pem]
  assent-server export  [--config file.json] [--db …] [--data-dir dir] [--site origin] [--from date] [--to date]
                        [--format ndjson|csv|iso27560|kantara] [--out file]
  assent-server verify-receipt <proof.json> --public-key key.pem [--witness verifier-key …]
                          (a visitor's proof, offline; each --witness must have cosigned its checkpoint)
  assent-server witness <checkpoint URL> --state dir --public-key key.pem [--origin log-origin] [--key witness-key.pem --name witness.example/w1 [--submit]]
                          (--origin, e.g. news.example/assent-log, is required when the URL has no ?site=)
  assent-server witness-key --name witness.example/w1 --out witness-key.pem   (prints the verifier key for the log's \`witnesses\`)
  assent-server user add  --email addr --role owner|editor|auditor [--sites origin,origin] [--config file.json] [--db …] [--data-dir dir]
                          (password on stdin, or asked; --sites limits an editor or auditor to those sites)
  assent-server user list [--config file.json] [--db …] [--data-dir dir]
  assent-server verify-audit <audit.ndjson> --public-key key.pem [--public-key old.pem]
  assent-server verify-db [--config file.json] [--db …] [--data-dir dir] [--public-key key.pem …]
                          (the database itself, read-only: each receipt as verify checks it, and each column against its signed body)

Each command takes the options its line shows (and --help): any other is exit 2 naming it.

Environment: ASSENT_CONFIG, ASSENT_DB, ASSENT_PORT, ASSENT_HOST, ASSENT_DATA_DIR, ASSENT_ADMIN_TOKEN,
ASSENT_ADMIN_ORIGIN, ASSENT_METRICS_TOKEN, ASSENT_REGION_HEADER, ASSENT_TRUST_PROXY, ASSENT_LOG_LEVEL, ASSENT_RETENTION_DAYS, ASSENT_RATE_LIMIT,
ASSENT_WEBHOOK_PRIVATE_NETWORKS.
Precedence: flags, then environment, then the config file; each is checked (exit 2 names the key).
Exit codes: 0 ok, 1 failure (verify: a broken export; verify-db: a receipt, column or row that
does not agree with the signed receipts; verify-receipt: an invalid proof;
witness: a fork or a checkpoint that does not verify), 2 configuration or usage mistake
(witness: also another run of the same log still holding its lock after 30 s),
3 the database cannot be written (read-only or immutable, or its SQLite file is held by another
server: start, migrate, export, user add, user list and verify-db all say so).`;

class UsageError extends Error {}

const die = (msg: string): never => {
  throw new UsageError(msg);
};

const parse = (argv: string[]) =>
  parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      db: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      'public-key': { type: 'string', multiple: true },
      witness: { type: 'string', multiple: true },
      site: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      format: { type: 'string' },
      out: { type: 'string' },
      state: { type: 'string' },
      key: { type: 'string' },
      name: { type: 'string' },
      origin: { type: 'string' },
      submit: { type: 'boolean' },
      email: { type: 'string' },
      role: { type: 'string' },
      sites: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });

let flags: ReturnType<typeof parse>['values'];
let positionals: string[];
let config: CliConfig;

/** The command line: an unknown option is a UsageError (exit 2). */
const parseLine = (argv: string[]) => {
  try {
    ({ values: flags, positionals } = parse(argv));
  } catch (e) {
    die(`${(e as Error).message}\n\n${USAGE}`);
  }
};

/** Reads and checks the configuration's three sources; every mistake is a UsageError (exit 2). */
const configure = () => {
  const env = process.env;
  const configPath = flags.config ?? env.ASSENT_CONFIG;
  let file: unknown;
  if (configPath) {
    let text = '';
    try {
      text = readFileSync(configPath, 'utf8');
    } catch (e) {
      die(`cannot read the config file ${configPath}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    try {
      file = JSON.parse(text);
    } catch (e) {
      die(`${configPath} is not valid JSON: ${(e as Error).message}`);
    }
  }
  const r = resolveConfig(file, env, flags as Record<string, string | undefined>, configPath);
  if (r.errors.length) die(`configuration refused, nothing started:\n  ${r.errors.join('\n  ')}`);
  config = r.config;
};

/** A file of the data dir, read; unreadable is exit 2 naming the file. */
const readSecret = (file: string): Buffer => {
  try {
    return readFileSync(file);
  } catch (e) {
    return die(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
};

/**
 * The signing key and IP secret live in the data dir, created on first use (mode 0600). Both
 * are checked before anything opens the database: a key that is not Ed25519 (or not a key) and
 * an IP secret under 32 bytes are exit 2 naming the file, never used.
 */
const ensureSecrets = () => {
  const { dataDir } = config;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const keyFile = join(dataDir, 'signing-key.pem');
  if (!existsSync(keyFile)) {
    const k = generateKeys();
    writeFileSync(keyFile, k.privateKeyPem, { mode: 0o600 });
    writeFileSync(join(dataDir, 'signing-key.pub.pem'), k.publicKeyPem);
  }
  const secretFile = join(dataDir, 'ip-secret');
  if (!existsSync(secretFile))
    writeFileSync(secretFile, crypto.getRandomValues(Buffer.alloc(IP_SECRET_MIN_BYTES)), { mode: 0o600 });
  const signingKey = readSecret(keyFile).toString('utf8');
  const key = signingKeyOf(signingKey);
  if (!key.ok) die(`${keyFile}: the signing key ${key.message}`);
  const ipSecret = readSecret(secretFile);
  if (ipSecret.length < IP_SECRET_MIN_BYTES)
    die(
      `${secretFile}: the IP secret must be at least ${IP_SECRET_MIN_BYTES} random bytes, it has ${ipSecret.length} (remove it to have a new one made; IP hashes will not link across the change)`,
    );
  return { signingKey, ipSecret, keyFile };
};

const start = async () => {
  const { signingKey, ipSecret } = ensureSecrets();
  const c = config;
  const server = await createServer({
    db: c.db,
    sites: c.sites,
    apiKeys: c.apiKeys,
    controllers: c.controllers,
    witnesses: c.witnesses,
    ...(c.adminToken ? { adminToken: c.adminToken } : {}),
    ...(c.adminOrigin ? { adminOrigin: c.adminOrigin } : {}),
    ...(c.metricsToken ? { metricsToken: c.metricsToken } : {}),
    signingKey,
    ipSecret,
    ...(c.regionHeader ? { regionHeader: c.regionHeader } : {}),
    trustProxy: c.trustProxy,
    logger: { level: c.logLevel },
    rateLimit: c.rateLimit,
    retention: { days: c.retentionDays },
    webhooks: { privateNetworks: c.webhookPrivateNetworks },
  });
  if (!Object.keys(c.sites).length && ![...server.policies.sites()].length)
    server.app.log.warn('no sites configured or published: every receipt will be refused');
  const shutdown = (signal: string) => {
    server.app.log.info({ signal }, 'shutting down: finishing in-flight receipts');
    server.close().then(
      () => process.exit(0),
      (err) => {
        server.app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  await server.app.listen({ port: c.port, host: c.host });
};

/**
 * The password of `user add`: asked without echo on a terminal, else the first line of stdin
 * (`printf '%s\n' "$PASSWORD" | assent-server user add …`), never a flag (it would sit in the
 * shell's history and in every process listing).
 */
const readPassword = async (): Promise<string> => {
  const tty = process.stdin.isTTY;
  const rl = createInterface({
    input: process.stdin,
    output: tty ? process.stderr : undefined,
    terminal: tty,
  });
  if (tty) {
    process.stderr.write('Password (at least 12 characters): ');
    // Nothing typed is echoed.
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => {};
  }
  for await (const line of rl) {
    rl.close();
    if (tty) process.stderr.write('\n');
    return line;
  }
  return die('user add: no password on stdin');
};

/** `user add` (the first owner of a new server, or anyone later) and `user list`. */
const user = async (sub: 'add' | 'list') => {
  expectArgs(2, `user ${sub} takes no other argument`);
  if (sub === 'add' && (!flags.email || !flags.role))
    return die('user add: --email and --role (owner, editor or auditor) are required');
  let sites: string[] = [];
  if (sub === 'add') {
    const bad = emailProblem(flags.email!.trim()) ? 'email' : roleProblem(flags.role!) ? 'role' : null;
    if (bad)
      return die(`user add: --${bad} ${emailProblem(flags.email!.trim()) ?? roleProblem(flags.role!)}`);
    if (flags.sites !== undefined) {
      // Blank is not "every site": that is said by leaving --sites out.
      sites = flags.sites
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
      if (!sites.length)
        return die(
          `user add: --sites names no site, got ${JSON.stringify(flags.sites)} (leave --sites out for every site)`,
        );
    }
  }
  // The server's key signs the audit entry: checked before the database is opened.
  const secrets = sub === 'add' ? ensureSecrets() : null;
  const store = openStore(sub === 'list' ? existingDb(config.db) : config.db);
  try {
    await store.migrate();
    if (sub === 'list') {
      for (const u of await store.admin.users())
        process.stdout.write(
          `${u.email}\t${u.role}\t${u.created_at}${u.sites.length ? `\t${u.sites.join(',')}` : ''}\n`,
        );
      return;
    }
    // The sites that exist: the config's, and those published through the admin API.
    const known = new Set([
      ...Object.keys(config.sites).map(normalizeOrigin),
      ...(await store.currentPolicies()).map((p) => p.site),
    ]);
    // Recorded as the API records it, in one transaction with the user, and signed with the
    // server's key (the data dir's), like everything the server records.
    const log = new AuditLog(store, createSigner(secrets!.signingKey));
    const refused = new Error('the email is taken');
    const r = await addUser(
      store,
      {
        email: flags.email!,
        role: flags.role!,
        password: await readPassword(),
        sites,
      },
      undefined,
      (s) => known.has(s),
      (user, insert) =>
        log
          .append(
            {
              actor: 'cli',
              role: null,
              action: 'user-add',
              target: user.email,
              detail: { role: user.role, ...(user.sites.length ? { sites: user.sites.join(',') } : {}) },
            },
            new Date(),
            async (row) => {
              if (!(await insert(row))) throw refused;
            },
          )
          .then(
            () => true,
            (e: unknown) => {
              if (e === refused) return false;
              throw e;
            },
          ),
    );
    if (!r.ok)
      return die(`user add: ${r.field === 'password' ? 'the password' : `--${r.field}`} ${r.message}`);
    process.stdout.write(
      `added ${r.user.email} (${r.user.role}${r.user.sites.length ? `, sites ${r.user.sites.join(', ')}` : ''}); sign in at /admin\n`,
    );
  } finally {
    await store.close();
  }
};

/** The command running (its exit message names what to do instead when the database is held). */
let command: Command | undefined;

const main = async () => {
  parseLine(process.argv.slice(2));
  if (flags.help || !positionals[0]) {
    configure();
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  command = commandOf();
  expectOptions(command);
  configure();
  const { db, dataDir } = config;
  const cmd = command;
  switch (cmd) {
    case 'start':
      expectArgs(1, 'start takes no argument, only options');
      return start();
    case 'migrate': {
      expectArgs(1, 'migrate takes no argument, only --db');
      const store = openStore(db);
      const applied = await store.migrate();
      await store.close();
      process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'up to date\n');
      return;
    }
    case 'keygen': {
      expectArgs(1, 'keygen takes no argument, only --data-dir');
      const { keyFile } = ensureSecrets();
      process.stdout.write(`signing key: ${keyFile}\npublic key:  ${join(dataDir, 'signing-key.pub.pem')}\n`);
      process.stdout.write(readFileSync(join(dataDir, 'signing-key.pub.pem'), 'utf8'));
      return;
    }
    case 'verify': {
      const path =
        positionals[1] ??
        die('verify: which export? assent-server verify export.ndjson --public-key key.pem');
      expectArgs(2, 'verify checks one export: assent-server verify export.ndjson --public-key key.pem');
      const keys = publicKeys('verify');
      const r = await verifyExport(readLines(path), keys);
      if (r.ok && r.receipts === 0) {
        // Nothing verified is not a verified export: an empty or policy-only file fails.
        process.stdout.write(`FAILED: no receipts in ${path}\n`);
        process.exitCode = 1;
        return;
      }
      if (r.ok) {
        process.stdout.write(
          `ok: ${r.receipts} receipts (${r.purged} purged) in ${r.sites} site chain(s) verify, with the ${r.policies} polic${r.policies === 1 ? 'y' : 'ies'} they name${
            r.legacy ? ` (${r.legacy} receipt(s) of schema v1 name no published policy)` : ''
          }${r.partial.length ? `; starts mid-chain for ${r.partial.join(', ')}` : ''}\n`,
        );
        return;
      }
      process.stdout.write(
        `BROKEN at line ${r.line}${r.site ? ` (${r.site} seq ${r.seq}, receipt ${r.id})` : ''}: ${r.reason}\n`,
      );
      process.exitCode = 1;
      return;
    }
    case 'export': {
      expectArgs(1, 'export takes no argument, only options (--site, --from, --to, --format, --out)');
      const format = (flags.format ?? 'ndjson') as ExportFormat;
      if (!EXPORT_FORMATS.includes(format)) die(`--format: must be one of ${EXPORT_FORMATS.join(', ')}`);
      const date = (flag: 'from' | 'to') => {
        const v = flags[flag];
        if (v === undefined) return undefined;
        return parseDateParam(v) ?? die(`--${flag}: ${DATE_HINT}, got ${JSON.stringify(v)}`);
      };
      const from = date('from');
      const to = date('to');
      if (from !== undefined && to !== undefined && from > to)
        die(`--from: ${flags.from} is later than --to ${flags.to}: the export would be empty`);
      // The site as the server names it (https://x/ and HTTPS://X are https://x).
      const site = flags.site === undefined ? undefined : normalizeOrigin(flags.site);
      if (site !== undefined && !isOrigin(site))
        die(`--site: must be an origin such as https://example.com, got ${JSON.stringify(flags.site)}`);
      const filter = { ...(site ? { site } : {}), ...(from ? { from } : {}), ...(to ? { to } : {}) };
      let controller: Controller | undefined;
      if (needsController(format)) {
        if (!site) die(`--site: format ${format} exports one site: add --site <origin>`);
        controller =
          config.controllers[site!] ??
          die(`controllers: format ${format} names the site's controller; the config has none for ${site}`);
      }
      const store = openStore(existingDb(db));
      try {
        await store.migrate();
        if (site !== undefined) {
          const known = new Set([
            ...Object.keys(config.sites).map(normalizeOrigin),
            ...(await store.currentPolicies()).map((p) => p.site),
          ]);
          if (!known.has(site))
            die(
              `--site: ${site} is not a site of this server (${known.size ? [...known].join(', ') : 'it has none'})`,
            );
        }
        const out = flags.out ? createWriteStream(flags.out) : process.stdout;
        await pipeline(Readable.from(exportChunks(store, filter, format, controller)), out);
      } finally {
        await store.close();
      }
      return;
    }
    case 'verify-receipt': {
      const path =
        positionals[1] ??
        die('verify-receipt: which file? assent-server verify-receipt proof.json --public-key key.pem');
      expectArgs(
        2,
        'verify-receipt checks one file: assent-server verify-receipt proof.json --public-key key.pem',
      );
      const keys = publicKeys('verify-receipt');
      // Witnesses whose cosignature the checkpoint must carry: a visitor who trusts them
      // accepts a proof only against a checkpoint they cosigned.
      const witnesses = (flags.witness ?? []).map((k): Cosigner => {
        const w = parseCosignerKey(k);
        return typeof w === 'string' ? die(`--witness: ${JSON.stringify(k)} ${w}`) : w;
      });
      // A file that cannot be read is a mistyped path (exit 2, as for verify); one that is
      // not a proof is an invalid proof (exit 1).
      let text = '';
      try {
        text = readFileSync(path, 'utf8');
      } catch (e) {
        die(`cannot read ${path}: ${errno(e)}`);
      }
      let file: unknown;
      try {
        file = JSON.parse(text);
      } catch (e) {
        process.stdout.write(`INVALID (file): ${path} is not a JSON file: ${(e as Error).message}\n`);
        process.exitCode = 1;
        return;
      }
      const r = verifyProofFile(file, keys, witnesses);
      if (r.ok) {
        const policy = r.policy
          ? `; the policy it names (${r.policy.sha256}, its text in the file) was published in the same log at leaf ${r.policy.index}, ${r.policy.at}, before it`
          : "; the file does not carry the publication of the policy it names (a policy published before the site's log began has none)";
        // A timestamp is a u64 of seconds: one no date can hold is shown as the number.
        const when = (t: number) => {
          const d = new Date(t * 1000);
          return Number.isNaN(d.getTime()) ? `${t} s` : d.toISOString();
        };
        const cosigned = r.cosigned.length
          ? `; the checkpoint is cosigned by ${r.cosigned.map((c) => `${c.name} at ${when(c.time)}`).join(', ')}`
          : '';
        // What of time was compared, and what could not be (verifyProofFile: `time`).
        const at = (file as { receipt: { at: string } }).receipt.at;
        const times = [
          r.policy
            ? `its at ${at} is not before the policy's publication (${r.policy.at}); its expiresAt is its at plus the policy's ${r.days} days`
            : `its at ${at} is compared with no publication, and its expiresAt with no policy's days (the file carries no policy)`,
          r.cosigned.length
            ? `it is not after the cosignature${r.cosigned.length === 1 ? "'s time" : "s' times"}`
            : "no witness was required, so no cosignature's time was compared (a checkpoint carries none)",
        ];
        process.stdout.write(
          `ok: the receipt is signed, and it is leaf ${r.index} of ${r.site}'s log in the signed checkpoint of size ${r.size}${cosigned}${policy}\n` +
            `time (allowing ${SLACK_TEXT} between clocks): ${times.join('; ')}\n`,
        );
        return;
      }
      process.stdout.write(`INVALID (${r.what}): ${r.reason}\n`);
      process.exitCode = 1;
      return;
    }
    case 'witness-key': {
      expectArgs(1, 'witness-key takes no argument, only --name and --out');
      const name =
        flags.name ?? die('witness-key: --name is required (a schema-less URL naming the witness)');
      if (!/^[^+\s]{1,200}$/.test(name)) die('--name: must be 1 to 200 characters, no spaces or "+"');
      const out = flags.out ?? die('witness-key: --out is required (where to write the private key)');
      if (existsSync(out)) die(`--out: ${out} exists; a witness key is never overwritten`);
      // Its directory must exist (a mistyped path is not made): checked before a key is made.
      const outDir = dirname(resolve(out));
      let isDir = false;
      try {
        isDir = statSync(outDir).isDirectory();
      } catch {
        // Missing, or under a file.
      }
      if (!isDir) die(`--out: ${outDir} is not a directory`);
      try {
        accessSync(outDir, constants.W_OK);
      } catch (e) {
        die(`--out: cannot write in ${outDir}: ${errno(e)}`);
      }
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      try {
        // 'wx': never over a file made since the check above.
        writeFileSync(out, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
      } catch (e) {
        die(`--out: cannot write ${out}: ${errno(e)}`);
      }
      process.stdout.write(
        `witness key: ${out}\nverifier key (add to the log's "witnesses"):\n${cosignerVerifierKey(name, publicKey)}\n`,
      );
      return;
    }
    case 'witness': {
      const url =
        positionals[1] ??
        die('witness: which log? assent-server witness <checkpoint URL> --state dir --public-key key.pem');
      expectArgs(
        2,
        'witness watches one log: assent-server witness <checkpoint URL> --state dir --public-key key.pem',
      );
      if (!/^https?:\/\//.test(url))
        die(`witness: the URL must start with http:// or https://, got ${JSON.stringify(url)}`);
      const state =
        flags.state ?? die('witness: --state is required (the directory that keeps the last checkpoint)');
      const keys = publicKeys('witness');
      // Cosigning: both or neither of --key and --name, checked before anything is fetched.
      if (!flags.key !== !flags.name)
        die('witness: --key and --name go together (the cosigner key and its name)');
      if (flags.submit && !flags.key) die('witness: --submit needs --key and --name (what to cosign with)');
      let cosigner: KeyObject | undefined;
      if (flags.key) {
        try {
          cosigner = createPrivateKey(readFileSync(flags.key, 'utf8'));
        } catch {
          die(`--key: ${flags.key} is not a readable PEM private key`);
        }
        if (cosigner!.asymmetricKeyType !== 'ed25519') die(`--key: ${flags.key} is not an Ed25519 key`);
      }
      const origin = expectedOrigin(url);
      writableDir('state', state);
      // Cosigned while the run still holds the log's lock (tlog/witness.ts): of two overlapping
      // runs shown different trees, only the one whose tree was stored cosigns.
      const stored = async (r: WitnessOk) => {
        process.stdout.write(
          r.from === null
            ? `ok: ${r.origin} at tree size ${r.size}, stored (first checkpoint seen)\n`
            : r.from === r.size
              ? `ok: ${r.origin} unchanged at ${r.size} leaves, same root; stored\n`
              : `ok: ${r.origin} grew from ${r.from} to ${r.size} leaves, consistent; stored\n`,
        );
        if (!cosigner) return;
        const line = cosignLine(r.note, flags.name!, cosigner, Math.floor(Date.now() / 1000));
        process.stdout.write(`cosignature: ${line}\n`);
        if (!flags.submit) return;
        const sent = await submitCosignature(url, r.size, line);
        if (!sent.ok) {
          process.stdout.write(
            `FAILED: the log refused the cosignature (${sent.status}): ${sent.text.slice(0, 300)}\n`,
          );
          process.exitCode = 1;
          return;
        }
        process.stdout.write('submitted: the log publishes it beside its checkpoint\n');
      };
      const r = await witness(url, state, keys, origin, { stored });
      if (r.ok) return;
      // Another run of this log holds its lock: overlapping runs (a schedule too tight), not a fork.
      if (r.busy) die(`witness: ${r.reason}`);
      process.stdout.write(
        `${r.fork ? 'FORK' : 'FAILED'}: ${r.reason}${r.evidence ? ` (evidence: ${r.evidence})` : ''}\n`,
      );
      process.exitCode = 1;
      return;
    }
    case 'user add':
      return user('add');
    case 'user list':
      return user('list');
    case 'verify-db': {
      expectArgs(1, 'verify-db takes no argument, only options (--db, --public-key, --config, --data-dir)');
      if (db === 'sqlite::memory:')
        die('--db: verify-db reads an existing database; sqlite::memory: is a new, empty one');
      const url = existingDb(db);
      const keys = verifyKeys();
      const store = openForCheck(url);
      try {
        // Read only: a database this version has not migrated is refused, not migrated. (The
        // first query: a held file is SQLITE_BUSY here, exit 3.)
        const pending = await pendingMigrations(store).catch((e: unknown) => {
          // A read-only reader of a WAL file makes SQLite's WAL index (`-shm`) beside it.
          if ((e as { code?: unknown } | null)?.code === 'SQLITE_READONLY_DIRECTORY')
            return die(
              `--db: SQLite cannot make its WAL index beside ${url.slice('sqlite:'.length)} (the directory is read-only): copy the file, with its -wal if there is one, somewhere writable and verify the copy`,
            );
          throw e;
        });
        if (pending.length)
          die(
            `--db: the database is not migrated to this version (pending: ${pending.join(', ')}): run assent-server migrate first`,
          );
        const r = await checkStore(store, { publicKeys: keys, retentionDays: config.retentionDays });
        if (!r.problems.length && r.receipts === 0) {
          process.stdout.write('FAILED: no receipts in the database\n');
          process.exitCode = 1;
          return;
        }
        if (!r.problems.length) {
          process.stdout.write(
            `ok: ${r.receipts} receipts (${r.purged} purged${r.erased ? `, ${r.erased} of them by an erasure the audit log records` : ''}) in ${r.sites} site chain(s) verify, with the ${r.policies} polic${r.policies === 1 ? 'y' : 'ies'} they name${
              r.legacy ? ` (${r.legacy} receipt(s) of schema v1 name no published policy)` : ''
            }; columns agree with the signed receipts, consent_latest (${r.consents} consents) with their latest receipts, chain_heads with the chains\n`,
          );
          return;
        }
        for (const p of r.problems) process.stdout.write(`BROKEN ${p.where}: ${p.reason}\n`);
        process.stdout.write(
          r.stopped
            ? `FAILED: stopped at ${r.problems.length} problems, after ${r.receipts} receipts read\n`
            : `FAILED: ${r.problems.length} problem(s) in ${r.receipts} receipts\n`,
        );
        process.exitCode = 1;
      } finally {
        await store.close();
      }
      return;
    }
    case 'verify-audit': {
      const path =
        positionals[1] ??
        die('verify-audit: which file? assent-server verify-audit audit.ndjson --public-key key.pem');
      expectArgs(
        2,
        'verify-audit checks one file: assent-server verify-audit audit.ndjson --public-key key.pem',
      );
      const keys = publicKeys('verify-audit');
      const r = await verifyAudit(readLines(path), keys);
      if (r.ok && r.entries === 0) {
        process.stdout.write(`FAILED: no audit entries in ${path}\n`);
        process.exitCode = 1;
        return;
      }
      if (r.ok) {
        process.stdout.write(`ok: ${r.entries} audit entries verify; head ${r.head}\n`);
        return;
      }
      process.stdout.write(
        `BROKEN at line ${r.line}${r.seq !== null ? ` (seq ${r.seq})` : ''}: ${r.reason}\n`,
      );
      process.exitCode = 1;
      return;
    }
  }
};

/** What to do instead of a command a running server's SQLite file stops. */
const INSTEAD: Partial<Record<Command, string>> = {
  export: 'stop it first, or export through it (GET /v1/admin/receipts)',
  migrate: 'stop it first (it migrated the database when it started)',
  'user add': "stop it first, or add the user through it (the console's Users page, or POST /v1/admin/users)",
  'user list':
    "stop it first, or list the users through it (the console's Users page, or GET /v1/admin/users)",
  'verify-db':
    'stop it first (verify-db reads the file itself), or check an export through it: GET /v1/admin/receipts, then assent-server verify',
};

main().catch((e: unknown) => {
  // A SQLite file a running server holds (it opens it exclusively) is said so, not "database is
  // locked", and is exit 3 for every command, as for start (it was 1 for migrate, export, user).
  const err = isHeldElsewhere(e)
    ? new ReadOnlyError(
        `the database ${config.db} is held by a running assent-server (it opens its SQLite file exclusively): ${
          (command && INSTEAD[command]) ?? 'stop it first'
        }`,
      )
    : e;
  process.stderr.write(`assent-server: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(
    err instanceof UsageError ? EXIT.config : err instanceof ReadOnlyError ? EXIT.readOnly : EXIT.failure,
  );
});
