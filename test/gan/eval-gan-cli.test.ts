// `gesso eval gan` through the real CLI entry (bin/gesso.js): a small generator folder, a drawn dataset
// (its val split is the held-out set), the tiny classifier of --quick. The generator is exported at its
// initial weights, so "before" and "after" are the same network and must give the same distance.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../../src/core/rng.ts';
import { Graph } from '../../src/graph/graph.ts';
import { ganConfig, Generator } from '../../src/models/gan.ts';
import { writeGeneratorFolder } from '../../src/train/gan/gan-export-folder.ts';
import { writeShapeDataset } from '../helpers/shape-dataset.ts';

const BIN = fileURLToPath(new URL('../../bin/gesso.js', import.meta.url));
const gesso = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
const SEED = 3;

let root = '';
let model = '';
let data = '';

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'gesso-eval-gan-'));
  data = join(root, 'data');
  await writeShapeDataset(data);
  model = join(root, 'model');
  const config = ganConfig(64, { zDim: 16, wDim: 16, baseChannels: 2, maxChannels: 8 });
  const g = new Graph();
  new Generator(g, new Rng(SEED), config); // exactly as training builds it at step 0 with this seed
  await writeGeneratorFolder(model, config, new Map([...g.params].map(([n, p]) => [n, p.value])), { seed: SEED, data, steps: 0 });
});

after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

test('gesso eval gan --quick: one JSON line last with the three distances, eval.json and the model card written', () => {
  const r = gesso('eval', 'gan', '--quick', '--model', model, '--classifier-data', data, '--samples', '12', '--cache', join(root, 'cache'));
  assert.equal(r.status, 0, r.stderr);
  const last = JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as Record<string, number>;
  for (const key of ['frechet_before', 'frechet_after', 'frechet_baseline', 'frechet_mean_image', 'frechet_train_images', 'improvement'])
    assert.ok(Number.isFinite(last[key]) && (last[key] as number) >= 0, `${key} is ${last[key]}`);
  assert.equal(last['frechet_after'], last['frechet_before'], 'an untrained generator is its own "before"');
  assert.equal(last['improvement'], 1);
  const report = JSON.parse(readFileSync(join(model, 'eval.json'), 'utf8')) as Record<string, number>;
  assert.equal(report['frechet_after'], last['frechet_after']);
  assert.equal(report['heldOut'], 9, 'the val split of the drawn dataset');
  assert.equal(report['samples'], 12);
  assert.match(readFileSync(join(model, 'README.md'), 'utf8'), /Fréchet/);
  assert.match(r.stderr, /held-out/);
});

test('gesso eval gan: a folder that is not a GAN, a missing dataset, a bad sample count: clear errors, exit code 2', () => {
  const empty = join(root, 'empty');
  mkdirSync(empty);
  const cases: [string[], RegExp][] = [
    [['eval', 'gan', '--model', empty], /is not a GAN model folder \(no gan\.json\)/],
    [['eval', 'gan', '--model', model, '--data', join(root, 'nowhere')], /the GAN's dataset .*nowhere is missing/],
    [['eval', 'gan', '--model', model, '--classifier-data', data, '--samples', '1'], /--samples 1 must be an integer >= 2/],
    [['eval', 'gan', '--model', model, '--samples', 'many'], /--samples many/],
  ];
  for (const [args, message] of cases) {
    const r = gesso(...args);
    assert.equal(r.status, 2, `gesso ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});
