#!/usr/bin/env node
// The `gesso` command: runs the TypeScript sources through tsx, so there is no build step.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';
register();
// Long command lines crash onnxruntime-node: re-run with a short one first (src/cli/long-argv.ts).
const { relayLongArgv } = await import('../src/cli/long-argv.ts');
const relayedExit = await relayLongArgv(fileURLToPath(import.meta.url));
if (relayedExit === null) await import('../src/cli/main.ts');
else process.exitCode = relayedExit;
