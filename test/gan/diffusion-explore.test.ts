import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodePng } from '../../src/image/write-image.ts';
import { generate } from '../../src/pipelines/generate.ts';
import { renderDiffusion, resolveNoise, type DiffusionBase, type DiffusionExploreRecipe } from '../../src/pipelines/diffusion-explore.ts';
import { Rng } from '../../src/core/rng.ts';
import { tinyModel } from '../pipelines/tiny-models.ts';

const base: DiffusionBase = { steps: 3, width: 64, height: 64, cfgScale: 5, scheduler: 'DDIM', negativePrompt: 'fog' };
const one = (text: string) => ({ prompts: [{ text, weight: 1 }] });

test('diffusion explore: starting latents and prompt embeddings as inputs reproduce generate(); variations, blends and recipes behave', async () => {
  const model = await tinyModel('sd1');
  const plain = (await generate(model, { ...base, prompt: 'a lighthouse', seed: 7 })).images[0]!;
  const viaNoise = await renderDiffusion(model, base, { op: 'seed', seed: 7 }, one('a lighthouse'));
  assert.deepEqual(viaNoise.pixels, plain.pixels, 'a seed spec is exactly the seed');
  assert.equal(viaNoise.latents.length, plain.latents.length);
  assert.ok(plain.latents.length > 0, 'generate returns the final latents');

  // A1111 variation: strength 0 is the seed, strength 1 the variation seed's noise.
  const v0 = await renderDiffusion(model, base, { op: 'variation', seed: 7, variationSeed: 9, strength: 0 }, one('a lighthouse'));
  assert.deepEqual(v0.pixels, plain.pixels);
  const n = plain.latents.length;
  assert.deepEqual(resolveNoise({ op: 'variation', seed: 7, variationSeed: 9, strength: 1 }, n), new Rng(9).normal(n));
  const v3 = await renderDiffusion(model, base, { op: 'variation', seed: 7, variationSeed: 9, strength: 0.3 }, one('a lighthouse'));
  assert.notDeepEqual(v3.pixels, plain.pixels);
  assert.match(v3.parameters.extra?.['Variation seed'] ?? '', /^9$/);

  // Blends: weight 0 on a prompt drops it; the slerp midpoint keeps the noise norm.
  const blend = await renderDiffusion(
    model,
    base,
    { op: 'seed', seed: 7 },
    {
      prompts: [
        { text: 'a lighthouse', weight: 1 },
        { text: 'a cat', weight: 0 },
      ],
    },
  );
  assert.deepEqual(blend.pixels, plain.pixels);
  const mid = resolveNoise({ op: 'slerp', from: { op: 'seed', seed: 1 }, to: { op: 'seed', seed: 2 }, t: 0.5 }, n);
  const norm = Math.hypot(...mid);
  assert.ok(Math.abs(norm / Math.sqrt(n) - 1) < 0.2, `slerp noise norm ${norm} vs sqrt(${n})`);

  // The recipe in the PNG is enough to make the same image again.
  const mix = await renderDiffusion(
    model,
    base,
    { op: 'slerp', from: { op: 'seed', seed: 1 }, to: { op: 'seed', seed: 2 }, t: 0.4 },
    {
      prompts: [
        { text: 'a lighthouse', weight: 0.6 },
        { text: 'a cat', weight: 0.4 },
      ],
    },
  );
  const recipe = mix.metadata.recipe as DiffusionExploreRecipe;
  assert.equal(recipe.kind, 'diffusion');
  const again = await renderDiffusion(model, recipe.base, recipe.noise, recipe.prompt);
  assert.deepEqual(
    await encodePng(again.pixels, again.width, again.height, 3, again.metadata),
    await encodePng(mix.pixels, mix.width, mix.height, 3, mix.metadata),
  );

  await assert.rejects(generate(model, { ...base, prompt: 'x', seed: 1, latents: [new Float32Array(3)] }), /latents\[0\]: 3 values; expected/);
});
