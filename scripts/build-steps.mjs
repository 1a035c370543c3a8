// What npm's `prepare` (scripts/prepare.mjs) and the test runner (scripts/run-tests.mjs) share: the two build
// steps, run by path with this Node (no PATH lookup; each returns the child's exit status), and the PATH their
// children get when the shell exported none.
import { spawnSync } from 'node:child_process';
import { delimiter, dirname, join } from 'node:path';

const root = join(import.meta.dirname, '..');

/**
 * This environment with a PATH that has the project's tools and this Node first, then the shell's PATH or,
 * when it exported none (`env -i bash`: npm then gives scripts no PATH at all), Debian's default.
 */
export function envWithPath(env = process.env) {
  const system = env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  return { ...env, PATH: [join(root, 'node_modules', '.bin'), dirname(process.execPath), system].join(delimiter) };
}

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
