import { describe, it } from 'node:test';
import { fuzz } from './fuzz-run.js';
import { PROFILE } from './profile.js';

// One file per database, so the test runner runs them side by side (fuzz-run.ts is the test).
describe('fuzzing every route', { timeout: PROFILE.timeoutMs }, () => {
  it(`SQLite: ${PROFILE.fuzzRuns} requests, no 5xx, errors in the documented shape, nothing stored from a rejected request`, (t) =>
    fuzz(t, 'sqlite'));
});
