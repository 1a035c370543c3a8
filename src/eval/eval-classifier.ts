/**
 * The classifier behind the classification accuracy score and the Fréchet distance: which real
 * drawings it trains on and which it is tested on, and a cache so a rerun on the same data loads it
 * instead of training again.
 *
 * Held-out drawings: per category, every drawing of the dataset's val split (never seen by the
 * diffusion model either), topped up with a seeded sample of train-split drawings until the category
 * has max(`minHeldOut`, `heldOutShare` of its drawings) held out; the val split alone is too small
 * (5% of the data: 2–7 drawings in the smaller categories) for a stable accuracy. The classifier
 * trains on the rest.
 *
 * Cache: `<cacheDir>/classifier-<key>.safetensors`, where the key is a SHA-256 of the classifier
 * recipe, the categories, and every used drawing's file, label, role and pixels, so any change to the
 * data or the recipe trains a new one.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../core/rng.ts';
import type { ImageDataset } from '../data/dataset.ts';
import { categoryKey, type ContentCategory } from './categories.ts';
import { ClassifierRunner, loadClassifier, saveClassifier, trainClassifier, type ClassifierTraining } from './classifier.ts';
import type { ClassifierNetConfig } from './classifier-net.ts';

/** Bump when the network, loss or batching changes, so old cache files are not reused. */
export const CLASSIFIER_VERSION = 1;

export interface ClassifierRecipe {
  widths: ClassifierNetConfig['widths'];
  training: ClassifierTraining;
  heldOutShare: number;
  minHeldOut: number;
}

export function classifierRecipe(quick: boolean): ClassifierRecipe {
  return {
    widths: quick ? [8, 8, 16, 16] : [32, 48, 96, 128],
    training: quick
      ? { steps: 20, batch: 8, lr: 3e-3, weightDecay: 1e-4, maxShift: 2, seed: 7 }
      : { steps: 1500, batch: 32, lr: 2e-3, weightDecay: 1e-4, maxShift: 4, seed: 7 },
    heldOutShare: 0.2,
    minHeldOut: quick ? 2 : 10,
  };
}

export interface ClassifierSplit {
  /** Dataset indices and their class (index into the categories). */
  train: { index: number; label: number }[];
  heldOut: { index: number; label: number; split: 'train' | 'val' }[];
}

/** Splits the categories' drawings into classifier training and held-out sets (see the file comment). */
export function splitForClassifier(dataset: ImageDataset, categories: readonly ContentCategory[], recipe: ClassifierRecipe): ClassifierSplit {
  const labelOf = new Map(categories.map((c, i) => [c.key, i]));
  const byClass = categories.map(() => ({ val: [] as number[], train: [] as number[] }));
  dataset.items.forEach((item, index) => {
    const label = labelOf.get(categoryKey(item.category));
    if (label === undefined) return;
    byClass[label]?.[item.split].push(index);
  });
  const rng = new Rng(recipe.training.seed + 100);
  const split: ClassifierSplit = { train: [], heldOut: [] };
  byClass.forEach(({ val, train }, label) => {
    const total = val.length + train.length;
    // Leave at least one drawing to train on.
    const want = Math.min(total - 1, Math.max(recipe.minHeldOut, Math.ceil(recipe.heldOutShare * total)));
    const shuffled = rng.shuffle([...train]);
    const fromTrain = Math.max(0, Math.min(shuffled.length - 1, want - val.length));
    for (const index of val) split.heldOut.push({ index, label, split: 'val' });
    for (const index of shuffled.slice(0, fromTrain)) split.heldOut.push({ index, label, split: 'train' });
    for (const index of shuffled.slice(fromTrain)) split.train.push({ index, label });
  });
  return split;
}

/** The cache key: recipe, categories, and every used drawing's file, label, role and pixels. */
export function classifierKey(dataset: ImageDataset, categories: readonly ContentCategory[], recipe: ClassifierRecipe, split: ClassifierSplit): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ version: CLASSIFIER_VERSION, recipe, size: dataset.size, categories: categories.map((c) => c.key) }));
  const plane = 3 * dataset.size * dataset.size;
  const add = (role: string, index: number, label: number): void => {
    h.update(`${role}:${label}:${dataset.items[index]?.file}\n`);
    h.update(dataset.pixels.subarray(index * plane, (index + 1) * plane));
  };
  for (const { index, label } of split.train) add('train', index, label);
  for (const { index, label } of split.heldOut) add('held-out', index, label);
  return h.digest('hex').slice(0, 16);
}

export interface PreparedClassifier {
  runner: ClassifierRunner;
  split: ClassifierSplit;
  path: string;
  /** False when it was loaded from the cache. */
  trained: boolean;
}

/** Loads the cached classifier for this data and recipe, or trains one and caches it. */
export async function prepareClassifier(
  dataset: ImageDataset,
  categories: readonly ContentCategory[],
  recipe: ClassifierRecipe,
  cacheDir: string,
  log: (message: string) => void = () => {},
): Promise<PreparedClassifier> {
  const split = splitForClassifier(dataset, categories, recipe);
  const path = join(cacheDir, `classifier-${classifierKey(dataset, categories, recipe, split)}.safetensors`);
  if (existsSync(path)) {
    log(`classifier: cached ${path}`);
    const { trained } = loadClassifier(path);
    return { runner: await ClassifierRunner.create(trained), split, path, trained: false };
  }
  const config: ClassifierNetConfig = { classes: categories.length, size: dataset.size, widths: recipe.widths };
  const plane = 3 * dataset.size * dataset.size;
  const pixels = new Uint8Array(split.train.length * plane);
  split.train.forEach(({ index }, i) => pixels.set(dataset.pixels.subarray(index * plane, (index + 1) * plane), i * plane));
  log(`classifier: training on ${split.train.length} drawings of ${categories.length} categories (${recipe.training.steps} steps of ${recipe.training.batch})`);
  const started = performance.now();
  const trained = await trainClassifier({ pixels, labels: split.train.map((t) => t.label), size: dataset.size }, config, recipe.training, {
    onStep: (step, loss) => {
      if (step % 100 === 0) log(`classifier: step ${step}/${recipe.training.steps}, loss ${loss.toFixed(3)}`);
    },
  });
  mkdirSync(cacheDir, { recursive: true });
  saveClassifier(path, trained, {
    categories: JSON.stringify(categories.map((c) => c.key)),
    recipe: JSON.stringify(recipe),
    train_seconds: ((performance.now() - started) / 1000).toFixed(0),
  });
  log(`classifier: saved ${path}`);
  return { runner: await ClassifierRunner.create(trained), split, path, trained: true };
}
