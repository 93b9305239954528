import { randomBytes } from 'node:crypto';
import { hashPassword, type PasswordCost, passwordProblem } from './passwords.js';
import { ROLES, type Role, type User } from './store/admin-store.js';
import type { Store } from './store/types.js';
import { unsafeText } from './text.js';

const EMAIL_RE = /^[^\s@]+@[^\s@]+$/;

/** Why `email` cannot name a user, or null. */
export const emailProblem = (email: string): string | null =>
  email.length > 254 || !EMAIL_RE.test(email) || unsafeText(email)
    ? 'must be an email address such as dpo@news.example'
    : null;

export const roleProblem = (role: string): string | null =>
  (ROLES as readonly string[]).includes(role) ? null : `must be one of ${ROLES.join(', ')}`;

export type Refused = { readonly ok: false; readonly field: string; readonly message: string };

/**
 * Adds a user: the one way both the CLI (`assent-server user add`) and the admin API do it.
 * `cost` is for tests only (a cheaper scrypt); stored hashes carry their own parameters.
 */
export const addUser = async (
  store: Store,
  input: { email: string; role: string; password: string },
  cost?: PasswordCost,
): Promise<{ ok: true; user: User } | Refused> => {
  const email = input.email.trim().toLowerCase();
  const bad = (
    [
      ['email', emailProblem(email)],
      ['role', roleProblem(input.role)],
      ['password', passwordProblem(input.password)],
    ] as const
  ).find(([, p]) => p !== null);
  if (bad) return { ok: false, field: bad[0], message: bad[1]! };
  const now = new Date().toISOString();
  const user = {
    id: randomBytes(9).toString('base64url'),
    email,
    role: input.role as Role,
    created_at: now,
    updated_at: now,
  };
  const added = await store.admin.addUser({ ...user, password: await hashPassword(input.password, cost) });
  if (!added) return { ok: false, field: 'email', message: `${email} is already a user` };
  return { ok: true, user };
};
