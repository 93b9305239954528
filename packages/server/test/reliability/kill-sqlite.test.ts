import { describe, it } from 'node:test';
import { killCycles } from './kill-run.js';
import { PROFILE } from './profile.js';

// One file per database, so the test runner runs them side by side (kill-run.ts is the test).
describe('SIGKILL under load', { timeout: PROFILE.timeoutMs }, () => {
  it(`SQLite: ${PROFILE.kills} kills lose no acknowledged receipt; the chain and its policies verify`, (t) =>
    killCycles(t, 'sqlite'));
});
