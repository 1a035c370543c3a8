// The evaluation classifier's parts: cross-entropy, augmentation, shapes, save/load, cache key.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Rng } from '../../src/core/rng.ts';
import type { DatasetItem, ImageDataset } from '../../src/data/dataset.ts';
import { Graph } from '../../src/graph/graph.ts';
import type { ContentCategory } from '../../src/eval/categories.ts';
import { augmentInto, ClassifierRunner, loadClassifier, saveClassifier, softmaxCrossEntropy } from '../../src/eval/classifier.ts';
import { buildClassifierNet } from '../../src/eval/classifier-net.ts';
import { classifierKey, classifierRecipe, splitForClassifier } from '../../src/eval/eval-classifier.ts';
import { runGraph } from '../nn/run-graph.ts';

test('softmax cross-entropy matches −log softmax of the target, and is stable for large logits', async () => {
  const g = new Graph();
  const logits = g.input('logits', [2, 3]);
  const onehot = g.input('onehot', [2, 3]);
  const loss = softmaxCrossEntropy(logits, onehot);
  const l = [1, 2, 3, 1000, 0, -1000];
  const out = await runGraph(g, { loss }, { logits: Float32Array.from(l), onehot: Float32Array.of(0, 0, 1, 0, 1, 0) });
  const first = -(3 - Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)));
  const second = 1000; // −log softmax of 0 against 1000
  assert.ok(Math.abs((out['loss']?.[0] as number) - (first + second) / 2) < 1e-3, String(out['loss']?.[0]));
});

test('augmentation: without shift an image comes back as itself or its mirror, in [-1, 1]; shifts fill with white', () => {
  const size = 4;
  const pixels = new Uint8Array(3 * size * size);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 37) % 256;
  const rng = new Rng(2);
  const seen = new Set<string>();
  for (let t = 0; t < 20; t++) {
    const out = new Float32Array(pixels.length);
    augmentInto(out, 0, pixels, 0, size, rng, 0);
    const same = out.every((v, i) => Math.abs(v - (pixels[i] / 127.5 - 1)) < 1e-6);
    const mirror = out.every((v, i) => {
      const c = Math.floor(i / 16);
      const y = Math.floor((i % 16) / 4);
      const x = i % 4;
      return Math.abs(v - (pixels[c * 16 + y * 4 + (3 - x)] / 127.5 - 1)) < 1e-6;
    });
    assert.ok(same || mirror);
    seen.add(same ? 'same' : 'mirror');
  }
  assert.equal(seen.size, 2, 'both kinds happen');
  const black = new Uint8Array(3 * size * size); // all 0
  const shifted = new Float32Array(black.length);
  let white = 0;
  for (let t = 0; t < 10; t++) {
    augmentInto(shifted, 0, black, 0, size, rng, 2);
    white += shifted.filter((v) => v === 1).length;
  }
  assert.ok(white > 0, 'pixels shifted in from outside are white');
});

test('classifier net: logits (B, K) and features (B, widths[3]); a saved classifier loads with the same outputs', async () => {
  const config = { classes: 5, size: 16, widths: [8, 8, 8, 16] as const };
  const g = new Graph();
  const x = g.input('x', [2, 3, 16, 16]);
  const { logits, features } = buildClassifierNet(g, new Rng(1), config).forward(x);
  assert.deepEqual(logits.shape, [2, 5]);
  assert.deepEqual(features.shape, [2, 16]);

  const values = new Map([...g.params.values()].map((p) => [p.name, p.value]));
  const dir = mkdtempSync(join(tmpdir(), 'gesso-eval-cls-'));
  try {
    const path = join(dir, 'c.safetensors');
    saveClassifier(path, { config, values }, { note: 'x' });
    const { trained, metadata } = loadClassifier(path);
    assert.equal(metadata['note'], 'x');
    assert.deepEqual(trained.config, config);
    const images = new Rng(3).normal(3 * 3 * 16 * 16); // 3 images: one full batch of 2 and one padded
    const a = await ClassifierRunner.create({ config, values }, 2);
    const b = await ClassifierRunner.create(trained, 2);
    const ra = await a.run(images, 3);
    const rb = await b.run(images, 3);
    await a.release();
    await b.release();
    assert.equal(ra.logits.length, 15);
    assert.equal(ra.features.length, 48);
    assert.deepEqual(rb.logits, ra.logits);
    assert.deepEqual(ClassifierRunner.predictions(Float32Array.of(0, 3, 1, 5, 0, 0), 3), [1, 0]);
    assert.throws(() => loadClassifier(join(dir, 'missing.safetensors')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('held-out split: val drawings first, topped up from train; the cache key follows pixels and labels', () => {
  const size = 2;
  const items: DatasetItem[] = [];
  const spec: [string, number, number][] = [
    ['food/fruit', 2, 18],
    ['shapes/stars', 0, 6],
  ];
  for (const [category, val, train] of spec) {
    for (let i = 0; i < val + train; i++)
      items.push({ file: `${category}-${i}`, caption: '', category, source: '', licence: '', split: i < val ? 'val' : 'train', colors: [] });
  }
  const pixels = new Uint8Array(items.length * 3 * size * size).fill(7);
  const dataset = { dir: '', items, size, pixels } as unknown as ImageDataset;
  const categories = ['food/fruit', 'shapes/stars'].map((key) => ({ key }) as ContentCategory);
  const recipe = { ...classifierRecipe(false), minHeldOut: 3 };
  const split = splitForClassifier(dataset, categories, recipe);
  const fruitHeld = split.heldOut.filter((h) => h.label === 0);
  assert.equal(fruitHeld.length, 4, 'max(3, 20% of 20)');
  assert.equal(fruitHeld.filter((h) => h.split === 'val').length, 2, 'every val drawing is held out');
  assert.equal(split.heldOut.filter((h) => h.label === 1).length, 3);
  assert.equal(split.train.length, 26 - 7, 'the other 19 train');
  const heldSet = new Set(split.heldOut.map((h) => h.index));
  assert.ok(
    split.train.every((t) => !heldSet.has(t.index)),
    'train and held-out are disjoint',
  );

  const key = classifierKey(dataset, categories, recipe, split);
  assert.equal(classifierKey(dataset, categories, recipe, split), key);
  pixels[5] = 8;
  assert.notEqual(classifierKey(dataset, categories, recipe, split), key, 'a changed pixel is new data');
  pixels[5] = 7;
  assert.notEqual(classifierKey(dataset, categories, { ...recipe, minHeldOut: 4 }, split), key, 'a changed recipe too');
});
