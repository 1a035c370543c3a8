#!/usr/bin/env node
// The `gesso` command runs the compiled library in dist/ (built by `npm run build`; `npm ci` and
// `npm install` run it through the `prepare` script, and the published package ships it).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = new URL('../dist/cli/', import.meta.url);
if (!existsSync(new URL('main.js', dist))) {
  console.error('gesso: dist/ is missing; run `npm run build` (npm ci runs it) in the gesso folder');
  process.exit(1);
}
// Long command lines crash onnxruntime-node: re-run with a short one first (src/cli/long-argv.ts).
const { relayLongArgv } = await import(new URL('long-argv.js', dist).href);
const relayedExit = await relayLongArgv(fileURLToPath(import.meta.url));
if (relayedExit === null) await import(new URL('main.js', dist).href);
else process.exitCode = relayedExit;
