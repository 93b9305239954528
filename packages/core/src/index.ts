/**
 * @assent/core — the consent model and every rule, pure and dependency-free.
 * Runs in the browser (the banner), in Node (the server, the scanner) and in tests alike.
 * @packageDocumentation
 */
export type { CategoryConfig, Config, GoogleConsentMode, Mode, ServiceConfig, Validated } from './config.js';
export {
  DEFAULTS,
  ID_RE,
  isSafeHref,
  MAX_DAYS,
  MODES,
  REVALIDATE_SECONDS,
  validateConfig,
} from './config.js';
export type { ConsentId, Method, StoredConsent } from './consent.js';
export { CONSENT_ID_RE, consentIdFrom, isConsentId, METHODS } from './consent.js';
export type { ConsentSignal, SignalState } from './consent-mode.js';
export { consentModeSignals, DEFAULT_SIGNAL_MAP, SIGNALS } from './consent-mode.js';
export { decodeConsent, encodeConsent } from './cookie-codec.js';
export type { DecideInput, Decision, Granted } from './decide.js';
export {
  allowed,
  decide,
  doNotSell,
  fromBits,
  gpcHonored,
  grantsBeyond,
  isSale,
  MAX_KEYS,
  SALE_CATEGORIES,
  toBits,
} from './decide.js';
export type { ConfigError } from './errors.js';
export { formatError } from './errors.js';
export { hash32, stableStringify } from './hash.js';
export type { Hash, NodeId, Range } from './merkle.js';
export {
  consistencyRanges,
  coverOf,
  extend,
  hashCover,
  inclusionRanges,
  leafHash,
  nodeHash,
  proofFromLeaves,
  rootOf,
  verifyConsistency,
  verifyInclusion,
} from './merkle.js';
export type { Category, Policy, Service } from './policy.js';
export { createPolicy, format, pickLanguage } from './policy.js';
export type { PolicyConfig, PolicyDoc, Published } from './published.js';
export {
  canonicalPolicy,
  configOf,
  isSha256,
  learnMoreUrl,
  policyDoc,
  policyFingerprint,
} from './published.js';
export type {
  PurgedReceipt,
  Receipt,
  ReceiptCheck,
  ReceiptError,
  ReceiptInput,
  SignedReceipt,
  Source,
} from './receipt.js';
export {
  canonicalReceipt,
  decidedKeys,
  GENESIS,
  grantedKeys,
  isOrigin,
  LANG_MAX,
  laxerThan,
  RECEIPT_MAX_BYTES,
  requiredMode,
  SOURCES,
  validateReceiptInput,
} from './receipt.js';
export { modeForRegion, modesOf, REGION_GROUPS } from './regions.js';
export type { Sha256 } from './sha256.js';
export { fromHex, sha256, toHex } from './sha256.js';
export { parseShortcode, tokenizeShortcode } from './shortcode.js';
export type { Controller } from './standard-records.js';
export { CONTROLLER_FIELDS, controllerProblem, iso27560Record, kantaraReceipt } from './standard-records.js';
export { CATEGORIES_KEY, CHECKED_KEY, STORAGE_KEYS } from './storage-keys.js';
export type { Texts } from './texts.js';
export { EN } from './texts.js';
