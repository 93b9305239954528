/**
 * @assent/scanner — audits a site in headless Chromium before consent, after reject, after
 * accept and with Global Privacy Control, and reports every cookie, storage key and third-party request per phase.
 * @packageDocumentation
 */

export { main } from './cli.js';
export type { Allow, ScanConfig, Selectors } from './config.js';
export { DEFAULT_CONFIG, parseScanConfig, RULES } from './config.js';
export type { Declaration, DeclarationRow } from './declaration/build.js';
export { buildDeclaration, siteRelative } from './declaration/build.js';
export { declarationHtml, declarationJson, declarationMarkdown } from './declaration/render.js';
export type { GoogleConsent } from './detectors/google-consent.js';
export { decodeGcd, decodeGcs } from './detectors/google-consent.js';
export type { Manifest } from './evidence.js';
export { buildManifest, newKeyPair, sealEvidence, verifyEvidence } from './evidence.js';
export type { Format } from './reports/index.js';
export { FORMATS, render, toHtml, toJson, toJUnit, toMarkdown, writeReports } from './reports/index.js';
export type { Rule, RuleContext, Severity } from './rules/index.js';
export { DEFAULT_FAIL_ON, REGISTRY, RULE_TEXT, ruleById } from './rules/index.js';
export type { ProgressEvent, ScanOptions, ScanResult } from './scan.js';
export { scan, VERSION, validUrl } from './scan.js';
export type * from './types.js';
