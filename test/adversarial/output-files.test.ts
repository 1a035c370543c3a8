// Item 5: outputs never replace a file gesso did not make in this run (unless --overwrite), and
// parallel runs asking for the same name each get their own file.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { planOutput, writeImages } from '../../src/cli/generate-output.ts';
import type { GeneratedImage } from '../../src/pipelines/generate.ts';
import { scratch } from './hostile-inputs.ts';

function image(seed: number): GeneratedImage {
  return { seed, width: 2, height: 2, pixels: new Float32Array(12).fill(seed / 10), metadata: {} } as unknown as GeneratedImage;
}

test('a batch never replaces an existing FILE-<seed>.png, and a refused batch leaves no file of its own', async () => {
  const dir = scratch('batch');
  writeFileSync(join(dir, 'b-8.png'), 'precious');
  await assert.rejects(
    writeImages(planOutput(join(dir, 'b.png')), [image(7), image(8)]),
    /b-8\.png" already exists; gesso does not replace files it did not make \(pass --overwrite/,
  );
  assert.equal(readFileSync(join(dir, 'b-8.png'), 'utf8'), 'precious');
  assert.deepEqual(readdirSync(dir), ['b-8.png'], 'b-7.png rolled back, no temp files');
  const written = await writeImages(planOutput(join(dir, 'b.png'), true), [image(7), image(8)]);
  assert.equal(written.length, 2);
  assert.notEqual(readFileSync(join(dir, 'b-8.png'), 'utf8'), 'precious', '--overwrite replaces');
});

test('four runs writing the same seed into one folder at once get four files', async () => {
  const dir = scratch('parallel');
  const runs = await Promise.all([1, 2, 3, 4].map(() => writeImages(planOutput(dir), [image(5)])));
  const paths = runs.map((r) => r[0]);
  assert.equal(new Set(paths).size, 4, `names: ${paths.join(', ')}`);
  assert.deepEqual(readdirSync(dir).sort(), ['gesso-5-2.png', 'gesso-5-3.png', 'gesso-5-4.png', 'gesso-5.png']);
});
