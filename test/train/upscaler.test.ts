/** Upscaler training: crop pairs, a short run on a tiny generated dataset, exact resume, export. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { Rng } from '../../src/core/rng.ts';
import { loadUpscaler } from '../../src/pipelines/upscaler.ts';
import { boxDownscale, samplePairs, type ImagePlanes } from '../../src/train/upscaler/upscaler-pairs.ts';
import { trainUpscaler } from '../../src/train/upscaler/train-upscaler.ts';

/** A `gesso data`-style folder of 64 px drawings: random coloured shapes and strokes on white. */
async function makeDrawings(count: number, val: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'gesso-upscaler-data-'));
  mkdirSync(join(dir, 'images'));
  const rng = new Rng(7);
  const colours = ['#d62728', '#1f77b4', '#2ca02c', '#000000', '#ff7f0e'];
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const pick = (n: number): number => Math.round(rng.uniform() * n);
    const shapes = Array.from({ length: 4 }, (_, k) => {
      const fill = colours[(i + k) % colours.length];
      return k % 2 === 0
        ? `<circle cx="${pick(64)}" cy="${pick(64)}" r="${6 + pick(14)}" fill="${fill}" stroke="#000" stroke-width="1.5"/>`
        : `<path d="M${pick(64)} ${pick(64)} L${pick(64)} ${pick(64)} L${pick(64)} ${pick(64)}" fill="none" stroke="${fill}" stroke-width="${1 + pick(3)}"/>`;
    });
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="#fff"/>${shapes.join('')}</svg>`;
    await sharp(Buffer.from(svg))
      .png()
      .toFile(join(dir, 'images', `${i}.png`));
    lines.push(
      JSON.stringify({
        file: `images/${i}.png`,
        caption: 'shapes',
        category: 'test',
        source: `${i}.svg`,
        licence: 'CC0',
        split: i < count - val ? 'train' : 'val',
        colors: [],
      }),
    );
  }
  writeFileSync(join(dir, 'manifest.jsonl'), `${lines.join('\n')}\n`);
  return dir;
}

test('boxDownscale averages each 4×4 block and rounds', () => {
  const src = Uint8Array.from({ length: 3 * 8 * 8 }, (_, i) => i % 251);
  const out = new Uint8Array(3 * 2 * 2);
  boxDownscale(src, 0, 8, 64, 8, 8, 4, out);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < 2; y++) {
      for (let x = 0; x < 2; x++) {
        let sum = 0;
        for (let dy = 0; dy < 4; dy++) for (let dx = 0; dx < 4; dx++) sum += src[c * 64 + (4 * y + dy) * 8 + 4 * x + dx];
        assert.equal(out[(c * 2 + y) * 2 + x], Math.round(sum / 16));
      }
    }
  }
});

test('samplePairs: the same (seed, step) gives the same batch, the input is the crop box-downscaled', () => {
  const rng = new Rng(1);
  const images: ImagePlanes = { count: 3, size: 32, pixels: Uint8Array.from(rng.uniformArray(3 * 3 * 32 * 32, 0, 255), Math.round) };
  const a = samplePairs(images, { seed: 5, step: 9, batch: 2, crop: 16 });
  const b = samplePairs(images, { seed: 5, step: 9, batch: 2, crop: 16 });
  const c = samplePairs(images, { seed: 5, step: 10, batch: 2, crop: 16 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.high, c.high);
  assert.equal(a.high.length, 2 * 3 * 16 * 16);
  assert.equal(a.low.length, 2 * 3 * 4 * 4);
  // Low pixel (c=1, y=2, x=3) of the second item is the rounded mean of its 4×4 block of the crop.
  const item = 1;
  let sum = 0;
  for (let dy = 0; dy < 4; dy++) for (let dx = 0; dx < 4; dx++) sum += Math.round((a.high[item * 768 + 256 + (8 + dy) * 16 + 12 + dx] + 1) * 127.5);
  assert.ok(Math.abs(a.low[item * 48 + 16 + 2 * 4 + 3] - (Math.round(sum / 16) / 127.5 - 1)) < 1e-6);
  assert.throws(() => samplePairs(images, { seed: 0, step: 1, batch: 1, crop: 18 }), /crop 18 must be a multiple of 4/);
});

test('a short run on tiny drawings lowers the loss, writes its files, exports, and resumes exactly', async () => {
  const data = await makeDrawings(24, 4);
  const out = mkdtempSync(join(tmpdir(), 'gesso-upscaler-run-'));
  const model = join(out, 'model');
  const common = { dataDir: data, batchSize: 4, crop: 32, quiet: true, lr: 2e-3, channels: 8, blocks: 1, threads: 1 };
  const run = await trainUpscaler({ ...common, outDir: join(out, 'run'), steps: 60, exportTo: model, sampleEvery: 30 });
  const mean = (xs: [number, number][]): number => xs.reduce((s, [, y]) => s + y, 0) / xs.length;
  const first = mean(run.losses.slice(0, 8));
  const last = mean(run.losses.slice(-8));
  assert.ok(last < first * 0.8, `loss ${first.toFixed(4)} -> ${last.toFixed(4)}`);
  assert.equal(run.losses.length, 60);
  for (const f of [
    'checkpoint.safetensors',
    'history.json',
    'loss.png',
    'metrics.json',
    'samples/step-000030.png',
    'samples/step-000060.png',
    'samples/latest.png',
  ]) {
    assert.ok(existsSync(join(out, 'run', f)), `${f} is written`);
  }
  const grid = await sharp(join(out, 'run', 'samples', 'latest.png')).metadata();
  assert.equal(grid.width, 4 * 64 + 5 * 4, 'four 64 px columns: input, bicubic, gesso, original');
  const metrics = JSON.parse(readFileSync(run.files.metrics, 'utf8')) as {
    metrics: { images: number; scores: Record<string, { psnr: number; ssim: number }> };
  };
  assert.equal(metrics.metrics.images, 4);
  assert.deepEqual(Object.keys(metrics.metrics.scores).sort(), ['bicubic', 'bilinear', 'gesso', 'nearest', 'sharpCubic']);
  assert.ok(run.metrics.scores.bicubic.psnr > run.metrics.scores.nearest.psnr, 'bicubic beats nearest on drawings');
  assert.ok(Number.isFinite(run.metrics.scores.gesso.psnr) && run.metrics.scores.gesso.ssim > 0);

  const card = JSON.parse(readFileSync(join(model, 'upscaler', 'metrics.json'), 'utf8')) as Record<string, number>;
  assert.equal(card['psnr_gesso'], Number(run.metrics.scores.gesso.psnr.toFixed(2)));
  assert.equal(card['psnr_bicubic'], Number(run.metrics.scores.bicubic.psnr.toFixed(2)));
  assert.equal(card['steps'], 60);
  const up = await loadUpscaler(model);
  try {
    assert.deepEqual(up.config, { _class_name: 'GessoUpscaler', scale: 4, channels: 8, blocks: 1, residual_scale: 0.1, parameters: run.params });
    assert.equal((await up.upscale(new Float32Array(3 * 16 * 16), 16, 16)).width, 64);
  } finally {
    await up.release();
  }

  // Resume: stopped after 3 of 6 steps, then resumed, equals 6 steps in one go (same batches, schedule, state).
  const straight = await trainUpscaler({ ...common, outDir: join(out, 'straight'), steps: 6, sampleEvery: 100, evalImages: 1 });
  const stopped = await trainUpscaler({ ...common, outDir: join(out, 'split'), steps: 6, stopAt: 3, sampleEvery: 100, evalImages: 1, checkpointEvery: 100 });
  assert.equal(stopped.losses.length, 3);
  const resumed = await trainUpscaler({ ...common, outDir: join(out, 'split'), steps: 6, sampleEvery: 100, evalImages: 1 });
  assert.equal(resumed.resumedFrom, 3);
  assert.equal(resumed.losses.length, 6, "the history carries the first run's losses");
  resumed.losses.forEach(([step, loss], i) => {
    const [s2, l2] = straight.losses[i] as [number, number];
    assert.equal(step, s2);
    assert.ok(Math.abs(loss - l2) <= 1e-5 * Math.abs(l2), `step ${step}: ${loss} vs ${l2}`);
  });
});
