// Explicit starting noise (API and latents files) and --size as the size of the picture written.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_MODEL_DIR } from '../../src/core/paths.ts';
import { Rng } from '../../src/core/rng.ts';
import { generate } from '../../src/pipelines/generate.ts';
import { readLatentsFile, writeLatentsFile } from '../../src/pipelines/latents-file.ts';
import { DiffusionModel } from '../../src/pipelines/model-folder.ts';
import { requestFromRecipe } from '../../src/pipelines/recipe.ts';
import { scratchDir, tinyModel } from './tiny-models.ts';

test('starting noise given as latents drives the image: seed 9 noise under seed 5 makes seed 9 image', async () => {
  const model = await tinyModel('sd1');
  const size = 4 * 8 * 8; // (C, h, w) for 64×64
  const request = { prompt: 'a boat', steps: 4, scheduler: 'DDIM', width: 64, height: 64 };
  const bySeed = await generate(model, { ...request, seed: 9 });
  const byNoise = await generate(model, { ...request, seed: 5, latents: [new Rng(9).normal(size)] });
  assert.deepEqual(byNoise.images[0]!.pixels, bySeed.images[0]!.pixels);
  assert.equal(byNoise.images[0]!.latents.length, size, 'the final latents come back');
  assert.match(byNoise.images[0]!.recipe.latents?.sha256 ?? '', /^[0-9a-f]{64}$/, 'the recipe records the noise by hash');
  assert.equal(bySeed.images[0]!.recipe.latents, null);

  // A latents file round trip keeps every bit.
  const file = join(scratchDir(), 'noise.safetensors');
  writeLatentsFile(file, [new Rng(9).normal(size)], [4, 8, 8]);
  const read = readLatentsFile(file);
  assert.deepEqual(read.shape, [4, 8, 8]);
  assert.deepEqual(read.items[0], new Rng(9).normal(size));

  await assert.rejects(generate(model, { ...request, latents: [new Float32Array(10)] }), /latents\[0\]: 10 values; expected \(4, 8, 8\) = 256/);
  await assert.rejects(generate(model, { ...request, latents: [] }), /latents: 0 arrays for a batch of 1/);
  const nan = new Rng(1).normal(size);
  nan[3] = Number.NaN;
  await assert.rejects(generate(model, { ...request, latents: [nan] }), /latents\[0\] has a non-finite value at 3/);
});

test('with the upscaler, width × height is the size of the picture made, and its recipe re-makes it', async () => {
  const model = await DiffusionModel.load(DEFAULT_MODEL_DIR, { runner: 'in-process' });
  try {
    const made = await generate(model, { prompt: 'a red star', steps: 3, seed: 2, width: 500, height: 512 });
    const image = made.images[0]!;
    assert.deepEqual([image.width, image.height], [500, 512]);
    assert.deepEqual([made.settings.width, made.settings.height], [124, 128], 'generated at a quarter, rounded to the VAE multiple of 4');
    assert.equal(image.parameters.extra?.['Postprocess upscale to'], '500x512');
    const again = await generate(model, requestFromRecipe(JSON.parse(JSON.stringify(image.recipe)), 'recipe'));
    assert.deepEqual(again.images[0]!.pixels, image.pixels);

    const plain = await generate(model, { prompt: 'a red star', steps: 3, seed: 2 });
    assert.deepEqual([plain.images[0]!.width, plain.images[0]!.height], [256, 256], "default: the model's size, upscaled");
    await assert.rejects(generate(model, { prompt: 'x', steps: 1, width: 2, height: 64 }), /width 2: expected a whole number of pixels from 4 to 4096/);
  } finally {
    await model.release();
  }
});
