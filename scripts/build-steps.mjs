// The two build steps, run by path with this Node (no PATH lookup): npm's `prepare` (scripts/prepare.mjs) and
// the test runner (scripts/run-tests.mjs) both call them. Each returns the child's exit status.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');

/** Compiles src/ to dist/ (what bin/gesso.js runs): `npm run build`. */
export function buildGesso(env = process.env) {
  return (
    spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, env, stdio: 'inherit' }).status ?? 1
  );
}

/** Builds the web studio into web/dist (what `gesso serve` serves). */
export function buildWeb(env = process.env) {
  return (
    spawnSync(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build', 'web', '--logLevel', 'warn'], { cwd: root, env, stdio: 'inherit' })
      .status ?? 1
  );
}
