// LoRA training on the tiny SD folder: a few steps from captioned pictures give a kohya-named LoRA
// file that loads back into the same folder and changes its pictures; the run resumes from its
// checkpoint; an empty folder and pictures without captions are refused with clear messages.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import sharp from 'sharp';
import { writeTinySdModel } from '../../src/models/fixtures/tiny-sd.ts';
import { generate } from '../../src/pipelines/generate.ts';
import { DiffusionModel } from '../../src/pipelines/model-folder.ts';
import { trainLora } from '../../src/train/finetune/train-lora.ts';
import { readLoraFile } from '../../src/weights/lora-file.ts';
import { readSafetensors } from '../../src/weights/safetensors.ts';

const root = mkdtempSync(join(tmpdir(), 'gesso-finetune-'));
after(() => rmSync(root, { recursive: true, force: true }));
const modelDir = join(root, 'tiny-sd1');
writeTinySdModel(modelDir, { variant: 'sd1', seed: 2 });

/** `count` 64 px pictures (a coloured disc on white), each with a caption file unless `captions` is false. */
async function pictures(dir: string, count: number, captions = true): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const colours = ['#d00', '#0a0', '#00c', '#cc0'];
  for (let i = 0; i < count; i++) {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="#fff"/><circle cx="32" cy="32" r="${12 + 4 * i}" fill="${colours[i % 4]}"/></svg>`;
    await sharp(Buffer.from(svg))
      .png()
      .toFile(join(dir, `disc${i}.png`));
    if (captions) writeFileSync(join(dir, `disc${i}.txt`), `a disc number ${i}`);
  }
}

const base = { modelDir, size: 64, rank: 2, batch: 2, quiet: true, sampleSteps: 2, log: () => {} } as const;

test('an empty folder and pictures without captions are refused with clear messages', async () => {
  const empty = join(root, 'empty');
  mkdirSync(empty);
  await assert.rejects(
    trainLora({ ...base, dataDir: empty, outDir: join(root, 'run-empty'), steps: 1 }),
    /the folder holds no \.png \.jpg \.jpeg \.webp or \.svg pictures/,
  );
  assert.equal(existsSync(join(root, 'run-empty')), false, 'no run folder for a refused data folder');
  const bare = join(root, 'bare');
  await pictures(bare, 2, false);
  await assert.rejects(
    trainLora({ ...base, dataDir: bare, outDir: join(root, 'run-bare'), steps: 1 }),
    /2 of 2 pictures have no caption file, e\.g\. disc0\.png needs disc0\.txt/,
  );
});

test('a LoRA trained for a few steps is a kohya-named file that loads into the folder; the run resumes', async () => {
  const data = join(root, 'discs');
  await pictures(data, 4);
  const outDir = join(root, 'run');
  const first = await trainLora({ ...base, dataDir: data, outDir, name: 'discs', steps: 3, checkpointEvery: 2 });
  assert.equal(first.resumedFrom, 0);
  assert.equal(first.images, 4);
  assert.ok(first.losses.length === 3 && first.losses.every(Number.isFinite));
  const lora = readLoraFile(first.loraPath);
  assert.equal(lora.name, 'discs');
  assert.ok(lora.modules.length > 0 && lora.modules.length === first.adaptedModules);
  for (const m of lora.modules) assert.match(m.key, /^lora_unet_(down|mid|up)_blocks?_.*_attn[12]_to_(q|k|v|out_0)$/);
  assert.ok(
    lora.modules.some((m) => m.up.data.some((v) => v !== 0)),
    'training moved the up weights off zero',
  );

  const checkpoint = readSafetensors(join(outDir, 'checkpoint.safetensors'));
  const kept = [...checkpoint.tensors.keys()];
  assert.ok(
    kept.length > 0 && kept.every((k) => k.startsWith('lora_unet_') || k.startsWith('opt.')),
    `frozen UNet weights stay out of the checkpoint: ${kept.find((k) => !k.startsWith('lora_') && !k.startsWith('opt.'))}`,
  );
  const again = await trainLora({ ...base, dataDir: data, outDir, name: 'discs', steps: 4 });
  assert.equal(again.resumedFrom, 3);
  assert.equal(again.losses.length, 1);

  const pixels = async (loras: { path: string; weight: number }[]): Promise<Float32Array> => {
    const model = await DiffusionModel.load(modelDir, { runner: 'in-process', upscaler: false, loras });
    try {
      return (await generate(model, { prompt: 'a disc number 1', steps: 2, width: 64, height: 64, seed: 1 })).images[0]?.pixels as Float32Array;
    } finally {
      await model.release();
    }
  };
  assert.notDeepEqual(await pixels([{ path: again.loraPath, weight: 1 }]), await pixels([]));
});

test('with textEncoder the LoRA also adapts the text encoder (lora_te_* keys) and loads back', async () => {
  const data = join(root, 'discs-te');
  await pictures(data, 2);
  const r = await trainLora({ ...base, dataDir: data, outDir: join(root, 'run-te'), name: 'te', steps: 2, textEncoder: true });
  const lora = readLoraFile(r.loraPath);
  const te = lora.modules.filter((m) => m.component === 'textEncoder');
  assert.ok(te.length > 0 && te.every((m) => /^lora_te_text_model_encoder_layers_\d+_self_attn_(q|k|v|out)_proj$/.test(m.key)));
  assert.ok(lora.modules.some((m) => m.component === 'unet'));
  const model = await DiffusionModel.load(modelDir, { runner: 'in-process', upscaler: false, loras: [{ path: r.loraPath, weight: 1 }] });
  await model.release();
});
