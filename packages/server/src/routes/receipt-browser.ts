import { createPublicKey } from 'node:crypto';
import {
  allowed,
  grantedKeys,
  isConsentId,
  learnMoreUrl,
  METHODS,
  type Mode,
  type SignedReceipt,
  type Texts,
} from '@assent/core';
import type { FastifyInstance } from 'fastify';
import { audit, maySee, scopedFilter } from '../admin-auth.js';
import type { Context } from '../context.js';
import { apiError, errorResponses, RECEIPT_ID_PATTERN } from '../errors.js';
import { errorReply, jsonReply, receiptIdSchema } from '../schemas.js';
import { receiptHash, verifyHashSignature } from '../signer.js';
import type { ReceiptListRow } from '../store/admin-store.js';
import { badDate, type FilterQuery, filterOf, filterQuery, knownSite, unknownSite } from './admin-filter.js';
import { proofFileOf, sendProofFile } from './log.js';

const READERS = { allow: ['owner', 'auditor'] as const, scope: 'site' as const };
const DEFAULT_LIMIT = 50;

/** The keyset cursor of the next page: the last row's `at` and `id`, as one opaque string. */
const cursorOf = (r: ReceiptListRow) => Buffer.from(`${r.at}|${r.id}`).toString('base64url');
const ID = new RegExp(RECEIPT_ID_PATTERN);
const AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** What `cursorOf` made, or null: anything else (a NUL PostgreSQL refuses …) never reaches a query. */
const parseCursor = (c: string): { at: string; id: string } | null => {
  const [at, id, ...rest] = Buffer.from(c, 'base64url').toString().split('|');
  return at && id && !rest.length && AT.test(at) && ID.test(id) && !Number.isNaN(Date.parse(at))
    ? { at, id }
    : null;
};

/** A row of the table: what the console shows, from the signed body (null once purged). */
const listItem = (r: ReceiptListRow) => {
  const b = r.body ? (JSON.parse(r.body) as SignedReceipt) : null;
  return {
    id: r.id,
    site: r.site,
    seq: Number(r.seq),
    at: r.at,
    method: r.method,
    mode: b?.mode ?? null,
    region: r.region,
    lang: b?.lang ?? null,
    policy: b?.policy.version ?? null,
    granted: b ? grantedKeys(b.choices) : null,
    gpc: b?.signals.gpc ?? null,
    purged: r.purged_at !== null,
  };
};

/**
 * The first layer's buttons under each mode, in the banner's order (banner notice.ts): the
 * words a visitor chose between. `doNotSell` is the opt-out link beside them.
 */
const BUTTONS: Record<Mode, readonly (keyof Texts)[]> = {
  'opt-in': ['accept', 'reject', 'preferences'],
  'opt-out': ['accept', 'preferences', 'doNotSell'],
  notice: ['accept'],
};

/** The Learn More link as the visitor's browser resolved it: a relative one against the site. */

/**
 * The receipts table and a receipt's detail (owners and auditors). A consent ID is searched
 * as the store's own history lookup does it, and never logged: the request log redacts every
 * 22-character ID in a URL (logging.ts), and a search is no audited action (the audit log
 * would have to hold the ID).
 */
export const receiptBrowserRoutes = (ctx: Context) => async (app: FastifyInstance) => {
  app.get<{
    Querystring: FilterQuery & { method?: string; consent?: string; after?: string; limit?: string };
  }>(
    '/v1/admin/receipts/page',
    {
      config: READERS,
      schema: {
        summary: 'Browse receipts',
        description:
          'One page of receipts, newest first, filtered by site, dates, method or consent ID; `after` is the cursor of the previous page.',
        tags: ['admin'],

        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...filterQuery,
            method: { type: 'string', enum: [...METHODS] },
            consent: { type: 'string', maxLength: 64 },
            after: { type: 'string', maxLength: 200 },
            limit: { type: 'string', pattern: '^([1-9][0-9]?|100)$' },
          },
        },
        response: {
          200: jsonReply('The receipts of the page and the cursor of the next one.'),
          ...errorResponses,
          400: errorReply(
            'A filter is not valid, the site is not served here (ASSENT_UNKNOWN_SITE), or `after` is not a cursor this server gave (ASSENT_BAD_FIELD).',
          ),
        },
      },
    },
    async (req, reply) => {
      const filter = filterOf(req.query);
      if ('field' in filter) return badDate(reply, filter.field);
      // A mistyped site is a mistake to name, not an empty table.
      if (filter.site !== undefined && !(await knownSite(ctx, filter.site)))
        return unknownSite(reply, filter.site);
      const consent = req.query.consent?.trim();
      if (consent !== undefined && consent !== '' && !isConsentId(consent))
        return reply
          .code(400)
          .send(
            apiError('ASSENT_BAD_FIELD', 'consent', 'must be a consent ID: 22 characters of A-Z a-z 0-9 - _'),
          );
      const after = req.query.after === undefined ? null : parseCursor(req.query.after);
      if (req.query.after !== undefined && !after)
        return reply
          .code(400)
          .send(apiError('ASSENT_BAD_FIELD', 'after', 'is not a cursor this server gave'));
      const limit = Number(req.query.limit ?? DEFAULT_LIMIT);
      const rows = await ctx.store.admin.receipts(
        {
          ...scopedFilter(req, filter),
          ...(req.query.method ? { method: req.query.method } : {}),
          ...(consent ? { consentId: consent } : {}),
        },
        after,
        limit,
      );
      reply.header('cache-control', 'no-store');
      return {
        receipts: rows.map(listItem),
        next: rows.length === limit ? cursorOf(rows.at(-1)!) : null,
      };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/admin/receipts/:id',
    {
      config: READERS,
      schema: {
        summary: 'One receipt and its chain',
        description:
          "A stored receipt, whether it was purged, its place in the site's chain (previous and next) and its verification.",
        tags: ['admin'],

        params: { type: 'object', properties: { id: receiptIdSchema } },
        response: {
          200: jsonReply('`{ receipt, purged, chain, verification }`.', { purged: { type: 'boolean' } }),
          ...errorResponses,
          404: errorReply('No receipt with this ID, or none on a site this user may see (ASSENT_NOT_FOUND).'),
        },
      },
    },
    async (req, reply) => {
      const found = await ctx.store.admin.receipt(req.params.id);
      // Another site's receipt is "not found" for a user limited to some sites: a 403 naming
      // its site would tell them the ID exists, and where.
      if (!found || !maySee(req, found.row.site))
        return reply.code(404).send(apiError('ASSENT_NOT_FOUND', 'id', `no receipt ${req.params.id}`));
      const { row } = found;
      const r = row.body
        ? ({ ...JSON.parse(row.body), hash: row.hash, sig: row.sig } as SignedReceipt)
        : null;
      // Its hash recomputed from its content (core's canonical JSON), its signature checked
      // with this server's key when it names it; a receipt signed under an earlier key says so.
      const ownKey = row.kid === ctx.signer.kid;
      const verification = {
        hash: r ? receiptHash(r) === row.hash : null,
        signature: ownKey
          ? verifyHashSignature(createPublicKey(ctx.signer.publicKeyPem), row.hash, row.sig)
          : null,
        kid: row.kid,
        key: ownKey ? 'this server' : 'another key (verify the export with its public key)',
      };
      let policy = null;
      const v = row.policy ? await ctx.policies.get(row.policy) : null;
      if (v && r) {
        // The wording in the language the visitor was shown, with what they granted.
        // Granted as core decides it (`allowed`): a key the receipt leaves out is not granted,
        // and a granted category grants its services.
        const p = v.inLanguage(r.lang);
        const t = p.texts;
        policy = {
          sha256: v.sha256,
          version: v.config.policy,
          lang: p.lang,
          texts: t,
          // The first layer as the visitor saw it under the receipt's mode: the message, the
          // Learn More link, the buttons.
          shown: {
            mode: r.mode,
            message: t.message,
            learnMore: t.learnMore,
            learnMoreHref: learnMoreUrl(v.config.learnMoreHref, r.site) ?? v.config.learnMoreHref,
            buttons: (BUTTONS[r.mode] ?? [])
              .map((k) => t[k])
              .filter((label): label is string => typeof label === 'string' && label !== ''),
            necessary: t.cats.necessary
              ? { title: t.cats.necessary[0], description: t.cats.necessary[1], note: t.alwaysOn }
              : null,
          },
          categories: p.categories.map((c) => ({
            id: c.id,
            title: c.title,
            description: c.description,
            granted: allowed(r.choices, c.id),
            services: c.services.map((x) => ({
              id: x.id,
              title: x.title,
              description: x.description,
              granted: allowed(r.choices, c.id, x.id),
            })),
          })),
        };
      }
      reply.header('cache-control', 'no-store');
      return {
        receipt: r,
        purged: row.purged_at !== null,
        chain: {
          site: row.site,
          seq: row.seq,
          head: found.head,
          prev: row.prev,
          hash: row.hash,
          prevId: found.prevId,
          nextId: found.nextId,
        },
        verification,
        policy,
      };
    },
  );

  // The visitor's proof file of any receipt, for the owner who must show a data-protection
  // authority that this visitor consented to this wording: the file the consent page gives the
  // visitor, checked offline with `assent-server verify-receipt`. An export of one receipt,
  // audited as one.
  app.get<{ Params: { id: string } }>(
    '/v1/admin/receipts/:id/proof',
    {
      config: READERS,
      schema: {
        summary: "A receipt's proof file",
        description:
          "The receipt's proof file, as the consent page gives it to the visitor (type `assent-receipt-proof`): the receipt, its inclusion proof, the checkpoint, the policy and its publication in the log. Audited as an export.",
        tags: ['admin'],
        params: { type: 'object', properties: { id: receiptIdSchema } },
        response: {
          200: jsonReply('The proof file, as an attachment.', {
            type: { type: 'string' },
            v: { type: 'integer' },
          }),
          ...errorResponses,
          404: errorReply(
            'No receipt with this ID on a site this user may see, or it was purged (ASSENT_NOT_FOUND).',
          ),
        },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      const leaf = await ctx.store.receiptLeaf(id);
      // Another site's receipt is "not found", as on the detail route.
      if (!leaf || !maySee(req, leaf.site))
        return reply.code(404).send(apiError('ASSENT_NOT_FOUND', 'id', `no receipt ${id}`));
      const file = await proofFileOf(ctx, leaf);
      if (!file)
        return reply
          .code(404)
          .send(
            apiError(
              'ASSENT_NOT_FOUND',
              'id',
              `receipt ${id} was purged: nothing is left to prove about a person`,
            ),
          );
      await audit(ctx, req, 'export', leaf.site, { format: 'proof', receipt: id });
      return sendProofFile(reply, id, file);
    },
  );
};
