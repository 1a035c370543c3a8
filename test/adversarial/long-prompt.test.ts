// Item 1: long prompts crashed onnxruntime-node (exit 139) through the length of the command line.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { scratchDir, tinyFolder } from '../pipelines/tiny-models.ts';
import { gesso } from './gesso-cli.ts';
import { longPrompt } from './hostile-inputs.ts';

const base = (out: string): string[] => ['--model', tinyFolder('sd1'), '--steps', '1', '--size', '64x64', '--seed', '1', '--out', out];

for (const chars of [20_000, 100_000]) {
  test(`a ${chars}-character prompt on the command line makes an image (no segfault)`, () => {
    const out = join(scratchDir(), `long-${chars}.png`);
    const r = gesso(['generate', longPrompt(chars), ...base(out)]);
    assert.equal(r.status, 0, `exit ${r.status} signal ${r.signal}: ${r.stderr}`);
    assert.ok(existsSync(out));
    assert.match(r.stderr, /only the first 8 chunks/);
  });
}

test('--prompt-file and "-" (standard input) give the same image as the prompt typed out', () => {
  const prompt = longPrompt(30_000);
  const file = join(scratchDir(), 'prompt.txt');
  writeFileSync(file, prompt + '\n');
  const fromFile = gesso(['generate', '--prompt-file', file, ...base(join(scratchDir(), 'pf.png'))]);
  assert.equal(fromFile.status, 0, fromFile.stderr);
  const fromStdin = gesso(['generate', '-', ...base(join(scratchDir(), 'stdin.png'))], { input: prompt });
  assert.equal(fromStdin.status, 0, fromStdin.stderr);
  const info = gesso(['info', '--json', join(scratchDir(), 'stdin.png')]);
  assert.equal((JSON.parse(info.stdout) as { recipe: { prompt: string } }).recipe.prompt, prompt);
});

test('a prompt file that is not a regular file, or too big, or given with a prompt, is refused', () => {
  const out = join(scratchDir(), 'never.png');
  const dev = gesso(['generate', '--prompt-file', '/dev/zero', ...base(out)], { timeoutMs: 30_000 });
  assert.equal(dev.status, 2, dev.stderr);
  assert.match(dev.stderr, /prompt file "\/dev\/zero" is a character device; expected a regular file/);
  const both = gesso(['generate', 'a cat', '--prompt-file', '/dev/zero', ...base(out)]);
  assert.equal(both.status, 2);
  assert.match(both.stderr, /either as text or with --prompt-file, not both/);
  assert.equal(existsSync(out), false);
});
