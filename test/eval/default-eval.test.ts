// `gesso eval default --quick` end to end on a tiny random model and a tiny drawn dataset: the JSON
// line, the report, the classifier cache, the grid. A random model must score CAS near chance while
// the classifier, trained on easily told-apart drawings, scores well above it on real ones.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { evalCommand } from '../../src/cli/commands/eval.ts';
import { InputError } from '../../src/core/errors.ts';
import { loadImageDataset } from '../../src/data/dataset.ts';
import { chooseCategories } from '../../src/eval/categories.ts';
import type { EvalReport, EvalSummary } from '../../src/eval/default-eval.ts';
import { classifierRecipe, prepareClassifier } from '../../src/eval/eval-classifier.ts';
import { writeTinySdModel } from '../../src/models/fixtures/tiny-sd.ts';
import { writeShapeDataset } from '../helpers/shape-dataset.ts';

const BIN = fileURLToPath(new URL('../../bin/gesso.js', import.meta.url));
let root = '';

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'gesso-eval-'));
  await writeShapeDataset(join(root, 'data'));
  writeTinySdModel(join(root, 'model'), { variant: 'sd1', seed: 1 });
});

after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

test('gesso eval default --quick: one JSON line last, eval.json in the model folder, a grid; a random model scores CAS near chance', async () => {
  const reportPath = join(root, 'model', 'eval.json'); // the default: beside the model, for its card
  const gridPath = join(root, 'grid.png');
  const cache = join(root, 'cache');
  const run = spawnSync(
    process.execPath,
    [BIN, 'eval', 'default', '--quick', '--model', join(root, 'model'), '--data', join(root, 'data'), '--size', '64', '--cache', cache, '--grid', gridPath],
    { encoding: 'utf8' },
  );
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.trim().split('\n');
  const summary = JSON.parse(lines.at(-1) as string) as Record<string, number>;
  assert.deepEqual(Object.keys(summary).sort(), ['cas', 'cas_ceiling', 'color_adherence', 'frechet', 'vae_psnr_db']);
  for (const [key, v] of Object.entries(summary)) assert.ok(Number.isFinite(v), `${key} is ${v}`);
  assert.ok(summary.vae_psnr_db! >= 0 && summary.vae_psnr_db! < 100);
  for (const key of ['cas', 'cas_ceiling', 'color_adherence']) assert.ok(summary[key]! >= 0 && summary[key]! <= 1, `${key} ${summary[key]}`);
  assert.ok(summary.frechet! >= 0);

  const file = JSON.parse(readFileSync(reportPath, 'utf8')) as EvalSummary & { details: Omit<EvalReport, 'summary'> };
  const { details: report, ...top } = file;
  assert.deepEqual(top, summary, 'the file holds the five numbers at the top level');
  assert.deepEqual(
    report.categories.map((c) => [c.key, c.prompt]),
    [
      ['animals/mammals', 'mammals'],
      ['food/fruit', 'fruit'],
      ['shapes/stars', 'a star'],
    ],
  );
  assert.equal(report.chance, 0.3333);
  // Noise from a random model says nothing about the prompt: the classifier's guesses cannot follow it.
  assert.ok(Math.abs(summary.cas! - 1 / 3) <= 0.25, `CAS ${summary.cas} of a random model should be near chance (1/3)`);
  assert.ok(summary.cas_ceiling! >= 0.8, `the classifier should tell squares, discs and bars apart: ceiling ${summary.cas_ceiling}`);
  assert.equal(report.generation.width, 64);
  assert.equal(report.generation.steps, 4);
  assert.equal(report.color.length, 4);
  assert.equal(report.vae.images, 8);
  assert.equal(report.frechet.generated, 12);
  assert.equal(report.frechet.real, 9, 'the val split of the three categories');
  assert.deepEqual(report.frechet.byData, [], 'one data folder: no per-folder distances');
  assert.ok(run.stderr.includes('CAS'), 'a readable summary on stderr');

  const meta = await sharp(gridPath).metadata();
  assert.equal(meta.format, 'png');
  assert.ok(meta.width! > 2 * 128 && meta.height! > 2 * 128, `grid ${meta.width}x${meta.height}`);

  // The classifier was cached under a key of the data: preparing it again loads it.
  const dataset = await loadImageDataset(join(root, 'data'));
  const again = await prepareClassifier(dataset, chooseCategories(dataset.items), classifierRecipe(true), cache);
  await again.runner.release();
  assert.equal(again.trained, false);
  assert.equal(again.path, report.classifier.path);
});

test('gesso eval: a missing data folder and a wrong evaluation name are clear errors', async () => {
  await assert.rejects(
    evalCommand.run(['default', '--model', join(root, 'model'), '--data', join(root, 'nowhere')]),
    (e: Error) => e instanceof InputError && /nowhere is not a gesso data folder/.test(e.message),
  );
  await assert.rejects(evalCommand.run(['fancy']), (e: Error) => e instanceof InputError && /expected the evaluation's name "default"/.test(e.message));
  await assert.rejects(
    evalCommand.run(['default', '--steps', '0', '--model', join(root, 'model'), '--data', join(root, 'data')]),
    /--steps "0": expected a whole number >= 1/,
  );
});

test('gesso eval default --compare: a second model measured on the same categories and held-out set; categories from each --data folder', async () => {
  // The three kinds split over two dataset folders, as Open Clip Art and emoji are.
  const all = readFileSync(join(root, 'data', 'manifest.jsonl'), 'utf8')
    .trim()
    .split('\n');
  for (const [name, keep] of [
    ['data-a', (l: string) => !l.includes('animals/mammals')],
    ['data-b', (l: string) => l.includes('animals/mammals')],
  ] as const) {
    mkdirSync(join(root, name), { recursive: true });
    writeFileSync(join(root, name, 'manifest.jsonl'), `${all.filter(keep).join('\n')}\n`);
    symlinkSync(join(root, 'data', 'images'), join(root, name, 'images'));
  }
  writeTinySdModel(join(root, 'model-b'), { variant: 'sd1', seed: 2 });
  const reportPath = join(root, 'compare.json');
  const gridPath = join(root, 'grid-main.png');
  await evalCommand.run([
    'default',
    '--quick',
    '--model',
    join(root, 'model'),
    '--compare',
    join(root, 'model-b'),
    '--data',
    `${join(root, 'data-a')},${join(root, 'data-b')}`,
    '--size',
    '64',
    '--cache',
    join(root, 'cache'),
    '--grid',
    gridPath,
    '--report',
    reportPath,
  ]);
  const file = JSON.parse(readFileSync(reportPath, 'utf8')) as EvalSummary & { details: Omit<EvalReport, 'summary'> };
  const { details: report, ...summary } = file;
  assert.deepEqual(Object.keys(summary).sort(), [
    'cas',
    'cas_ceiling',
    'cas_v1',
    'color_adherence',
    'color_adherence_v1',
    'frechet',
    'frechet_v1',
    'vae_psnr_db',
    'vae_psnr_db_v1',
  ]);
  assert.deepEqual(report.categories.map((c) => c.key).sort(), ['animals/mammals', 'food/fruit', 'shapes/stars']);
  const compare = report.compare;
  assert.ok(compare !== null);
  assert.equal(compare.model, join(root, 'model-b'));
  assert.deepEqual(Object.keys(compare.casPerCategory).sort(), ['animals/mammals', 'food/fruit', 'shapes/stars']);
  assert.equal(summary.frechet_v1, compare.frechet);
  assert.notEqual(summary.frechet, summary.frechet_v1, 'two different random models give different images');
  assert.ok(existsSync(join(root, 'grid-main-compare.png')), 'the compared model has its own grid');
  // The distance over each folder's categories alone: 2 categories (8 images) from data-a, 1 (4) from data-b.
  assert.deepEqual(
    report.frechet.byData.map((f) => [f.data.split('/').at(-1), f.generated]),
    [
      ['data-a', 8],
      ['data-b', 4],
    ],
  );
  assert.equal(
    report.frechet.byData.reduce((n, f) => n + f.real, 0),
    report.frechet.real,
    "every val drawing is in one folder's part",
  );
  for (const f of report.frechet.byData) assert.ok(Number.isFinite(f.value) && f.value >= 0, `${f.data}: ${f.value}`);
  assert.equal(compare.frechetByPart.length, 2);
  await assert.rejects(
    evalCommand.run(['default', '--model', join(root, 'model'), '--compare', join(root, 'nowhere'), '--data', join(root, 'data')]),
    (e: Error) => e instanceof InputError && /--compare .*nowhere is not a model folder/.test(e.message),
  );
});

test('gesso eval default --grid-only writes the labelled grid alone; a folder that is not a model is refused', async () => {
  const gridPath = join(root, 'only-grid.png');
  await evalCommand.run(['default', '--grid-only', '--quick', '--model', join(root, 'model'), '--grid', gridPath, '--steps', '2']);
  const meta = await sharp(gridPath).metadata();
  assert.equal(meta.format, 'png');
  await assert.rejects(
    evalCommand.run(['default', '--grid-only', '--model', join(root, 'data')]),
    (e: Error) => e instanceof InputError && /is not a model folder/.test(e.message),
  );
});
