import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainDefaultModel } from '../../src/train/default-model/train-default-model.ts';
import { DiffusionModel } from '../../src/pipelines/model-folder.ts';
import { generate } from '../../src/pipelines/generate.ts';

const hasClipart = spawnSync('dpkg', ['-s', 'openclipart-svg']).status === 0;

test('gesso train default --version 1 --quick runs every stage (upscaler included), exports a loadable SD-layout folder and resumes', {
  skip: hasClipart ? false : 'openclipart-svg is not installed',
}, async () => {
  const root = mkdtempSync(join(tmpdir(), 'gesso-default-'));
  const dataDir = join(root, 'data');
  execFileSync(process.execPath, ['bin/gesso.js', 'data', 'openclipart', '--size', '64', '--limit', '40', '--out', dataDir, '--val-fraction', '0.2'], {
    stdio: 'ignore',
  });
  const runDir = join(root, 'run');
  const outDir = join(root, 'model');
  await trainDefaultModel({ dataDir, runDir, outDir, quick: true, quiet: true, version: 1 });
  for (const f of [
    'model_index.json',
    'upscaler/model.onnx',
    'unet/model.onnx',
    'text_encoder/model.onnx',
    'tokenizer/gesso_tokenizer.json',
    'vae_decoder/model.onnx',
    'vae_encoder/model.onnx',
    'scheduler/scheduler_config.json',
    'training.json',
  ]) {
    assert.ok(existsSync(join(outDir, f)), `missing ${f}`);
  }
  assert.ok(existsSync(join(runDir, 'samples', 'unet-step000003.png')), 'a sample grid was written during training');
  const training = JSON.parse(readFileSync(join(outDir, 'training.json'), 'utf8')) as { vaeValPsnrDb: number };
  assert.ok(Number.isFinite(training.vaeValPsnrDb));

  const model = await DiffusionModel.load(outDir, { runner: 'in-process' });
  try {
    const r = await generate(model, { prompt: 'a red star', steps: 2, seed: 3 });
    assert.equal(r.images.length, 1);
    assert.equal(r.images[0]?.width, 256); // 64 px, upscaled 4×
  } finally {
    await model.release();
  }

  // A second run finds every stage finished and only re-exports.
  const t0 = Date.now();
  await trainDefaultModel({ dataDir, runDir, outDir, quick: true, quiet: true, version: 1 });
  const log = readFileSync(join(runDir, 'log.jsonl'), 'utf8');
  assert.equal(log.match(/"note":"vae: validation PSNR/g)?.length, 1, 'the VAE stage ran once');
  assert.ok(Date.now() - t0 < 120_000);
});
