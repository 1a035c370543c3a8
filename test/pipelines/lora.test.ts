// LoRA files at generation: merged into the tiny SD folder's UNet and text encoder in memory; weight 0
// is the model itself; two LoRAs add up; bad files are refused naming the bad key; the folder is untouched.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateCommand } from '../../src/cli/commands/generate.ts';
import { decodeModel } from '../../src/graph/onnx-proto.ts';
import { generate, type GenerateRequest } from '../../src/pipelines/generate.ts';
import { chooseLoras, parseLoraArgument } from '../../src/pipelines/lora-choice.ts';
import { mergeLoras } from '../../src/pipelines/lora-merge.ts';
import { DiffusionModel } from '../../src/pipelines/model-folder.ts';
import { extractLoraTags } from '../../src/text/lora-tags.ts';
import { kohyaKey, type LoraModule, readLoraFile, writeLoraFile } from '../../src/weights/lora-file.ts';
import { initializerValues, readOnnxWeights } from '../../src/models/onnx-weights.ts';
import { writeSafetensors } from '../../src/weights/safetensors.ts';
import { randomLoraModules } from '../helpers/random-lora.ts';
import { scratchDir, tinyFolder } from './tiny-models.ts';

const request: GenerateRequest = { prompt: 'a lighthouse', steps: 2, width: 64, height: 64, seed: 3 };

function loraDir(): string {
  const dir = join(scratchDir(), 'loras');
  mkdirSync(dir, { recursive: true });
  return dir;
}

function writeRandomLora(name: string, seed: number): string {
  const folder = tinyFolder('sd1');
  const modules = [
    ...randomLoraModules(join(folder, 'unet/model.onnx'), 'unet', /attn[12]\.to_(q|v)\.weight$/, seed),
    ...randomLoraModules(join(folder, 'text_encoder/model.onnx'), 'textEncoder', /self_attn\.q_proj\.weight$/, seed + 1),
  ];
  const path = join(loraDir(), `${name}.safetensors`);
  writeLoraFile(path, modules);
  return path;
}

async function pixelsWith(loras: { path: string; weight: number }[], prompt = request.prompt): Promise<Float32Array> {
  const model = await DiffusionModel.load(tinyFolder('sd1'), { runner: 'in-process', upscaler: false, loras });
  try {
    return (await generate(model, { ...request, prompt })).images[0]?.pixels as Float32Array;
  } finally {
    await model.release();
  }
}

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

test('a LoRA at weight 0 gives exactly the pictures of no LoRA; at weight 1 they change; the folder is untouched', async () => {
  const a = writeRandomLora('style_a', 11);
  const folder = tinyFolder('sd1');
  const before = [sha(join(folder, 'unet/model.onnx')), sha(join(folder, 'text_encoder/model.onnx')), sha(a)];
  const none = await pixelsWith([]);
  assert.deepEqual(await pixelsWith([{ path: a, weight: 0 }]), none);
  const withA = await pixelsWith([{ path: a, weight: 1 }]);
  assert.notDeepEqual(withA, none);
  assert.deepEqual([sha(join(folder, 'unet/model.onnx')), sha(join(folder, 'text_encoder/model.onnx')), sha(a)], before);
});

test('two LoRAs compose: each merged weight is W + Σ weight · alpha/r · up · down', () => {
  const folder = tinyFolder('sd1');
  const a = readLoraFile(writeRandomLora('compose_a', 21));
  const b = readLoraFile(writeRandomLora('compose_b', 31));
  const targets = { unet: join(folder, 'unet/model.onnx'), textEncoder: join(folder, 'text_encoder/model.onnx') };
  const merged = mergeLoras(targets, [
    { file: a, weight: 0.8 },
    { file: b, weight: -0.5 },
  ]);
  assert.ok(merged.unet && merged.textEncoder);
  const module = a.modules.find((m) => m.component === 'unet') as LoraModule;
  const other = b.modules.find((m) => m.key === module.key) as LoraModule;
  const original = readOnnxWeights(targets.unet);
  const initializer = [...original.initializers.keys()].find((n) => kohyaKey('unet', n.replace(/\.weight$/, '')) === module.key) as string;
  assert.ok(initializer, `no initializer for ${module.key}`);
  const w = initializerValues(original, initializer);
  const mergedModel = decodeModel(merged.unet);
  const raw = mergedModel.graph?.initializer?.find((t) => t.name === initializer)?.raw_data as Uint8Array;
  const got = new Float32Array(Uint8Array.from(raw).buffer);
  const k = w.length / (module.up.shape[0] as number);
  let worst = 0;
  for (let o = 0; o < (module.up.shape[0] as number); o++) {
    for (let i = 0; i < k; i++) {
      let expected = w[o * k + i] as number;
      for (const [m, weight] of [
        [module, 0.8],
        [other, -0.5],
      ] as const) {
        for (let j = 0; j < m.rank; j++) expected += weight * (m.alpha / m.rank) * (m.up.data[o * m.rank + j] as number) * (m.down.data[j * k + i] as number);
      }
      worst = Math.max(worst, Math.abs((got[o * k + i] as number) - expected));
    }
  }
  assert.ok(worst < 1e-5, `largest difference ${worst}`);
});

test('two LoRAs at once change the picture beyond either one', async () => {
  const a = writeRandomLora('both_a', 41);
  const b = writeRandomLora('both_b', 51);
  const onlyA = await pixelsWith([{ path: a, weight: 1 }]);
  const both = await pixelsWith([
    { path: a, weight: 1 },
    { path: b, weight: 1 },
  ]);
  assert.notDeepEqual(both, onlyA);
});

test('a LoRA whose shapes do not fit the model is refused, naming the first bad key', async () => {
  const folder = tinyFolder('sd1');
  const modules = randomLoraModules(join(folder, 'unet/model.onnx'), 'unet', /attn1\.to_(q|k)\.weight$/, 5);
  const [first, second] = modules.map((m) => m.key).sort();
  const broken = modules.map((m) => ({ ...m, down: { shape: [2, 3], data: new Float32Array(6) } }));
  const path = join(loraDir(), 'misfit.safetensors');
  writeLoraFile(path, broken);
  await assert.rejects(
    DiffusionModel.load(folder, { runner: 'in-process', upscaler: false, loras: [{ path, weight: 1 }] }),
    (e: Error) => e.message.includes(`key "${first}"`) && !e.message.includes(`"${second}"`) && /do not fit the model's/.test(e.message),
  );
  const stranger = join(loraDir(), 'stranger.safetensors');
  writeLoraFile(stranger, [{ ...(modules[0] as LoraModule), key: 'lora_unet_no_such_module' }]);
  await assert.rejects(
    DiffusionModel.load(folder, { runner: 'in-process', loras: [{ path: stranger, weight: 1 }] }),
    /"lora_unet_no_such_module" names no weight/,
  );
});

test('a pickle, a LoRA with NaNs, and a file of other tensors are refused', async () => {
  const folder = tinyFolder('sd1');
  const pickle = join(loraDir(), 'pickled.safetensors');
  writeFileSync(pickle, Uint8Array.of(0x80, 0x02, 0x7d, 0x71, 0x00, 0x2e)); // protocol-2 pickle of {}
  await assert.rejects(DiffusionModel.load(folder, { runner: 'in-process', loras: [{ path: pickle, weight: 1 }] }), /is a Python pickle/);
  const modules = randomLoraModules(join(folder, 'unet/model.onnx'), 'unet', /attn1\.to_q\.weight$/, 6);
  const m = modules[0] as LoraModule;
  m.up.data[3] = Number.NaN;
  const nan = join(loraDir(), 'nan.safetensors');
  writeLoraFile(nan, [m]);
  assert.throws(() => readLoraFile(nan), new RegExp(`"${m.key}.lora_up.weight" holds NaN at index 3`));
  const checkpoint = join(loraDir(), 'checkpoint.safetensors');
  writeSafetensors(checkpoint, { 'model.diffusion_model.out.0.weight': { dtype: 'F32', shape: [2], data: new Float32Array(2) } });
  assert.throws(() => readLoraFile(checkpoint), /tensor "model\.diffusion_model\.out\.0\.weight" is not a LoRA tensor/);
});

test('<lora:name:w> tags pick files from the LoRA folder and must match what the model was loaded with', async () => {
  assert.deepEqual(extractLoraTags('a cat <lora:ink:0.6>, sketch <lora:paper>'), {
    prompt: 'a cat, sketch',
    tags: [
      { name: 'ink', weight: 0.6 },
      { name: 'paper', weight: 1 },
    ],
  });
  assert.throws(() => extractLoraTags('<lora:ink:lots>'), /weight "lots" is not a number/);
  const path = writeRandomLora('tagged', 61);
  assert.deepEqual(chooseLoras('a lighthouse <lora:tagged:0.7>', [], loraDir()), [{ path, weight: 0.7 }]);
  assert.deepEqual(parseLoraArgument(`${path}:0.25`), { path, weight: 0.25 });
  assert.throws(() => chooseLoras('<lora:missing:1>', [], loraDir()), /no file .*missing\.safetensors/);
  const viaTag = await pixelsWith([{ path, weight: 0.7 }], 'a lighthouse <lora:tagged:0.7>');
  assert.deepEqual(viaTag, await pixelsWith([{ path, weight: 0.7 }]));
  await assert.rejects(pixelsWith([], 'a lighthouse <lora:tagged:0.7>'), /names <lora:tagged:0\.7> but the model was loaded with LoRAs: none/);
});

test('gesso generate takes --lora FILE:W and <lora:name:w> with --lora-dir; bad arguments are clear errors', async () => {
  const path = writeRandomLora('cli_style', 71);
  const run = (...args: string[]) => generateCommand.run(args);
  const model = tinyFolder('sd1');
  await assert.rejects(run('a cat', '--model', model, '--lora', join(loraDir(), 'nope.safetensors')), /--lora .*nope\.safetensors: no file/);
  await assert.rejects(run('a cat', '--model', model, '--lora', `${path}:lots`), /weight "lots" is not a number/);
  await assert.rejects(
    run('a cat <lora:cli_style:0.5>', '--model', model, '--lora-dir', loraDir(), '--lora', `${path}:0.7`),
    /asked for at weights 0.7 and 0.5/,
  );
  const out = join(scratchDir(), 'lora-cli.png');
  assert.equal(
    await run('a cat <lora:cli_style:0.5>', '--model', model, '--lora-dir', loraDir(), '--steps', '2', '--size', '64x64', '--seed', '1', '--out', out),
    0,
  );
  assert.ok(existsSync(out));
});
