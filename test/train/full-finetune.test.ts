// Full fine-tune of the tiny SD folder: a few steps with prior preservation write a complete model
// folder (loads and generates, UNet changed, source folder untouched, every other file the same); the
// run resumes; an empty folder is refused; bare pictures are captioned with the folder's name.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import sharp from 'sharp';
import { writeTinySdModel } from '../../src/models/fixtures/tiny-sd.ts';
import { generate } from '../../src/pipelines/generate.ts';
import { DiffusionModel } from '../../src/pipelines/model-folder.ts';
import { trainFull } from '../../src/train/finetune/train-full.ts';
import { readSafetensors } from '../../src/weights/safetensors.ts';

const root = mkdtempSync(join(tmpdir(), 'gesso-full-'));
after(() => rmSync(root, { recursive: true, force: true }));
const modelDir = join(root, 'tiny-sd1');
writeTinySdModel(modelDir, { variant: 'sd1', seed: 2 });
const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
const files = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();

const base = { modelDir, size: 64, batch: 2, quiet: true, sampleSteps: 2 } as const;

test('an empty folder is refused', async () => {
  const empty = join(root, 'empty');
  mkdirSync(empty);
  await assert.rejects(trainFull({ ...base, dataDir: empty, outDir: join(root, 'run-empty'), steps: 1, log: () => {} }), /holds no \.png/);
  assert.equal(existsSync(join(root, 'run-empty', 'model')), false);
});

test('full fine-tune with prior preservation writes a complete model folder; the source is untouched; resume', async () => {
  const data = join(root, 'red_dots');
  mkdirSync(data);
  for (let i = 0; i < 2; i++) {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="#fff"/><circle cx="${20 + 10 * i}" cy="32" r="10" fill="#e00"/></svg>`;
    await sharp(Buffer.from(svg))
      .png()
      .toFile(join(data, `dot${i}.png`));
  }
  const before = new Map(files(modelDir).map((f) => [f, sha(join(modelDir, f))]));
  const lines: string[] = [];
  const outDir = join(root, 'run');
  const r = await trainFull({
    ...base,
    dataDir: data,
    outDir,
    steps: 2,
    priorPreservation: true,
    classImages: 2,
    classPrompt: 'a dot',
    log: (l) => lines.push(l),
  });
  assert.ok(
    lines.some((l) => /2 of 2 pictures have no caption file .* captioned "red dots"/.test(l)),
    lines.join('\n'),
  );
  assert.equal(r.classImages, 2);
  assert.ok(r.losses.length === 2 && r.losses.every(Number.isFinite));
  assert.deepEqual(new Map(files(modelDir).map((f) => [f, sha(join(modelDir, f))])), before, 'the source folder is unchanged');
  const made = files(r.modelPath);
  for (const f of before.keys()) if (!f.startsWith('unet/model.onnx')) assert.ok(made.includes(f), `${f} copied`);
  assert.ok(made.includes('finetune.json'));
  assert.notEqual(sha(join(r.modelPath, 'unet/model.onnx')), before.get('unet/model.onnx'));
  assert.equal(readSafetensors(join(outDir, 'class-latents.safetensors')).tensors.get('latents')?.shape[0], 2);

  const model = await DiffusionModel.load(r.modelPath, { runner: 'in-process', upscaler: false });
  try {
    const out = await generate(model, { prompt: 'red dots', steps: 2, width: 64, height: 64, seed: 1 });
    assert.ok(out.images[0]?.pixels.every(Number.isFinite));
  } finally {
    await model.release();
  }
  const again = await trainFull({ ...base, dataDir: data, outDir, steps: 3, priorPreservation: true, classImages: 2, classPrompt: 'a dot', log: () => {} });
  assert.equal(again.resumedFrom, 2);
});

test('the new model folder may not be inside the source', async () => {
  await assert.rejects(
    trainFull({ ...base, dataDir: join(root, 'red_dots'), outDir: join(modelDir, 'x'), steps: 1, log: () => {} }),
    /inside the source model/,
  );
});
