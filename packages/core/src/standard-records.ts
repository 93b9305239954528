import { METHODS, type Method } from './consent.js';
import { allowed } from './decide.js';
import { createPolicy } from './policy.js';
import { configOf, learnMoreUrl, type PolicyDoc } from './published.js';
import type { SignedReceipt } from './receipt.js';

/**
 * A receipt in the two published shapes other tools read: an ISO/IEC TS 27560:2023 consent
 * record and a Kantara Initiative Consent Receipt v1.1. Both are views of one signed receipt
 * and the policy it names, computed on export: nothing here is stored, so the signed receipt
 * stays the one truth and these can be regenerated (or corrected) at any time.
 *
 * Both standards name a controller (who is responsible) that a receipt does not hold: the
 * server's config gives it per site ({@link Controller}); an export without one is refused
 * rather than filled with blanks.
 */

/** The PII controller of a site, as both standards ask for it. */
export interface Controller {
  /** Legal name of the organisation. */
  readonly name: string;
  /** A person or role to contact about privacy (a DPO), as written to visitors. */
  readonly contact: string;
  readonly email: string;
  /** Postal address. */
  readonly address: string;
  readonly phone: string;
}

export const CONTROLLER_FIELDS = ['name', 'contact', 'email', 'address', 'phone'] as const;

/** Why `c` is not a {@link Controller} (naming the field), or null when it is one. */
export const controllerProblem = (c: unknown): string | null => {
  if (typeof c !== 'object' || c === null || Array.isArray(c))
    return `must be an object with ${CONTROLLER_FIELDS.join(', ')}`;
  for (const k of Object.keys(c))
    if (!(CONTROLLER_FIELDS as readonly string[]).includes(k))
      return `${k}: is not a known field (known: ${CONTROLLER_FIELDS.join(', ')})`;
  for (const k of CONTROLLER_FIELDS) {
    const v = (c as Record<string, unknown>)[k];
    if (typeof v !== 'string' || !v.trim() || v.length > 300)
      return `${k}: must be text of 1 to 300 characters`;
  }
  return null;
};

/** What a receipt's method says about consent, in the vocabulary of ISO/IEC TS 27560's event types. */
const EVENT: Readonly<Record<Method, string>> = {
  'accept-all': 'consent_given',
  custom: 'consent_given',
  'reject-all': 'consent_refused',
  gpc: 'consent_refused',
  withdraw: 'consent_withdrawn',
  'notice-ack': 'notice_acknowledged',
};
// A new method must say what it means here (the record would otherwise carry `undefined`).
for (const m of METHODS) if (!EVENT[m]) throw new Error(`standard-records: no event type for method ${m}`);

/** The privacy notice's address: the policy's `learnMoreHref` resolved against the site. */
const noticeUrl = (doc: PolicyDoc | null, site: string): string | null =>
  doc && learnMoreUrl(configOf(doc).learnMoreHref, site);

interface Purpose {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly granted: boolean;
  readonly services: readonly { id: string; title: string; granted: boolean; cookies: readonly string[] }[];
  readonly cookies: readonly string[];
}

/**
 * The receipt's purposes in the visitor's language, each with what the visitor chose. Without
 * the policy (a schema-1 receipt names none), the category ids of its choices, untitled.
 */
const purposesOf = (r: SignedReceipt, doc: PolicyDoc | null): Purpose[] => {
  if (!doc)
    return Object.entries(r.choices)
      .filter(([k]) => !k.includes(':') && k !== 'necessary')
      .map(([id, granted]) => ({ id, title: id, description: '', granted, services: [], cookies: [] }));
  const p = createPolicy(configOf(doc), [r.lang]);
  return p.categories.map((c) => ({
    id: c.id,
    title: c.title,
    description: c.description,
    granted: allowed(r.choices, c.id),
    // Core's one rule (`allowed`, as the banner applies it and the consent page shows it): a
    // granted category grants its services; a service may be granted alone.
    services: c.services.map((s) => ({
      id: s.id,
      title: s.title,
      granted: allowed(r.choices, c.id, s.id),
      cookies: s.cookies,
    })),
    cookies: c.cookies,
  }));
};

/** The receipt's integrity block: its place in the site's chain, hash and signature. */
const integrity = (r: SignedReceipt) => ({
  site: r.site,
  seq: r.seq,
  prev: r.prev,
  hash: r.hash,
  sig: r.sig,
  kid: r.kid,
  algorithm: 'SHA-256 of the canonical JSON receipt, signed with Ed25519',
});

/**
 * ISO/IEC TS 27560:2023 consent record. Field names follow the specification's tables (record
 * header, then the processing and event blocks) as the W3C DPV guide to TS 27560 spells them;
 * the mapping is documented in the server README ("Standard exports").
 */
export const iso27560Record = (r: SignedReceipt, doc: PolicyDoc | null, controller: Controller) => {
  const purposes = purposesOf(r, doc);
  const event = EVENT[r.method];
  return {
    schema_version: 'ISO/IEC TS 27560:2023',
    record_id: r.id,
    // The consent ID is random, made in the visitor's browser: pseudonymous, not a name.
    pii_principal_id: r.consentId,
    consent_status:
      event === 'consent_given' ? 'given' : event.replace('consent_', '').replace('notice_', ''),
    language: r.lang,
    privacy_notices: [
      {
        notice_id: r.policy.sha256 ?? null,
        version: r.policy.version,
        url: noticeUrl(doc, r.site),
        language: r.lang,
        // The notice's exact wording is the published policy with this SHA-256.
        content_sha256: r.policy.sha256 ?? null,
      },
    ],
    pii_controllers: [{ ...controller, url: r.site }],
    // A withdrawal on the visitor's consent page was made there, not on the site's page its
    // receipt carries (the last one the visitor chose on): said so, or the record read as if
    // the visitor had withdrawn on an article.
    collection_method:
      r.source === 'consent-page'
        ? `the visitor's consent page (their last choice on the site was on ${r.page.origin}${r.page.path}) (${r.mode})`
        : `web page ${r.page.origin}${r.page.path}: ${r.source} (${r.mode})`,
    purposes: [
      {
        purpose_id: 'necessary',
        purpose: 'Strictly necessary',
        lawful_basis:
          'exempt from consent (ePrivacy Directive art. 5(3)): necessary for the service requested',
        consent_given: true,
      },
      ...purposes.map((p) => ({
        purpose_id: p.id,
        purpose: p.title,
        description: p.description,
        lawful_basis:
          r.mode === 'opt-in' ? 'consent (GDPR art. 6(1)(a))' : `${r.mode} (no prior consent asked)`,
        consent_given: p.granted,
        pii_information: p.cookies.map((c) => ({ category: 'online identifier (cookie)', name: c })),
        services: p.services.map((s) => ({
          service: s.title,
          service_id: s.id,
          consent_given: s.granted,
          cookies: s.cookies,
        })),
      })),
    ],
    event: [
      {
        event_time: r.at,
        event_type: event,
        method: r.method,
        source: r.source,
        signals: { global_privacy_control: r.signals.gpc },
        region: r.region,
        user_agent_family: r.ua,
      },
    ],
    validity: {
      expires_at: r.expiresAt,
      renewal: 'the visitor is asked again at expiry or when the policy changes',
    },
    integrity: integrity(r),
  };
};

/** Kantara Initiative Consent Receipt Specification v1.1 (`KI-CR-v1.1.0`). */
export const kantaraReceipt = (r: SignedReceipt, doc: PolicyDoc | null, controller: Controller) => {
  const purposes = purposesOf(r, doc);
  const termination = `on withdrawal at the site, or on ${r.expiresAt} when the visitor is asked again`;
  return {
    version: 'KI-CR-v1.1.0',
    jurisdiction: r.region ?? '',
    // Seconds since the epoch, as the specification asks.
    consentTimestamp: Math.floor(Date.parse(r.at) / 1000),
    collectionMethod: `${r.source}: ${r.method} (${r.mode})`,
    consentReceiptID: r.id,
    publicKey: r.kid,
    language: r.lang,
    piiPrincipalId: r.consentId,
    piiControllers: [
      { piiController: controller.name, onBehalf: false, ...omitName(controller), piiControllerUrl: r.site },
    ],
    policyUrl: noticeUrl(doc, r.site) ?? r.site,
    // A receipt is for what was consented to: only granted purposes are listed. A refusal or
    // a withdrawal lists none; `collectionMethod` and the Assent block say which it was.
    services: purposes.flatMap((p) => {
      const granted = p.services.filter((s) => s.granted);
      const one = (service: string, cookies: readonly string[]) => ({
        service,
        purposes: [
          {
            purpose: p.title,
            purposeCategory: [p.id],
            consentType: r.mode === 'opt-in' ? 'EXPLICIT' : 'IMPLICIT',
            piiCategory: cookies.length ? cookies.map((c) => `cookie ${c}`) : ['online identifiers'],
            primaryPurpose: false,
            termination,
            thirdPartyDisclosure: p.services.length > 0,
          },
        ],
      });
      if (p.services.length) return granted.map((s) => one(s.title, s.cookies));
      return p.granted ? [one(p.title, p.cookies)] : [];
    }),
    sensitive: false,
    spiCat: [] as string[],
    // Not part of the specification: what makes this receipt checkable against Assent's log.
    'x-assent': { method: r.method, choices: r.choices, policy: r.policy, ...integrity(r) },
  };
};

const omitName = ({ name: _, ...rest }: Controller) => rest;
