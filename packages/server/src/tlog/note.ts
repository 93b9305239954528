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
