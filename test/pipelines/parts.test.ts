// The pipeline's pure parts: timestep feeds, guidance, batching, masks, pixel layouts, previews, output paths.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { candidateNames, planOutput } from '../../src/cli/generate-output.ts';
import { InputError } from '../../src/core/errors.ts';
import { guide, timestepTensor, usesGuidance } from '../../src/pipelines/denoise.ts';
import { latentMask } from '../../src/pipelines/image-input.ts';
import { latentPreview, SD1_LATENT_RGB, seededNoise, stack } from '../../src/pipelines/latents.ts';
import { batchGroups, padBatch } from '../../src/pipelines/model-io.ts';
import { pixelsToPlanes, planesToPixels } from '../../src/pipelines/pixels.ts';
import { cropTopLeft, padEdges, roundUp } from '../../src/pipelines/spatial.ts';
import { Rng } from '../../src/core/rng.ts';

test('timestep feeds follow the UNet declaration: int64 truncates like diffusers, float keeps fractions', () => {
  const i64 = timestepTensor('int64', ['batch'], 3, 998.7);
  assert.deepEqual(i64.dims, [3]);
  assert.deepEqual([...(i64.data as BigInt64Array)], [998n, 998n, 998n]);
  const f32 = timestepTensor('float32', [1], 4, 998.7);
  assert.deepEqual(f32.dims, [1]);
  assert.ok(Math.abs((f32.data[0] as number) - 998.7) < 1e-3);
  const scalar = timestepTensor('float32', [], 2, 10);
  assert.deepEqual(scalar.dims, []);
  assert.equal(scalar.data.length, 1);
  assert.equal(timestepTensor('int32', [-1], 2, 5).dims[0], 2, 'an unknown dim (-1) counts as the batch');
  assert.equal(timestepTensor('float16', ['b'], 2, 1).dtype, 'float16');
});

test('classifier-free guidance: uncond + s(cond - uncond); off at scale <= 1', () => {
  const out = guide(new Float32Array([1, 2]), new Float32Array([3, 1]), 7.5);
  assert.deepEqual([...out], [1 + 7.5 * 2, 2 - 7.5]);
  assert.equal(usesGuidance(1), false);
  assert.equal(usesGuidance(0.5), false);
  assert.equal(usesGuidance(1.01), true);
});

test('batches: all at once for a dynamic batch dim, groups of the fixed size otherwise, padding repeats the last item', () => {
  assert.deepEqual(batchGroups(6, null), [6]);
  assert.deepEqual(batchGroups(5, 2), [2, 2, 1]);
  assert.deepEqual(batchGroups(2, 1), [1, 1]);
  const data = new Float32Array([1, 1, 2, 2, 3, 3]); // 3 items of 2
  assert.deepEqual([...padBatch(data, 2, 2, 1, 2)], [3, 3, 3, 3]);
  assert.deepEqual([...padBatch(data, 2, 0, 2, 2)], [1, 1, 2, 2]);
});

test('seeded noise: image i uses Rng(seed + i), so batches and single runs agree', () => {
  const { noise, rngs } = seededNoise(41, 3, 5);
  for (let i = 0; i < 3; i++) assert.deepEqual(noise[i], new Rng(41 + i).normal(5));
  // The same Rng continues for the image's scheduler steps.
  const again = new Rng(42);
  again.normal(5);
  assert.equal(rngs[1]!.uniform(), again.uniform());
  assert.deepEqual([...stack([new Float32Array([1, 2]), new Float32Array([3, 4])])], [1, 2, 3, 4]);
});

test('pixel layouts: (H, W, 3) in [0, 1] <-> (3, H, W) in [-1, 1], clamped on the way out', () => {
  const pixels = new Float32Array([0, 0.5, 1, 0.25, 0.75, 0]); // 2x1
  const planes = pixelsToPlanes(pixels, 2, 1);
  assert.deepEqual([...planes], [-1, -0.5, 0, 0.5, 1, -1]);
  assert.deepEqual([...planesToPixels(planes, 2, 1)], [...pixels]);
  assert.deepEqual([...planesToPixels(new Float32Array([-3, 3, 0, 0, 0, 0]), 2, 1)], [0, 0.5, 0.5, 1, 0.5, 0.5]);
});

test('latent mask: nearest neighbour at the top-left pixel of each block (diffusers F.interpolate)', () => {
  const W = 16;
  const H = 8;
  const mask = new Float32Array(W * H);
  mask[0 * W + 8] = 1; // pixel (8, 0): top-left of latent (1, 0)
  mask[1 * W + 1] = 1; // inside latent (0, 0) but not its top-left pixel
  assert.deepEqual([...latentMask(mask, W, H, 8)], [0, 1]);
});

test('latent preview: SD1 factors for 4 channels, (h, w, 3) in [0, 1]', () => {
  const latents = new Float32Array(4 * 2); // (4, 1, 2)
  latents[0] = 1; // channel 0 at pixel 0
  const p = latentPreview(latents, 4, 1, 2);
  assert.equal(p.width, 2);
  assert.equal(p.height, 1);
  const [r, g, b] = SD1_LATENT_RGB[0];
  assert.ok(Math.abs(p.data[0]! - (r + 1) / 2) < 1e-6);
  assert.ok(Math.abs(p.data[1]! - (g + 1) / 2) < 1e-6);
  assert.ok(Math.abs(p.data[2]! - (b + 1) / 2) < 1e-6);
  assert.deepEqual([...p.data.subarray(3)], [0.5, 0.5, 0.5]);
  assert.equal(latentPreview(new Float32Array(3 * 4), 3, 2, 2).data.length, 12);
});

test('output paths: a .png file, FILE-<seed>.png for a batch, folders with gesso-<seed>[-N].png', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gesso-out-'));
  const file = planOutput(join(dir, 'a.png'));
  const first = (plan: ReturnType<typeof planOutput>, seed: number, batch: number, n = 1): string[] => [...candidateNames(plan, seed, batch)].slice(0, n);
  assert.deepEqual(first(file, 5, 1, 3), [join(dir, 'a.png')]);
  assert.deepEqual([first(file, 5, 2), first(file, 6, 2)], [[join(dir, 'a-5.png')], [join(dir, 'a-6.png')]]);
  const folder = planOutput(dir);
  assert.deepEqual(first(folder, 5, 1, 3), [join(dir, 'gesso-5.png'), join(dir, 'gesso-5-2.png'), join(dir, 'gesso-5-3.png')]);
  writeFileSync(join(dir, 'a.png'), '');
  assert.throws(() => planOutput(join(dir, 'a.png')), /already exists; pass --overwrite/);
  assert.equal(planOutput(join(dir, 'a.png'), true).overwrite, true);
  assert.throws(() => planOutput(join(dir, 'missing', 'x.png')), InputError);
  assert.throws(() => planOutput(join(dir, 'x.jpg')), /PNG/);
});

test('UNet padding: edges replicated to a size the UNet takes, cropped back after', () => {
  const x = new Float32Array([1, 2, 3, 4, 5, 6]); // (1, 2, 3)
  const padded = padEdges(x, 1, 2, 3, 4, 4);
  assert.deepEqual([...padded], [1, 2, 3, 3, 4, 5, 6, 6, 4, 5, 6, 6, 4, 5, 6, 6]);
  assert.deepEqual([...cropTopLeft(padded, 1, 4, 4, 2, 3)], [...x]);
  assert.equal(padEdges(x, 1, 2, 3, 2, 3), x, 'no copy when nothing to pad');
  assert.equal(roundUp(5, 8), 8);
  assert.equal(roundUp(16, 8), 16);
});
