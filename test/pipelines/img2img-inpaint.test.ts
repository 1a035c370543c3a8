// img2img and inpainting: 9-channel inpainting UNets and masked latent blending for ordinary UNets.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Rng } from '../../src/core/rng.ts';
import type { DecodedImage } from '../../src/image/read-info.ts';
import { encodePng } from '../../src/image/write-image.ts';
import { denoise } from '../../src/pipelines/denoise.ts';
import { generate } from '../../src/pipelines/generate.ts';
import { latentMask } from '../../src/pipelines/image-input.ts';
import { encodeImage, seededNoise } from '../../src/pipelines/latents.ts';
import { pixelsToPlanes } from '../../src/pipelines/pixels.ts';
import { encodePrompts } from '../../src/pipelines/text-conditioning.ts';
import { createScheduler } from '../../src/schedulers/index.ts';
import { scratchDir, tinyModel } from './tiny-models.ts';

/** A smooth colour gradient, (H, W, 3) in [0, 1]. */
function gradient(width: number, height: number): DecodedImage {
  const data = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = x / width;
      data[i + 1] = y / height;
      data[i + 2] = 0.5;
    }
  }
  return { data, width, height };
}

/** White (repaint) in the left half, black (keep) in the right half. */
function leftHalfMask(width: number, height: number): DecodedImage {
  const data = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width / 2; x++) data.fill(1, (y * width + x) * 3, (y * width + x) * 3 + 3);
  return { data, width, height };
}

test('img2img on SD1-like and SD2-like models with several schedulers: strength shortens the plan', async () => {
  const init = gradient(64, 64);
  for (const variant of ['sd1', 'sd2-v'] as const) {
    const model = await tinyModel(variant);
    for (const scheduler of ['DDIM', 'Euler a', 'DPM++ 2M Karras']) {
      const r = await generate(model, { prompt: 'a painting', scheduler, steps: 6, strength: 0.5, seed: 2, initImage: init });
      assert.equal(r.settings.mode, 'img2img');
      assert.equal(r.timings.unetMs.length, 3, `${variant} ${scheduler}: the last ⌊6·0.5⌋ steps run`);
      assert.ok(r.timings.vaeEncodeMs > 0);
      const [image] = r.images;
      assert.ok(image);
      assert.equal(image.width, 64);
      assert.equal(image.pixels.length, 64 * 64 * 3);
      assert.equal(image.parameters.denoisingStrength, 0.5);
      assert.equal(image.metadata.source, 'edited');
      assert.deepEqual(image.recipe.initImage, { path: null, sha256: null }, 'pixels given in memory are recorded as such');
    }
  }
});

test('img2img keeps more of the init image at low strength (latents: a random UNet saturates the pixels)', async () => {
  const model = await tinyModel('sd1');
  const init = await encodeImage(model, pixelsToPlanes(gradient(64, 64).data, 64, 64), 64, 64); // (C, h, w)
  const conditioning = await encodePrompts(model, 'x', '');
  const distance = async (strength: number): Promise<number> => {
    const plan = createScheduler('DDIM', model.scheduler.config).plan(20, strength);
    const { rngs, noise } = seededNoise(4, 1, init.length);
    const out = await denoise({
      model,
      plan,
      latents: [plan.addNoise(init, noise[0] as Float32Array, 0)],
      rngs,
      conditioning,
      cfgScale: 1,
      h: 8,
      w: 8,
      inpaint: null,
    });
    let d = 0;
    for (let i = 0; i < init.length; i++) d += Math.abs((out.latents[0]?.[i] as number) - init[i]);
    return d / init.length;
  };
  const low = await distance(0.1);
  const high = await distance(1);
  assert.ok(low * 10 < high, `mean latent distance to the init image: strength 0.1 -> ${low}, strength 1 -> ${high}`);
});

test('an init image file is read and, without a size, rounded down to a multiple of 8', async () => {
  const model = await tinyModel('sd1');
  const path = join(scratchDir(), 'init-70x50.png');
  const g = gradient(70, 50);
  writeFileSync(path, await encodePng(g.data, 70, 50, 3));
  const r = await generate(model, { prompt: 'x', steps: 2, seed: 1, initImage: path, strength: 0.9 });
  const [image] = r.images;
  assert.equal(image?.width, 64);
  assert.equal(image?.height, 48);
  assert.equal(image?.recipe.initImage?.path, path);
  assert.match(image?.recipe.initImage?.sha256 ?? '', /^[0-9a-f]{64}$/);
});

test('inpainting with a 9-channel UNet and with an ordinary UNet, two schedulers each', async () => {
  const init = gradient(64, 64);
  const mask = leftHalfMask(64, 64);
  for (const variant of ['inpaint', 'sd1'] as const) {
    const model = await tinyModel(variant);
    for (const scheduler of ['Euler', 'DPM++ 2M', 'PLMS']) {
      for (const strength of [1, 0.6]) {
        const r = await generate(model, { prompt: 'a boat', scheduler, steps: 5, seed: 8, initImage: init, mask, strength });
        assert.equal(r.settings.mode, 'inpaint');
        assert.equal(r.images[0]?.pixels.length, 64 * 64 * 3);
        assert.equal(r.images[0]?.parameters.denoisingStrength, strength);
      }
    }
  }
});

test('masked latent blending: after the last step the kept area holds exactly the init image latents', async () => {
  const model = await tinyModel('sd1');
  const W = 64;
  const H = 64;
  const s = model.spec.vaeScaleFactor;
  const h = H / s;
  const w = W / s;
  const C = model.spec.latentChannels;
  const imageLatents = await encodeImage(model, pixelsToPlanes(gradient(W, H).data, W, H), W, H);
  const pixelMask = new Float32Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W / 2; x++) pixelMask[y * W + x] = 1;
  const mask = latentMask(pixelMask, W, H, s);
  const plan = createScheduler('Euler a', model.scheduler.config).plan(4);
  const { rngs, noise } = seededNoise(11, 1, C * h * w);
  const conditioning = await encodePrompts(model, 'a boat', '');
  const out = await denoise({
    model,
    plan,
    latents: noise.map((x) => x.map((v) => v * plan.initNoiseSigma)),
    rngs,
    conditioning,
    cfgScale: 7,
    h,
    w,
    inpaint: { mask, maskedImageLatents: null, imageLatents, noise },
  });
  const x = out.latents[0] as Float32Array;
  let keptEqual = true;
  let repaintedDiffers = false;
  for (let c = 0; c < C; c++) {
    for (let p = 0; p < h * w; p++) {
      const k = c * h * w + p;
      if (mask[p] === 0) keptEqual &&= x[k] === imageLatents[k];
      else repaintedDiffers ||= Math.abs(x[k] - imageLatents[k]) > 1e-3;
    }
  }
  assert.ok(keptEqual, 'outside the mask the latents are the init image');
  assert.ok(repaintedDiffers, 'inside the mask they were generated');
});

test('9-channel UNet input: mask and masked-image latents change the result', async () => {
  const model = await tinyModel('inpaint');
  assert.equal(model.spec.unetInChannels, 9);
  assert.equal(model.spec.inpaint, true);
  const init = gradient(64, 64);
  const run = async (mask: DecodedImage): Promise<Float32Array> =>
    (await generate(model, { prompt: 'x', steps: 3, seed: 6, scheduler: 'DDIM', initImage: init, mask })).images[0]?.pixels as Float32Array;
  const a = await run(leftHalfMask(64, 64));
  const full = { data: new Float32Array(64 * 64 * 3).fill(1), width: 64, height: 64 };
  const b = await run(full);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  assert.ok(d > 1e-3, 'a different mask gives a different image');
  // Random noise image as mask: any grey level is binarized, the run still works.
  const noisy = { data: new Rng(1).uniformArray(64 * 64 * 3), width: 64, height: 64 };
  assert.equal((await run(noisy)).length, 64 * 64 * 3);
});
