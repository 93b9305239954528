import { createHash, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { MAX_TREE_SIZE, parseTreeSize } from './limits.js';

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

/** signed-note's signature types: a log's Ed25519 signature, a witness's cosignature/v1. */
const ED25519 = 0x01;
const COSIGNATURE_V1 = 0x04;
type KeyType = typeof ED25519 | typeof COSIGNATURE_V1;

/** The first 4 bytes of SHA-256(name ‖ 0x0A ‖ type ‖ the 32-byte public key). */
const keyId = (name: string, type: KeyType, pub: KeyObject): Buffer =>
  createHash('sha256')
    .update(Buffer.concat([Buffer.from(`${name}\n`), Buffer.of(type), rawKey(pub)]))
    .digest()
    .subarray(0, 4);

/** A signed-note verifier key: `name+hex(key ID)+base64(type ‖ key)`. */
const vkey = (name: string, type: KeyType, pub: KeyObject): string =>
  `${name}+${keyId(name, type, pub).toString('hex')}+${Buffer.concat([Buffer.of(type), rawKey(pub)]).toString('base64')}`;

/** The signed-note verifier key of `pub` under `name`. */
export const verifierKey = (name: string, pub: KeyObject): string => vkey(name, ED25519, pub);

const NO_SIGNATURE_BLOCK = 'the checkpoint has no signature block (an empty line, then signatures)';

/**
 * A note's signed text (each line ending in a newline) and its signature lines; null when it
 * has no empty line. Such a note has no text that was signed: reading it as an empty text
 * would let a signature over nothing pass for one over the note.
 */
const splitNote = (note: string): { readonly body: string; readonly signatures: string[] } | null => {
  const cut = note.indexOf('\n\n');
  if (cut < 0) return null;
  return {
    body: note.slice(0, cut + 1),
    signatures: note
      .slice(cut + 2)
      .split('\n')
      .filter(Boolean),
  };
};

/** The signature lines of a note (none when it has no signature block). */
export const signatureLines = (note: string): string[] => splitNote(note)?.signatures ?? [];

/** A signature line, `— <key name> base64(key ID ‖ signature)`: the name and the decoded bytes. */
const parseSignatureLine = (line: string): { readonly name: string; readonly raw: Buffer } | null => {
  const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
  return m ? { name: m[1]!, raw: Buffer.from(m[2]!, 'base64') } : null;
};

/** A checkpoint's text (the part that is signed). */
export const checkpointBody = (origin: string, size: number, root: Uint8Array): string =>
  `${origin}\n${size}\n${Buffer.from(root).toString('base64')}\n`;

/** Signs `body` (ending in a newline) as a note under `name`: the note as served. */
export const signNote = (body: string, name: string, key: KeyObject): string => {
  const pub = createPublicKey(key);
  const sig = sign(null, Buffer.from(body), key);
  return `${body}\n\u2014 ${name} ${Buffer.concat([keyId(name, ED25519, pub), sig]).toString('base64')}\n`;
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
  const parts = splitNote(note);
  if (!parts) return bad(NO_SIGNATURE_BLOCK);
  const id = keyId(name, ED25519, pub);
  const signed = parts.signatures.some((line) => {
    const s = parseSignatureLine(line);
    if (!s || s.name !== name || s.raw.length !== 68 || !s.raw.subarray(0, 4).equals(id)) return false;
    try {
      return verify(null, Buffer.from(parts.body), pub, s.raw.subarray(4));
    } catch {
      return false; // not a signature of this key
    }
  });
  if (!signed) return bad(`the checkpoint carries no valid signature by ${name} with the given public key`);
  const [origin, sizeText, root] = parts.body.split('\n');
  if (origin !== name) return bad(`the checkpoint is of log "${origin}", not "${name}"`);
  const size = parseTreeSize(sizeText ?? '');
  if (size === null)
    return bad(`the checkpoint has no valid tree size (a whole number at most ${MAX_TREE_SIZE})`);
  const rootBytes = Buffer.from(root ?? '', 'base64');
  if (rootBytes.length !== 32 || rootBytes.toString('base64') !== root)
    return bad('the checkpoint has no valid root hash');
  return { ok: true, checkpoint: { origin, size, root: new Uint8Array(rootBytes) } };
};

/**
 * Cosignatures (https://c2sp.org/tlog-cosignature, `cosignature/v1`, Ed25519): a witness's
 * statement that, at `time`, the checkpoint is the largest consistent tree head it has seen of
 * the log. A note signature line whose key ID uses the type byte 0x04, and whose signature is
 * `u64 time (big-endian) ‖ Ed25519 signature` over
 * `cosignature/v1\ntime <time>\n` followed by the checkpoint's body.
 */
const cosignedMessage = (body: string, time: number) => `cosignature/v1\ntime ${time}\n${body}`;

/** The cosigner's verifier key (signed-note vkey with type 0x04), what a log's operator configures. */
export const cosignerVerifierKey = (name: string, pub: KeyObject): string => vkey(name, COSIGNATURE_V1, pub);

/** A cosignature line (`— name base64(…)`) of the checkpoint `note`, at `time` (seconds). */
export const cosignLine = (note: string, name: string, key: KeyObject, time: number): string => {
  const parts = splitNote(note);
  if (!parts) throw new Error(`${NO_SIGNATURE_BLOCK}: nothing to cosign`);
  const ts = Buffer.alloc(8);
  ts.writeBigUInt64BE(BigInt(time));
  const sig = sign(null, Buffer.from(cosignedMessage(parts.body, time)), key);
  return `\u2014 ${name} ${Buffer.concat([keyId(name, COSIGNATURE_V1, createPublicKey(key)), ts, sig]).toString('base64')}`;
};

/** The bytes of a cosignature/v1 line: key ID (4), timestamp (8), Ed25519 signature (64). */
const COSIGNATURE_BYTES = 76;

/** The timestamp (seconds) a cosignature line states, unverified; null when it is not one. */
export const cosignatureTime = (line: string): number | null => {
  const s = parseSignatureLine(line);
  return s && s.raw.length === COSIGNATURE_BYTES ? Number(s.raw.readBigUInt64BE(4)) : null;
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
  if (raw.length !== 33 || raw[0] !== COSIGNATURE_V1)
    return 'must be an Ed25519 cosignature/v1 key (type 0x04 and 32 key bytes)';
  const pub = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: raw.subarray(1).toString('base64url') },
    format: 'jwk',
  });
  if (keyId(m[1]!, COSIGNATURE_V1, pub).toString('hex') !== m[2])
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
  const s = parseSignatureLine(line);
  if (!s) return { ok: false, reason: 'is not a note signature line: "— <name> <base64>"' };
  const named = cosigners.filter((x) => x.name === s.name);
  if (!named.length)
    return { ok: false, reason: `names ${s.name}, which is not a witness this log accepts (witnesses)` };
  // As signed-note matches a signature to a key: by name and key ID. Two keys under one name
  // (a witness rolling its key over, both configured meanwhile) each verify their own.
  const id = s.raw.subarray(0, 4);
  const c =
    s.raw.length === COSIGNATURE_BYTES
      ? named.find((x) => id.equals(keyId(x.name, COSIGNATURE_V1, x.pub)))
      : undefined;
  if (!c) return { ok: false, reason: `is not a cosignature/v1 by a key of ${s.name} that is accepted here` };
  const time = s.raw.readBigUInt64BE(4);
  if (time >= 2n ** 63n) return { ok: false, reason: 'has a timestamp past 2^63 - 1' };
  const parts = splitNote(note);
  if (!parts) return { ok: false, reason: NO_SIGNATURE_BLOCK };
  let good = false;
  try {
    good = verify(null, Buffer.from(cosignedMessage(parts.body, Number(time))), c.pub, s.raw.subarray(12));
  } catch {
    good = false;
  }
  return good
    ? { ok: true, name: c.name, time: Number(time) }
    : { ok: false, reason: `does not verify with ${c.name}'s key over this checkpoint` };
};
