import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { canonicalReceipt, type Receipt } from '@assent/core';
import type { Sealer } from './store/types.js';

/** Signs receipts with Ed25519. The signature covers the SHA-256 of the canonical JSON. */
export interface Signer extends Sealer {
  /** Short fingerprint of the public key, stored in every receipt. */
  readonly kid: string;
  readonly publicKeyPem: string;
  /** Releases what the signer holds (nothing today; kept so a signer may use a thread or an HSM). */
  close(): Promise<void>;
}

/** SHA-256 (hex) of a receipt's canonical JSON: what `prev` of the next receipt holds. */
export const receiptHash = (r: Receipt): string =>
  createHash('sha256').update(canonicalReceipt(r)).digest('hex');

/** The first 16 hex digits of the SHA-256 of the public key (SPKI DER). */
export const keyId = (publicKey: KeyObject): string =>
  createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);

/** A new Ed25519 key pair as PEM (PKCS#8 private, SPKI public). */
export const generateKeys = (): { privateKeyPem: string; publicKeyPem: string } => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
};

/**
 * `digest` and `sign` run on the calling thread (the PostgreSQL path). On SQLite the store
 * signs on its writer thread with `key` instead, in the same transaction as the insert: signing
 * alone on a thread of its own was measured no faster, because the fsync still blocked the
 * request thread; the writer thread moves both.
 */
export const createSigner = (privateKey: KeyObject | string): Signer => {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('the signing key must be an Ed25519 private key');
  const pub = createPublicKey(key);
  return {
    kid: keyId(pub),
    publicKeyPem: pub.export({ type: 'spki', format: 'pem' }).toString(),
    digest(r) {
      const body = canonicalReceipt(r);
      return { hash: createHash('sha256').update(body).digest('hex'), body };
    },
    async sign(hashes) {
      return hashes.map((h) => sign(null, Buffer.from(h, 'hex'), key).toString('base64url'));
    },
    // Lets the SQLite writer thread sign with the same key (store/sqlite-writer.mjs).
    key,
    async close() {},
  };
};

/** Checks an Ed25519 signature over a receipt hash. */
export const verifyHashSignature = (publicKey: KeyObject, hash: string, sig: string): boolean => {
  try {
    return verify(null, Buffer.from(hash, 'hex'), publicKey, Buffer.from(sig, 'base64url'));
  } catch {
    return false;
  }
};
