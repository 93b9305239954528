import type { FastifyInstance } from 'fastify';
import { audited } from '../admin-auth.js';
import type { Context } from '../context.js';
import { apiError, errorResponses } from '../errors.js';
import { hashPassword, PASSWORD_MAX, passwordProblem } from '../passwords.js';
import { emptyReply, errorReply } from '../schemas.js';
import { ROLES, type Role, storedSites } from '../store/admin-store.js';
import { addUser, checkSites } from '../users.js';
import { knownSite } from './admin-filter.js';

const userSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    email: { type: 'string' },
    role: { type: 'string' },
    sites: {
      type: 'array',
      items: { type: 'string' },
      description: 'The sites this user may see (origins); empty: every site',
    },
    created_at: { type: 'string' },
    updated_at: { type: 'string' },
  },
} as const;

// Users are the server's, not a site's: only owners, who see every site.
const OWNER = { allow: ['owner'] as const, scope: 'server' as const };
const sitesField = {
  type: 'array',
  maxItems: 100,
  items: { type: 'string', maxLength: 200 },
  description: 'Origins this user is limited to (editors and auditors); empty or absent: every site',
} as const;
const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', maxLength: 40 } },
} as const;

/**
 * People of the admin console: owners add, change and remove them. A role or password change
 * and a removal end the user's sessions at once. The last owner cannot be demoted or removed.
 */
export const userRoutes = (ctx: Context) => async (app: FastifyInstance) => {
  app.get(
    '/v1/admin/users',
    {
      config: OWNER,
      schema: {
        summary: "List the console's users",
        description: 'Everyone who can sign in, with their role.',
        tags: ['admin'],

        response: {
          200: {
            description: 'The users.',
            type: 'object',
            properties: { users: { type: 'array', items: userSchema } },
          },
          ...errorResponses,
        },
      },
    },
    async () => ({ users: await ctx.store.admin.users() }),
  );

  const known = (site: string) => knownSite(ctx, site);

  app.post<{ Body: { email: string; role: Role; password: string; sites?: string[] } }>(
    '/v1/admin/users',
    {
      config: OWNER,
      schema: {
        summary: 'Add a user',
        description:
          'Adds a person who can sign in, with a role (owner, editor, auditor) and a password (at least 12 characters). Audited.',
        tags: ['admin'],

        body: {
          type: 'object',
          required: ['email', 'role', 'password'],
          additionalProperties: false,
          properties: {
            email: { type: 'string', maxLength: 254 },
            role: { type: 'string', enum: [...ROLES] },
            password: { type: 'string', maxLength: PASSWORD_MAX },
            sites: sitesField,
          },
        },
        response: {
          201: { ...userSchema, description: 'The user added.' },
          ...errorResponses,
          400: errorReply(
            'A field is not valid, the password is too weak, or the email is taken (ASSENT_BAD_FIELD).',
          ),
        },
      },
    },
    async (req, reply) => {
      const r = await addUser(ctx.store, req.body, undefined, known, (user, insert) =>
        audited(
          ctx,
          req,
          'user-add',
          user.email,
          { role: user.role, ...(user.sites.length ? { sites: user.sites.join(',') } : {}) },
          insert,
        ),
      );
      if (!r.ok) return reply.code(400).send(apiError('ASSENT_BAD_FIELD', r.field, r.message));
      req.log.info({ role: r.user.role }, 'admin user added');
      return reply.code(201).send(r.user);
    },
  );

  app.patch<{ Params: { id: string }; Body: { role?: Role; password?: string; sites?: string[] } }>(
    '/v1/admin/users/:id',
    {
      config: OWNER,
      schema: {
        summary: "Change a user's role or password",
        description: 'Ends their sessions at once. The last owner cannot be demoted. Audited.',
        tags: ['admin'],

        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            role: { type: 'string', enum: [...ROLES] },
            password: { type: 'string', maxLength: PASSWORD_MAX },
            sites: sitesField,
          },
        },
        response: {
          200: { ...userSchema, description: 'The user as changed.' },
          ...errorResponses,
          400: errorReply('A field is not valid, or the change would leave no owner (ASSENT_BAD_FIELD).'),
          404: errorReply('No such user (ASSENT_NOT_FOUND).'),
        },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      const { role, password } = req.body;
      if (password !== undefined) {
        const p = passwordProblem(password);
        if (p) return reply.code(400).send(apiError('ASSENT_BAD_FIELD', 'password', p));
      }
      const before = await ctx.store.admin.user(id);
      if (!before) return reply.code(404).send(apiError('ASSENT_NOT_FOUND', 'id', `no user ${id}`));
      // A new owner has every site: a limit they had is dropped with the promotion.
      const newRole = role ?? before.role;
      const asked =
        newRole === 'owner' && req.body.sites === undefined ? [] : (req.body.sites ?? before.sites);
      const sites = await checkSites(newRole, asked, known);
      if (!sites.ok) return reply.code(400).send(apiError('ASSENT_BAD_FIELD', 'sites', sites.message));
      const sitesChanged = sites.sites.join() !== before.sites.join();
      const set = {
        ...(role ? { role } : {}),
        ...(password !== undefined ? { password: await hashPassword(password) } : {}),
        ...(sitesChanged ? { sites: storedSites(sites.sites) } : {}),
      };
      // Whether the password changed, never what it is.
      const detail = {
        ...(role ? { role, was: before.role } : {}),
        ...(sitesChanged
          ? { sites: sites.sites.join(',') || 'all', sitesWere: before.sites.join(',') || 'all' }
          : {}),
        password: password !== undefined,
      };
      const changed = await audited(ctx, req, 'user-change', before.email, detail, (row) =>
        ctx.store.admin.updateUser(id, set, new Date().toISOString(), row),
      );
      if (!changed)
        return reply
          .code(400)
          .send(
            apiError(
              'ASSENT_BAD_FIELD',
              'role',
              `${before.email} is the last owner: make another user owner first`,
            ),
          );
      await ctx.store.admin.removeSessionsOf(id);
      return (await ctx.store.admin.user(id))!;
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/admin/users/:id',
    {
      config: OWNER,
      schema: {
        summary: 'Remove a user',
        description: 'Ends their sessions. The last owner cannot be removed. Audited.',
        tags: ['admin'],
        params: idParams,
        response: {
          204: emptyReply('Removed.'),
          ...errorResponses,
          400: errorReply('Removing the last owner (ASSENT_BAD_FIELD).'),
          404: errorReply('No such user (ASSENT_NOT_FOUND).'),
        },
      },
    },
    async (req, reply) => {
      const before = await ctx.store.admin.user(req.params.id);
      if (!before)
        return reply.code(404).send(apiError('ASSENT_NOT_FOUND', 'id', `no user ${req.params.id}`));
      const removed = await audited(ctx, req, 'user-remove', before.email, { role: before.role }, (row) =>
        ctx.store.admin.removeUser(req.params.id, row),
      );
      if (!removed)
        return reply
          .code(400)
          .send(
            apiError(
              'ASSENT_BAD_FIELD',
              'id',
              `${before.email} is the last owner: make another user owner first`,
            ),
          );
      return reply.code(204).send();
    },
  );
};
