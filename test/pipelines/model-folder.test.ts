// Loading model folders: what is read from sessions and configs, and clear errors for broken folders.
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync, truncateSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { InputError } from '../../src/core/errors.ts';
import { DiffusionModel } from '../../src/pipelines/model-folder.ts';
import { scratchDir, tinyFolder, tinyModel } from './tiny-models.ts';

let copies = 0;
/** A copy of a tiny folder to break. */
function copyOf(variant: 'sd1' | 'sd2-v' | 'inpaint'): string {
  const dir = join(scratchDir(), `broken-${copies++}`);
  cpSync(tinyFolder(variant), dir, { recursive: true });
  return dir;
}

async function refuses(dir: string, pattern: RegExp): Promise<void> {
  await assert.rejects(DiffusionModel.load(dir, { runner: 'in-process' }), (e: unknown) => {
    assert.ok(e instanceof InputError, `expected an InputError, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
}

test('SD1-like folder: int64 timestep, int32 input_ids, 4 latent channels, VAE factor 8, scaling 0.18215', async () => {
  const m = await tinyModel('sd1');
  assert.equal(m.spec.unet.timestep.dtype, 'int64');
  assert.equal(m.spec.textEncoder.inputIds.dtype, 'int32');
  assert.equal(m.spec.latentChannels, 4);
  assert.equal(m.spec.unetInChannels, 4);
  assert.equal(m.spec.inpaint, false);
  assert.equal(m.spec.hiddenSize, 32);
  assert.equal(m.spec.vaeScaleFactor, 8);
  assert.equal(m.spec.scalingFactor, 0.18215);
  assert.equal(m.spec.fixedLatentHeight, null, 'real exports have dynamic height/width');
  assert.equal(m.spec.unet.fixedBatch, null);
  assert.equal(m.tokenizer.maxLength, 77);
  assert.equal(m.hasVaeEncoder, true);
  assert.equal(m.upscaler, null);
  const hash = await m.hash();
  assert.match(hash.short, /^[0-9a-f]{10}$/);
  assert.equal(hash.sha256.slice(0, 10), hash.short);
  assert.deepEqual(hash.files, ['model.onnx', 'model.onnx_data'], 'the UNet external weights are part of the identity');
});

test('SD2-like folder: float32 timestep, int64 input_ids; inpainting folder: 9-channel UNet', async () => {
  const sd2 = await tinyModel('sd2-v');
  assert.equal(sd2.spec.unet.timestep.dtype, 'float32');
  assert.equal(sd2.spec.textEncoder.inputIds.dtype, 'int64');
  const inpaint = await tinyModel('inpaint');
  assert.equal(inpaint.spec.unetInChannels, 9);
  assert.equal(inpaint.spec.inpaint, true);
  assert.notEqual((await sd2.hash()).short, (await inpaint.hash()).short);
});

test('a folder without unet/model.onnx is refused, naming the file', async () => {
  const dir = copyOf('sd1');
  rmSync(join(dir, 'unet', 'model.onnx'));
  await refuses(dir, /has no unet\/model\.onnx \(the UNet/);
});

test('missing model_index.json, tokenizer or scheduler config are refused by name; so are missing folders and files', async () => {
  for (const [rel, pattern] of [
    ['model_index.json', /model_index\.json/],
    ['tokenizer', /tokenizer/],
    ['scheduler/scheduler_config.json', /scheduler\/scheduler_config\.json/],
    ['vae_decoder/model.onnx', /vae_decoder\/model\.onnx/],
  ] as const) {
    const dir = copyOf('sd1');
    rmSync(join(dir, rel), { recursive: true });
    await refuses(dir, pattern);
  }
  await refuses(join(scratchDir(), 'no-such-model'), /does not exist/);
  const file = join(scratchDir(), 'a-file');
  writeFileSync(file, 'x');
  await refuses(file, /is a file; expected a model folder/);
});

test('an ONNX file whose external data points outside its folder is refused before ONNX Runtime opens it', async () => {
  const dir = copyOf('sd1');
  const path = join(dir, 'unet', 'model.onnx');
  const bytes = readFileSync(path);
  // Same length as "model.onnx_data", so the protobuf stays well-formed.
  const patched = Buffer.from(bytes.toString('latin1').replaceAll('model.onnx_data', '../outside.data'), 'latin1');
  assert.notDeepEqual(patched, bytes);
  writeFileSync(path, patched);
  writeFileSync(join(dir, 'outside.data'), Buffer.alloc(4 << 20));
  await refuses(dir, /external data location "\.\.\/outside\.data" contains "\.\."/);
});

test('a truncated ONNX file is refused, naming it', async () => {
  const dir = copyOf('sd1');
  const path = join(dir, 'text_encoder', 'model.onnx');
  truncateSync(path, Math.floor(statSync(path).size / 2));
  await refuses(dir, /text_encoder\/model\.onnx/);
});

test('a pickle renamed model.onnx is refused', async () => {
  const dir = copyOf('sd1');
  // Protocol-2 pickle of an empty dict: PROTO 2, EMPTY_DICT, STOP.
  writeFileSync(join(dir, 'vae_decoder', 'model.onnx'), Buffer.from([0x80, 0x02, 0x7d, 0x2e]));
  await refuses(dir, /vae_decoder\/model\.onnx.*pickle/);
});

test('configs that disagree with the ONNX models are refused, naming both', async () => {
  const dir = copyOf('sd1');
  const configPath = join(dir, 'vae_decoder', 'config.json');
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
  writeFileSync(configPath, JSON.stringify({ ...config, latent_channels: 8 }));
  await refuses(dir, /latent channels.*ONNX model says 4 but the config says 8/);

  const dir2 = copyOf('sd1');
  writeFileSync(join(dir2, 'unet', 'config.json'), '{ not json');
  await refuses(dir2, /unet\/config\.json ".*unet\/config\.json" is not valid JSON/);

  // An inpainting UNet with an SD1 text encoder of another width cannot be caught here (all tiny models
  // share width 32), but a UNet that does not match the VAE can: put the 9-channel UNet's config on a 4-channel UNet.
  const dir3 = copyOf('sd1');
  cpSync(join(tinyFolder('inpaint'), 'unet', 'config.json'), join(dir3, 'unet', 'config.json'));
  await refuses(dir3, /input channels.*ONNX model says 4 but the config says 9/);
});

test('a folder without vae_encoder loads for txt2img, and img2img says what is missing', async () => {
  const dir = copyOf('sd1');
  rmSync(join(dir, 'vae_encoder'), { recursive: true });
  const m = await DiffusionModel.load(dir, { runner: 'in-process' });
  try {
    assert.equal(m.hasVaeEncoder, false);
    await assert.rejects(m.vaeEncoder(), /no vae_encoder\/model\.onnx/);
  } finally {
    await m.release();
  }
});
