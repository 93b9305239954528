import type { Finding, RuleId } from '../types.js';

/**
 * A finding's label in the reports: `FAIL` only when it fails the scan (its rule is in
 * `--fail-on`), `WARN` for one reported outside it (the verdict stays clean, exit 0), and
 * `allowed` for one the scanner config accepts.
 */
export const findingLabel = (f: Finding, failOn: readonly RuleId[]): 'allowed' | 'FAIL' | 'WARN' =>
  f.allowed ? 'allowed' : failOn.includes(f.rule) ? 'FAIL' : 'WARN';
