import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatA1111Parameters, parseA1111Parameters, type A1111Parameters } from '../../src/image/a1111-parameters.ts';

test('formats in A1111 layout, quoting values with commas', () => {
  const text = formatA1111Parameters({
    prompt: 'a lighthouse at dusk, oil painting\nthick brush strokes',
    negativePrompt: 'blurry, lowres',
    steps: 20,
    sampler: 'DPM++ 2M',
    scheduleType: 'Karras',
    cfgScale: 7,
    seed: 123,
    width: 512,
    height: 768,
    modelHash: 'abcdef1234',
    model: 'gesso-tiny',
    extra: { 'Lora hashes': 'ink: 0123456789ab, wash: ba9876543210', Version: 'gesso 0.1.0' },
  });
  assert.equal(
    text,
    'a lighthouse at dusk, oil painting\nthick brush strokes\n' +
      'Negative prompt: blurry, lowres\n' +
      'Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 123, Size: 512x768, ' +
      'Model hash: abcdef1234, Model: gesso-tiny, Lora hashes: "ink: 0123456789ab, wash: ba9876543210", Version: gesso 0.1.0',
  );
});

test('parses a real A1111 output: multi-line prompt, quoted values with commas, extra keys', () => {
  const text = [
    'masterpiece, best quality, (a red fox:1.2) in the snow',
    'winter forest, <lora:add_detail:0.5>',
    'Negative prompt: lowres, bad anatomy, (worst quality:1.4)',
    'jpeg artifacts',
    'Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 3844261617, Size: 512x768, Model hash: 6ce0161689, ' +
      'Model: v1-5-pruned-emaonly, VAE hash: 735e4c3a44, VAE: vae-ft-mse-840000-ema-pruned.safetensors, Denoising strength: 0.45, ' +
      'Clip skip: 2, Hires upscale: 2, Hires upscaler: Latent, Lora hashes: "add_detail: 7c6bad76eb54", ' +
      'TI hashes: "easynegative: c74b4e810b03, badhand: 8f8c2b4b1f6c", Version: v1.10.1',
  ].join('\n');
  const p = parseA1111Parameters(text);
  assert.equal(p.prompt, 'masterpiece, best quality, (a red fox:1.2) in the snow\nwinter forest, <lora:add_detail:0.5>');
  assert.equal(p.negativePrompt, 'lowres, bad anatomy, (worst quality:1.4)\njpeg artifacts');
  assert.equal(p.steps, 28);
  assert.equal(p.sampler, 'DPM++ 2M');
  assert.equal(p.scheduleType, 'Karras');
  assert.equal(p.cfgScale, 6.5);
  assert.equal(p.seed, 3844261617);
  assert.equal(p.width, 512);
  assert.equal(p.height, 768);
  assert.equal(p.modelHash, '6ce0161689');
  assert.equal(p.model, 'v1-5-pruned-emaonly');
  assert.equal(p.denoisingStrength, 0.45);
  assert.deepEqual(p.extra, {
    'VAE hash': '735e4c3a44',
    VAE: 'vae-ft-mse-840000-ema-pruned.safetensors',
    'Clip skip': '2',
    'Hires upscale': '2',
    'Hires upscaler': 'Latent',
    'Lora hashes': 'add_detail: 7c6bad76eb54',
    'TI hashes': 'easynegative: c74b4e810b03, badhand: 8f8c2b4b1f6c',
    Version: 'v1.10.1',
  });
});

test('parses Forge output with no negative prompt', () => {
  const p = parseA1111Parameters(
    'a watercolor teapot\nSteps: 20, Sampler: Euler, Schedule type: Simple, CFG scale: 1, Distilled CFG Scale: 3.5, Seed: 42, Size: 896x1152, ' +
      'Model hash: bea01d51bd, Model: flux1-dev-bnb-nf4-v2, Version: f2.0.1v1.10.1-previous-313-g8a042934, Module 1: ae, Module 2: clip_l',
  );
  assert.equal(p.prompt, 'a watercolor teapot');
  assert.equal(p.negativePrompt, undefined);
  assert.equal(p.seed, 42);
  assert.equal(p.width, 896);
  assert.equal(p.extra?.['Distilled CFG Scale'], '3.5');
  assert.equal(p.extra?.['Module 2'], 'clip_l');
});

test('format then parse gives back every setting', () => {
  const cases: A1111Parameters[] = [
    { prompt: 'one line', steps: 4, seed: 0, cfgScale: 1.5 },
    {
      prompt: 'line one\nline two: with a colon, and commas',
      negativePrompt: 'neg one\nneg two',
      steps: 30,
      sampler: 'Euler a',
      scheduleType: 'Automatic',
      cfgScale: 7.5,
      seed: 4294967295,
      width: 640,
      height: 384,
      modelHash: '0123456789',
      model: 'name, with comma',
      denoisingStrength: 0.6,
      extra: { 'Style-name/x': 'line\nbreak "quoted"', 'Looks quoted': '"not really"', Plain: 'text' },
    },
  ];
  for (const c of cases) assert.deepEqual(parseA1111Parameters(formatA1111Parameters(c)), c);
});

test('follows A1111 rules at the edges', () => {
  // Fewer than 3 pairs on the last line: A1111 reads it as part of the prompt.
  assert.deepEqual(parseA1111Parameters('a cat\nStyle: ink, Mood: calm'), { prompt: 'a cat\nStyle: ink, Mood: calm' });
  // A number key whose value is not a number is kept as text rather than lost.
  const p = parseA1111Parameters('x\nSteps: many, Seed: 5, Sampler: Euler');
  assert.equal(p.steps, undefined);
  assert.equal(p.extra?.Steps, 'many');
  // Prompt only.
  assert.equal(formatA1111Parameters({ prompt: 'just a prompt' }), 'just a prompt');
  assert.throws(() => formatA1111Parameters({ prompt: 'x', extra: { 'bad:key': '1' } }), /key "bad:key" is invalid/);
  assert.throws(() => formatA1111Parameters({ prompt: 'x', cfgScale: Number.NaN }), /CFG scale is NaN, expected a finite number/);
});
