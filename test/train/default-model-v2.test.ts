// The version-2 plan of the default model (v-prediction, min-SNR weights, two datasets) with --quick
// sizes: the stages train on both datasets, the snapshot samples with v-prediction, and the run's CPU
// time is kept in cpu.json and in each checkpoint; v1's plan is unchanged.
import { shortCaption } from '../../src/train/default-model/short-caption.ts';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { combineDatasets, loadImageDataset } from '../../src/data/dataset.ts';
import { defaultModelPlan, isWeightAverage, trainingRuns } from '../../src/train/default-model/config.ts';
import { buildShapesDataset, SHAPE_COLORS, SHAPE_NAMES } from '../../src/data/shapes.ts';
import { CpuLedger } from '../../src/train/default-model/cpu-ledger.ts';
import { trainDefaultModel } from '../../src/train/default-model/train-default-model.ts';
import { minSnrWeight, partWeights } from '../../src/train/default-model/unet-stage.ts';
import { readSafetensors } from '../../src/weights/safetensors.ts';
import { InputError } from '../../src/core/errors.ts';
import { writeDataset } from './default-model-data.ts';

let root = '';

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'gesso-default-v2-'));
  await writeDataset(join(root, 'clipart'), 'red apple, fruit, food', 'food/fruit', [220, 30, 30]);
  await writeDataset(join(root, 'emoji'), 'blue circle, geometric, twemoji style', 'symbols/geometric', [30, 60, 220]);
});

after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

test('plans: version 1 is still gesso-clipart-v1 (ε, no loss weights); version 2 predicts v with min-SNR-5 weights', () => {
  const v1 = defaultModelPlan(false, 1);
  assert.equal(v1.name, 'gesso-clipart-v1');
  assert.deepEqual(v1.unet.block_out_channels, [64, 128, 128]);
  assert.equal(v1.unetTraining.prediction, 'epsilon');
  assert.equal(v1.unetTraining.minSnrGamma, null);
  assert.equal(v1.unetTraining.steps, 4000);
  assert.equal(v1.scheduler['prediction_type'], 'epsilon');
  const v2 = defaultModelPlan(false, 2);
  assert.equal(v2.name, 'gesso-default-v2');
  assert.equal(v2.unetTraining.prediction, 'v_prediction');
  assert.equal(v2.scheduler['prediction_type'], 'v_prediction');
  assert.equal(v2.unetTraining.minSnrGamma, 5);
  assert.deepEqual(v2.data, ['.cache/openclipart-64', '.cache/emoji-64']);
  assert.equal(v1.refines.length, 0);
  assert.deepEqual(
    v2.refines.map((r) => r.name),
    ['refine', 'refine2', 'refine3', 'refine4', 'refine5', 'soup'],
  );
  const runs = trainingRuns(v2);
  // refine3 trains on short captions from its first step.
  assert.equal(runs[2]?.shortCaptions, 0.5);
  assert.deepEqual(runs[1]?.extraData, ['.cache/shapes-64', '.cache/emoji-more-64']);
  // The shipped weights average two runs of one trajectory; the weights sum to 1.
  const soup = v2.refines[5];
  assert.ok(soup && isWeightAverage(soup));
  assert.deepEqual(
    soup.average.map((a) => a.run),
    ['refine2', 'refine5'],
  );
  assert.ok(Math.abs(soup.average.reduce((a, b) => a + b.weight, 0) - 1) < 1e-9);
  for (const r of runs) {
    assert.deepEqual(r.excludeCategories, ['shapes/stars']);
    assert.equal(r.shares.length, v2.data.length + r.extraData.length);
    assert.ok(Math.abs(r.shares.reduce((a, b) => a + b, 0) - 1) < 1e-9, `${r.name}: shares sum to 1`);
  }
});

test('refine weights: the category cap inside each part, left-out categories never drawn, each part its share', () => {
  const w = partWeights(
    [
      { categories: ['shapes/stars', 'shapes/stars/big', 'food/fruit', 'food/fruit', 'tools'], share: 0.4 },
      { categories: ['a', 'b'], share: 0.6 },
    ],
    1,
    ['shapes/stars'],
  );
  assert.deepEqual(w.slice(0, 2), [0, 0]);
  // food/fruit is capped at one drawing's worth (0.5 each), tools has 1: the part's 0.4 splits 0.2 / 0.2.
  assert.deepEqual(
    w.slice(2, 5).map((v) => Number(v.toFixed(6))),
    [0.1, 0.1, 0.2],
  );
  assert.deepEqual(w.slice(5), [0.3, 0.3]);
});

test('min-SNR weights: min(SNR, γ)/SNR for ε, min(SNR, γ)/(SNR + 1) for v', () => {
  assert.equal(minSnrWeight(20, 5, 'epsilon'), 0.25);
  assert.equal(minSnrWeight(2, 5, 'epsilon'), 1);
  assert.equal(minSnrWeight(20, 5, 'v_prediction'), 5 / 21);
  assert.equal(minSnrWeight(2, 5, 'v_prediction'), 2 / 3);
});

test('combineDatasets concatenates items and pixels in order and refuses mixed sizes', async () => {
  const a = await loadImageDataset(join(root, 'clipart'), { split: 'train' });
  const b = await loadImageDataset(join(root, 'emoji'), { split: 'train' });
  const both = combineDatasets([a, b]);
  assert.equal(both.items.length, a.items.length + b.items.length);
  assert.deepEqual(both.readBatch([a.items.length]), b.readBatch([0]));
  assert.deepEqual(both.readBatch([1]), a.readBatch([1]));
  assert.throws(
    () => combineDatasets([a, { ...b, size: 32 }]),
    (e: unknown) => e instanceof InputError && /build them at one --size/.test(e.message),
  );
});

test('the CPU ledger adds each process to the last total, and refuses a damaged file', () => {
  const path = join(root, 'cpu.json');
  writeFileSync(path, JSON.stringify({ cpuSeconds: 100, processes: [{ started: 'earlier', cpuSeconds: 100 }] }));
  const ledger = new CpuLedger(path);
  let x = 0;
  for (let i = 0; i < 2e6; i++) x += Math.sqrt(i);
  assert.ok(x > 0);
  assert.ok(ledger.total() > 100);
  ledger.save();
  const file = JSON.parse(readFileSync(path, 'utf8')) as { cpuSeconds: number; processes: unknown[] };
  assert.equal(file.processes.length, 2);
  assert.ok(file.cpuSeconds >= 100);
  writeFileSync(path, '{"cpuSeconds": -3, "processes": []}');
  assert.throws(
    () => new CpuLedger(path),
    (e: unknown) => e instanceof InputError && e.message.includes(path),
  );
});

test('gesso train default --version 2 --quick trains on both datasets with v-prediction and logs CPU time in checkpoints', async () => {
  const runDir = join(root, 'run');
  const plan = await trainDefaultModel({
    version: 2,
    dataDir: [join(root, 'clipart'), join(root, 'emoji')],
    runDir,
    outDir: join(root, 'model'),
    quick: true,
    quiet: true,
    until: 'unet',
  });
  assert.equal(plan.name, 'gesso-default-v2');
  const log = readFileSync(join(runDir, 'log.jsonl'), 'utf8');
  assert.match(log, /data: 8 train and 2 validation drawings/);
  assert.ok(existsSync(join(runDir, 'samples', 'unet-step000003.png')), 'the v-prediction snapshot sampled a grid');
  const snapshotScheduler = JSON.parse(readFileSync(join(runDir, 'snapshot', 'scheduler', 'scheduler_config.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(snapshotScheduler['prediction_type'], 'v_prediction');
  const checkpoint = readSafetensors(join(runDir, 'unet.safetensors'), 'checkpoint');
  assert.ok(Number(checkpoint.metadata['cpu_seconds']) > 0, 'the checkpoint records the run CPU-seconds');
  const ledger = JSON.parse(readFileSync(join(runDir, 'cpu.json'), 'utf8')) as { cpuSeconds: number };
  assert.ok(ledger.cpuSeconds > 0);
});

test('the refine runs start from the run before and add gesso shapes: string-art stars left out, own checkpoints and samples', async () => {
  const runDir = join(root, 'run');
  const shapesDir = join(root, 'shapes');
  const report = await buildShapesDataset({ outDir: shapesDir, size: 64, perColor: 1, valFraction: 0.1 });
  assert.equal(report.counts.found, SHAPE_NAMES.length * SHAPE_COLORS.length);
  const caption = readFileSync(join(shapesDir, 'manifest.jsonl'), 'utf8').split('\n')[0] ?? '';
  assert.match(caption, /"caption":"(a )?(red|orange|yellow|green|blue|purple|pink|brown|black|gray) (star|heart|circle|square|triangle|diamond|moon)/);
  await trainDefaultModel({
    version: 2,
    dataDir: [join(root, 'clipart'), join(root, 'emoji')],
    refineDataDir: shapesDir,
    runDir,
    outDir: join(root, 'model'),
    quick: true,
    quiet: true,
    until: 'refine',
  });
  const log = readFileSync(join(runDir, 'log.jsonl'), 'utf8');
  assert.match(log, /refine: 2 steps from the first run's EMA weights/);
  assert.match(log, /"series":"refine_loss"/);
  assert.ok(existsSync(join(runDir, 'unet-refine.final.safetensors')));
  assert.ok(existsSync(join(runDir, 'samples', 'refine-step000002.png')));
  assert.match(log, /refine2: 2 steps from the previous run's EMA weights/);
  assert.match(log, /"series":"refine2_loss"/);
  assert.ok(existsSync(join(runDir, 'unet-refine2.final.safetensors')));
  assert.ok(existsSync(join(runDir, 'samples', 'refine2-step000002.png')));
  assert.match(log, /refine3: 2 steps from the previous run's EMA weights/);
  assert.ok(existsSync(join(runDir, 'unet-refine3.final.safetensors')));
});

test('gesso data shapes refuses a bad --per-color', async () => {
  await assert.rejects(
    buildShapesDataset({ outDir: join(root, 'bad-shapes'), size: 64, perColor: 0 }),
    (e: unknown) => e instanceof InputError && /--per-color: 0 is not a whole number from 1 to 1000/.test(e.message),
  );
  assert.ok(!existsSync(join(root, 'bad-shapes', 'manifest.jsonl')));
});

test('short captions: the first part of a caption, or its subject without colours', () => {
  assert.equal(shortCaption('orange cat face, kitten kitty, animal mammal, noto style', false), 'orange cat face');
  assert.equal(shortCaption('orange cat face, kitten kitty, animal mammal, noto style', true), 'cat face');
  assert.equal(shortCaption('red apple with green, diet health, food fruit, twemoji style', true), 'apple');
  assert.equal(shortCaption('a red star', true), 'a star');
  // A title that is only colour words keeps them: nothing else names the drawing.
  assert.equal(shortCaption('red with black, special, patterns', true), 'red with black');
});
