import { createHash, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';

/**
 * Checkpoints in the C2SP formats (https://c2sp.org/tlog-checkpoint, https://c2sp.org/signed-note),
 * so tools made for Certificate-Transparency-style logs read Assent's:
 *
 * ```
 * news.example/assent-log          ← origin: names the log (one per site)
 * 1204                             ← tree size
 * 3pXS…=                           ← root hash, base64
 *                                  ← empty line, then one line per signature:
 * — news.example/assent-log Ab3…=  ← key name, base64(4-byte key ID ‖ Ed25519 signature)
 * ```
 *
 * The signature covers the text above the empty line (each line ending in a newline). The key
 * ID is the first 4 bytes of SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ the 32-byte public key), 0x01
 * being signed-note's Ed25519 type; a verifier key is written `name+hex(key ID)+base64(0x01 ‖ key)`.
 */

/** The origin line (and key name) of a site's log: the site without `https://`, then `/assent-log`. */
export const logOrigin = (site: string): string =>
  `${site.replace(/^https:\/\//, '').replace(/^http:\/\//, 'http:')}/assent-log`;

/** The 32 raw bytes of an Ed25519 public key. */
const rawKey = (pub: KeyObject): Buffer => Buffer.from(pub.export({ format: 'jwk' }).x!, 'base64url');

const keyId = (name: string, pub: KeyObject): Buffer =>
  createHash('sha256')
    .update(Buffer.concat([Buffer.from(`${name}\n`), Buffer.of(1), rawKey(pub)]))
    .digest()
    .subarray(0, 4);

/** The signed-note verifier key of `pub` under `name`. */
export const verifierKey = (name: string, pub: KeyObject): string =>
  `${name}+${keyId(name, pub).toString('hex')}+${Buffer.concat([Buffer.of(1), rawKey(pub)]).toString('base64')}`;

/** A checkpoint's text (the part that is signed). */
export const checkpointBody = (origin: string, size: number, root: Uint8Array): string =>
  `${origin}\n${size}\n${Buffer.from(root).toString('base64')}\n`;

/** Signs `body` (ending in a newline) as a note under `name`: the note as served. */
export const signNote = (body: string, name: string, key: KeyObject): string => {
  const pub = createPublicKey(key);
  const sig = sign(null, Buffer.from(body), key);
  return `${body}\n\u2014 ${name} ${Buffer.concat([keyId(name, pub), sig]).toString('base64')}\n`;
};

export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly root: Uint8Array;
}

export type NoteCheck =
  | { readonly ok: true; readonly checkpoint: Checkpoint }
  | { readonly ok: false; readonly reason: string };

/**
 * Checks a signed checkpoint: a signature by `pub` under the key name `name`, over a
 * well-formed checkpoint whose origin is `name`. Never throws.
 */
export const verifyCheckpoint = (note: string, name: string, pub: KeyObject): NoteCheck => {
  const bad = (reason: string): NoteCheck => ({ ok: false, reason });
  if (typeof note !== 'string') return bad('the checkpoint is not text');
  const cut = note.indexOf('\n\n');
  if (cut < 0) return bad('the checkpoint has no signature block (an empty line, then signatures)');
  const body = note.slice(0, cut + 1);
  const id = keyId(name, pub);
  let signed = false;
  for (const line of note.slice(cut + 2).split('\n')) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const raw = Buffer.from(m[2]!, 'base64');
    if (raw.length !== 68 || !raw.subarray(0, 4).equals(id)) continue;
    try {
      if (verify(null, Buffer.from(body), pub, raw.subarray(4))) signed = true;
    } catch {
      // not a signature of this key
    }
  }
  if (!signed) return bad(`the checkpoint carries no valid signature by ${name} with the given public key`);
  const lines = body.split('\n');
  const [origin, size, root] = lines;
  if (origin !== name) return bad(`the checkpoint is of log "${origin}", not "${name}"`);
  if (!size || !/^(0|[1-9][0-9]{0,15})$/.test(size)) return bad('the checkpoint has no valid tree size');
  const rootBytes = Buffer.from(root ?? '', 'base64');
  if (rootBytes.length !== 32 || rootBytes.toString('base64') !== root)
    return bad('the checkpoint has no valid root hash');
  return { ok: true, checkpoint: { origin, size: Number(size), root: new Uint8Array(rootBytes) } };
};

/**
 * Cosignatures (https://c2sp.org/tlog-cosignature, `cosignature/v1`, Ed25519): a witness's
 * statement that, at `time`, the checkpoint is the largest consistent tree head it has seen of
 * the log. A note signature line whose key ID uses the type byte 0x04, and whose signature is
 * `u64 time (big-endian) ‖ Ed25519 signature` over
 * `cosignature/v1\ntime <time>\n` followed by the checkpoint's body.
 */
const COSIGNATURE_TYPE = 4;

const cosignerKeyId = (name: string, pub: KeyObject): Buffer =>
  createHash('sha256')
    .update(Buffer.concat([Buffer.from(`${name}\n`), Buffer.of(COSIGNATURE_TYPE), rawKey(pub)]))
    .digest()
    .subarray(0, 4);

const cosignedMessage = (body: string, time: number) => `cosignature/v1\ntime ${time}\n${body}`;

/** The cosigner's verifier key (signed-note vkey with type 0x04), what a log's operator configures. */
export const cosignerVerifierKey = (name: string, pub: KeyObject): string =>
  `${name}+${cosignerKeyId(name, pub).toString('hex')}+${Buffer.concat([Buffer.of(COSIGNATURE_TYPE), rawKey(pub)]).toString('base64')}`;

/** A cosignature line (`— name base64(…)`) of the checkpoint `note`, at `time` (seconds). */
export const cosignLine = (note: string, name: string, key: KeyObject, time: number): string => {
  const body = note.slice(0, note.indexOf('\n\n') + 1);
  const ts = Buffer.alloc(8);
  ts.writeBigUInt64BE(BigInt(time));
  const sig = sign(null, Buffer.from(cosignedMessage(body, time)), key);
  return `\u2014 ${name} ${Buffer.concat([cosignerKeyId(name, createPublicKey(key)), ts, sig]).toString('base64')}`;
};

export interface Cosigner {
  readonly name: string;
  readonly pub: KeyObject;
}

/** A cosigner verifier key (`name+hex key ID+base64(0x04 ‖ key)`), or why it is not one. */
export const parseCosignerKey = (vkey: string): Cosigner | string => {
  const m = /^([^+\s]{1,200})\+([0-9a-f]{8})\+([A-Za-z0-9+/]+={0,2})$/.exec(vkey);
  if (!m)
    return 'must be a cosigner verifier key: name+keyid+base64 (as `assent-server witness-key` prints it)';
  const raw = Buffer.from(m[3]!, 'base64');
  if (raw.length !== 33 || raw[0] !== COSIGNATURE_TYPE)
    return 'must be an Ed25519 cosignature/v1 key (type 0x04 and 32 key bytes)';
  const pub = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: raw.subarray(1).toString('base64url') },
    format: 'jwk',
  });
  if (cosignerKeyId(m[1]!, pub).toString('hex') !== m[2])
    return 'has a key ID that does not match its name and key';
  return { name: m[1]!, pub };
};

/**
 * Checks a cosignature line over the checkpoint `note` (its body; other signature lines are
 * ignored) by one of `cosigners`. Never throws.
 */
export const verifyCosignature = (
  note: string,
  line: string,
  cosigners: readonly Cosigner[],
): { ok: true; name: string; time: number } | { ok: false; reason: string } => {
  const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
  if (!m) return { ok: false, reason: 'is not a note signature line: "— <name> <base64>"' };
  const c = cosigners.find((x) => x.name === m[1]);
  if (!c) return { ok: false, reason: `names ${m[1]}, which is not a witness this log accepts (witnesses)` };
  const raw = Buffer.from(m[2]!, 'base64');
  if (raw.length !== 76 || !raw.subarray(0, 4).equals(cosignerKeyId(c.name, c.pub)))
    return { ok: false, reason: `is not a cosignature/v1 of ${c.name}'s key` };
  const time = raw.readBigUInt64BE(4);
  if (time >= 2n ** 63n) return { ok: false, reason: 'has a timestamp past 2^63 - 1' };
  const body = note.slice(0, note.indexOf('\n\n') + 1);
  let good = false;
  try {
    good = verify(null, Buffer.from(cosignedMessage(body, Number(time))), c.pub, raw.subarray(12));
  } catch {
    good = false;
  }
  return good
    ? { ok: true, name: c.name, time: Number(time) }
    : { ok: false, reason: `does not verify with ${c.name}'s key over this checkpoint` };
};
