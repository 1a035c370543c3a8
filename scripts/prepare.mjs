// npm's `prepare` step (the end of `npm ci` / `npm install`): compiles better-sqlite3's native module, then
// gesso (src/ -> dist/) and the web studio (web/dist).
//
// Why a script and not the packages' own install commands: npm puts node_modules/.bin and its bundled
// node-gyp on a lifecycle script's PATH only when the environment already has a PATH. A newcomer whose shell
// exports none (`env -i bash`, a bare container) got scripts with no PATH at all, so better-sqlite3's
// `prebuild-install || node-gyp rebuild` and our own `tsc` were "not found" and `npm ci` failed.
// better-sqlite3's install script is therefore off (package.json `allowScripts`) and this script runs the same
// steps by path, with a PATH of its own for the compilers node-gyp starts.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { buildGesso, buildWeb, envWithPath } from './build-steps.mjs';

const root = join(import.meta.dirname, '..');
const node = process.execPath;
const env = envWithPath();

/** better-sqlite3's install step: its prebuilt binary if one downloads, else a compile with npm's node-gyp. */
function buildSqlite() {
  const dir = join(root, 'node_modules', 'better-sqlite3');
  if (!existsSync(dir) || existsSync(join(dir, 'build', 'Release', 'better_sqlite3.node'))) return 0;
  const prebuilt = spawnSync(node, [join(root, 'node_modules', 'prebuild-install', 'bin.js')], { cwd: dir, env, stdio: 'inherit' });
  if (prebuilt.status === 0) return 0;
  console.log('better-sqlite3: no prebuilt binary could be downloaded; compiling it (needs python3, make and g++)');
  // npm hands its bundled node-gyp to scripts as npm_config_node_gyp; `nodedir` comes from .npmrc.
  const nodeGyp = process.env.npm_config_node_gyp || createRequire(process.env.npm_execpath || import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  return spawnSync(node, [nodeGyp, 'rebuild', '--release', '--loglevel', 'warn'], { cwd: dir, env, stdio: 'inherit' }).status ?? 1;
}

for (const step of [buildSqlite, () => buildGesso(env), () => buildWeb(env)]) {
  const status = step();
  if (status !== 0) process.exit(status);
}
