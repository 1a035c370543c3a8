// Runs the README's quick start as a newcomer would: clones this repository (its committed HEAD) into a
// temporary folder and runs the commands of README.md's "Quick start" block there, one by one, with no
// environment but a fresh HOME (a newcomer's shell, started with `env -i`); then checks that the first command wrote
// the image it names.
// The commands are read from README.md itself, so the README and CI cannot drift apart.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The shell commands of the first ```sh block after "## Quick start", trailing `# comments` removed. */
export function quickStartCommands(readme) {
  const section = readme.split(/^## Quick start\s*$/m)[1];
  if (section === undefined) throw new Error('README.md has no "## Quick start" section');
  const block = section.match(/```sh\n([\s\S]*?)```/);
  if (!block) throw new Error("README.md's Quick start has no ```sh block");
  return block[1]
    .split('\n')
    .map((line) => line.replace(/\s+#\s.*$/, '').trim())
    .filter((line) => line.length > 0);
}

const repo = process.cwd();
const commands = quickStartCommands(readFileSync(join(repo, 'README.md'), 'utf8'));
if (commands.length !== 2) throw new Error(`README.md's Quick start should be two commands, found ${commands.length}: ${JSON.stringify(commands)}`);
const image = commands[0].match(/--out\s+(\S+)/)?.[1];
if (image === undefined) throw new Error(`the first quick-start command names no --out image: ${commands[0]}`);

const dir = mkdtempSync(join(tmpdir(), 'gesso-quickstart-'));
// A newcomer's shell: a home folder of their own and nothing else, not even PATH (bash then finds npm on its
// built-in default path but exports none, and npm gives lifecycle scripts node_modules/.bin only when a PATH
// exists: scripts/prepare.mjs). Nothing of this machine's user carries over: not `npm run`'s npm_config_*
// variables, not ~/.npmrc (root's here set node-gyp's nodedir, which hid an npm ci that failed for everyone
// else), not npm's cache.
const home = mkdtempSync(join(tmpdir(), 'gesso-quickstart-home-'));
const env = { HOME: home };
try {
  execFileSync('git', ['clone', '--quiet', repo, dir], { stdio: 'inherit' });
  for (const command of commands) {
    console.log(`quick start $ ${command}`);
    const run = spawnSync('/bin/bash', ['-c', command], { cwd: dir, env, stdio: 'inherit' });
    if (run.status !== 0) throw new Error(`quick-start command failed (exit ${run.status ?? run.signal}): ${command}`);
    if (command === commands[0]) {
      const path = join(dir, image);
      const head = existsSync(path) ? readFileSync(path).subarray(0, 8) : null;
      if (head === null || !head.equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
        throw new Error(`the first quick-start command did not write a PNG at ${image}`);
      }
      console.log(`quick start: ${image} written (${readFileSync(path).length} bytes)`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
}
