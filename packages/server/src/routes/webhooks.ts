import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { audit, audited, maySee, siteForbidden } from '../admin-auth.js';
import { type Context, normalizeOrigin } from '../context.js';
import { apiError, errorResponses } from '../errors.js';
import { unsafeText } from '../text.js';
import type { DeliveryRule } from '../webhooks/address.js';
import {
  DELIVERY_KINDS,
  DELIVERY_OUTCOMES,
  WEBHOOK_EVENTS,
  WEBHOOK_STATES,
  type WebhookEvent,
  type WebhookInfo,
} from '../webhooks/store.js';
import { knownSite, unknownSite } from './admin-filter.js';

/**
 * Where a site's receipts go is the owner's decision: a receiver gets every new receipt, consent
 * IDs included, which editors may not export (an editor who could add a webhook, or widen what
 * one receives, read them at a URL of their own). Editors pause, resume, test and remove.
 */
const ADD = { allow: ['owner'] as const, scope: 'site' as const };
const MANAGE = { allow: ['owner', 'editor'] as const, scope: 'site' as const };
/** Auditors read the webhooks and their delivery log, and change nothing. */
const READ = { allow: ['owner', 'editor', 'auditor'] as const, scope: 'site' as const };

const nullableString = { type: ['string', 'null'] } as const;

const webhookSchema = {
  type: 'object',
  description: 'A webhook (never its secret, which is shown once, when it is made)',
  properties: {
    id: { type: 'string' },
    site: { type: 'string', description: 'The site whose receipts and erasures it receives' },
    url: { type: 'string', description: 'The receiver' },
    events: { type: 'array', items: { type: 'string', enum: [...WEBHOOK_EVENTS] } },
    state: {
      type: 'string',
      enum: [...WEBHOOK_STATES],
      description: 'failed: it gave up after the last retry; resuming delivers from where it stopped',
    },
    cursor: { type: 'integer', description: 'The last seq of the site’s chain the receiver acknowledged' },
    head: { type: 'integer', description: 'The last seq of the site’s chain' },
    pending: { type: 'integer', description: 'Receipts after the cursor (head − cursor)' },
    erasures_pending: {
      type: 'integer',
      description: 'Erasures of the site after its erasures’ cursor (consent.erased events waiting)',
    },
    attempts: { type: 'integer', description: 'Failed attempts at the next batch since the last success' },
    next_at: { ...nullableString, description: 'No attempt before this time (backoff)' },
    last_error: { ...nullableString, description: 'The last failure: HTTP status or network error code' },
    created_at: { type: 'string' },
    created_by: { type: 'string' },
  },
} as const;

const deliverySchema = {
  type: 'object',
  description: 'One attempt to deliver (no consent ID, no IP)',
  properties: {
    id: { type: 'string' },
    at: { type: 'string', description: 'When the attempt began (UTC)' },
    kind: { type: 'string', enum: [...DELIVERY_KINDS] },
    attempt: { type: 'integer', description: '1 for the first attempt at a batch' },
    first_seq: {
      type: ['integer', 'null'],
      description: 'The batch’s first seq: of the site’s chain (receipts), of the audit log (erasures)',
    },
    last_seq: { type: ['integer', 'null'] },
    events: { type: 'integer', description: 'Events in the delivery' },
    status: { type: ['integer', 'null'], description: 'The receiver’s HTTP status; null: none came' },
    error: { ...nullableString, description: 'Network error code (timeout, ECONNREFUSED, …)' },
    duration_ms: { type: 'integer' },
    outcome: { type: 'string', enum: [...DELIVERY_OUTCOMES] },
  },
} as const;

const idParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', maxLength: 40, description: 'The webhook’s ID' } },
} as const;

const URL_MAX = 2000;

/** Why `s` cannot be a receiver's URL under the server's rule for private networks, or null. */
const webhookUrlProblem = (s: string, rule: DeliveryRule): string | null => {
  const unsafe = unsafeText(s);
  if (unsafe) return unsafe;
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return 'must be an absolute http(s) URL such as https://example.com/hooks/assent';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'must be an http or https URL';
  // Credentials in the URL would be shown in the console and sent on every request in clear.
  if (u.username || u.password)
    return 'must not hold a user name or password (the signature authenticates Assent)';
  if (u.hash) return 'must not have a #fragment (it is never sent)';
  return rule.problem(u);
};

/**
 * A receiver's URL as anyone but an owner sees it, and as the audit log records it: its origin
 * only. Receivers carry their token in the query or the path (Slack's `/services/T…/B…/<secret>`,
 * Zapier's `/catch/<id>/<secret>`); the audit log is permanent and goes to auditors, and
 * editors and auditors read the list. The audit entry adds the SHA-256 of the whole URL, so an
 * owner can tell which receiver it was without the log holding its secret.
 */
const shownUrl = (s: string) => {
  const u = new URL(s);
  return u.pathname === '/' && !u.search ? u.origin : `${u.origin}/…`;
};
const auditUrl = (s: string) => ({
  url: shownUrl(s),
  urlSha256: createHash('sha256').update(s).digest('hex'),
});

const view = (w: WebhookInfo, req: FastifyRequest) => ({
  ...w,
  url: req.assentAdmin!.role === 'owner' ? w.url : shownUrl(w.url),
  events: w.events.split(',') as WebhookEvent[],
  pending: Math.max(0, w.head - w.cursor),
});

/**
 * Webhooks of the admin API: owners add them and choose what they receive; owners and editors
 * pause, resume, test and remove them; auditors read them and their delivery log. Each change is in the audit log. Delivery itself
 * is the dispatcher's (webhooks/dispatcher.ts).
 */
export const webhookRoutes = (ctx: Context) => async (app: FastifyInstance) => {
  const notFound = (id: string) => apiError('ASSENT_NOT_FOUND', 'id', `no webhook ${id}`);

  app.get<{ Querystring: { site?: string } }>(
    '/v1/admin/webhooks',
    {
      config: READ,
      // The webhooks, of one site or all
      schema: {
        summary: 'List webhooks',
        description:
          'The webhooks of one site, or of every site the caller may see, oldest first, with the public key that verifies their Ed25519 signatures.',
        tags: ['webhooks'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { site: { type: 'string', maxLength: 200, description: 'Only this site’s' } },
        },
        response: {
          200: {
            type: 'object',
            description: 'The webhooks, oldest first, and the key that verifies their Ed25519 signatures',
            properties: {
              webhooks: { type: 'array', items: webhookSchema },
              publicKey: { type: 'string', description: 'The server’s Ed25519 public key (PEM)' },
              kid: { type: 'string' },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const site = req.query.site === undefined ? undefined : normalizeOrigin(req.query.site);
      if (site !== undefined && !(await knownSite(ctx, site))) return unknownSite(reply, site);
      return {
        // Without a site, only the webhooks of the sites the caller may see.
        webhooks: (await ctx.store.webhooks.list(site))
          .filter((h) => maySee(req, h.site))
          .map((h) => view(h, req)),
        publicKey: ctx.signer.publicKeyPem,
        kid: ctx.signer.kid,
      };
    },
  );

  app.post<{ Body: { site: string; url: string; events?: WebhookEvent[] } }>(
    '/v1/admin/webhooks',
    {
      config: ADD,
      // Registers a receiver for a site’s new receipts, withdrawals and erasures, from now on. The answer holds the HMAC secret: it is never shown again.
      schema: {
        summary: 'Add a webhook',
        description:
          "Registers a receiver for a site's new receipts, withdrawals and erasures, from now on (receipts already in the chain are the export's). The answer holds the HMAC secret, shown this once. The receiver must be on a public address unless the server allows private networks (webhookPrivateNetworks): an address in the URL or a localhost name is a 400 naming url; a name is checked again on every delivery.",
        tags: ['webhooks'],
        body: {
          type: 'object',
          required: ['site', 'url'],
          additionalProperties: false,
          properties: {
            site: { type: 'string', maxLength: 200, description: 'An origin this server serves' },
            url: {
              type: 'string',
              maxLength: URL_MAX,
              description:
                'The receiver: http(s) URL, on a public address unless private networks are allowed',
            },
            events: {
              type: 'array',
              minItems: 1,
              uniqueItems: true,
              items: { type: 'string', enum: [...WEBHOOK_EVENTS] },
              description: 'What it receives; default all',
            },
          },
        },
        response: {
          201: {
            type: 'object',
            description: 'The new webhook, with its secret (shown this once) and the public key',
            properties: {
              ...webhookSchema.properties,
              secret: { type: 'string', description: 'HMAC-SHA256 key: store it now' },
              publicKey: { type: 'string' },
              kid: { type: 'string' },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const site = normalizeOrigin(req.body.site);
      if (!(await knownSite(ctx, site))) return unknownSite(reply, site);
      const problem = webhookUrlProblem(req.body.url, ctx.webhooks.rule);
      if (problem) return reply.code(400).send(apiError('ASSENT_BAD_FIELD', 'url', problem));
      const events = req.body.events ?? [...WEBHOOK_EVENTS];
      const id = `wh_${randomBytes(9).toString('base64url')}`;
      const secret = `whsec_${randomBytes(32).toString('base64url')}`;
      // From now on: receipts already in the chain are the export's, not a webhook's.
      const cursor = await ctx.store.webhooks.head(site);
      // Erasures from now on too: those before were of receipts it never got.
      const erase_cursor = (await ctx.store.admin.auditHead())?.seq ?? 0;
      const row = {
        id,
        site,
        url: req.body.url,
        secret,
        events: events.join(','),
        state: 'active' as const,
        cursor,
        erase_cursor,
        attempts: 0,
        next_at: null,
        last_error: null,
        lease_owner: null,
        lease_until: null,
        created_at: new Date().toISOString(),
        created_by: req.assentAdmin!.name,
      };
      await audited(
        ctx,
        req,
        'webhook-add',
        site,
        { id, ...auditUrl(req.body.url), events: events.join(' ') },
        async (audit) => {
          await ctx.store.webhooks.add(row, audit);
          return true;
        },
      );
      ctx.webhooks.nudge();
      const w = (await ctx.store.webhooks.info(id))!;
      return reply
        .code(201)
        .send({ ...view(w, req), secret, publicKey: ctx.signer.publicKeyPem, kid: ctx.signer.kid });
    },
  );

  app.patch<{ Params: { id: string }; Body: { state?: 'active' | 'paused'; events?: WebhookEvent[] } }>(
    '/v1/admin/webhooks/:id',
    {
      config: MANAGE,
      // Pauses or resumes a webhook, or changes what it receives
      schema: {
        summary: 'Pause, resume or change a webhook',
        description:
          'Pauses or resumes a webhook (resuming a failed one retries from its cursors, in order), or changes the events it receives from now on (owners only: a 403 naming role for an editor).',
        tags: ['webhooks'],
        params: idParams,
        body: {
          type: 'object',
          minProperties: 1,
          additionalProperties: false,
          properties: {
            state: { type: 'string', enum: ['active', 'paused'] },
            events: {
              type: 'array',
              minItems: 1,
              uniqueItems: true,
              items: { type: 'string', enum: [...WEBHOOK_EVENTS] },
            },
          },
        },
        response: { 200: webhookSchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      const before = await ctx.store.webhooks.info(req.params.id);
      if (before && !maySee(req, before.site)) return siteForbidden(req, reply, before.site);
      if (!before) return reply.code(404).send(notFound(req.params.id));
      const { state, events } = req.body;
      // What it receives is where the site's receipts go: the owner's to widen or narrow.
      if (events !== undefined && req.assentAdmin!.role !== 'owner')
        return reply
          .code(403)
          .send(
            apiError(
              'ASSENT_FORBIDDEN',
              'role',
              `the role ${req.assentAdmin!.role} cannot change what a webhook receives (events); it needs owner`,
            ),
          );
      const detail = {
        id: before.id,
        ...(state ? { state, was: before.state } : {}),
        ...(events ? { events: events.join(' '), were: before.events.split(',').join(' ') } : {}),
      };
      if (
        !(await audited(ctx, req, 'webhook-change', before.site, detail, (audit) =>
          ctx.store.webhooks.update(req.params.id, { state, events }, audit),
        ))
      )
        return reply.code(404).send(notFound(req.params.id));
      if (state === 'active') ctx.webhooks.nudge();
      return view((await ctx.store.webhooks.info(req.params.id))!, req);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/admin/webhooks/:id',
    {
      config: MANAGE,
      // Removes a webhook and its delivery log
      schema: {
        summary: 'Remove a webhook',
        description: 'Removes a webhook and its delivery log.',
        tags: ['webhooks'],
        params: idParams,
        response: { 204: { type: 'null', description: 'Removed' }, ...errorResponses },
      },
    },
    async (req, reply) => {
      const before = await ctx.store.webhooks.info(req.params.id);
      if (before && !maySee(req, before.site)) return siteForbidden(req, reply, before.site);
      if (
        !before ||
        !(await audited(
          ctx,
          req,
          'webhook-remove',
          before.site,
          { id: before.id, ...auditUrl(before.url) },
          (audit) => ctx.store.webhooks.remove(req.params.id, audit),
        ))
      )
        return reply.code(404).send(notFound(req.params.id));
      return reply.code(204).send();
    },
  );

  app.post<{ Params: { id: string } }>(
    '/v1/admin/webhooks/:id/test',
    {
      config: MANAGE,
      // Sends a signed webhook.test event now, once, and answers with the attempt
      schema: {
        summary: 'Send a test event',
        description: 'Sends one signed webhook.test event now (no retry) and answers with the attempt.',
        tags: ['webhooks'],
        params: idParams,
        response: { 200: deliverySchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      const h = await ctx.store.webhooks.get(req.params.id);
      if (!h) return reply.code(404).send(notFound(req.params.id));
      if (!maySee(req, h.site)) return siteForbidden(req, reply, h.site);
      const d = await ctx.webhooks.test(h);
      await audit(ctx, req, 'webhook-test', h.site, { id: h.id, status: d.status, error: d.error });
      return d;
    },
  );

  app.get<{ Params: { id: string }; Querystring: { before?: string; limit?: string } }>(
    '/v1/admin/webhooks/:id/deliveries',
    {
      config: READ,
      // A webhook’s delivery attempts, newest first
      schema: {
        summary: "A webhook's deliveries",
        description: "A webhook's delivery attempts, newest first (no payload, consent ID or IP is kept).",
        tags: ['webhooks'],
        params: idParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            before: {
              type: 'string',
              maxLength: 80,
              description: 'The `next` of the previous page',
            },
            limit: {
              type: 'string',
              pattern: '^([1-9][0-9]?|1[0-9][0-9]|200)$',
              description: '1 to 200; default 50',
            },
          },
        },
        response: {
          200: {
            type: 'object',
            description: 'Delivery attempts, newest first, and the cursor of the next page.',
            properties: {
              deliveries: { type: 'array', items: deliverySchema },
              next: { ...nullableString, description: 'Pass as `before` for older attempts' },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const hook = await ctx.store.webhooks.info(req.params.id);
      if (!hook) return reply.code(404).send(notFound(req.params.id));
      if (!maySee(req, hook.site)) return siteForbidden(req, reply, hook.site);
      let before: { at: string; id: string } | null = null;
      if (req.query.before !== undefined) {
        const [at, id] = req.query.before.split('~');
        if (!at || !id || Number.isNaN(Date.parse(at)))
          return reply
            .code(400)
            .send(apiError('ASSENT_BAD_FIELD', 'before', 'must be the `next` of a previous page'));
        before = { at, id };
      }
      const limit = Number(req.query.limit ?? 50);
      const rows = await ctx.store.webhooks.deliveries(req.params.id, before, limit);
      const last = rows.at(-1);
      return {
        deliveries: rows.map(({ webhook_id: _w, ...d }) => d),
        next: rows.length === limit && last ? `${last.at}~${last.id}` : null,
      };
    },
  );
};
