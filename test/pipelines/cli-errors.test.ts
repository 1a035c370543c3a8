// `gesso generate` failing or cancelled: exit code 2, a message on stderr, and no file written.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateCommand } from '../../src/cli/commands/generate.ts';
import { scratchDir, tinyFolder } from './tiny-models.ts';

const GESSO = new URL('../../bin/gesso.js', import.meta.url).pathname;

test('a bad size is refused before anything is written', () => {
  const outDir = join(scratchDir(), 'never');
  const r = spawnSync(process.execPath, [GESSO, 'generate', 'a cat', '--model', tinyFolder('sd1'), '--size', '500x512', '--out', outDir], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /gesso: width 500 is not a multiple of 8 \(the VAE's downscale factor\); try 496 or 504/);
  assert.equal(existsSync(outDir), false, 'no output folder, no file');
});

test('flags and folders are checked before the model loads', async () => {
  const run = (...args: string[]) => generateCommand.run(args);
  await assert.rejects(run('a cat', '--model', join(scratchDir(), 'nope')), /model folder .*nope does not exist/);
  await assert.rejects(run('a cat', '--steps', 'many'), /--steps "many" is not a number/);
  await assert.rejects(run('a cat', '--size', '512'), /--size "512": expected WIDTHxHEIGHT/);
  await assert.rejects(run(), /needs a prompt/);
  await assert.rejects(run('a', 'cat'), /takes one prompt; quote it/);
  await assert.rejects(run('a cat', '--out', join(scratchDir(), 'x.jpg')), /gesso writes PNG/);
  await assert.rejects(run('a cat', '--bogus'), /Unknown option '--bogus'/);
  await assert.rejects(run('--recipe', join(scratchDir(), 'none.png')), /image file not found/);
});

test('Ctrl-C (SIGINT) stops between steps, exits 2 and writes nothing', async () => {
  const outDir = join(scratchDir(), 'interrupted');
  const child = spawn(process.execPath, [
    GESSO,
    'generate',
    'a cat',
    '--model',
    tinyFolder('sd1'),
    '--steps',
    '500',
    '--scheduler',
    'DDIM',
    '--size',
    '64x64',
    '--out',
    outDir,
  ]);
  let stderr = '';
  let sent = false;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    stderr += text;
    // The first progress line means steps are running.
    if (!sent && stderr.includes('generate [')) {
      sent = true;
      child.kill('SIGINT');
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.ok(sent, `no progress seen: ${stderr}`);
  assert.equal(code, 2, stderr);
  assert.match(stderr, /gesso: generation cancelled after \d+ of 500 steps; nothing was written/);
  assert.equal(existsSync(outDir) && readdirSync(outDir).length > 0, false);
});
