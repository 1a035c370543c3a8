// Runs every test/**/*.test.ts with Node's test runner (TypeScript through tsx), after compiling dist/
// so that tests which start bin/gesso.js run the current sources, and rebuilding web/dist when the web
// app's sources are newer than it (the browser tests drive the built app that `gesso serve` serves).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { buildGesso, buildWeb, envWithPath } from './build-steps.mjs';

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

/** Newest modification time of a file, or of any file under a folder (0 if it does not exist). */
function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

const webBuilt = existsSync('web/dist/index.html') ? statSync('web/dist/index.html').mtimeMs : 0;
if (Math.max(newestMtime('web/src'), newestMtime('web/index.html'), newestMtime('web/vite.config.ts')) > webBuilt) {
  const web = buildWeb();
  if (web !== 0) process.exit(web);
}

const build = buildGesso();
if (build !== 0) process.exit(build);

const filter = process.argv.slice(2);
const files = findTests('test').filter((f) => filter.length === 0 || filter.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error(`no test files match ${JSON.stringify(filter)}`);
  process.exit(1);
}
// assert-message.mjs: a failing message-less assert.ok reports its call site at once (see that file).
// The tests start npm, redis-server, chromium, git…: they get a PATH even when the shell exported none.
const result = spawnSync(process.execPath, ['--import', 'tsx', '--import', './test/helpers/assert-message.mjs', '--test', '--test-concurrency=1', ...files], {
  stdio: 'inherit',
  env: envWithPath(),
});
process.exit(result.status ?? 1);
