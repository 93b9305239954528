#!/usr/bin/env node
// The sources are TypeScript run through tsx, like the rest of the workspace.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
