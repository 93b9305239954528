import type { SignedReceipt } from '@assent/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { maySee, siteForbidden } from '../admin-auth.js';
import type { Context } from '../context.js';
import { apiError, errorResponses } from '../errors.js';
import { consentIdSchema, errorReply, jsonReply, receiptIdSchema, textReply } from '../schemas.js';
import type { ReceiptLeaf, StoredCheckpoint } from '../store/types.js';
import { COSIGNATURE_MAX_AHEAD_S, MAX_TREE_SIZE, parseTreeSize } from '../tlog/limits.js';
import { ProofError } from '../tlog/log.js';
import { cosignatureTime, verifyCosignature } from '../tlog/note.js';
import type { PolicyProof, ProofFile } from '../tlog/proof-file.js';
import { siteNamed } from './policies.js';

const b64 = (h: Uint8Array) => Buffer.from(h).toString('base64');

/**
 * Tree sizes and indexes are whole numbers in the query string (no type coercion), at most
 * MAX_TREE_SIZE: the schema checks the digits, `pastMax` the value, so every number too large
 * gets the same answer however many digits it has.
 */
const whole = {
  type: 'string',
  pattern: '^(0|[1-9][0-9]*)$',
  description: `A whole number, at most ${MAX_TREE_SIZE}.`,
} as const;
const TREE_PARAMS = ['size', 'index', 'from', 'to'] as const;

/**
 * Answers 400 naming the first tree-size parameter of `q` past MAX_TREE_SIZE and returns true;
 * false when none is. Such a number never reaches the database, whose columns are 32-bit.
 */
const pastMax = (q: LogQuery, reply: FastifyReply): boolean => {
  const name = TREE_PARAMS.find((p) => q[p] !== undefined && parseTreeSize(q[p]!) === null);
  if (!name) return false;
  reply
    .code(400)
    .send(
      apiError(
        'ASSENT_BAD_FIELD',
        name,
        `must be a whole number at most ${MAX_TREE_SIZE} (the largest tree size)`,
      ),
    );
  return true;
};
const site = { type: 'string', maxLength: 200 } as const;

interface LogQuery {
  site?: string;
  index?: string;
  size?: string;
  receipt?: string;
  from?: string;
  to?: string;
}

/**
 * The consent log's public side (README "Verifying Assent's log"):
 * - `GET /v1/log/checkpoint?site=[&size=]`: the latest (or that) signed checkpoint (C2SP
 *   tlog-checkpoint, text), with the witnesses' cosignatures as further signature lines;
 * - `POST /v1/log/cosignature?site=` `{size, cosignature}`: a configured witness's cosignature;
 * - `GET /v1/log/key?site=`: the log's origin and signed-note verifier key;
 * - `GET /v1/log/entries?site=`: its public entries (policies, banner builds), newest first;
 * - `GET /v1/log/inclusion?site=&index=[&size=]` or `?receipt=[&size=]`: an inclusion proof;
 * - `GET /v1/log/consistency?site=&from=&to=`: a consistency proof between two tree sizes;
 * - `GET /v1/consents/:id/receipts/:receipt/proof`: the visitor's proof file (receipt, salt,
 *   inclusion proof and checkpoint with its cosignatures), for the consent ID's holder only;
 * - `POST /v1/admin/log/checkpoint?site=` (admin): a checkpoint now.
 * `site` defaults to the origin the request was made to. Errors are `{error, field, message}`.
 */
/** The site a log request names (or the server's own origin); a 404 naming `site` otherwise. */
const siteOfFor =
  (ctx: Context) =>
  (q: LogQuery, req: FastifyRequest, reply: FastifyReply): string | null =>
    siteNamed(ctx, q.site, req, reply);

export const logRoutes = (ctx: Context) => async (app: FastifyInstance) => {
  const siteOf = siteOfFor(ctx);
  /** A ProofError as the API's error; anything else goes to the error handler. */
  const answer = async <T>(reply: FastifyReply, f: () => Promise<T>) => {
    try {
      return await f();
    } catch (e) {
      if (e instanceof ProofError)
        return reply
          .code(e.status)
          .send(apiError(e.status === 404 ? 'ASSENT_NOT_FOUND' : 'ASSENT_BAD_FIELD', e.field, e.message));
      throw e;
    }
  };

  app.get<{ Querystring: LogQuery }>(
    '/v1/log/checkpoint',
    {
      schema: {
        summary: 'The latest checkpoint, or one by size',
        description:
          "The site's latest signed checkpoint (C2SP tlog-checkpoint, a signed note), or the one of tree size `size`, followed by the witnesses' cosignatures of it (C2SP tlog-cosignature) as further signature lines.",
        tags: ['consent log'],

        querystring: { type: 'object', additionalProperties: false, properties: { site, size: whole } },
        response: {
          200: textReply('The signed note.', 'text/plain'),
          ...errorResponses,
          400: errorReply(
            `\`size\` is not a whole number, or is past ${MAX_TREE_SIZE} (ASSENT_BAD_FIELD, \`field\` names it).`,
          ),
          404: errorReply(
            '`site` is not a site this server serves (ASSENT_UNKNOWN_SITE), or no checkpoint of `size` was signed (ASSENT_NOT_FOUND).',
          ),
        },
      },
    },
    async (req, reply) => {
      if (pastMax(req.query, reply)) return reply;
      const s = siteOf(req.query, req, reply);
      if (!s) return reply;
      const c =
        req.query.size === undefined
          ? await ctx.log.latest(s)
          : await ctx.store.logCheckpoint(s, Number(req.query.size));
      if (!c)
        return reply
          .code(404)
          .send(
            apiError('ASSENT_NOT_FOUND', 'size', `${s}'s log signed no checkpoint of size ${req.query.size}`),
          );
      return reply
        .type('text/plain; charset=utf-8')
        .header('cache-control', 'no-cache')
        .send(await withCosignatures(ctx, c));
    },
  );

  app.post<{ Querystring: LogQuery; Body: { size: number; cosignature: string } }>(
    '/v1/log/cosignature',
    {
      schema: {
        summary: "A witness's cosignature",
        description:
          "A configured witness's cosignature (C2SP tlog-cosignature v1) of a checkpoint this log signed; published beside it on GET /v1/log/checkpoint.",
        tags: ['consent log'],
        querystring: { type: 'object', additionalProperties: false, properties: { site } },
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['size', 'cosignature'],
          properties: {
            size: { type: 'integer', minimum: 0, maximum: MAX_TREE_SIZE },
            cosignature: { type: 'string', maxLength: 400 },
          },
        },
        response: {
          201: jsonReply('Stored: published beside the checkpoint it signs.', {
            site: { type: 'string' },
            size: { type: 'integer' },
            witness: { type: 'string' },
            time: { type: 'integer', description: "The cosignature's timestamp (seconds)" },
          }),
          ...errorResponses,
          400: errorReply(
            `A field is not valid (ASSENT_BAD_FIELD, \`field\` names which): \`cosignature\` does not verify under a configured witness's key over this checkpoint, or its timestamp is more than ${COSIGNATURE_MAX_AHEAD_S / 60} minutes ahead of the server's clock; \`size\` is past ${MAX_TREE_SIZE}.`,
          ),
          409: errorReply(
            'The log holds a newer cosignature of this checkpoint by the same witness, and keeps it (ASSENT_BAD_FIELD, `cosignature`).',
          ),
        },
      },
    },
    async (req, reply) => {
      const s = siteOf(req.query, req, reply);
      if (!s) return reply;
      // Open to anyone, like the log itself: only a witness the operator configured can sign
      // one that verifies, over a checkpoint this server signed.
      if (!ctx.witnesses.length)
        return reply
          .code(403)
          .send(
            apiError('ASSENT_FORBIDDEN', 'cosignature', 'this server accepts no cosignatures (witnesses)'),
          );
      const c = await ctx.store.logCheckpoint(s, req.body.size);
      if (!c)
        return reply
          .code(404)
          .send(
            apiError('ASSENT_NOT_FOUND', 'size', `${s}'s log signed no checkpoint of size ${req.body.size}`),
          );
      const v = verifyCosignature(c.note, req.body.cosignature, ctx.witnesses);
      if (!v.ok) return reply.code(400).send(apiError('ASSENT_BAD_FIELD', 'cosignature', v.reason));
      // The newest of a witness's cosignatures is kept (store/cosignatures.ts): one dated far
      // ahead would outrank every honest later one, so a clock's small drift is all it may have.
      const now = Math.floor(Date.now() / 1000);
      if (v.time > now + COSIGNATURE_MAX_AHEAD_S)
        return reply
          .code(400)
          .send(
            apiError(
              'ASSENT_BAD_FIELD',
              'cosignature',
              `has the timestamp ${v.time}, more than ${COSIGNATURE_MAX_AHEAD_S} s ahead of this server's clock (${now})`,
            ),
          );
      const held = await ctx.store.cosignatures.add(
        s,
        c.size,
        v.name,
        req.body.cosignature,
        v.time,
        new Date().toISOString(),
      );
      if (held !== req.body.cosignature)
        return reply
          .code(409)
          .send(
            apiError(
              'ASSENT_BAD_FIELD',
              'cosignature',
              `is older than the cosignature by ${v.name} this log holds for its checkpoint of size ${c.size} (timestamp ${cosignatureTime(held)}), which it keeps`,
            ),
          );
      return reply.code(201).send({ site: s, size: c.size, witness: v.name, time: v.time });
    },
  );

  app.get<{ Querystring: LogQuery }>(
    '/v1/log/key',
    {
      schema: {
        summary: "The log's key",
        description: "The log's origin line, its signed-note verifier key and the server's public key (PEM).",
        tags: ['consent log'],

        querystring: { type: 'object', additionalProperties: false, properties: { site } },
        response: {
          200: jsonReply('`{ site, origin, verifierKey, publicKey }`.', {
            site: { type: 'string' },
            origin: { type: 'string' },
            verifierKey: { type: 'string' },
            publicKey: { type: 'string' },
          }),
          ...errorResponses,
          404: errorReply('`site` is not a site this server serves (ASSENT_UNKNOWN_SITE).'),
        },
      },
    },
    async (req, reply) => {
      const s = siteOf(req.query, req, reply);
      if (!s) return reply;
      return {
        site: s,
        origin: ctx.log.origin(s),
        verifierKey: ctx.log.verifierKey(s),
        publicKey: ctx.signer.publicKeyPem,
      };
    },
  );

  app.get<{ Querystring: LogQuery }>(
    '/v1/log/entries',
    {
      schema: {
        summary: "The log's public entries",
        description: "The site's published policies and banner builds as logged, newest first.",
        tags: ['consent log'],

        querystring: { type: 'object', additionalProperties: false, properties: { site } },
        response: {
          200: jsonReply('`{ site, entries: [{ index, entry }] }`.', { site: { type: 'string' } }),
          ...errorResponses,
          404: errorReply('`site` is not a site this server serves (ASSENT_UNKNOWN_SITE).'),
        },
      },
    },
    async (req, reply) => {
      const s = siteOf(req.query, req, reply);
      if (!s) return reply;
      // The public entries (policies, banner builds), newest first: each one's leaf data is
      // the SHA-256 of its text, provable with /v1/log/inclusion?index=.
      const rows = await ctx.store.logEntries(s, 1000);
      return { site: s, entries: rows.map((r) => ({ index: r.idx, entry: JSON.parse(r.entry) })) };
    },
  );

  app.get<{ Querystring: LogQuery }>(
    '/v1/log/inclusion',
    {
      schema: {
        summary: 'An inclusion proof',
        description:
          "The proof that leaf `index` (or receipt `receipt`'s leaf) is in the tree of `size` (default the latest checkpoint's).",
        tags: ['consent log'],

        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { site, index: whole, size: whole, receipt: receiptIdSchema },
        },
        response: {
          200: jsonReply('`{ site, index, size, proof }`: proof hashes in base64.', {
            site: { type: 'string' },
            index: { type: 'integer' },
            size: { type: 'integer' },
          }),
          ...errorResponses,
          400: errorReply(
            `\`index\` or \`receipt\` is missing; \`size\` is past the latest checkpoint; the leaf (\`index\`, or \`receipt\`'s) is not in the tree of \`size\`; or a number is past ${MAX_TREE_SIZE} (ASSENT_BAD_FIELD).`,
          ),
          404: errorReply(
            'Unknown site (ASSENT_UNKNOWN_SITE), receipt, or a part of the tree not integrated yet (ASSENT_NOT_FOUND).',
          ),
        },
      },
    },
    async (req, reply) => {
      const q = req.query;
      if (pastMax(q, reply)) return reply;
      let s: string | null;
      let index: number;
      if (q.receipt !== undefined) {
        const leaf = await ctx.store.receiptLeaf(q.receipt);
        if (!leaf || leaf.leaf === null)
          return reply.code(404).send(apiError('ASSENT_NOT_FOUND', 'receipt', 'no receipt with this ID'));
        s = leaf.site;
        index = leaf.leaf;
      } else {
        if (q.index === undefined)
          return reply.code(400).send(apiError('ASSENT_BAD_FIELD', 'index', 'is required (or receipt)'));
        s = siteOf(q, req, reply);
        if (!s) return reply;
        index = Number(q.index);
      }
      const site = s;
      return answer(reply, async () => {
        const p = await ctx.log.inclusion(
          site,
          index,
          q.size === undefined ? undefined : Number(q.size),
          q.receipt === undefined ? 'index' : 'receipt',
        );
        return { site, index, size: p.size, proof: p.proof.map(b64) };
      });
    },
  );

  app.get<{ Querystring: LogQuery }>(
    '/v1/log/consistency',
    {
      schema: {
        summary: 'A consistency proof',
        description: 'The proof that the tree of size `from` is a prefix of the tree of size `to`.',
        tags: ['consent log'],

        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['from', 'to'],
          properties: { site, from: whole, to: whole },
        },
        response: {
          200: jsonReply('`{ site, from, to, proof }`: proof hashes in base64.'),
          ...errorResponses,
          400: errorReply(
            `\`from\` is larger than \`to\`, \`to\` is past the latest checkpoint, or either is past ${MAX_TREE_SIZE} (ASSENT_BAD_FIELD).`,
          ),
          404: errorReply(
            'Unknown site (ASSENT_UNKNOWN_SITE), or a part of the tree not integrated yet (ASSENT_NOT_FOUND).',
          ),
        },
      },
    },
    async (req, reply) => {
      if (pastMax(req.query, reply)) return reply;
      const s = siteOf(req.query, req, reply);
      if (!s) return reply;
      const from = Number(req.query.from);
      const to = Number(req.query.to);
      return answer(reply, async () => ({
        site: s,
        from,
        to,
        proof: (await ctx.log.consistency(s, from, to)).map(b64),
      }));
    },
  );

  app.get<{ Params: { id: string; receipt: string } }>(
    '/v1/consents/:id/receipts/:receipt/proof',
    {
      schema: {
        summary: "A receipt's proof file",
        description:
          "For the consent ID's holder: the receipt, its salt, its inclusion proof and the checkpoint, with the policy the receipt names and its publication in the same log (entry and inclusion proof), to verify offline.",
        tags: ['consent log'],

        params: {
          type: 'object',
          required: ['id', 'receipt'],
          properties: { id: consentIdSchema, receipt: receiptIdSchema },
        },
        response: {
          200: jsonReply('The proof file (type `assent-receipt-proof`), as an attachment.', {
            type: { type: 'string' },
            v: { type: 'integer' },
          }),
          ...errorResponses,
          404: errorReply('No receipt with this ID under this consent ID (ASSENT_NOT_FOUND).'),
        },
      },
    },
    async (req, reply) => {
      const { id, receipt } = req.params;
      const leaf = await ctx.store.receiptLeaf(receipt);
      // Only the consent's holder: the salt links the receipt to its leaf.
      const file = leaf && leaf.consentId === id ? await proofFileOf(ctx, leaf) : null;
      if (!file)
        return reply
          .code(404)
          .send(apiError('ASSENT_NOT_FOUND', 'receipt', 'no receipt with this ID under this consent ID'));
      return sendProofFile(reply, receipt, file);
    },
  );
};

/** A checkpoint's note followed by the witnesses' cosignatures of it, as further signature lines. */
const withCosignatures = async (ctx: Context, c: StoredCheckpoint): Promise<string> => {
  const lines = await ctx.store.cosignatures.of(c.site, c.size);
  return lines.length ? `${c.note}${lines.join('\n')}\n` : c.note;
};

/**
 * A receipt's proof file (tlog/proof-file.ts), integrating it on demand; null once it is
 * purged (no payload, no salt: nothing left to prove about a person).
 *
 * Its checkpoint is the newest one that holds the receipt and that a witness cosigned, with
 * the cosignatures: a visitor who trusts witnesses accepts a proof only against a checkpoint
 * they cosigned (verify-receipt --witness). Checkpoints are signed every few seconds and
 * witnessed every few minutes, so the latest is seldom cosigned yet; when none holding the
 * receipt is, the file is against the latest, and a later download may find one cosigned.
 */
export const proofFileOf = async (ctx: Context, leaf: ReceiptLeaf): Promise<ProofFile | null> => {
  if (leaf.body === null || leaf.salt === null || leaf.leaf === null) return null;
  const cosigned = await ctx.store.cosignatures.largestCosigned(leaf.site, leaf.leaf + 1);
  const { size, proof } = await ctx.log.inclusion(leaf.site, leaf.leaf, cosigned ?? undefined);
  const checkpoint = await ctx.store.logCheckpoint(leaf.site, size);
  const signed = { ...(JSON.parse(leaf.body) as SignedReceipt), hash: leaf.hash, sig: leaf.sig };
  const policy = await policyProof(ctx, leaf.site, signed.policy.sha256, leaf.leaf, size);
  return {
    type: 'assent-receipt-proof',
    v: 1,
    receipt: signed,
    salt: leaf.salt,
    index: leaf.leaf,
    proof: proof.map(b64),
    checkpoint: await withCosignatures(ctx, checkpoint!),
    ...(policy ? { policy } : {}),
  };
};

/** The proof file as a download, never cached. */
export const sendProofFile = (reply: FastifyReply, id: string, file: ProofFile) =>
  reply
    .type('application/json; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-disposition', `attachment; filename="assent-receipt-${id}.proof.json"`)
    .send(JSON.stringify(file, null, 2));

/**
 * Public entries a proof file's policy is looked for among, newest first: a site's
 * publications and banner builds, a few a week, so years of them. One older than that is left
 * out of the file, which then proves the receipt alone (and says so), as for a policy published
 * before the log began.
 */
const ENTRIES_SEARCHED = 1000;

/**
 * The policy `sha256` and its publication in `site`'s log, proven against the tree of `size`:
 * the last publication of it before leaf `before` (the receipt's). Null when none is found
 * (published before the log began, or before the newest ENTRIES_SEARCHED entries): the file
 * then proves the receipt alone.
 */
const policyProof = async (
  ctx: Context,
  site: string,
  sha256: string,
  before: number,
  size: number,
): Promise<PolicyProof | null> => {
  const published = (await ctx.store.logEntries(site, ENTRIES_SEARCHED)).find((e) => {
    if (e.idx >= before) return false;
    const entry = JSON.parse(e.entry) as { type?: string; policy?: string };
    return entry.type === 'policy' && entry.policy === sha256;
  });
  const stored = published && (await ctx.store.policy(sha256));
  if (!published || !stored) return null;
  const { proof } = await ctx.log.inclusion(site, published.idx, size);
  return { doc: stored.doc, entry: published.entry, index: published.idx, proof: proof.map(b64) };
};

/**
 * A checkpoint on demand: an admin route, registered inside the admin API's plugin
 * (routes/admin.ts), so its authentication and roles are the admin API's.
 */
export const logAdminRoutes = (ctx: Context) => async (app: FastifyInstance) => {
  app.post<{ Querystring: LogQuery }>(
    '/v1/admin/log/checkpoint',
    {
      // Signs what the log already holds: any signed-in role may ask for it (an auditor does,
      // to check a recent receipt's inclusion without waiting for the next interval).
      config: { allow: ['owner', 'editor', 'auditor'], scope: 'site' },
      schema: {
        summary: 'A checkpoint now',
        description:
          "Integrates the site's new leaves and signs a checkpoint at once. The site is the query's `site` (without one, the origin asked); the body, if any, must be empty (`{}`): a field there, `site` included, is refused.",
        tags: ['admin'],

        querystring: { type: 'object', additionalProperties: false, properties: { site } },
        // Nothing is taken from the body: a `site` there would be ignored (and the checkpoint
        // made for another site than meant), so it is refused like any field.
        body: { type: ['object', 'null'], additionalProperties: false, properties: {} },
        response: {
          200: jsonReply('`{ site, size, root, note }`.', {
            site: { type: 'string' },
            size: { type: 'integer' },
            root: { type: 'string' },
            note: { type: 'string' },
          }),
          ...errorResponses,
          404: errorReply('`site` is not a site this server serves (ASSENT_UNKNOWN_SITE).'),
        },
      },
    },
    async (req, reply) => {
      const s = siteOfFor(ctx)(req.query, req, reply);
      if (!s) return reply;
      // Without ?site= it is the origin asked: checked like a named one.
      if (!maySee(req, s)) return siteForbidden(req, reply, s);
      const c = await ctx.log.integrate(s);
      return { site: s, size: c.size, root: c.root, note: c.note };
    },
  );
};
