/**
 * `gesso eval gan`: how close a trained GAN's samples are to held-out real drawings, as a Fréchet
 * distance (FID's formula, src/eval/frechet.ts) in a fixed feature space: the pooled features of the
 * evaluation classifier that `gesso eval default` trains on the Open Clip Art Library (same recipe,
 * same cache), so GANs and diffusion models are measured with one ruler.
 *
 * Four sets against the GAN dataset's held-out val split:
 *   after     samples of the trained generator (EMA weights), z from seeds 0..N−1;
 *   before    samples of the same generator at its initial weights (the training run's seed);
 *   baseline  the training images blurred (Gaussian, σ = 2 px): right colours and layout, no detail;
 *   mean      the mean training image repeated (a second, weaker baseline);
 * plus the training images themselves (real vs real: the floor the held-out set size allows).
 * Sample counts differ from the held-out count; every set is compared with the same held-out set.
 */
import sharp from 'sharp';
import { packageRelative } from '../core/paths.ts';
import { Rng } from '../core/rng.ts';
import { loadImageDataset, type ImageDataset } from '../data/dataset.ts';
import { Graph } from '../graph/graph.ts';
import { exportGenerator } from '../models/gan-export.ts';
import { Generator } from '../models/gan.ts';
import { GanModel } from '../pipelines/gan-model.ts';
import { chooseCategories } from './categories.ts';
import { classifierRecipe, prepareClassifier } from './eval-classifier.ts';
import { frechetDistance } from './frechet.ts';

export interface GanEvalOptions {
  modelDir: string;
  /** The GAN's dataset (its val split is the held-out set). */
  ganDataDir: string;
  /** The classifier's drawings (`gesso data openclipart --size 64`). */
  classifierDataDir: string;
  cacheDir: string;
  /** Generated samples per generator (default 512). */
  samples?: number;
  /** A tiny classifier (tests; the numbers are not meaningful). */
  quick?: boolean;
  log?: (line: string) => void;
}

export interface GanEvalReport {
  frechet_before: number;
  frechet_after: number;
  frechet_baseline: number;
  frechet_mean_image: number;
  frechet_train_images: number;
  /** frechet_before / frechet_after */
  improvement: number;
  heldOut: number;
  samples: number;
  train: number;
  featureDim: number;
  /** The classifier's weights file, relative to the package root when it lies inside it (packageRelative). */
  classifier: string;
  seconds: number;
}

export async function runGanEval(o: GanEvalOptions): Promise<GanEvalReport> {
  const started = performance.now();
  const log = o.log ?? (() => {});
  const n = o.samples ?? 512;
  const after = await GanModel.load(o.modelDir);
  const { size } = after.config;
  const heldOut = await loadImageDataset(o.ganDataDir, { split: 'val' });
  const train = await loadImageDataset(o.ganDataDir, { split: 'train' });
  log(`gan eval: ${heldOut.items.length} held-out and ${train.items.length} training drawings from ${o.ganDataDir}; ${n} samples per generator`);

  const clsData = await loadImageDataset(o.classifierDataDir, { split: 'all' });
  const prepared = await prepareClassifier(clsData, chooseCategories(clsData.items, 10), classifierRecipe(o.quick ?? false), o.cacheDir, log);
  const classifier = prepared.runner;
  try {
    const features = async (images: Float32Array, count: number) => ({
      data: (await classifier.run(images, count)).features,
      count,
      dim: classifier.featureDim,
    });
    const all = (d: ImageDataset): number[] => d.items.map((_, i) => i);
    const real = await features(heldOut.readBatch(all(heldOut)), heldOut.items.length);
    const fd = async (images: Float32Array, count: number): Promise<number> => frechetDistance(await features(images, count), real);

    const zs = Array.from({ length: n }, (_, i) => new Rng(i).normal(after.config.zDim));
    const z = new Float32Array(n * after.config.zDim);
    zs.forEach((v, i) => {
      z.set(v, i * after.config.zDim);
    });
    const frechetAfter = await fd(await after.synthesize(await after.map(z)), n);
    log(`gan eval: after training ${frechetAfter.toFixed(2)}`);

    const before = await untrainedGenerator(after);
    const frechetBefore = await fd(await before.synthesize(await before.map(z)), n);
    await before.release();
    log(`gan eval: before training ${frechetBefore.toFixed(2)}`);

    const trainImages = train.readBatch(all(train));
    const frechetBaseline = await fd(await blurAll(trainImages, train.items.length, size, 2), train.items.length);
    const frechetMean = await fd(meanImages(trainImages, train.items.length, size, 16), 16);
    const frechetTrain = await fd(trainImages, train.items.length);
    log(`gan eval: blurred training images ${frechetBaseline.toFixed(2)}, mean image ${frechetMean.toFixed(2)}, training images ${frechetTrain.toFixed(2)}`);
    await after.release();
    const r = (x: number): number => Number(x.toFixed(3));
    return {
      frechet_before: r(frechetBefore),
      frechet_after: r(frechetAfter),
      frechet_baseline: r(frechetBaseline),
      frechet_mean_image: r(frechetMean),
      frechet_train_images: r(frechetTrain),
      improvement: r(frechetBefore / frechetAfter),
      heldOut: heldOut.items.length,
      samples: n,
      train: train.items.length,
      featureDim: classifier.featureDim,
      classifier: packageRelative(prepared.path),
      seconds: Math.round((performance.now() - started) / 1000),
    };
  } finally {
    await classifier.release();
  }
}

/** The generator at the weights training started from (same architecture, the run's seed). */
async function untrainedGenerator(trained: GanModel): Promise<GanModel> {
  const seed = Number(trained.info.training?.['seed'] ?? 0);
  const g = new Graph();
  new Generator(g, new Rng(seed), trained.config);
  const values = new Map([...g.params].map(([name, p]) => [name, p.value]));
  return GanModel.fromModels(trained.config, exportGenerator(trained.config, values));
}

/** Each (3, S, S) image in [-1, 1] blurred with a Gaussian of σ px (sharp / libvips). */
async function blurAll(images: Float32Array, n: number, size: number, sigma: number): Promise<Float32Array> {
  const plane = size * size;
  const out = new Float32Array(images.length);
  for (let i = 0; i < n; i++) {
    const rgb = Buffer.alloc(plane * 3);
    for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) rgb[3 * p + c] = Math.round(((images[i * 3 * plane + c * plane + p] as number) + 1) * 127.5);
    const blurred = await sharp(rgb, { raw: { width: size, height: size, channels: 3 } })
      .blur(sigma)
      .raw()
      .toBuffer();
    for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) out[i * 3 * plane + c * plane + p] = (blurred[3 * p + c] as number) / 127.5 - 1;
  }
  return out;
}

/** `copies` copies of the mean image. */
function meanImages(images: Float32Array, n: number, size: number, copies: number): Float32Array {
  const item = 3 * size * size;
  const mean = new Float32Array(item);
  for (let i = 0; i < n; i++) for (let k = 0; k < item; k++) mean[k] = (mean[k] as number) + (images[i * item + k] as number) / n;
  const out = new Float32Array(copies * item);
  for (let i = 0; i < copies; i++) out.set(mean, i * item);
  return out;
}
