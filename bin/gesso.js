#!/usr/bin/env node
// The `gesso` command runs the compiled library in dist/ (built by `npm run build`; `npm ci` and
// `npm install` run it through the `prepare` script, and the published package ships it).
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('gesso: dist/ is missing; run `npm run build` (npm ci runs it) in the gesso folder');
  process.exit(1);
}
await import(main.href);
