import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * scrypt cost of new password hashes: N = 2^16, r = 8, p = 2, one of OWASP's equivalent
 * minimum settings (N·p = 2^17 with r = 8), using 64 MiB per hash (128·N·r bytes). Measured
 * on the 2-core build machine under load: about 1.5 s per hash; a memory-hard KDF is meant
 * to be slow, and sign-ins are few. Each stored hash carries its own parameters, so they can
 * be raised later without breaking the hashes already stored.
 */
export const PASSWORD_COST = { N: 2 ** 16, r: 8, p: 2 } as const;

export type PasswordCost = { readonly N: number; readonly r: number; readonly p: number };

/** Passwords shorter than this are refused: a long passphrase beats any composition rule. */
export const PASSWORD_MIN = 12;
/** Longer inputs are refused before hashing (scrypt's time grows with the input). */
export const PASSWORD_MAX = 1024;

const KEY_LEN = 32;

const derive = (password: string, salt: Buffer, c: PasswordCost): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const opts: ScryptOptions = { N: c.N, r: c.r, p: c.p, maxmem: 256 * c.N * c.r + 1024 * 1024 };
    scrypt(password.normalize('NFC'), salt, KEY_LEN, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });

/** Why `password` cannot be a password, or null when it can. */
export const passwordProblem = (password: string): string | null =>
  password.length < PASSWORD_MIN
    ? `must be at least ${PASSWORD_MIN} characters`
    : password.length > PASSWORD_MAX
      ? `must be at most ${PASSWORD_MAX} characters`
      : null;

/** `scrypt$N$r$p$salt$key` (salt and key base64url): what the users table stores. */
export const hashPassword = async (password: string, cost: PasswordCost = PASSWORD_COST): Promise<string> => {
  const salt = randomBytes(16);
  const key = await derive(password, salt, cost);
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64url'), key.toString('base64url')].join('$');
};

const parse = (stored: string) => {
  const [kind, N, r, p, salt, key] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !key) return null;
  return {
    cost: { N: Number(N), r: Number(r), p: Number(p) },
    salt: Buffer.from(salt, 'base64url'),
    key: Buffer.from(key, 'base64url'),
  };
};

/** A hash of a password nobody has: verified against when the email is unknown (same work, same time). */
let dummy: Promise<string> | undefined;

/**
 * Whether `password` is the one `stored` was made from, compared in constant time. With
 * `stored` null (no such user) it still derives a key at the default cost, so an unknown
 * email answers no faster than a wrong password.
 */
export const verifyPassword = async (password: string, stored: string | null): Promise<boolean> => {
  if (password.length > PASSWORD_MAX) return false;
  const s = parse(stored ?? (await (dummy ??= hashPassword(randomBytes(16).toString('hex')))));
  if (!s) return false;
  const key = await derive(password, s.salt, s.cost);
  return key.length === s.key.length && timingSafeEqual(key, s.key) && stored !== null;
};
