// txt2img end to end on the tiny SD1-like, SD2-like (v-prediction) and inpainting folders, with every scheduler.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generate } from '../../src/pipelines/generate.ts';
import { createScheduler, schedulerNames } from '../../src/schedulers/index.ts';
import { tinyModel } from './tiny-models.ts';

const VARIANTS = ['sd1', 'sd2-v', 'inpaint'] as const;

for (const variant of VARIANTS) {
  test(`${variant}: every scheduler runs txt2img; pixels, sizes, timings and previews are right`, async () => {
    const model = await tinyModel(variant);
    for (const scheduler of schedulerNames()) {
      const steps = 3;
      const previews: number[] = [];
      const result = await generate(
        model,
        { prompt: 'a (red:1.2) lighthouse, [fog]', negativePrompt: 'blurry', scheduler, steps, seed: 5, width: 64, height: 48 },
        {
          onStep: (e) => {
            const p = e.preview();
            assert.equal(p.data.length, 8 * 6 * 3, 'preview is (h, w, 3) at latent size');
            assert.ok(p.data.every((v) => v >= 0 && v <= 1));
            previews.push(e.step);
          },
        },
      );
      const calls = createScheduler(scheduler, model.scheduler.config).plan(steps).timesteps.length;
      assert.deepEqual(
        previews,
        Array.from({ length: calls }, (_, i) => i + 1),
        `${scheduler}: one callback per UNet step, in order`,
      );
      assert.equal(result.timings.unetMs.length, calls);
      assert.equal(result.images.length, 1);
      const [image] = result.images;
      assert.ok(image);
      assert.equal(image.width, 64);
      assert.equal(image.height, 48);
      assert.ok(image.pixels instanceof Float32Array);
      assert.equal(image.pixels.length, 64 * 48 * 3);
      assert.ok(
        image.pixels.every((v) => v >= 0 && v <= 1),
        `${scheduler}: pixels in [0, 1]`,
      );
      const distinct = new Set(image.pixels).size;
      assert.ok(distinct > 100, `${scheduler}: the image is not flat (${distinct} distinct values)`);
      assert.equal(image.parameters.steps, steps);
      assert.equal(image.recipe.scheduler.name, scheduler);
      assert.equal(image.metadata.source, 'generated');
      assert.equal(result.timings.vaeDecodeMs.length, 1);
      assert.ok(result.timings.totalMs >= result.timings.unetTotalMs);
    }
  });
}

test('the model folder decides the defaults: SD1 PNDM/epsilon at 512, SD2 DDIM/v_prediction', async () => {
  const sd1 = await tinyModel('sd1');
  const sd2 = await tinyModel('sd2-v');
  assert.equal(sd1.defaultScheduler, 'PNDMScheduler');
  assert.equal(sd2.defaultScheduler, 'DDIMScheduler');
  assert.equal(sd2.scheduler.config.prediction_type, 'v_prediction');
  assert.equal(sd1.spec.defaultWidth, 512);
  const r = await generate(sd2, { prompt: 'x', steps: 2, seed: 1, width: 32, height: 32 });
  assert.equal(r.settings.scheduler.name, 'DDIMScheduler');
  assert.equal(r.settings.scheduler.config.prediction_type, 'v_prediction');
  assert.equal(r.images[0]?.parameters.sampler, 'DDIM');
});
