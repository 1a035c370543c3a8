// `gesso train default --from-model DIR` with --quick sizes: a run folder seeded from an exported model
// continues the plan (a refine run the model has not had) from exactly the exported values, keeps the
// recorded latent scaling factor and CPU-seconds, and a model trained under another plan is refused
// before anything is written.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { InputError } from '../../src/core/errors.ts';
import { buildShapesDataset } from '../../src/data/shapes.ts';
import { defaultModelPlan, isWeightAverage, trainingRuns, type DefaultModelPlan } from '../../src/train/default-model/config.ts';
import { loadValues, trainDefaultModel, type TrainDefaultOptions } from '../../src/train/default-model/train-default-model.ts';
import { readSafetensors } from '../../src/weights/safetensors.ts';
import { writeDataset } from './default-model-data.ts';

let root = '';
let options: (runDir: string, outDir: string) => TrainDefaultOptions;
const UPSCALER = 'a stand-in upscaler: the quick plan would otherwise train one';

interface Training {
  plan: DefaultModelPlan;
  cpuSeconds: number;
  imported?: { from: string; stages: string[] };
}
const readTraining = (dir: string): Training => JSON.parse(readFileSync(join(dir, 'training.json'), 'utf8')) as Training;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'gesso-default-import-'));
  await writeDataset(join(root, 'clipart'), 'red apple, fruit, food', 'food/fruit', [220, 30, 30]);
  await writeDataset(join(root, 'emoji'), 'blue circle, geometric, twemoji style', 'symbols/geometric', [30, 60, 220]);
  await buildShapesDataset({ outDir: join(root, 'shapes'), size: 64, perColor: 1, valFraction: 0.1 });
  options = (runDir, outDir) => ({
    version: 2,
    dataDir: [join(root, 'clipart'), join(root, 'emoji')],
    refineDataDir: join(root, 'shapes'),
    runDir,
    outDir,
    quick: true,
    quiet: true,
  });
  mkdirSync(join(root, 'model', 'upscaler'), { recursive: true });
  writeFileSync(join(root, 'model', 'upscaler', 'model.onnx'), UPSCALER);
  await trainDefaultModel(options(join(root, 'run'), join(root, 'model')));
  // The exported model as an earlier plan left it: trained up to refine2, without the last refine run.
  const older = join(root, 'older-model');
  cpSync(join(root, 'model'), older, { recursive: true });
  const training = readTraining(older);
  training.plan.refines = training.plan.refines.slice(0, 2);
  writeFileSync(join(older, 'training.json'), JSON.stringify(training));
});

test('a weight average needs its runs: a folder that adds one, then the mean of exactly those values', async () => {
  // An export whose last run was refine4: refine5 trains, but the average also needs refine2's values.
  const atRefine4 = join(root, 'model-at-refine4');
  cpSync(join(root, 'model'), atRefine4, { recursive: true });
  const training = readTraining(atRefine4);
  training.plan.refines = training.plan.refines.slice(0, 4);
  writeFileSync(join(atRefine4, 'training.json'), JSON.stringify(training));
  const runDir = join(root, 'run-average');
  const outDir = join(root, 'model-average');
  await assert.rejects(
    trainDefaultModel({ ...options(runDir, outDir), fromModel: atRefine4 }),
    (e: unknown) => e instanceof InputError && /soup: no final weights of refine2 .*--from-model DIR,DIR2/.test(e.message),
  );
  assert.ok(!existsSync(join(outDir, 'training.json')), 'nothing exported');
  // The folder whose last run is refine2 supplies it; the run folder resumes (refine5 is not retrained).
  await trainDefaultModel({ ...options(runDir, outDir), fromRuns: [join(root, 'older-model')] });
  const log = readFileSync(join(runDir, 'log.jsonl'), 'utf8');
  assert.equal(log.match(/"note":"refine5: 2 steps in/g)?.length, 1);
  assert.match(log, /import: refine2's UNet \+ text encoder from /);
  const soup = training.plan.refines.length === 4 ? defaultSoup() : null;
  assert.ok(soup);
  const parts = soup.average.map((a) => ({ values: loadValues(join(runDir, `unet-${a.run}.final.safetensors`)).values, weight: a.weight }));
  const mean = loadValues(join(runDir, 'unet-soup.final.safetensors')).values;
  assert.deepEqual([...mean.keys()].sort(), [...(parts[0]?.values.keys() ?? [])].sort());
  for (const [name, v] of mean) {
    const expected = new Float32Array(v.length);
    for (const { values, weight } of parts) {
      const x = values.get(name) as Float32Array;
      for (let i = 0; i < v.length; i++) expected[i] = (expected[i] as number) + weight * (x[i] as number);
    }
    assert.deepEqual(v, expected, name);
  }
  assert.match(readFileSync(join(outDir, 'README.md'), 'utf8'), /soup: the weighted mean of refine2 \(0\.6\) and refine5 \(0\.4\)/);
});

function defaultSoup() {
  const last = defaultModelPlan(true, 2).refines.at(-1);
  return last && isWeightAverage(last) ? last : null;
}

after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

test('--from-model imports every stage of an exported model exactly (values, scaling factor, CPU-seconds)', async () => {
  const runDir = join(root, 'run-all');
  const outDir = join(root, 'model-all');
  await trainDefaultModel({ ...options(runDir, outDir), fromModel: join(root, 'model') });
  const original = readTraining(join(root, 'model'));
  const runs = original.plan.refines.map((r) => r.name);
  const last = runs[runs.length - 1] as string;
  for (const file of ['vae.final.safetensors', `unet-${last}.final.safetensors`]) {
    const a = loadValues(join(root, 'run', file)).values;
    const b = loadValues(join(runDir, file)).values;
    assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort(), `${file}: the same parameters`);
    for (const [name, v] of a) assert.deepEqual(b.get(name), v, `${file}: ${name}`);
  }
  const latents = readSafetensors(join(runDir, 'latents.safetensors'), 'latents');
  assert.equal(Number(latents.metadata['scaling_factor']), original.plan.vae.scaling_factor, 'the recorded factor, not a recomputed one');
  const log = readFileSync(join(runDir, 'log.jsonl'), 'utf8');
  assert.ok(log.includes(`import: ${['vae', 'unet', ...runs].join(', ')} imported from`));
  assert.doesNotMatch(log, /"series":"\w+_loss"/, 'nothing was trained again');
  const exported = readTraining(outDir);
  assert.ok(exported.cpuSeconds >= original.cpuSeconds, 'the ledger starts at the model\u2019s CPU-seconds');
  assert.deepEqual(exported.imported?.stages, ['vae', 'unet', ...runs]);
  assert.equal(readFileSync(join(outDir, 'upscaler', 'model.onnx'), 'utf8'), UPSCALER, "the model's upscaler is carried over");
  const card = readFileSync(join(outDir, 'README.md'), 'utf8');
  const trained = trainingRuns(original.plan).length;
  assert.equal(card.match(/imported: not recorded/g)?.length, 2 + trained, 'the card says no times were recorded for imported stages');
  assert.match(card, /No loss curves: this run trained none of the stages/);
});

test('--from-model continues the plan: the refine run the model has not had starts from its values', async () => {
  const runDir = join(root, 'run-older');
  const outDir = join(root, 'model-older');
  await trainDefaultModel({ ...options(runDir, outDir), fromModel: join(root, 'older-model') });
  const log = readFileSync(join(runDir, 'log.jsonl'), 'utf8');
  assert.match(log, /import: vae, unet, refine, refine2 imported from/);
  assert.match(log, /refine3: 2 steps from the previous run's EMA weights/);
  assert.match(log, /"series":"refine3_loss"/);
  assert.doesNotMatch(log, /"series":"(vae|unet|refine|refine2)_loss"/);
  const exported = readTraining(outDir);
  assert.deepEqual(exported.imported?.stages, ['vae', 'unet', 'refine', 'refine2']);
  assert.ok(exported.cpuSeconds > readTraining(join(root, 'older-model')).cpuSeconds);
  // Resumed later without the flag: the run folder remembers the import, nothing is retrained.
  await trainDefaultModel(options(runDir, outDir));
  assert.equal(readFileSync(join(runDir, 'log.jsonl'), 'utf8').match(/"note":"refine3: 2 steps in/g)?.length, 1);
});

test('--from-model refuses a model trained under another plan, and a run folder that already holds a run, writing nothing', async () => {
  const other = join(root, 'other-model');
  cpSync(join(root, 'older-model'), other, { recursive: true });
  const training = readTraining(other);
  training.plan.unetTraining.lr = 0.123;
  writeFileSync(join(other, 'training.json'), JSON.stringify(training));
  const runDir = join(root, 'run-refused');
  await assert.rejects(
    trainDefaultModel({ ...options(runDir, join(root, 'model-refused')), fromModel: other }),
    (e: unknown) => e instanceof InputError && /records unetTraining .*"lr":0\.123.* the current plan has .*"lr":0\.001/.test(e.message),
  );
  assert.deepEqual(existsSync(runDir) ? readdirSync(runDir) : [], [], 'nothing written');
  assert.ok(!existsSync(join(root, 'model-refused')));
  await assert.rejects(
    trainDefaultModel({ ...options(join(root, 'run'), join(root, 'model-refused')), fromModel: join(root, 'older-model') }),
    (e: unknown) => e instanceof InputError && /already holds a run/.test(e.message),
  );
});
