import { join, resolve } from 'node:path';
import { type Controller, controllerProblem } from '@assent/core';
import { normalizeOrigin, sitePolicies } from './context.js';
import {
  adminOriginOf,
  HEADER_NAME_RE,
  LOG_LEVELS,
  OPTION_DEFAULTS,
  privateNetworksOf,
  RANGES,
  tokenProblem,
  trustProxyOf,
} from './options.js';
import { isPostgresUrl } from './store/open.js';
import { parseCosignerKey } from './tlog/note.js';

/**
 * The CLI's configuration: one schema for the config file, the environment and the flags
 * (flags win over the environment, which wins over the file). Every key is checked, types
 * and ranges, and an unknown key in the file is an error: a mistake stops the server with
 * exit code 2 and a message naming the key, before anything is opened or listens. (A bare
 * `Number()` used to turn ASSENT_RETENTION_DAYS=abc into a server whose purge never ran.)
 */
export interface CliConfig {
  readonly db: string;
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly sites: Readonly<Record<string, unknown>>;
  readonly apiKeys: Readonly<Record<string, string>>;
  /** Per-site controller (ISO 27560 and Kantara exports): origin → name, contact, email, address, phone. */
  readonly controllers: Readonly<Record<string, Controller>>;
  /** Cosigner verifier keys of the log's witnesses (`assent-server witness-key` prints one). */
  readonly witnesses: readonly string[];
  readonly adminToken: string | undefined;
  /** The only origin the admin console answers on (its own host); none: every origin. */
  readonly adminOrigin: string | undefined;
  /** Bearer token that reads GET /metrics only (the admin token reads it too). */
  readonly metricsToken: string | undefined;
  readonly regionHeader: string | undefined;
  /** true, false, a number of hops, or proxy addresses and CIDR ranges (checked: options.ts). */
  readonly trustProxy: boolean | number | string[];
  readonly logLevel: string;
  readonly retentionDays: number;
  readonly rateLimit: false | { readonly max: number; readonly timeWindow: number };
  /** Webhook receivers off the public internet: none (false), any (true), or these addresses and ranges. */
  readonly webhookPrivateNetworks: boolean | readonly string[];
}

/** Exit codes of `assent-server`, documented in its README. */
export const EXIT = {
  /** A failure while running (a broken export for `verify`). */
  failure: 1,
  /** A configuration or usage mistake: fix the named key; restarting will not help. */
  config: 2,
  /**
   * The database cannot be written (read-only or immutable file, read-only PostgreSQL), or its
   * SQLite file is held by a running server: every command that opens the database says so.
   */
  readOnly: 3,
} as const;

/**
 * Every command's options, exactly (`--help` is every command's): any other is exit 2 naming
 * it. A known option of another command used to be ignored silently: `user add --site X`
 * (the option is `--sites`) made an editor of every site, `keygen --out DIR` wrote into the
 * data dir. The README's CLI block and `--help` show the same lists (a test compares them).
 */
export const COMMAND_OPTIONS = {
  start: ['config', 'db', 'port', 'host', 'data-dir'],
  migrate: ['config', 'db', 'data-dir'],
  keygen: ['config', 'data-dir'],
  verify: ['public-key'],
  export: ['config', 'db', 'data-dir', 'site', 'from', 'to', 'format', 'out'],
  'verify-receipt': ['public-key', 'witness'],
  witness: ['state', 'public-key', 'origin', 'key', 'name', 'submit'],
  'witness-key': ['name', 'out'],
  'user add': ['config', 'db', 'data-dir', 'email', 'role', 'sites'],
  'user list': ['config', 'db', 'data-dir'],
  'verify-audit': ['public-key'],
  'verify-db': ['config', 'db', 'data-dir', 'public-key'],
} as const satisfies Record<string, readonly string[]>;

export type Command = keyof typeof COMMAND_OPTIONS;

/**
 * Options one might give a command for another it takes, beyond the rule `optionProblem`
 * applies to all (singular for plural and back, `key` for `public-key`): command → given → meant.
 */
const MEANT: Partial<Record<Command, Readonly<Record<string, string>>>> = {
  // The keys go to the data dir; --out is witness-key's file.
  keygen: { out: 'data-dir' },
};

/**
 * Why `option` does not belong to `cmd`, or null when it does: names the option, the one
 * probably meant when there is an obvious near miss (`--site` for `--sites`), the commands
 * whose option it is, and the options `cmd` takes.
 */
export const optionProblem = (cmd: Command, option: string): string | null => {
  const takes: readonly string[] = COMMAND_OPTIONS[cmd];
  if (option === 'help' || takes.includes(option)) return null;
  const meant =
    MEANT[cmd]?.[option] ??
    takes.find((t) => t === `${option}s` || option === `${t}s` || t.endsWith(`-${option}`));
  const owners = Object.entries(COMMAND_OPTIONS)
    .filter(([, o]) => (o as readonly string[]).includes(option))
    .map(([c]) => c);
  const list = takes.map((t) => `--${t}`).join(', ');
  return `--${option} is not an option of ${cmd}${meant ? `: did you mean --${meant}?` : ''} (${
    owners.length ? `it is an option of ${owners.join(', ')}; ` : ''
  }${cmd} takes ${list})`;
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A check: the value or an error message (what it must be). */
type Check = (v: unknown) => { ok: true; value: unknown } | { ok: false; message: string };
const ok = (value: unknown) => ({ ok: true as const, value });
const bad = (message: string) => ({ ok: false as const, message });

const int =
  (min: number, max: number, what: string): Check =>
  (v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
      ? ok(v)
      : bad(`must be ${what} from ${min} to ${max}`);

const text =
  (what: string, re?: RegExp): Check =>
  (v) =>
    typeof v === 'string' && v.length > 0 && (!re || re.test(v)) ? ok(v) : bad(`must be ${what}`);

const token: Check = (v) => {
  const problem = tokenProblem(v);
  return problem ? bad(problem) : ok(v);
};

const dbUrl: Check = (v) =>
  typeof v === 'string' && (isPostgresUrl(v) || /^sqlite:.+/.test(v))
    ? ok(v)
    : bad('must be sqlite:path, sqlite::memory: or postgres://…');

/** Checked now (it was taken as given, and Fastify failed on it after the database opened). */
const trustProxy: Check = (v) => {
  const r = trustProxyOf(v);
  return r.ok ? ok(r.value) : bad(r.message);
};

const rateLimit: Check = (v) => {
  if (v === false) return ok(false);
  if (
    isObj(v) &&
    Object.keys(v).every((k) => k === 'max' || k === 'timeWindow') &&
    int(...RANGES.rateLimitMax, '')(v.max).ok &&
    int(...RANGES.rateLimitWindowMs, '')(v.timeWindow).ok
  )
    return ok({ max: v.max, timeWindow: v.timeWindow });
  return bad(
    `must be false or {"max": requests from ${RANGES.rateLimitMax.join(' to ')}, "timeWindow": milliseconds from ${RANGES.rateLimitWindowMs.join(' to ')}}`,
  );
};

const privateNetworks: Check = (v) => {
  const r = privateNetworksOf(v);
  return r.ok ? ok(r.value) : bad(r.message);
};

const record: Check = (v) => (isObj(v) ? ok(v) : bad('must be an object'));

const apiKeys: Check = (v) => {
  if (!isObj(v)) return bad('must be an object: site origin → key');
  for (const [o, k] of Object.entries(v)) {
    const problem = tokenProblem(k);
    if (problem) return bad(`["${o}"] ${problem}`);
  }
  // Two spellings of one site would keep one key silently (createServer refuses them too).
  const seen = new Map<string, string>();
  for (const o of Object.keys(v)) {
    const was = seen.get(normalizeOrigin(o));
    if (was !== undefined) return bad(`"${was}" and "${o}" are the same site`);
    seen.set(normalizeOrigin(o), o);
  }
  return ok(Object.fromEntries(Object.entries(v).map(([o, k]) => [normalizeOrigin(o), k])));
};

const controllers: Check = (v) => {
  if (!isObj(v)) return bad('must be an object: site origin → {name, contact, email, address, phone}');
  for (const [o, c] of Object.entries(v)) {
    const problem = controllerProblem(c);
    if (problem) return bad(`["${o}"].${problem}`);
  }
  return ok(Object.fromEntries(Object.entries(v).map(([o, c]) => [normalizeOrigin(o), c])));
};

/** How an environment variable or a flag (always text) becomes the value the file would hold. */
const asInt = (s: string): unknown => (/^\d{1,10}$/.test(s) ? Number(s) : s);
const asBoolOrList = (s: string): unknown =>
  s === 'true' ? true : s === 'false' ? false : /^\d+$/.test(s.trim()) ? Number(s) : s;
const asRate = (s: string): unknown =>
  s === 'off' ? false : /^\d{1,7}$/.test(s) ? { max: Number(s), timeWindow: 60_000 } : { max: s };

interface Key {
  readonly check: Check;
  readonly env?: string;
  readonly flag?: string;
  /** Text (environment, flag) to a value; identity when absent. */
  readonly fromText?: (s: string) => unknown;
  /** What an environment variable or flag must look like, when it differs from the file's rule. */
  readonly textRule?: string;
  /** A secret: an error names the key and what is wrong, never the value (it goes to logs). */
  readonly secret?: true;
}

/** Every key, once: file key → its rule, its environment variable and its flag. */
export const KEYS: Readonly<Record<keyof CliConfig, Key>> = {
  db: { check: dbUrl, env: 'ASSENT_DB', flag: 'db' },
  host: { check: text('a host name or address', /^[\w.:-]+$/), env: 'ASSENT_HOST', flag: 'host' },
  port: {
    check: int(0, 65535, 'a port number'),
    env: 'ASSENT_PORT',
    flag: 'port',
    fromText: asInt,
  },
  dataDir: { check: text('a directory'), env: 'ASSENT_DATA_DIR', flag: 'data-dir' },
  sites: { check: record },
  apiKeys: { check: apiKeys, secret: true },
  controllers: { check: controllers },
  witnesses: {
    check: (v) => {
      if (!Array.isArray(v)) return bad('must be a list of cosigner verifier keys');
      for (const [i, k] of v.entries()) {
        const w = typeof k === 'string' ? parseCosignerKey(k) : 'must be text';
        if (typeof w === 'string') return bad(`[${i}] ${w}`);
      }
      return ok(v);
    },
  },
  adminToken: { check: token, secret: true, env: 'ASSENT_ADMIN_TOKEN' },
  adminOrigin: {
    check: (v) => {
      const r = adminOriginOf(v);
      return r.ok ? ok(r.value) : bad(r.message);
    },
    env: 'ASSENT_ADMIN_ORIGIN',
  },
  metricsToken: { check: token, secret: true, env: 'ASSENT_METRICS_TOKEN' },
  regionHeader: {
    check: text('an HTTP header name such as cf-ipcountry', HEADER_NAME_RE),
    env: 'ASSENT_REGION_HEADER',
  },
  trustProxy: { check: trustProxy, env: 'ASSENT_TRUST_PROXY', fromText: asBoolOrList },
  logLevel: {
    check: (v) =>
      typeof v === 'string' && (LOG_LEVELS as readonly string[]).includes(v)
        ? ok(v)
        : bad(`must be one of ${LOG_LEVELS.join(', ')}`),
    env: 'ASSENT_LOG_LEVEL',
  },
  retentionDays: {
    check: int(...RANGES.retentionDays, 'a whole number of days'),
    env: 'ASSENT_RETENTION_DAYS',
    fromText: asInt,
  },
  webhookPrivateNetworks: {
    check: privateNetworks,
    env: 'ASSENT_WEBHOOK_PRIVATE_NETWORKS',
    fromText: (s) => (s === 'true' ? true : s === 'false' ? false : s),
  },
  rateLimit: {
    check: rateLimit,
    env: 'ASSENT_RATE_LIMIT',
    fromText: asRate,
    textRule: 'must be off or requests per minute, a whole number from 1 to 1000000',
  },
};

const DEFAULTS = {
  host: '127.0.0.1',
  port: 8787,
  dataDir: '.data/assent-server',
  sites: {},
  apiKeys: {},
  controllers: {},
  witnesses: [],
  trustProxy: false,
  logLevel: 'info',
  retentionDays: OPTION_DEFAULTS.retentionDays,
  rateLimit: OPTION_DEFAULTS.rateLimit,
  webhookPrivateNetworks: false,
};

/** The file's keys besides the configuration's: comments and a schema reference are allowed. */
const IGNORED = new Set(['$schema', 'comment']);

/**
 * The configuration from its three sources, or every mistake in them, each naming its key as
 * the operator wrote it: `retentionDays` (in `file`), `ASSENT_RETENTION_DAYS`, `--port`.
 */
export const resolveConfig = (
  file: unknown,
  env: Readonly<Record<string, string | undefined>>,
  flags: Readonly<Record<string, string | undefined>>,
  fileName = 'config file',
): { config: CliConfig; errors: string[] } => {
  const errors: string[] = [];
  const values: Obj = { ...DEFAULTS };
  if (file !== undefined && !isObj(file)) errors.push(`${fileName}: must be a JSON object`);
  const fileObj = isObj(file) ? file : {};
  for (const k of Object.keys(fileObj))
    if (!(k in KEYS) && !IGNORED.has(k))
      errors.push(`${fileName}: ${k}: is not a known key (known: ${Object.keys(KEYS).join(', ')})`);
  for (const [name, key] of Object.entries(KEYS)) {
    const sources: [string, unknown, boolean][] = [];
    if (name in fileObj) sources.push([`${fileName}: ${name}`, fileObj[name], false]);
    if (key.env && env[key.env] !== undefined) sources.push([key.env, env[key.env], true]);
    if (key.flag && flags[key.flag] !== undefined) sources.push([`--${key.flag}`, flags[key.flag], true]);
    // Each source is checked, not only the winning one: a mistake is a mistake wherever it is.
    for (const [where, raw, isText] of sources) {
      const v = isText && key.fromText ? key.fromText(raw as string) : raw;
      const r = key.check(v);
      if (r.ok) values[name] = r.value;
      else
        errors.push(
          `${where}: ${isText && key.textRule ? key.textRule : r.message}${
            key.secret ? '' : `, got ${JSON.stringify(raw)}`
          }`,
        );
    }
  }
  // The sites' policies are checked now too (they were a start-up crash, exit 1).
  try {
    sitePolicies(values.sites as Obj);
  } catch (e) {
    errors.push(`${fileName}: ${(e as Error).message}`);
  }
  const dataDir = resolve(values.dataDir as string);
  const config = {
    ...values,
    dataDir,
    db: (values.db as string | undefined) ?? `sqlite:${join(dataDir, 'receipts.db')}`,
  } as unknown as CliConfig;
  return { config, errors };
};
