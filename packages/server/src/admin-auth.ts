import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditAction, AuditDetail, AuditEntry } from './audit.js';
import { secretEquals, throttledAuth, tokenMatches } from './authenticate.js';
import { type Context, normalizeOrigin } from './context.js';
import { apiError } from './errors.js';
import { type AuditRow, AuditStale, type Role, type User } from './store/admin-store.js';

/**
 * Who is calling the admin API: a person signed in with a session cookie, or a script with
 * the admin token (`Authorization: Bearer`), which acts as an owner.
 */
export type Principal =
  | { readonly kind: 'token'; readonly role: 'owner'; readonly name: string }
  | {
      readonly kind: 'user';
      readonly role: Role;
      readonly name: string;
      readonly user: User;
      readonly session: string;
    };

/**
 * What an admin route touches, declared on every one (guardAdmin refuses a route without):
 * - `site`: one site's data or several sites'. The guard refuses a `site` (in the query, the
 *   path or the body) the caller may not see; without one the route narrows what it reads
 *   to the caller's sites with `scopedFilter` (or checks what it found with `maySee`).
 * - `server`: what belongs to no one site (users, the audit log, which names every site's
 *   actions): only callers who see every site.
 * - `caller`: the caller's own session and nothing else.
 */
export type RouteScope = 'site' | 'server' | 'caller';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the admin API's hook once the caller is authenticated (server.ts declares it). */
    assentAdmin: Principal | null;
  }
  interface FastifyContextConfig {
    /** The roles that may call an admin route; every admin route must say (deny by default). */
    allow?: readonly Role[];
    /** What the route touches (RouteScope); every admin route must say. */
    scope?: RouteScope;
  }
}

/**
 * The session cookie. `__Host-` makes the browser refuse it unless it is `Secure`, has
 * `Path=/` and no `Domain`: no subdomain can set or shadow it. `Secure` is always set, also
 * on plain http: browsers treat http://localhost and http://127.0.0.1 as secure contexts and
 * keep the cookie there (the demo and the tests), and anywhere else the console is meant to
 * be behind HTTPS; over plain http to another host the browser drops the cookie and the
 * sign-in page says so instead of failing silently.
 */
export const SESSION_COOKIE = '__Host-assent-admin';
/** A session lasts this long from sign-in, whatever happens meanwhile. */
export const SESSION_HOURS = 12;
/** The header every state-changing request of a signed-in person must carry. */
export const CSRF_HEADER = 'x-assent-csrf';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** What the sessions table stores of a session token: its SHA-256, never the token. */
export const sessionId = (token: string): string => createHash('sha256').update(token).digest('hex');

/** A session's anti-forgery token: derived from the session token, so nothing more is stored. */
export const csrfOf = (ctx: Pick<Context, 'adminKey'>, token: string): string =>
  createHmac('sha256', ctx.adminKey).update(`csrf:${token}`).digest('base64url');

export const newSessionToken = (): string => randomBytes(32).toString('base64url');

export const sessionCookie = (token: string, maxAgeSeconds: number): string =>
  `${SESSION_COOKIE}=${token}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; Secure; SameSite=Strict`;

/** The session token the request's cookie carries, or null. */
export const sessionToken = (req: FastifyRequest): string | null => {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (part.slice(0, i).trim() === SESSION_COOKIE) {
      const v = part.slice(i + 1).trim();
      return /^[A-Za-z0-9_-]{43}$/.test(v) ? v : null;
    }
  }
  return null;
};

/**
 * Whether a browser says the request comes from another origin (`Sec-Fetch-Site`). Decided
 * by the browser from where the request really came from, so a reverse proxy rewriting the
 * scheme or host cannot confuse it. Browsers without it still need the CSRF token.
 */
export const crossSite = (req: FastifyRequest): boolean => {
  const s = req.headers['sec-fetch-site'];
  return s !== undefined && s !== 'same-origin' && s !== 'none';
};

const forbidden = (reply: FastifyReply, field: string, message: string) =>
  reply.code(403).send(apiError('ASSENT_FORBIDDEN', field, message));

/**
 * The admin API's authentication: a bearer token (scripts, the CLI) or a session cookie (the
 * console), each throttled per client. For a session, every request must come from the
 * console's own origin when the browser says where it came from (Sec-Fetch-Site `same-origin`,
 * or `none`: typed, bookmarked), GETs included, and every state-changing one must carry the
 * CSRF token (for browsers that send no Sec-Fetch-Site). Then the route's `allow` list.
 * Resolves with who is calling, or null after answering 401, 403 or 429.
 */
export const authenticateAdmin = async (
  ctx: Context,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<Principal | null> => {
  let who: Principal | null = null;
  if (req.headers.authorization !== undefined) {
    const ok = await throttledAuth(
      ctx,
      req,
      reply,
      () => tokenMatches(req.headers.authorization, ctx.adminToken),
      {
        challenge: 'Bearer',
        message: ctx.adminToken
          ? 'a valid "Bearer <token>" is required'
          : 'no admin token is configured: sign in at /admin, or set adminToken for scripts',
      },
    );
    if (!ok) return null;
    who = { kind: 'token', role: 'owner', name: 'admin token' };
  } else {
    const token = sessionToken(req);
    if (token === null) {
      reply.header('www-authenticate', 'Bearer');
      reply
        .code(401)
        .send(
          apiError(
            'ASSENT_UNAUTHORIZED',
            'authorization',
            ctx.adminToken
              ? 'sign in at /admin, or send "Bearer <admin token>"'
              : 'sign in at /admin (the admin token is off: no adminToken is configured)',
          ),
        );
      return null;
    }
    // A signed-in browser acts only from the console's own pages, reads included: with
    // SameSite=Strict a page of the same *site* (another port of the host, news.example beside
    // admin.news.example) still gets the cookie sent, and an <img> or a link there would run
    // an export the audit log attributes to the person. Checked before the session is looked
    // up. The console's HTML pages are not under this guard: they open from anywhere.
    if (crossSite(req)) {
      forbidden(
        reply,
        'sec-fetch-site',
        "the admin API answers a signed-in browser only on the console's own pages (this request's Sec-Fetch-Site says it came from another origin)",
      );
      return null;
    }
    const found: { user?: User } = {};
    const ok = await throttledAuth(
      ctx,
      req,
      reply,
      async () => {
        const s = await ctx.store.admin.session(sessionId(token), new Date().toISOString());
        if (s) found.user = s.user;
        return s !== null;
      },
      { message: 'your session has ended or was signed out: sign in again' },
    );
    const { user } = found;
    if (!ok || !user) return null;
    if (!SAFE.has(req.method)) {
      const sent = req.headers[CSRF_HEADER];
      if (typeof sent !== 'string' || !secretEquals(sent, csrfOf(ctx, token))) {
        forbidden(
          reply,
          CSRF_HEADER,
          `a change needs the session's anti-forgery token in the ${CSRF_HEADER} header`,
        );
        return null;
      }
    }
    who = { kind: 'user', role: user.role, name: user.email, user, session: sessionId(token) };
  }
  const allow = req.routeOptions.config.allow;
  if (!allow?.includes(who.role)) {
    forbidden(
      reply,
      'role',
      `the role ${who.role} cannot do this${allow?.length ? `; it needs ${allow.join(' or ')}` : ''}`,
    );
    return null;
  }
  req.assentAdmin = who;
  if (req.routeOptions.config.scope === 'server' && allowedSites(req) !== null) {
    forbidden(
      reply,
      'site',
      `this concerns every site of the server; you are limited to ${allowedSites(req)!.join(', ')}`,
    );
    return null;
  }
  return who;
};

/**
 * The sites the caller of this request may see, or null for every site: owners and the admin
 * token always; another user when no sites were assigned to them (users.ts). The one answer
 * every admin route asks.
 */
export const allowedSites = (req: FastifyRequest): readonly string[] | null => {
  const who = req.assentAdmin;
  if (!who || who.kind === 'token' || who.role === 'owner' || who.user.sites.length === 0) return null;
  return who.user.sites;
};

/** Whether the caller may see `site` (an origin, normalized here). */
export const maySee = (req: FastifyRequest, site: string): boolean => {
  const allowed = allowedSites(req);
  return allowed === null || allowed.includes(normalizeOrigin(site));
};

/** The 403 of a site the caller may not see: names `site`, and which sites they have. */
export const siteForbidden = (req: FastifyRequest, reply: FastifyReply, site: string) =>
  forbidden(
    reply,
    'site',
    `you may not see ${normalizeOrigin(site)}; your sites are ${allowedSites(req)?.join(', ') ?? 'all'}`,
  );

/**
 * A read's filter narrowed to the caller's sites: unchanged when it names a site (the guard
 * has checked it) or the caller sees every site; otherwise limited to their sites.
 */
export const scopedFilter = <F extends { readonly site?: string }>(
  req: FastifyRequest,
  filter: F,
): F & { readonly sites?: readonly string[] } => {
  const allowed = allowedSites(req);
  return filter.site !== undefined || allowed === null ? filter : { ...filter, sites: allowed };
};

/** The sites a request names: `site` in its query, path or body. */
const namedSites = (req: FastifyRequest): string[] =>
  [req.query, req.params, req.body]
    .map((o) => (o && typeof o === 'object' ? (o as { site?: unknown }).site : undefined))
    .filter((v): v is string => typeof v === 'string');

/** Admin routes as they are registered: what the role walk test and the README's table cover. */
export interface AdminRoute {
  readonly method: string;
  readonly url: string;
  readonly allow: readonly Role[];
  readonly scope: RouteScope;
  /** Whether its schema takes a `site` (query, path or body): the guard checks that one. */
  readonly takesSite: boolean;
}

const hasSite = (schema: unknown): boolean =>
  Object.values((schema ?? {}) as Record<string, unknown>).some(
    (part) =>
      typeof part === 'object' &&
      part !== null &&
      'site' in ((part as { properties?: object }).properties ?? {}),
  );

/**
 * Puts the admin API's authentication in front of every route of `app` (an encapsulated
 * plugin) and refuses, at start, a route that does not say which roles may call it and what
 * it touches. Once the request is parsed, a `site` it names that the caller may not see is
 * refused here (403 naming `site`), for every `site` route at once.
 */
export const guardAdmin = (ctx: Context, app: FastifyInstance, routes: AdminRoute[]) => {
  app.addHook('onRoute', (r) => {
    const c = r.config as { allow?: readonly Role[]; scope?: RouteScope } | undefined;
    const where = `admin route ${String(r.method)} ${r.url}`;
    if (!c?.allow) throw new Error(`${where} does not say which roles may call it`);
    if (!c.scope)
      throw new Error(`${where} does not say what it touches (scope: 'site', 'server' or 'caller')`);
    const takesSite = hasSite({ q: r.schema?.querystring, p: r.schema?.params, b: r.schema?.body });
    for (const m of [r.method].flat())
      if (m !== 'HEAD') routes.push({ method: m, url: r.url, allow: c.allow, scope: c.scope, takesSite });
  });
  app.addHook('onRequest', async (req, reply) => {
    if ((await authenticateAdmin(ctx, req, reply)) === null) return reply;
  });
  // Before validation: a site the caller may not see is refused whatever else the request holds.
  app.addHook('preValidation', async (req, reply) => {
    if (req.routeOptions.config.scope !== 'site') return;
    const refused = namedSites(req).find((s) => !maySee(req, s));
    if (refused !== undefined) return siteForbidden(req, reply, refused);
  });
};

/**
 * Records what the authenticated caller of this request did, in the audit log, before the
 * answer goes out: an action the log cannot hold fails rather than go unrecorded. With
 * `commit`, the entry is written by the act's own transaction (`audited`, Store.erase,
 * Store.publish); without, it is written alone (reads: exports, proof files).
 */
export const audit = (
  ctx: Context,
  req: FastifyRequest,
  action: AuditAction,
  target: string | null,
  detail: AuditDetail = {},
  commit?: (row: AuditRow) => Promise<void>,
): Promise<AuditEntry> => {
  const who = req.assentAdmin!;
  return ctx.audit.append({ actor: who.name, role: who.role, action, target, detail }, new Date(), commit);
};

/**
 * Runs `attempt` (which reads what its audit entry will say, then commits the act with it)
 * again while the store answers AuditStale, that the read no longer held: another process
 * changed the same thing meanwhile. Ten tries, then the error stands.
 */
export const whileStale = async <T>(attempt: () => Promise<T>): Promise<T> => {
  for (let i = 0; ; i++)
    try {
      return await attempt();
    } catch (e) {
      if (!(e instanceof AuditStale) || i >= 9) throw e;
    }
};

/** The act changed nothing: no entry is written (see `audited`). */
const NOTHING = new Error('nothing changed');

/**
 * Does `act` and records it in the audit log in one transaction (its write takes the entry,
 * store/admin-store.ts Write): both happen or neither. Whether the act changed anything: when it
 * did not (no such row, a guard refused it), nothing is recorded either.
 */
export const audited = async (
  ctx: Context,
  req: FastifyRequest,
  action: AuditAction,
  target: string | null,
  detail: AuditDetail,
  act: (audit: AuditRow) => Promise<boolean>,
): Promise<boolean> => {
  try {
    await audit(ctx, req, action, target, detail, async (row) => {
      if (!(await act(row))) throw NOTHING;
    });
    return true;
  } catch (e) {
    if (e === NOTHING) return false;
    throw e;
  }
};
