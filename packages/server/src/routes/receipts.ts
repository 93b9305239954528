import {
  laxerThan,
  RECEIPT_MAX_BYTES,
  type ReceiptInput,
  requiredMode,
  validateReceiptInput,
} from '@assent/core';
import type { FastifyInstance } from 'fastify';
import { throttledAuth, tokenMatches } from '../authenticate.js';
import {
  type Context,
  normalizeOrigin,
  record,
  regionOf,
  senderOrigin,
  setConsentCookie,
} from '../context.js';
import { apiError, errorResponses } from '../errors.js';
import { createdSchema, errorReply, receiptInputSchema } from '../schemas.js';
import { unsafeText } from '../text.js';
import { retiredMessage } from './policies.js';

/**
 * `POST /v1/receipts`: the banner's record of a choice. 201 only once it is durable.
 *
 * Bound to its site: a browser's receipt must come from a page of the site it names (its
 * `Origin`, or failing that its `Referer`, is `page.origin`); a server's (`source: "api"`)
 * must carry the site's API key. And bound to the published policy: a receipt for a policy
 * the server does not publish as the site's current one is refused (409) and nothing is kept.
 */
export const receiptRoutes = (ctx: Context) => async (app: FastifyInstance) => {
  app.post<{ Body: ReceiptInput }>(
    '/v1/receipts',
    {
      bodyLimit: RECEIPT_MAX_BYTES,
      schema: {
        summary: 'Record a choice',
        description:
          "The banner's receipt of a visitor's choice; 201 only once it is committed (hash-chained, signed). A browser's receipt must come from a page of the site it names (Origin, or Referer); a server's (source \"api\") carries the site's API key. A receipt for a policy other than the site's published one is refused (409) and nothing is kept; so is one that contradicts itself or the visitor (400 naming the field): choices other than its method grants, a lang the policy publishes no texts for, a mode less strict than the visitor's region requires. Sets the site's consent cookie when the server shares its origin.",
        tags: ['receipts'],
        body: receiptInputSchema,
        response: {
          201: {
            ...createdSchema,
            description: 'Stored: the receipt ID, the consent ID and when the consent expires.',
          },
          ...errorResponses,
          400: errorReply(
            "A field is not valid (ASSENT_BAD_FIELD), the body is not JSON (ASSENT_INVALID_JSON), or page.origin is not a site this server serves (ASSENT_UNKNOWN_SITE). ASSENT_BAD_FIELD also names a receipt that contradicts itself or the visitor: choices other than its method grants (`choices.<key>`: reject-all and withdraw grant nothing, accept-all and notice-ack every key but, with signals.gpc, the sale/sharing ones), a lang the policy publishes no texts for (`lang`), or a mode less strict than the one the visitor's region requires (`mode`, when the server reads the region and the policy has regions). Nothing is stored.",
          ),
          401: errorReply(
            'A receipt with source "api" (or an Authorization header) without the site\'s API key (ASSENT_UNAUTHORIZED).',
          ),
          403: errorReply(
            'A browser receipt without Origin or Referer (ASSENT_ORIGIN_REQUIRED) or from another origin than page.origin (ASSENT_ORIGIN_MISMATCH).',
          ),
          409: errorReply(
            'The page shows a policy the site does not publish (ASSENT_POLICY_MISMATCH): `policy` names the published one; nothing was stored.',
          ),
        },
      },
    },
    async (req, reply) => {
      const origin = normalizeOrigin(req.body.page.origin);
      // Unknown here: maybe published a moment ago by another process sharing the database.
      let v = ctx.policies.site(origin) ?? (await ctx.policies.refresh(origin));
      if (!v || ctx.policies.retired(origin))
        return reply
          .code(400)
          .send(
            apiError(
              'ASSENT_UNKNOWN_SITE',
              'page.origin',
              v ? retiredMessage(origin) : `${origin} is not a site this server serves`,
            ),
          );
      const auth = req.headers.authorization;
      if (auth !== undefined || req.body.source === 'api') {
        // Server to server: the site's API key, never a browser's word. Guessing it is
        // throttled per client like the admin token.
        const key = ctx.apiKeys.get(origin);
        const ok = await throttledAuth(ctx, req, reply, () => tokenMatches(auth, key), {
          challenge: 'Bearer',
          message:
            key !== undefined
              ? `receipts with source "api" need ${origin}'s API key as "Bearer <key>"`
              : `receipts with source "api" need an API key, and none is configured for ${origin} (apiKeys)`,
        });
        if (!ok) return reply;
      } else {
        // A page of site A must not write into site B's chain, nor a script without a page
        // into anyone's. Browsers send Origin on every cross-origin POST and on same-origin
        // fetch POSTs; Referer is the fallback where a privacy setting strips Origin.
        const sent = senderOrigin(req);
        if (sent === null)
          return reply
            .code(403)
            .send(
              apiError(
                'ASSENT_ORIGIN_REQUIRED',
                'origin',
                'a receipt from a browser must carry an Origin or Referer header of the site it names; servers use source "api" with the site\'s API key',
              ),
            );
        if (sent !== origin)
          return reply
            .code(403)
            .send(
              apiError('ASSENT_ORIGIN_MISMATCH', 'page.origin', `does not match the sender's origin ${sent}`),
            );
      }
      // The schema checked shape and types; core checks the rules (known keys, formats),
      // on the origin as normalised (a copy only when normalising changed it).
      const body =
        origin === req.body.page.origin ? req.body : { ...req.body, page: { ...req.body.page, origin } };
      if (req.body.policy.sha256 !== v.sha256) v = (await ctx.policies.refresh(origin)) ?? v;
      // The policy first: a page on an old policy may name categories the current one dropped,
      // and must hear "409, here is the published policy", not "400, unknown category".
      if (req.body.policy.sha256 !== v.sha256) {
        // The page rendered a policy the server does not publish: nothing is stored, the
        // cookie (when the server shares the site's origin) is cleared so the banner asks
        // again, and the answer names the published policy so the banner can fetch it.
        setConsentCookie(req, reply, origin, v, null);
        return reply.code(409).send({
          ...apiError(
            'ASSENT_POLICY_MISMATCH',
            'policy.sha256',
            `the page shows policy ${req.body.policy.sha256}, but ${origin} publishes ${v.sha256} (version "${v.config.policy}"): load the published policy (GET /v1/policy?site=${origin}) or publish the page's`,
          ),
          policy: { sha256: v.sha256, version: v.config.policy },
        });
      }
      // The SHA-256 names the published policy, version and all: a receipt naming another
      // version is a mistake in whatever sent it, said rather than stored with the real one.
      if (req.body.policy.version !== v.config.policy)
        return reply
          .code(400)
          .send(
            apiError(
              'ASSENT_BAD_FIELD',
              'policy.version',
              `must be "${v.config.policy}", the version of the policy policy.sha256 names (${v.sha256})`,
            ),
          );
      // Core allows any path without whitespace, ? or #; what is stored must also be visible
      // text: no control characters, bidi overrides or lone surrogates (see text.ts).
      const unsafePath = unsafeText(req.body.page.path);
      if (unsafePath) return reply.code(400).send(apiError('ASSENT_BAD_FIELD', 'page.path', unsafePath));
      // Core's rules against the published policy: known keys, the choices the method grants,
      // a language the policy publishes texts for.
      const check = validateReceiptInput(body, v.policy);
      if (!check.ok)
        return reply.code(400).send(apiError('ASSENT_BAD_FIELD', check.error.field, check.error.message));
      const { mode } = check.value;
      if (!v.modes.includes(mode))
        return reply
          .code(400)
          .send(
            apiError('ASSENT_BAD_FIELD', 'mode', `must be one of ${v.modes.join(', ')} under this policy`),
          );
      // The region the server reads (its trusted header, as recorded in the receipt) wins over
      // the page's: a page that forced another region (`data-assent-region`) must not earn a
      // laxer mode's receipt. Stricter than required is fine; an unknown region is not checked,
      // nor a server's receipt (source "api"): its request comes from the site's backend, whose
      // region the header gives, not the visitor's.
      const region = v.config.regions && req.body.source !== 'api' ? regionOf(ctx, req) : null;
      const need = region && requiredMode(v.config.regions!, region);
      if (need && laxerThan(mode, need))
        return reply
          .code(400)
          .send(
            apiError(
              'ASSENT_BAD_FIELD',
              'mode',
              `the visitor's region ${region} requires "${need}" under this policy (or a stricter mode), not "${mode}"`,
            ),
          );
      const r = await record(ctx, req, check.value, v);
      setConsentCookie(req, reply, origin, v, r);
      return reply.code(201).send({ id: r.id, consentId: r.consentId, expiresAt: r.expiresAt });
    },
  );
};
