#!/usr/bin/env node
// The CLI entry: the workspace ships TypeScript sources, so register tsx's loader first.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv.slice(2));
