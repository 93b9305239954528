/**
 * @assent/scanner — audits a site in headless Chromium before consent, after reject and after
 * accept, and reports every cookie, storage key and third-party request per phase.
 * @packageDocumentation
 */

export { main } from './cli.js';
export type { Allow, ScanConfig, Selectors } from './config.js';
export { DEFAULT_CONFIG, parseScanConfig, RULES } from './config.js';
export type { Format } from './reports/index.js';
export { FORMATS, render, toHtml, toJson, toJUnit, toMarkdown, writeReports } from './reports/index.js';
export { RULE_TEXT } from './rules.js';
export type { ProgressEvent, ScanOptions, ScanResult } from './scan.js';
export { scan, VERSION, validUrl } from './scan.js';
export type * from './types.js';
