import { createHash, randomBytes } from 'node:crypto';

/**
 * A receipt's leaf in the consent log is a salted commitment: `SHA-256(salt ‖ canonical JSON)`,
 * salt 32 random bytes kept on the receipt's row. With the salt, anyone holding the receipt
 * can recompute its leaf; without it (retention or erasure delete it with the payload), the
 * leaf links to nothing, while the tree and every proof of the other leaves stay valid.
 *
 * The SQLite writer thread computes the same (store/sqlite-writer.mjs, which cannot import
 * TypeScript); `test/tlog.test.ts` ("signs a checkpoint whose root is the tree of the
 * receipts' salted commitments…", on SQLite and PostgreSQL) checks its leaves against this
 * function.
 */
export const SALT_BYTES = 32;

/** A new salt, hex. */
export const newSalt = (): string => randomBytes(SALT_BYTES).toString('hex');

/** The leaf data of an entry: SHA-256 of the salt's bytes, then the entry's UTF-8 (hex). */
export const commitment = (salt: string, entry: string): string =>
  createHash('sha256').update(Buffer.from(salt, 'hex')).update(entry).digest('hex');
