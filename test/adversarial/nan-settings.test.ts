// Item 10: settings that passed validation but made every step NaN ("pixel data has NaN at x=0, y=0"
// after the whole run) are refused before the first step, naming the cause.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { generate, type GenerateRequest } from '../../src/pipelines/generate.ts';
import { scratchDir, tinyModel } from '../pipelines/tiny-models.ts';
import { writeImageFile } from '../../src/image/write-image.ts';
import { gesso } from './gesso-cli.ts';
import { tinyFolder } from '../pipelines/tiny-models.ts';

const base: GenerateRequest = { prompt: 'a lighthouse', steps: 2, width: 64, height: 64, seed: 1, scheduler: 'DDIM' };

test('schedules that overflow and prompt weights that overflow fail before any UNet step', async () => {
  const model = await tinyModel('sd1');
  const cases: [Partial<GenerateRequest>, RegExp][] = [
    [{ schedulerConfig: { num_train_timesteps: 1_000_000 } }, /noise schedule ends at alphas_cumprod .* after 1000000 timesteps; sigma above 100000 overflows/],
    [{ schedulerConfig: { beta_start: 0.5, beta_end: 0.5, beta_schedule: 'linear' } }, /noise schedule ends at alphas_cumprod 0\.000e\+0 \(sigma Infinity\)/],
    [{ schedulerConfig: { trained_betas: new Array(1000).fill(0.5), num_train_timesteps: 1000 } }, /noise schedule ends at alphas_cumprod/],
    [{ prompt: '('.repeat(1000) + 'red' }, /prompt emphasis on "red" comes to 2\.47e\+41 .*expected at most 100 in size/],
    [{ prompt: '(red:1000000000000000000000000000000000000000)' }, /prompt emphasis on "red" comes to 1\.00e\+39/],
    [{ negativePrompt: '(blurry:-500)' }, /prompt emphasis on "blurry" comes to -500/],
  ];
  for (const [change, pattern] of cases) {
    let steps = 0;
    await assert.rejects(generate(model, { ...base, ...change }, { onStep: () => void steps++ }), pattern, JSON.stringify(change).slice(0, 80));
    assert.equal(steps, 0, `${JSON.stringify(change).slice(0, 80)}: ${steps} UNet steps ran`);
  }
  // Large but sane settings still work: SD's cosine schedule (sigma_max ~20,300) and 40 brackets.
  const result = await generate(model, { ...base, prompt: '('.repeat(40) + 'red', schedulerConfig: { beta_schedule: 'squaredcos_cap_v2' } });
  assert.equal(result.images.length, 1);
});

test('a recipe carrying an overflowing schedule is refused by generate --recipe', async () => {
  const model = await tinyModel('sd1');
  const made = await generate(model, base);
  const image = made.images[0]!;
  const recipe = {
    ...image.recipe,
    scheduler: { ...image.recipe.scheduler, config: { ...image.recipe.scheduler.config, beta_start: 0.5, beta_end: 0.5, beta_schedule: 'linear' } },
  };
  const path = join(scratchDir(), 'evil-schedule.png');
  await writeImageFile(path, image.pixels, image.width, image.height, 3, { recipe });
  const r = gesso(['generate', '--recipe', path, '--model', tinyFolder('sd1'), '--out', join(scratchDir(), 'never.png')]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /noise schedule ends at alphas_cumprod/);
  assert.doesNotMatch(r.stderr, /generate \[/, 'no step ran');
});
