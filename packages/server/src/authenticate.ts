import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Context, ipHashOf } from './context.js';
import { apiError } from './errors.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time equality of two secrets: both hashed first, so length and content leak nothing. */
export const secretEquals = (sent: string, secret: string): boolean =>
  timingSafeEqual(digest(sent), digest(secret));

/**
 * Constant-time token check of an `Authorization` header: both sides are hashed first so the
 * comparison takes the same time whatever the length or content of the guess.
 */
export const tokenMatches = (sent: string | undefined, token: string | undefined): boolean => {
  if (!token || sent === undefined) return false;
  const m = /^Bearer (.+)$/.exec(sent);
  return secretEquals(m?.[1] ?? '', token) && m !== null;
};

/** What a refused authentication answers: its message, and the `WWW-Authenticate` challenge if any. */
export interface Refusal {
  readonly message: string;
  /** The field the 401 names; default `authorization`. */
  readonly field?: string;
  readonly challenge?: string;
  /** Runs before the 401 goes out (the sign-in's audit entry: written before the answer). */
  readonly record?: () => Promise<unknown>;
}

/**
 * One authentication, throttled per client (hashed IP): while the client is blocked it gets
 * 429 with `Retry-After` whatever it sends (so a guesser learns nothing from those answers);
 * otherwise `check` runs, and a failure counts against the client and answers 401 with
 * `refusal`. Resolves true when `check` passed; false when the reply was sent.
 *
 * The attempt holds its place in the client's count from before `check` runs until it ends
 * (AuthThrottle.begin): attempts sent at once, each checked for a second (a password's
 * scrypt), cannot all pass a count of failures that none of them has added to yet. So at most
 * `max` attempts a window are checked; more at once wait for a place, and get 429 once the
 * failures fill it.
 *
 * Every secret a client can guess goes through here: the admin token, a site's API key, a
 * person's password, a session cookie. The general rate limit cannot stand in for it: it
 * allows hundreds of requests a minute and may be off.
 */
export const throttledAuth = async (
  ctx: Context,
  req: FastifyRequest,
  reply: FastifyReply,
  check: () => boolean | Promise<boolean>,
  refusal: Refusal,
): Promise<boolean> => {
  const client = await ipHashOf(ctx, req);
  const wait = await ctx.authThrottle.begin(client);
  if (wait) {
    reply
      .code(429)
      .header('retry-after', String(wait))
      .send(apiError('ASSENT_RATE_LIMITED', 'authorization', `too many failed attempts; retry in ${wait} s`));
    return false;
  }
  let ok: boolean | undefined;
  try {
    ok = await check();
  } finally {
    // A check that threw (the database away) is no failure of the client's: its place is
    // given back, and the error answers (503).
    ctx.authThrottle.end(client, ok === false);
  }
  if (ok) return true;
  await refusal.record?.();
  if (refusal.challenge) reply.header('www-authenticate', refusal.challenge);
  reply.code(401).send(apiError('ASSENT_UNAUTHORIZED', refusal.field ?? 'authorization', refusal.message));
  return false;
};
