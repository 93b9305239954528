#!/usr/bin/env node
// The published package runs its compiled dist/. In a checkout (src/ beside dist/; the package
// does not ship src/) it runs the TypeScript sources through the workspace's tsx instead, so the
// tests and a developer never run a stale build.
import { existsSync } from 'node:fs';

const checkout = existsSync(new URL('../src/cli.ts', import.meta.url));
if (checkout) await import('../../../scripts/workspace-sources.mjs');
const { main } = await import(checkout ? '../src/cli.ts' : '../dist/cli.js');
process.exitCode = await main(process.argv.slice(2));
