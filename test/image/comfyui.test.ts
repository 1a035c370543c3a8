import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summariseComfyUiPrompt } from '../../src/image/comfyui.ts';

test('follows links through conditioning nodes and to seed/text widget nodes', () => {
  const graph = {
    '1': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sdxl.safetensors' } },
    '2': { class_type: 'CLIPTextEncodeSDXL', inputs: { text_g: ['20', 0], text_l: ['20', 0], width: 1024, height: 1024, clip: ['1', 1] } },
    '20': { class_type: 'PrimitiveStringNode', inputs: { value: 'a paper boat on a pond' } },
    '3': { class_type: 'CLIPTextEncode', inputs: { text: 'ugly', clip: ['1', 1] } },
    '4': { class_type: 'ConditioningCombine', inputs: { conditioning_1: ['2', 0], conditioning_2: ['2', 0] } },
    '5': { class_type: 'EmptyLatentImage', inputs: { width: 832, height: 1216, batch_size: 1 } },
    '6': { class_type: 'Seed (rgthree)', inputs: { seed: 42 } },
    '7': {
      class_type: 'KSamplerAdvanced',
      inputs: {
        noise_seed: ['6', 0],
        steps: 30,
        cfg: 6,
        sampler_name: 'dpmpp_2m',
        scheduler: 'karras',
        model: ['1', 0],
        positive: ['4', 0],
        negative: ['3', 0],
        latent_image: ['5', 0],
      },
    },
  };
  assert.deepEqual(summariseComfyUiPrompt(graph), {
    samplerNode: 'KSamplerAdvanced',
    positivePrompt: 'a paper boat on a pond',
    negativePrompt: 'ugly',
    seed: 42,
    steps: 30,
    cfg: 6,
    sampler: 'dpmpp_2m',
    scheduler: 'karras',
    model: 'sdxl.safetensors',
    width: 832,
    height: 1216,
  });
});

test('no sampler, or not a graph, gives no summary', () => {
  assert.equal(summariseComfyUiPrompt({ '1': { class_type: 'LoadImage', inputs: { image: 'x.png' } } }), undefined);
  assert.equal(summariseComfyUiPrompt([1, 2, 3]), undefined);
  assert.equal(summariseComfyUiPrompt('text'), undefined);
});
