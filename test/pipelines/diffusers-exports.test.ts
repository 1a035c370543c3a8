// Folders as other exporters write them: optimum ≤ 1.22's vae_encoder samples its own noise inside the
// graph; diffusers' own ONNX script writes no per-component config.json.
import assert from 'node:assert/strict';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_MODEL_DIR } from '../../src/core/paths.ts';
import { writeTinySdModel } from '../../src/models/fixtures/tiny-sd.ts';
import { generate } from '../../src/pipelines/generate.ts';
import { DiffusionModel } from '../../src/pipelines/model-folder.ts';
import { Session } from '../../src/runtime/session.ts';
import { scratchDir } from './tiny-models.ts';

/** A smooth colour gradient, (H, W, 3) in [0, 1]. */
function gradient(size: number) {
  const data = new Float32Array(size * size * 3);
  for (let i = 0; i < size * size; i++) {
    data[i * 3] = (i % size) / size;
    data[i * 3 + 1] = Math.floor(i / size) / size;
    data[i * 3 + 2] = 0.5;
  }
  return { data, width: size, height: size };
}

test('a vae_encoder that samples unseeded noise in its graph is run at its mean: img2img is reproducible', async () => {
  const sampling = join(scratchDir(), 'sampling-encoder');
  const plain = join(scratchDir(), 'plain-encoder');
  writeTinySdModel(sampling, { variant: 'sd1', seed: 4, encoderSamples: true });
  writeTinySdModel(plain, { variant: 'sd1', seed: 4 });

  // The problem as exported: two runs of the encoder itself differ.
  const raw = await Session.create(join(sampling, 'vae_encoder/model.onnx'));
  const image = { dtype: 'float32' as const, dims: [1, 3, 64, 64], data: new Float32Array(3 * 64 * 64).fill(0.25) };
  const a = (await raw.run({ sample: image })).latent_sample!.data as Float32Array;
  const b = (await raw.run({ sample: image })).latent_sample!.data as Float32Array;
  await raw.release();
  assert.notDeepEqual(a, b, 'the exported encoder draws new noise on every run');

  const request = { prompt: 'a boat', steps: 4, seed: 3, strength: 0.6, initImage: gradient(64) };
  const model = await DiffusionModel.load(sampling, { runner: 'in-process' });
  const reference = await DiffusionModel.load(plain, { runner: 'in-process' });
  try {
    const first = (await generate(model, request)).images[0]!.pixels;
    const second = (await generate(model, request)).images[0]!.pixels;
    assert.deepEqual(first, second, 'the same seed gives the same image');
    assert.match(model.notes.join('\n'), /samples its own unseeded noise .*uses the distribution's mean/);
    // Same weights, encoder exported as mean + log-variance: gesso takes the mean there too.
    const viaMean = (await generate(reference, request)).images[0]!.pixels;
    let maxDiff = 0;
    for (let i = 0; i < first.length; i++) maxDiff = Math.max(maxDiff, Math.abs(first[i]! - viaMean[i]!));
    assert.ok(maxDiff < 1e-4, `same image as the mean/log-variance export (max difference ${maxDiff})`);
  } finally {
    await Promise.all([model.release(), reference.release()]);
  }
});

test('without config.json files the VAE scale factor comes from the decoder, not an assumed 8', async () => {
  // gesso's default model has a 3-level VAE: 4 pixels per latent, where SD has 8.
  const dir = join(scratchDir(), 'no-configs');
  cpSync(DEFAULT_MODEL_DIR, dir, { recursive: true });
  for (const part of readdirSync(dir, { withFileTypes: true })) if (part.isDirectory()) rmSync(join(dir, part.name, 'config.json'), { force: true });
  const model = await DiffusionModel.load(dir, { runner: 'in-process', upscaler: false });
  try {
    assert.equal(model.spec.vaeScaleFactor, 4);
    const r = await generate(model, { prompt: 'a red star', steps: 2, seed: 1, width: 96, height: 64 });
    assert.deepEqual([r.images[0]!.width, r.images[0]!.height], [96, 64]);
  } finally {
    await model.release();
  }
});
