import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { audit } from '../admin-auth.js';
import { type AuditEntry, entryOf, verifyAudit } from '../audit.js';
import type { Context } from '../context.js';
import { errorResponses } from '../errors.js';
import { jsonReply, textReply } from '../schemas.js';
import { PG_INT_MAX, type Store } from '../store/types.js';

// Server-wide: the log names every site's actions, so only callers who see every site.
const READERS = { allow: ['owner', 'auditor'] as const, scope: 'server' as const };
const BATCH = 1000;

/** Every entry, oldest first, read in keyset batches: memory does not grow with the log. */
export async function* auditEntries(store: Store): AsyncGenerator<AuditEntry> {
  let after = 0;
  for (;;) {
    const rows = await store.admin.auditAfter(after, BATCH);
    for (const r of rows) yield entryOf(r);
    if (rows.length < BATCH) return;
    after = Number(rows.at(-1)!.seq);
  }
}

async function* ndjson(entries: AsyncIterable<AuditEntry>): AsyncGenerator<string> {
  for await (const e of entries) yield `${JSON.stringify(e)}\n`;
}

/**
 * The audit log for owners and auditors: pages newest first, the whole log as NDJSON (itself
 * an audited action), and a verification of the whole chain with the server's public key.
 */
export const auditRoutes = (ctx: Context) => async (app: FastifyInstance) => {
  app.get<{ Querystring: { before?: string; limit?: string } }>(
    '/v1/admin/audit',
    {
      config: READERS,
      schema: {
        summary: 'The audit log, a page at a time',
        description:
          'Every admin action, newest first: `limit` entries (default 50) before the entry `before`.',
        tags: ['admin'],

        querystring: {
          type: 'object',
          additionalProperties: false,
          // Query values are text (no type coercion): whole numbers by pattern.
          properties: {
            before: { type: 'string', pattern: '^[1-9][0-9]{0,14}$' },
            limit: { type: 'string', pattern: '^([1-9][0-9]?|1[0-9][0-9]|200)$' },
          },
        },
        response: {
          200: jsonReply(
            '`{ entries, next }`: the entries, and the `before` of the next page (null at the end).',
            { next: { type: ['integer', 'null'] } },
          ),
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const limit = Number(req.query.limit ?? 50);
      // Past the last entry is "from the newest": clamped to what every store's column holds
      // (PostgreSQL's 32-bit integer answered a larger number with a 500).
      const before = req.query.before === undefined ? null : Math.min(Number(req.query.before), PG_INT_MAX);
      const rows = await ctx.store.admin.auditPage(before, limit);
      const entries = rows.map(entryOf);
      reply.header('cache-control', 'no-store');
      return { entries, next: entries.length === limit ? entries.at(-1)!.seq : null };
    },
  );

  app.get(
    '/v1/admin/audit/export',
    {
      config: READERS,
      schema: {
        summary: 'Export the audit log',
        description: 'The whole log as NDJSON, oldest first, streamed. Itself audited.',
        tags: ['admin'],
        response: { 200: textReply('One signed entry per line.', 'application/x-ndjson'), ...errorResponses },
      },
    },
    async (req, reply) => {
      await audit(ctx, req, 'audit-export', null);
      const day = new Date().toISOString().slice(0, 10);
      return reply
        .type('application/x-ndjson')
        .header('content-disposition', `attachment; filename="audit-${day}.ndjson"`)
        .header('cache-control', 'no-store')
        .send(Readable.from(ndjson(auditEntries(ctx.store))));
    },
  );

  app.get(
    '/v1/admin/audit/verify',
    {
      config: READERS,
      schema: {
        summary: 'Verify the audit log',
        description: "Checks the whole chain and every signature with the server's public key.",
        tags: ['admin'],
        response: {
          200: jsonReply("The verification's result and the key ID it used.", { kid: { type: 'string' } }),
          ...errorResponses,
        },
      },
    },
    async (_req, reply) => {
      reply.header('cache-control', 'no-store');
      return {
        ...(await verifyAudit(auditEntries(ctx.store), [ctx.signer.publicKeyPem])),
        kid: ctx.signer.kid,
      };
    },
  );
};
