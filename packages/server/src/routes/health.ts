import type { FastifyInstance } from 'fastify';
import type { Context } from '../context.js';
import { apiError, errorResponses } from '../errors.js';
import { errorReply, jsonReply } from '../schemas.js';
import { SqliteThreadStore } from '../store/sqlite-thread-store.js';

const ok = (description: string) =>
  ({ ...jsonReply(description, { status: { type: 'string' } }), additionalProperties: false }) as const;

/** How long one write probe's answer stands: a flood of /readyz costs one write a second at most. */
const PROBE_EVERY_MS = 1000;

/**
 * How much the probe makes sure the database's files can grow (SQLite on a file): room for a
 * batch of several hundred receipts. A one-row write alone succeeds on a full disk.
 */
export const PROBE_ROOM = 1 << 20;

/**
 * `/healthz`: the process is up. `/readyz`: it can do its job: the database answers a read,
 * and receipts can be written. A failed receipt transaction (disk full, read-only file,
 * PostgreSQL refusing writes) makes it 503 at once; it turns 200 again when a write succeeds,
 * whether a receipt's or its own probe's (a write it tries while writes are failing, at most
 * once a second; a balancer that stopped sending receipts would otherwise never see one
 * succeed). The probe writes one row and, on SQLite, makes sure the database's file system has
 * room to grow by PROBE_ROOM: on a full disk the row alone fits in pages SQLite already holds
 * while every receipt batch needs new ones, and readiness would say 200 while receipts fail.
 */
export const healthRoutes = (ctx: Context) => async (app: FastifyInstance) => {
  let probe: { at: number; result: Promise<unknown> } | null = null;
  const writable = async (): Promise<unknown> => {
    if (!ctx.writer.failing) return null;
    const now = Date.now();
    if (!probe || now - probe.at >= PROBE_EVERY_MS)
      probe = {
        at: now,
        result: ctx.store.probeWrite(new Date(now).toISOString(), PROBE_ROOM).then(
          () => {
            ctx.writer.recovered();
            return null;
          },
          (err: unknown) => err ?? new Error('write failed'),
        ),
      };
    return probe.result;
  };

  app.get(
    '/healthz',
    {
      config: { rateLimit: false },
      schema: {
        summary: 'Liveness',
        description: 'The process is up (it does not touch the database).',
        tags: ['operations'],
        response: { 200: ok('`{"status":"ok"}`.') },
      },
    },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    {
      config: { rateLimit: false },
      schema: {
        summary: 'Readiness',
        description:
          'The database answers a read and receipts can be written (after a failed receipt transaction, a write probe at most once a second).',
        tags: ['operations'],
        response: {
          200: ok('`{"status":"ready"}`: the server can take receipts.'),
          ...errorResponses,
          503: errorReply(
            'The database is not reachable, or receipts cannot be written (ASSENT_UNAVAILABLE).',
          ),
        },
      },
    },
    async (_req, reply) => {
      try {
        await ctx.store.ping();
      } catch (err) {
        ctx.logs.warn(err, 'readiness: the database is not reachable');
        return reply.code(503).send(apiError('ASSENT_UNAVAILABLE', null, 'the database is not reachable'));
      }
      // SQLite: the file is still the one opened. Deleted or replaced, it answers reads and
      // even takes writes (into the unlinked file), which the next start never sees.
      const gone = ctx.store instanceof SqliteThreadStore ? ctx.store.fileProblem() : null;
      if (gone) {
        ctx.logs.error(gone, 'readiness: the database file was deleted or replaced');
        return reply
          .code(503)
          .send(
            apiError(
              'ASSENT_UNAVAILABLE',
              null,
              `receipts cannot be written (${(gone as { code?: string }).code}): the database file was deleted or replaced under the server; see its log`,
            ),
          );
      }
      const failed = await writable();
      if (failed) {
        ctx.logs.warn(failed, 'readiness: writes are failing');
        const e = failed as { code?: unknown };
        return reply
          .code(503)
          .send(
            apiError(
              'ASSENT_UNAVAILABLE',
              null,
              `receipts cannot be written${typeof e.code === 'string' ? ` (${e.code})` : ''}; retrying`,
            ),
          );
      }
      return { status: 'ready' };
    },
  );
};
