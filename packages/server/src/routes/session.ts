import type { FastifyInstance } from 'fastify';
import {
  allowedSites,
  audited,
  CSRF_HEADER,
  crossSite,
  csrfOf,
  newSessionToken,
  SESSION_HOURS,
  sessionCookie,
  sessionId,
  sessionToken,
} from '../admin-auth.js';
import { throttledAuth } from '../authenticate.js';
import { type Context, ownOrigin } from '../context.js';
import { apiError, errorResponses } from '../errors.js';
import { PASSWORD_MAX, verifyPassword } from '../passwords.js';
import { emptyReply, errorReply } from '../schemas.js';
import { sitesOf, type User } from '../store/admin-store.js';

const HOUR = 3_600_000;

/** A failed sign-in's actor when no user has the email typed (audit log). */
export const UNKNOWN_EMAIL = '(unknown email)';

const meSchema = {
  type: 'object',
  properties: {
    kind: { type: 'string' },
    email: { type: ['string', 'null'] },
    role: { type: 'string' },
    csrf: { type: ['string', 'null'] },
    csrfHeader: { type: 'string' },
    expiresAt: { type: ['string', 'null'] },
    sites: {
      type: 'array',
      items: { type: 'string' },
      description: 'The sites this caller may see; empty: every site',
    },
  },
} as const;

/**
 * `POST /v1/admin/session`: signing in with an email and a password. Outside the admin guard
 * (nobody is signed in yet), throttled per client with every other authentication; a wrong
 * password and an unknown email answer the same, in the same time (passwords.ts).
 */
export const signInRoute = (ctx: Context) => async (app: FastifyInstance) => {
  // Said once per server: the console shares its origin with a site it serves.
  let warned = false;
  app.post<{ Body: { email: string; password: string } }>(
    '/v1/admin/session',
    {
      schema: {
        summary: 'Sign in',
        description:
          'Signs a person in to the admin console: sets the session cookie (__Host-assent-admin, 12 hours) and answers who they are with the anti-forgery token their changes must carry. Failed attempts are throttled per client.',
        tags: ['admin'],

        body: {
          type: 'object',
          required: ['email', 'password'],
          additionalProperties: false,
          properties: {
            email: { type: 'string', minLength: 1, maxLength: 254 },
            password: { type: 'string', minLength: 1, maxLength: PASSWORD_MAX },
          },
        },
        response: {
          201: {
            ...meSchema,
            description: 'Signed in: who, their role, the CSRF token and header, when the session ends.',
          },
          ...errorResponses,
          401: errorReply(
            'That email and password do not match a user of this server (ASSENT_UNAUTHORIZED).',
          ),
          403: errorReply('Sign-in from another site (Sec-Fetch-Site; ASSENT_FORBIDDEN).'),
        },
      },
    },
    async (req, reply) => {
      // Login CSRF: another origin must not sign a browser in (to an account of its choosing).
      if (crossSite(req))
        return reply
          .code(403)
          .send(apiError('ASSENT_FORBIDDEN', 'sec-fetch-site', "sign in from the admin console's own page"));
      let user: User | null = null;
      // The user the email names, if any: what a failure records (never what was typed).
      let tried: string | null = null;
      const ok = await throttledAuth(
        ctx,
        req,
        reply,
        async () => {
          const u = await ctx.store.admin.userByEmail(req.body.email.trim());
          tried = u?.email ?? null;
          const match = await verifyPassword(req.body.password, u?.password ?? null);
          if (match && u)
            user = {
              id: u.id,
              email: u.email,
              role: u.role,
              sites: sitesOf(u.sites),
              created_at: u.created_at,
              updated_at: u.updated_at,
            };
          return match;
        },
        {
          field: 'password',
          message: 'that email and password do not match a user of this server',
          // Failures are recorded (the throttle bounds how many; a blocked client's 429s are
          // not), before the 401 goes out. Under the user's email when one has it; otherwise
          // under a fixed placeholder, never what was typed: a password typed into the email
          // field (`Tr0ub4dor@horse-staple!` has an email's shape) must not land in the
          // signed, permanent audit log.
          record: () =>
            ctx.audit.append({
              actor: tried ?? UNKNOWN_EMAIL,
              role: null,
              action: 'sign-in-failed',
              target: null,
              detail: {},
            }),
        },
      );
      if (!ok || !user) return reply;
      const u = user as User;
      const now = Date.now();
      const token = newSessionToken();
      const expiresAt = new Date(now + SESSION_HOURS * HOUR).toISOString();
      await ctx.store.admin.dropExpiredSessions(new Date(now).toISOString());
      const session = {
        id: sessionId(token),
        user_id: u.id,
        created_at: new Date(now).toISOString(),
        expires_at: expiresAt,
      };
      // The session and its entry together: no sign-in goes unrecorded.
      await ctx.audit.append(
        { actor: u.email, role: u.role, action: 'sign-in', target: null, detail: {} },
        new Date(now),
        (row) => ctx.store.admin.addSession(session, row),
      );
      req.log.info({ role: u.role }, 'admin signed in');
      const own = ownOrigin(req);
      if (!warned && ctx.adminOrigin === undefined && ctx.policies.has(own)) {
        warned = true;
        req.log.warn(
          { site: own },
          `the admin console shares an origin with the site ${own}: scripts on its pages can use a signed-in session (read exports, add webhooks); set adminOrigin (ASSENT_ADMIN_ORIGIN) to serve the console from its own host`,
        );
      }
      return reply
        .code(201)
        .header('set-cookie', sessionCookie(token, SESSION_HOURS * 3600))
        .header('cache-control', 'no-store')
        .send({
          kind: 'user',
          email: u.email,
          role: u.role,
          csrf: csrfOf(ctx, token),
          csrfHeader: CSRF_HEADER,
          expiresAt,
          sites: u.role === 'owner' ? [] : u.sites,
        });
    },
  );
};

/** Who is signed in (and the CSRF token the console's pages send), and signing out. */
export const sessionRoutes = (ctx: Context) => async (app: FastifyInstance) => {
  app.get(
    '/v1/admin/session',
    {
      config: { allow: ['owner', 'editor', 'auditor'], scope: 'caller' },
      schema: {
        summary: 'Who is calling',
        description:
          'The caller (a signed-in person or the admin token), their role, and for a person the anti-forgery token and header their changes must carry.',
        tags: ['admin'],
        response: { 200: { ...meSchema, description: 'The caller and their session.' }, ...errorResponses },
      },
    },
    async (req, reply) => {
      const who = req.assentAdmin!;
      const token = sessionToken(req);
      reply.header('cache-control', 'no-store');
      if (who.kind === 'token')
        return {
          kind: 'token',
          email: null,
          role: who.role,
          csrf: null,
          csrfHeader: CSRF_HEADER,
          expiresAt: null,
          sites: [],
        };
      const s = await ctx.store.admin.session(who.session, new Date().toISOString());
      return {
        kind: 'user',
        email: who.user.email,
        role: who.role,
        csrf: token ? csrfOf(ctx, token) : null,
        csrfHeader: CSRF_HEADER,
        expiresAt: s?.session.expires_at ?? null,
        sites: allowedSites(req) ?? [],
      };
    },
  );

  app.delete(
    '/v1/admin/session',
    {
      config: { allow: ['owner', 'editor', 'auditor'], scope: 'caller' },
      schema: {
        summary: 'Sign out',
        description: 'Ends the session (its cookie is cleared); with the admin token it does nothing.',
        tags: ['admin'],
        response: { 204: emptyReply('Signed out.'), ...errorResponses },
      },
    },
    async (req, reply) => {
      const who = req.assentAdmin!;
      if (who.kind === 'user') {
        // Recorded only when it ended a live session (an expired one just clears the cookie).
        await audited(ctx, req, 'sign-out', null, {}, (row) =>
          ctx.store.admin.removeSession(who.session, row),
        );
      }
      return reply.code(204).header('set-cookie', sessionCookie('', 0)).send();
    },
  );
};
