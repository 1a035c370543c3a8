// Bad settings fail before any model runs, with messages that name the value and what was expected;
// long prompts are cut as documented; fixed-size UNets refuse other sizes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../../src/core/errors.ts';
import { generate, type GenerateRequest } from '../../src/pipelines/generate.ts';
import type { DiffusionModel, ModelSpec } from '../../src/pipelines/model-folder.ts';
import { resolveSettings } from '../../src/pipelines/settings.ts';
import { encodePrompts } from '../../src/pipelines/text-conditioning.ts';
import { tinyModel } from './tiny-models.ts';

const ok: GenerateRequest = { prompt: 'a lighthouse', steps: 2, width: 64, height: 64, seed: 1 };
const grey = { data: new Float32Array(64 * 64 * 3).fill(0.5), width: 64, height: 64 };

test('bad settings are refused with a clear message and no UNet step runs', async () => {
  const model = await tinyModel('sd1');
  const cases: [Partial<GenerateRequest>, RegExp][] = [
    [{ width: 500 }, /width 500 is not a multiple of 8 .*try 496 or 504/],
    [{ height: 4 }, /height 4: expected a whole number of pixels from 8 to 4096/],
    [{ width: 8192 }, /width 8192/],
    [{ steps: 0 }, /steps 0: expected a whole number from 1 to 1000/],
    [{ steps: 2.5 }, /steps 2.5/],
    [{ scheduler: 'Heun++ 9000' }, /unknown scheduler "Heun\+\+ 9000"; expected one of: .*Euler a/],
    [{ cfgScale: -1 }, /CFG scale -1/],
    [{ cfgScale: Number.NaN }, /CFG scale NaN/],
    [{ batchSize: 0 }, /batch size 0/],
    [{ seed: -1 }, /seed -1/],
    [{ seed: 4294967295, batchSize: 2 }, /runs past the largest seed 4294967295/],
    [{ strength: 0.5 }, /strength applies to img2img and inpainting/],
    [{ mask: grey }, /a mask needs an init image/],
    [{ initImage: grey, strength: 0 }, /strength 0: expected a number in \(0, 1\]/],
    [{ initImage: grey, strength: 0.01, steps: 10 }, /leaves no step to run/],
    [{ eta: 2 }, /eta 2/],
    [{ upscale: true }, /no upscaler\/model\.onnx/],
    [{ prompt: 'x'.repeat(100_001) }, /prompt has 100001 characters/],
    [{ initImage: { data: new Float32Array(5), width: 4, height: 4 } }, /has 5 values; expected 48/],
    [{ initImage: '/no/such/image.png' }, /init image not found/],
  ];
  for (const [change, pattern] of cases) {
    let steps = 0;
    await assert.rejects(generate(model, { ...ok, ...change }, { onStep: () => void steps++ }), (e: unknown) => {
      assert.ok(e instanceof InputError, `${JSON.stringify(change).slice(0, 80)}: expected InputError, got ${String(e)}`);
      assert.match(e.message, pattern);
      return true;
    });
    assert.equal(steps, 0);
  }
});

test('a 5,000-character prompt is cut to 8 chunks of 75 tokens, with a warning, and the image is made', async () => {
  const model = await tinyModel('sd1');
  const words = ['lighthouse', 'storm', 'red', 'boat', 'cliff', 'gull', 'wave', 'dusk'];
  let prompt = '';
  for (let i = 0; prompt.length < 5000; i++) prompt += `${words[i % words.length]} `;
  const r = await generate(model, { ...ok, prompt });
  assert.equal(r.images.length, 1);
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0] as string, /^prompt has \d+ tokens; only the first 8 chunks \(up to 600 tokens\) are used$/);
  const c = await encodePrompts(model, prompt, '');
  assert.equal(c.chunks, 8);
  assert.equal(c.sequence, 8 * 77);
  assert.equal(c.cond.length, 8 * 77 * 32);
  assert.equal(c.uncond.length, c.cond.length, 'the negative prompt is padded to the same chunks');
  // A smaller limit when asked.
  assert.equal((await encodePrompts(model, prompt, '', { maxChunks: 2 })).chunks, 2);
});

test('prompt chunks: prompt and negative are padded to the same number; emphasis changes the embedding', async () => {
  const model = await tinyModel('sd1');
  const long = 'cat '.repeat(100); // 100 tokens: two chunks
  const c = await encodePrompts(model, 'a cat', long);
  assert.equal(c.chunks, 2);
  assert.equal(c.cond.length, 2 * 77 * 32);
  const plain = await encodePrompts(model, 'a red cat', '');
  const weighted = await encodePrompts(model, 'a (red:1.5) cat', '');
  assert.notDeepEqual(plain.cond, weighted.cond);
  assert.deepEqual(plain.uncond, weighted.uncond);
  assert.deepEqual((await encodePrompts(model, 'a (red:1) cat', '')).cond, plain.cond, 'weight 1 is no emphasis');
});

/** The same model with a UNet that fixes its latent size (as gesso's own small models may). */
function withFixedSize(model: DiffusionModel, h: number, w: number): DiffusionModel {
  const spec: ModelSpec = {
    ...model.spec,
    fixedLatentHeight: h,
    fixedLatentWidth: w,
    unet: { ...model.spec.unet, sample: { ...model.spec.unet.sample, shape: ['batch', 4, h, w] } },
  };
  return Object.assign(Object.create(Object.getPrototypeOf(model) as object) as DiffusionModel, model, { spec });
}

test('a UNet with a fixed sample size refuses other sizes and defaults to its own', async () => {
  const fixed = withFixedSize(await tinyModel('sd1'), 4, 6);
  assert.throws(
    () => resolveSettings(fixed, { prompt: 'x', width: 64, height: 64 }, null),
    (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.match(e.message, /takes only 48x32 images \(unet\/model\.onnx sample input is \[batch, 4, 4, 6\].*got 64x64/);
      return true;
    },
  );
  const settings = resolveSettings(fixed, { prompt: 'x' }, null);
  assert.equal(settings.width, 48);
  assert.equal(settings.height, 32);
  const fromInit = resolveSettings(fixed, { prompt: 'x', initImage: 'init.png' }, { width: 640, height: 480 });
  assert.equal(fromInit.width, 48, 'an init image is resized to the fixed size');
});
