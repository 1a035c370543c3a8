// Item 4: image metadata is untrusted; `gesso info` must not let it clear the screen, write the
// clipboard (OSC 52) or retitle the terminal (OSC 0).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { gesso } from './gesso-cli.ts';
import { pngWithText, scratch, TERMINAL_ESCAPES } from './hostile-inputs.ts';

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

test('gesso info prints hostile metadata with its control characters escaped, as text and as JSON', () => {
  const dir = scratch('escapes');
  const path = pngWithText(join(dir, `evil${'\u001b]0;title\u0007'}.png`), [
    { keyword: 'parameters', text: `a cat${TERMINAL_ESCAPES}\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 8x8` },
    { keyword: 'Comment', text: TERMINAL_ESCAPES, type: 'iTXt' },
  ]);
  const text = gesso(['info', path]);
  assert.equal(text.status, 0, text.stderr);
  assert.doesNotMatch(text.stdout, CONTROL, 'raw control characters reached the terminal');
  assert.match(text.stdout, /a cat\\x1b\[2J\\x1b\]52;c;ZXZpbA==\\x07\\x1b\]0;pwned\\x07\\x9b31m/);
  const json = gesso(['info', '--json', path]);
  assert.equal(json.status, 0, json.stderr);
  assert.doesNotMatch(json.stdout, CONTROL);
  assert.equal((JSON.parse(json.stdout) as { otherText: { Comment: string } }).otherText.Comment, TERMINAL_ESCAPES, 'JSON still carries the exact text');
  const missing = gesso(['info', join(dir, 'gone\u001b[2J.png')]);
  assert.equal(missing.status, 2);
  assert.doesNotMatch(missing.stderr, CONTROL, 'error messages quote file names safely too');
});
