import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

/**
 * The evidence pack: the report directory with a manifest of every file's SHA-256, signed
 * with an Ed25519 key the site owner keeps. Anyone with the public key can check that no file
 * was changed, added or removed since the scan (`assent-scan verify`, or openssl alone: see
 * the README).
 */

export const MANIFEST = 'manifest.json';
export const SIGNATURE = 'manifest.sig';

export interface Manifest {
  readonly tool: string;
  readonly createdAt: string;
  readonly algorithm: 'SHA-256';
  /** Every file of the pack but the manifest and its signature, sorted by path (forward slashes). */
  readonly files: readonly { readonly path: string; readonly sha256: string; readonly bytes: number }[];
}

const walk = async (dir: string, root = dir): Promise<string[]> => {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(full, root)));
    else if (e.isFile()) out.push(relative(root, full).split(sep).join('/'));
  }
  return out.sort();
};

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Which files of the directory the pack holds: those this run wrote, never an earlier run's. */
export interface SealOptions {
  /**
   * The files this run wrote (paths inside the directory, relative to it or absolute): only
   * they are hashed and signed. Each must exist and lie inside the directory.
   */
  readonly files?: readonly string[];
  /**
   * Without `files`: the files last written at or after this time (ms since the epoch) are
   * this run's; older ones (an earlier scan's screenshots, reports, HARs left in `--out`) are
   * left out, never signed as this scan's evidence. Default: when this process started
   * (`performance.timeOrigin`), as `assent-scan` runs one scan per process.
   */
  readonly since?: number;
}

/** This run's files in `dir` (sorted, forward slashes), as `opts` says which they are. */
const filesOfThisRun = async (dir: string, opts: SealOptions): Promise<string[]> => {
  if (opts.files) {
    const root = resolve(dir);
    const out = new Set<string>();
    for (const f of opts.files) {
      const rel = relative(root, resolve(root, f));
      if (!rel || rel.startsWith('..') || isAbsolute(rel))
        throw new Error(`${f} is not inside the evidence directory ${dir}`);
      out.add(rel.split(sep).join('/'));
    }
    return [...out].filter((p) => p !== MANIFEST && p !== SIGNATURE).sort();
  }
  const since = opts.since ?? performance.timeOrigin;
  const out: string[] = [];
  for (const path of await walk(dir)) {
    if (path === MANIFEST || path === SIGNATURE) continue;
    if ((await stat(join(dir, path))).mtimeMs >= since) out.push(path);
  }
  return out;
};

/**
 * Hashes the files this run wrote in `dir` (`opts`; never an old manifest and signature, nor
 * files an earlier run left there).
 */
export const buildManifest = async (dir: string, tool: string, opts: SealOptions = {}): Promise<Manifest> => {
  const files = [];
  for (const path of await filesOfThisRun(dir, opts)) {
    const b = await readFile(join(dir, path));
    files.push({ path, sha256: sha256(b), bytes: b.length });
  }
  return { tool, createdAt: new Date().toISOString(), algorithm: 'SHA-256', files };
};

/** An Ed25519 private key from PEM; a clear error for anything else. */
export const privateKey = (pem: string | Buffer): KeyObject => {
  const k = createPrivateKey(pem);
  if (k.asymmetricKeyType !== 'ed25519')
    throw new Error(`an Ed25519 key is needed, not ${k.asymmetricKeyType}`);
  return k;
};

export const publicKey = (pem: string | Buffer): KeyObject => {
  const k = createPublicKey(pem);
  if (k.asymmetricKeyType !== 'ed25519')
    throw new Error(`an Ed25519 key is needed, not ${k.asymmetricKeyType}`);
  return k;
};

/**
 * Writes `manifest.json` and, with a key, `manifest.sig`: the Ed25519 signature of the
 * manifest's exact bytes, base64. Returns the manifest. Only this run's files are listed
 * (`opts`): a file an earlier scan left in the directory is not signed, and `verifyEvidence`
 * names it as not in the pack. (A failed scan's pack is signed too: its report says it failed.)
 */
export const sealEvidence = async (
  dir: string,
  tool: string,
  key: KeyObject | null,
  opts: SealOptions = {},
): Promise<Manifest> => {
  const m = await buildManifest(dir, tool, opts);
  const bytes = Buffer.from(`${JSON.stringify(m, null, 2)}\n`);
  await writeFile(join(dir, MANIFEST), bytes);
  if (key) await writeFile(join(dir, SIGNATURE), `${sign(null, bytes, key).toString('base64')}\n`);
  return m;
};

/** What `assent-scan verify` found: nothing when the pack is intact. */
export const verifyEvidence = async (dir: string, key: KeyObject): Promise<string[]> => {
  const problems: string[] = [];
  let bytes: Buffer;
  let sig: Buffer;
  try {
    bytes = await readFile(join(dir, MANIFEST));
  } catch {
    return [`${dir} has no ${MANIFEST}: it is not an evidence pack (written by assent-scan --out DIR)`];
  }
  try {
    sig = Buffer.from((await readFile(join(dir, SIGNATURE), 'utf8')).trim(), 'base64');
  } catch {
    return [
      `${dir} has no ${SIGNATURE} (unsigned): there is no signature to check; a scan signs its pack with --sign-key FILE`,
    ];
  }
  if (!verify(null, bytes, key, sig)) problems.push(`${MANIFEST}: the signature does not match this key`);
  let m: Manifest;
  try {
    m = JSON.parse(bytes.toString('utf8')) as Manifest;
  } catch {
    return [...problems, `${MANIFEST} is not JSON`];
  }
  const listed = new Set(m.files.map((f) => f.path));
  for (const f of m.files) {
    let b: Buffer;
    try {
      b = await readFile(join(dir, f.path));
    } catch {
      problems.push(`${f.path}: missing`);
      continue;
    }
    if (sha256(b) !== f.sha256) problems.push(`${f.path}: changed since the scan (SHA-256 differs)`);
  }
  for (const path of await walk(dir))
    if (path !== MANIFEST && path !== SIGNATURE && !listed.has(path))
      problems.push(`${path}: added after the scan`);
  return problems;
};

/** A new Ed25519 key pair, PEM (PKCS#8 private, SPKI public), as openssl genpkey makes them. */
export const newKeyPair = (): { privatePem: string; publicPem: string } => {
  const { privateKey: k, publicKey: p } = generateKeyPairSync('ed25519');
  return {
    privatePem: k.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: p.export({ type: 'spki', format: 'pem' }).toString(),
  };
};
