import { randomBytes } from 'node:crypto';
import { normalizeOrigin } from './context.js';
import { hashPassword, type PasswordCost, passwordProblem } from './passwords.js';
import { type AuditRow, ROLES, type Role, storedSites, type User } from './store/admin-store.js';
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

/**
 * The sites a user is limited to, normalized, or why not: each must be a site this server
 * serves (`known`), and an owner has every site (a limited owner could lift the limit).
 * An empty list means every site.
 */
export const checkSites = async (
  role: string,
  sites: readonly string[],
  known: (site: string) => boolean | Promise<boolean>,
): Promise<{ ok: true; sites: readonly string[] } | { ok: false; message: string }> => {
  const out = [...new Set(sites.map(normalizeOrigin))].sort();
  if (out.length && role === 'owner')
    return { ok: false, message: 'an owner has every site: leave sites empty, or choose another role' };
  for (const s of out)
    if (!(await known(s))) return { ok: false, message: `${s} is not a site this server serves` };
  return { ok: true, sites: out };
};

export type Refused = { readonly ok: false; readonly field: string; readonly message: string };

/**
 * Adds a user: the one way both the CLI (`assent-server user add`) and the admin API do it.
 * `cost` is for tests only (a cheaper scrypt); stored hashes carry their own parameters.
 * `known` says which sites exist (a user limited to sites names only those).
 */
export const addUser = async (
  store: Store,
  input: { email: string; role: string; password: string; sites?: readonly string[] },
  cost?: PasswordCost,
  known: (site: string) => boolean | Promise<boolean> = () => false,
  /**
   * Records the addition: runs `insert` with the audit entry, so that the user and the entry
   * are written together or not at all (AuditLog.append's commit); whether the user was added.
   * By default nothing is recorded (tests' and seeds' users).
   */
  record: (user: User, insert: (audit?: AuditRow) => Promise<boolean>) => Promise<boolean> = (_, insert) =>
    insert(),
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
  const sites = await checkSites(input.role, input.sites ?? [], known);
  if (!sites.ok) return { ok: false, field: 'sites', message: sites.message };
  const now = new Date().toISOString();
  const user = {
    id: randomBytes(9).toString('base64url'),
    email,
    role: input.role as Role,
    sites: sites.sites,
    created_at: now,
    updated_at: now,
  };
  const row = { ...user, sites: storedSites(user.sites), password: await hashPassword(input.password, cost) };
  const added = await record(user, (audit) => store.admin.addUser(row, audit));
  if (!added) return { ok: false, field: 'email', message: `${email} is already a user` };
  return { ok: true, user };
};
