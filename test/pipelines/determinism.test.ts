// Seeds, batches, classifier-free guidance batching and cancellation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodePng } from '../../src/image/write-image.ts';
import { generate, GenerationCancelled, type GenerateRequest } from '../../src/pipelines/generate.ts';
import { tinyModel } from './tiny-models.ts';

const base: GenerateRequest = { prompt: 'a lighthouse at dusk', negativePrompt: 'fog', steps: 4, width: 64, height: 64, cfgScale: 7.5 };

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('same seed and settings give the same PNG bytes; another seed gives another image', async () => {
  const model = await tinyModel('sd1');
  const png = async (seed: number): Promise<Uint8Array> => {
    const [image] = (await generate(model, { ...base, scheduler: 'Euler a', seed })).images;
    assert.ok(image);
    return encodePng(image.pixels, image.width, image.height, 3, image.metadata);
  };
  const a = await png(123);
  const b = await png(123);
  assert.deepEqual(a, b, 'bit for bit');
  const c = await png(124);
  assert.notDeepEqual(a, c);
});

test('a batch of 3 equals three single runs with seeds s, s+1, s+2 (ancestral and deterministic schedulers)', async () => {
  const model = await tinyModel('sd2-v');
  for (const scheduler of ['Euler a', 'DPM++ 2M']) {
    const batch = await generate(model, { ...base, scheduler, seed: 40, batchSize: 3 });
    assert.equal(batch.images.length, 3);
    for (let i = 0; i < 3; i++) {
      const single = (await generate(model, { ...base, scheduler, seed: 40 + i })).images[0];
      const fromBatch = batch.images[i];
      assert.ok(single && fromBatch);
      assert.equal(fromBatch.seed, 40 + i);
      assert.equal(fromBatch.parameters.seed, 40 + i, 'each image records its own seed');
      assert.ok(
        maxDiff(fromBatch.pixels, single.pixels) <= 1e-5,
        `${scheduler} image ${i}: batch and single differ by ${maxDiff(fromBatch.pixels, single.pixels)}`,
      );
    }
  }
});

test('classifier-free guidance in one UNet batch equals cond and uncond run separately (within 1e-5)', async () => {
  for (const variant of ['sd1', 'inpaint'] as const) {
    const model = await tinyModel(variant);
    const request = { ...base, scheduler: 'DDIM', seed: 9, batchSize: 2 };
    const joint = await generate(model, request, { cfgMode: 'batched' });
    const separate = await generate(model, request, { cfgMode: 'separate' });
    for (let i = 0; i < 2; i++) {
      const d = maxDiff((joint.images[i] as { pixels: Float32Array }).pixels, (separate.images[i] as { pixels: Float32Array }).pixels);
      assert.ok(d <= 1e-5, `${variant} image ${i}: ${d}`);
    }
  }
});

test('guidance matters: CFG 7.5 and CFG 1 (prompt alone) give different images; the negative prompt changes the image', async () => {
  const model = await tinyModel('sd1');
  const run = async (r: Partial<GenerateRequest>): Promise<Float32Array> =>
    (await generate(model, { ...base, seed: 3, ...r })).images[0]?.pixels as Float32Array;
  const guided = await run({});
  assert.ok(maxDiff(guided, await run({ cfgScale: 1 })) > 1e-3);
  assert.ok(maxDiff(guided, await run({ negativePrompt: 'something else entirely' })) > 1e-3);
});

test('cancellation stops between steps and returns no image', async () => {
  const model = await tinyModel('sd1');
  const controller = new AbortController();
  const seen: number[] = [];
  await assert.rejects(
    generate(
      model,
      { ...base, steps: 10, scheduler: 'Euler' },
      {
        signal: controller.signal,
        onStep: (e) => {
          seen.push(e.step);
          if (e.step === 2) controller.abort();
        },
      },
    ),
    (e: unknown) => e instanceof GenerationCancelled && /after 2 of 10 steps/.test((e as Error).message),
  );
  assert.deepEqual(seen, [1, 2], 'no step ran after the abort');
  const already = new AbortController();
  already.abort();
  await assert.rejects(generate(model, base, { signal: already.signal }), GenerationCancelled);
  // The model is still usable afterwards.
  assert.equal((await generate(model, { ...base, steps: 1, seed: 1 })).images.length, 1);
});
