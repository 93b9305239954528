import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { canonicalReceipt, type Receipt } from '@assent/core';
import type { Sealer } from './store/types.js';

/** Signs receipts with Ed25519. The signature covers the SHA-256 of the canonical JSON. */
export interface Signer extends Sealer {
  /** Short fingerprint of the public key, stored in every receipt. */
  readonly kid: string;
  readonly publicKeyPem: string;
  /** Stops the signing thread, if any. */
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

/** Batches at least this large are signed on the worker thread; smaller ones inline (no hop). */
const WORKER_MIN_BATCH = 8;

// Plain CommonJS, evaluated in the worker: it only signs hashes with the key it was given.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createPrivateKey, sign } = require('node:crypto');
const key = createPrivateKey(workerData.pem);
parentPort.on('message', ({ id, hashes }) => {
  const sigs = hashes.map((h) => sign(null, Buffer.from(h, 'hex'), key).toString('base64url'));
  parentPort.postMessage({ id, sigs });
});
`;

/**
 * @param opts.thread sign large batches on a worker thread (default true): Ed25519 is the largest
 *   per-receipt cost, and on its own thread it overlaps the event loop's HTTP work.
 */
export const createSigner = (privateKey: KeyObject | string, opts: { thread?: boolean } = {}): Signer => {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('the signing key must be an Ed25519 private key');
  const pub = createPublicKey(key);
  const signOne = (h: string) => sign(null, Buffer.from(h, 'hex'), key).toString('base64url');
  let worker: Worker | undefined;
  const waiting = new Map<number, { resolve: (s: string[]) => void; reject: (e: unknown) => void }>();
  let nextId = 0;
  const thread = () => {
    if (!worker) {
      worker = new Worker(WORKER, {
        eval: true,
        workerData: { pem: key.export({ type: 'pkcs8', format: 'pem' }).toString() },
      });
      worker.on('message', ({ id, sigs }: { id: number; sigs: string[] }) => {
        waiting.get(id)?.resolve(sigs);
        waiting.delete(id);
        // Idle, the thread must not keep the process alive; busy, it must (see below).
        if (!waiting.size) worker?.unref();
      });
      worker.on('error', (e) => {
        for (const w of waiting.values()) w.reject(e);
        waiting.clear();
        worker = undefined;
      });
      // After the listeners: adding a 'message' listener refs the worker again.
      worker.unref();
    }
    return worker;
  };
  return {
    kid: keyId(pub),
    publicKeyPem: pub.export({ type: 'spki', format: 'pem' }).toString(),
    digest(r) {
      const body = canonicalReceipt(r);
      return { hash: createHash('sha256').update(body).digest('hex'), body };
    },
    async sign(hashes) {
      if (opts.thread === false || hashes.length < WORKER_MIN_BATCH) return hashes.map(signOne);
      const w = thread();
      const id = nextId++;
      return new Promise<string[]>((resolve, reject) => {
        // A pending signature keeps the process alive (a CLI export has no socket to do it).
        if (!waiting.size) w.ref();
        waiting.set(id, { resolve, reject });
        w.postMessage({ id, hashes });
      });
    },
    async close() {
      await worker?.terminate();
      worker = undefined;
    },
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
