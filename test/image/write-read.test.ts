import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { InputError } from '../../src/core/errors.ts';
import type { A1111Parameters } from '../../src/image/a1111-parameters.ts';
import { insertTextChunks, readPngChunks, readPngText } from '../../src/image/png-chunks.ts';
import { decodeImage, readImageInfo } from '../../src/image/read-info.ts';
import { encodePng, writeImageFile } from '../../src/image/write-image.ts';
import { COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA, TRAINED_ALGORITHMIC_MEDIA } from '../../src/image/xmp.ts';

const dir = mkdtempSync(join(tmpdir(), 'gesso-image-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** A gradient with distinct channels, HWC in [0, 1]: R follows x, G follows y, B is their product. */
function gradient(width: number, height: number): Float32Array {
  const data = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = x / (width - 1);
      data[i + 1] = y / (height - 1);
      data[i + 2] = (x / (width - 1)) * (y / (height - 1));
    }
  }
  return data;
}

const parameters: A1111Parameters = {
  prompt: 'a lighthouse at dusk, (oil painting:1.2)\nthick impasto',
  negativePrompt: 'blurry, text',
  steps: 25,
  sampler: 'DPM++ 2M',
  scheduleType: 'Karras',
  cfgScale: 6.5,
  seed: 2024,
  width: 48,
  height: 32,
  modelHash: 'abcdef1234',
  model: 'gesso-tiny-sd',
  extra: { 'Lora hashes': 'ink: 0123456789ab, wash: ba9876543210', Version: 'gesso 0.1.0' },
};

const recipe = {
  pipeline: 'text-to-image',
  model: { name: 'gesso-tiny-sd', sha256: 'ab'.repeat(32) },
  scheduler: { _class_name: 'DPMSolverMultistepScheduler', use_karras_sigmas: true, beta_schedule: 'scaled_linear' },
  settings: { steps: 25, guidance: 6.5, width: 48, height: 32, prompt: parameters.prompt, negativePrompt: 'blurry, text', seed: 2024 },
  lineage: [{ parent: null, op: 'generate' }],
  notes: 'snow ❄ and 日本語 survive',
};

test('write then read gives back every setting, the recipe, XMP provenance and the pixels', async () => {
  const path = join(dir, 'round-trip.png');
  const pixels = gradient(48, 32);
  await writeImageFile(path, pixels, 48, 32, 3, { parameters, recipe });
  const info = await readImageInfo(path);
  assert.equal(info.format, 'png');
  assert.equal(info.width, 48);
  assert.equal(info.height, 32);
  assert.deepEqual(info.a1111, parameters);
  assert.deepEqual(info.recipe, recipe);
  assert.equal(info.digitalSourceType, TRAINED_ALGORITHMIC_MEDIA);
  assert.equal(info.digitalSourceType, 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia');
  assert.equal(info.xmp?.creatorTool, 'gesso');
  assert.equal(info.xmp?.description, parameters.prompt);
  assert.deepEqual(info.otherText, {});
  assert.deepEqual(info.warnings, []);

  // Pixels: HWC layout survives, values within one 8-bit step.
  const decoded = await decodeImage(path);
  assert.equal(decoded.width, 48);
  assert.equal(decoded.height, 32);
  let worst = 0;
  for (let i = 0; i < pixels.length; i++) worst = Math.max(worst, Math.abs(decoded.data[i]! - pixels[i]!));
  assert.ok(worst <= 0.5 / 255 + 1e-6, `max error ${worst}`);
  // Corner check pins the orientation: top-right is red, bottom-left green, bottom-right white.
  const at = (x: number, y: number) => Array.from(decoded.data.subarray((y * 48 + x) * 3, (y * 48 + x) * 3 + 3), (v) => Math.round(v * 255));
  assert.deepEqual(at(47, 0), [255, 0, 0]);
  assert.deepEqual(at(0, 31), [0, 255, 0]);
  assert.deepEqual(at(47, 31), [255, 255, 255]);

  // Other readers: sharp's metadata sees the PNG, its text chunks and the XMP.
  const meta = await sharp(path).metadata();
  assert.equal(meta.width, 48);
  assert.equal(meta.height, 32);
  assert.equal(meta.comments?.find((c) => c.keyword === 'parameters')?.text, info.parametersText);
  assert.match(meta.xmpAsString ?? '', /trainedAlgorithmicMedia/);
  // The A1111 text is in a plain tEXt chunk named `parameters` (what A1111 and Civitai look for).
  const chunk = readPngText(new Uint8Array(readFileSync(path))).find((t) => t.keyword === 'parameters');
  assert.equal(chunk?.type, 'tEXt');
});

test('edits are marked compositeWithTrainedAlgorithmicMedia; floats are clamped; uint8 and RGBA work', async () => {
  const floats = new Float32Array([-0.5, 0.5, 1.5, 2, -1, 0.25]);
  const png = await encodePng(floats, 2, 1, 3, { source: 'edited' });
  const path = join(dir, 'edited.png');
  writeFileSync(path, png);
  const info = await readImageInfo(path);
  assert.equal(info.digitalSourceType, COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA);
  assert.equal(info.a1111, undefined);
  assert.equal(info.recipe, undefined);
  const raw = new Uint8Array(await sharp(png).raw().toBuffer());
  assert.deepEqual(Array.from(raw), [0, 128, 255, 255, 0, 64]);

  const rgba = new Uint8Array([255, 0, 0, 255, 0, 0, 255, 0]);
  const rgbaPng = await encodePng(rgba, 2, 1, 4);
  const meta = await sharp(rgbaPng).metadata();
  assert.equal(meta.channels, 4);
  assert.deepEqual(new Uint8Array(await sharp(rgbaPng).raw().toBuffer()), rgba);
});

test('bad pixel data is refused with the reason', async () => {
  await assert.rejects(encodePng(new Float32Array(5), 2, 1, 3), /pixel data has 5 values, expected 2x1x3 = 6 \(HWC layout\)/);
  await assert.rejects(encodePng(new Float32Array(6), 0, 1, 3), /image width is 0, expected a positive integer/);
  await assert.rejects(encodePng(new Float32Array(10), 2, 1, 5), /image channels is 5/);
  const nan = new Float32Array(6);
  nan[4] = Number.NaN;
  await assert.rejects(encodePng(nan, 2, 1, 3), /pixel data has NaN at x=1, y=0, channel 1/);
  await assert.rejects(encodePng(new Float32Array(3), 1, 1, 3, { recipe: [1, 2] }), /recipe must be a JSON object, got an array/);
});

/** A ComfyUI API-format graph like the `prompt` chunk ComfyUI writes (node id -> class_type + inputs; links are [id, slot]). */
const comfyPrompt = {
  '3': {
    class_type: 'KSampler',
    inputs: {
      seed: 156680208700286,
      steps: 20,
      cfg: 8,
      sampler_name: 'euler',
      scheduler: 'normal',
      denoise: 1,
      model: ['10', 0],
      positive: ['6', 0],
      negative: ['7', 0],
      latent_image: ['5', 0],
    },
  },
  '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'v1-5-pruned-emaonly.safetensors' } },
  '5': { class_type: 'EmptyLatentImage', inputs: { width: 512, height: 768, batch_size: 1 } },
  '6': { class_type: 'CLIPTextEncode', inputs: { text: 'beautiful scenery nature glass bottle landscape, purple galaxy bottle', clip: ['10', 1] } },
  '7': { class_type: 'CLIPTextEncode', inputs: { text: 'text, watermark', clip: ['10', 1] } },
  '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
  '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'ComfyUI', images: ['8', 0] } },
  '10': { class_type: 'LoraLoader', inputs: { lora_name: 'ink.safetensors', strength_model: 0.8, strength_clip: 0.8, model: ['4', 0], clip: ['4', 1] } },
  // A second, hires pass with a lower id: the summary should describe the first pass (fed by an empty latent).
  '2': {
    class_type: 'KSamplerAdvanced',
    inputs: {
      noise_seed: 7,
      steps: 10,
      cfg: 5,
      sampler_name: 'dpmpp_2m',
      scheduler: 'karras',
      model: ['4', 0],
      positive: ['6', 0],
      negative: ['7', 0],
      latent_image: ['3', 0],
    },
  },
};
const comfyWorkflow = {
  last_node_id: 11,
  nodes: [
    { id: 3, type: 'KSampler', widgets_values: [156680208700286, 'randomize', 20, 8, 'euler', 'normal', 1] },
    { id: 6, type: 'CLIPTextEncode', widgets_values: ['beautiful scenery nature glass bottle landscape, purple galaxy bottle'] },
  ],
  links: [[1, 6, 0, 3, 1, 'CONDITIONING']],
  version: 0.4,
};

test('a ComfyUI PNG is read: prompt and workflow parsed, KSampler settings summarised', async () => {
  const pixels = new Uint8Array(8 * 8 * 3).fill(90);
  const plain = new Uint8Array(
    await sharp(pixels, { raw: { width: 8, height: 8, channels: 3 } })
      .png()
      .toBuffer(),
  );
  const png = insertTextChunks(plain, [
    { keyword: 'prompt', text: JSON.stringify(comfyPrompt) },
    { keyword: 'workflow', text: JSON.stringify(comfyWorkflow) },
    { keyword: 'Software', text: 'ComfyUI' },
  ]);
  const path = join(dir, 'comfy.png');
  writeFileSync(path, png);
  const info = await readImageInfo(path);
  assert.deepEqual(info.comfyui?.prompt, comfyPrompt);
  assert.deepEqual(info.comfyui?.workflow, comfyWorkflow);
  assert.deepEqual(info.comfyui?.summary, {
    samplerNode: 'KSampler',
    positivePrompt: 'beautiful scenery nature glass bottle landscape, purple galaxy bottle',
    negativePrompt: 'text, watermark',
    seed: 156680208700286,
    steps: 20,
    cfg: 8,
    sampler: 'euler',
    scheduler: 'normal',
    denoise: 1,
    model: 'v1-5-pruned-emaonly.safetensors',
    width: 512,
    height: 768,
  });
  assert.deepEqual(info.otherText, { Software: 'ComfyUI' });
  assert.equal(info.digitalSourceType, undefined);
  assert.equal(info.a1111, undefined);
});

test('bad files are clear errors: truncated, bad CRC, not a PNG, not an image, missing, a folder', async () => {
  const good = await encodePng(gradient(6, 4), 6, 4, 3, { parameters, recipe });
  const chunks = readPngChunks(good);
  const idat = chunks.find((c) => c.type === 'IDAT')!;

  const truncated = join(dir, 'truncated.png');
  writeFileSync(truncated, good.subarray(0, idat.offset + 20));
  await assert.rejects(readImageInfo(truncated), (err: Error) => {
    assert.ok(err instanceof InputError);
    assert.match(err.message, /truncated\.png" is truncated: chunk IDAT at byte \d+ needs \d+ bytes but only 20 remain/);
    return true;
  });
  await assert.rejects(decodeImage(truncated), /truncated: chunk IDAT/);

  const badCrc = join(dir, 'bad-crc.png');
  const corrupt = good.slice();
  const text = chunks.find((c) => c.type === 'tEXt')!;
  corrupt[text.offset + 12] ^= 0x20; // flip a bit of the `parameters` text
  writeFileSync(badCrc, corrupt);
  await assert.rejects(readImageInfo(badCrc), new RegExp(`bad CRC in chunk tEXt at byte ${text.offset} \\(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\\)`));

  const notImage = join(dir, 'notes.png');
  writeFileSync(notImage, 'just some text, named like a PNG\n');
  await assert.rejects(readImageInfo(notImage), /notes\.png" is not an image gesso can read \(expected PNG, JPEG/);
  await assert.rejects(decodeImage(notImage), /notes\.png" is not an image gesso can read/);

  const missing = join(dir, 'nowhere.png');
  await assert.rejects(readImageInfo(missing), (err: Error) => err instanceof InputError && /image file not found: ".*nowhere\.png"/.test(err.message));
  await assert.rejects(decodeImage(missing), /image file not found/);
  await assert.rejects(readImageInfo(dir), /is a folder; expected a regular file/);
});

test('a JPEG gives its size and XMP source type', async () => {
  const path = join(dir, 'photo.jpg');
  const xmp = `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about=""
    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"/></rdf:RDF></x:xmpmeta>`;
  writeFileSync(
    path,
    await sharp(new Uint8Array(5 * 3 * 3).fill(200), { raw: { width: 5, height: 3, channels: 3 } })
      .jpeg()
      .withXmp(xmp)
      .toBuffer(),
  );
  const info = await readImageInfo(path);
  assert.deepEqual([info.format, info.width, info.height], ['jpeg', 5, 3]);
  assert.equal(info.digitalSourceType, 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture');
  const decoded = await decodeImage(path);
  assert.equal(decoded.data.length, 5 * 3 * 3);
});

test('writing into a missing folder is a clear error and leaves no file; a failed write keeps the old file', async () => {
  const folder = join(dir, 'no-such-folder');
  await assert.rejects(writeImageFile(join(folder, 'out.png'), gradient(4, 4), 4, 4, 3, { parameters }), (err: Error) => {
    assert.ok(err instanceof InputError);
    assert.match(err.message, /cannot write image ".*out\.png": folder ".*no-such-folder" does not exist/);
    return true;
  });
  assert.equal(existsSync(folder), false);

  const target = join(dir, 'keep', 'image.png');
  mkdirSync(join(dir, 'keep'));
  await writeImageFile(target, gradient(4, 4), 4, 4, 3, { parameters });
  const before = readFileSync(target);
  // Bad pixels fail before anything is written; the existing file stays as it was, with no temp beside it.
  await assert.rejects(writeImageFile(target, new Float32Array(3), 4, 4, 3), /pixel data has 3 values/);
  // Renaming over a folder fails after the temp file is written: the temp file must be removed.
  mkdirSync(join(dir, 'keep', 'taken.png'));
  await assert.rejects(writeImageFile(join(dir, 'keep', 'taken.png'), gradient(4, 4), 4, 4, 3), /cannot write image ".*taken\.png"/);
  assert.deepEqual(readFileSync(target), before);
  assert.deepEqual(readdirSync(join(dir, 'keep')).sort(), ['image.png', 'taken.png']);
  await assert.rejects(writeImageFile(join(dir, 'out.jpg'), gradient(4, 4), 4, 4, 3), /expected a path ending in \.png/);
});
