import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeImageFile } from '../../src/image/write-image.ts';

const dir = mkdtempSync(join(tmpdir(), 'gesso-info-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function gesso(...args: string[]) {
  return spawnSync(process.execPath, ['bin/gesso.js', ...args], { encoding: 'utf-8' });
}

test('gesso info prints the settings, recipe and provenance, readable and as JSON', async () => {
  const path = join(dir, 'fox.png');
  await writeImageFile(path, new Float32Array(6 * 4 * 3).fill(0.5), 6, 4, 3, {
    parameters: { prompt: 'a red fox\nin snow', negativePrompt: 'blurry', steps: 12, sampler: 'Euler a', cfgScale: 7, seed: 99, width: 6, height: 4 },
    recipe: { pipeline: 'text-to-image', seed: 99 },
  });
  const text = gesso('info', path);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /Image:\s+PNG, 6x4/);
  assert.match(text.stdout, /Source:\s+trainedAlgorithmicMedia \(made by a trained AI model\)/);
  assert.match(text.stdout, /Prompt:\s+a red fox\n\s+in snow/);
  assert.match(text.stdout, /Negative prompt:\s+blurry/);
  assert.match(text.stdout, /Sampler:\s+Euler a/);
  assert.match(text.stdout, /Seed:\s+99/);
  assert.match(text.stdout, /"pipeline": "text-to-image"/);

  const json = gesso('info', path, '--json');
  assert.equal(json.status, 0, json.stderr);
  const info = JSON.parse(json.stdout) as { a1111: { steps: number }; recipe: { seed: number }; digitalSourceType: string };
  assert.equal(info.a1111.steps, 12);
  assert.equal(info.recipe.seed, 99);
  assert.equal(info.digitalSourceType, 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia');
});

test('gesso info reports a missing file or bad usage without a stack trace', () => {
  const missing = gesso('info', join(dir, 'none.png'));
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /^gesso: image file not found: ".*none\.png"\n$/);
  const none = gesso('info');
  assert.equal(none.status, 2);
  assert.match(none.stderr, /gesso info takes one image path, got none/);
  const unknown = gesso('info', 'x.png', '--bogus');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /Unknown option '--bogus'/);
});
