/**
 * What every fine-tuning method (LoRA, textual inversion, full) shares: the model folder's size rule and
 * objective, its UNet and text encoder rebuilt in gesso's graph with the folder's own weights, the
 * pictures encoded to latents once, and noised batches of them.
 */
import { join } from 'node:path';
import { InputError } from '../../core/errors.ts';
import { readJsonObjectFile } from '../../core/json.ts';
import type { Rng } from '../../core/rng.ts';
import type { ImageDataset } from '../../data/dataset.ts';
import type { Graph, Tensor } from '../../graph/graph.ts';
import { mul, reduceMean, sub } from '../../graph/ops/index.ts';
import { clipTextConfig, type ClipTextConfig } from '../../models/clip-text-encoder.ts';
import { initializerValues, readOnnxWeights } from '../../models/onnx-weights.ts';
import { SD_LAYOUT } from '../../models/sd-layout.ts';
import { unetConfig, type UNet2DConditionConfig } from '../../models/unet2d-condition.ts';
import { encodeImage } from '../../pipelines/latents.ts';
import type { DiffusionModel } from '../../pipelines/model-folder.ts';
import type { HostTensor } from '../../runtime/tensor.ts';
import type { createNoiseSchedule } from '../../schedulers/index.ts';

export type Prediction = 'epsilon' | 'v_prediction';
type NoiseSchedule = ReturnType<typeof createNoiseSchedule>;

export function unetConfigOf(modelDir: string): UNet2DConditionConfig {
  return unetConfig(readJsonObjectFile(join(modelDir, SD_LAYOUT.unet.config), SD_LAYOUT.unet.config) as Record<string, unknown>);
}

export function textConfigOf(modelDir: string): ClipTextConfig {
  return clipTextConfig(readJsonObjectFile(join(modelDir, SD_LAYOUT.textEncoder.config), SD_LAYOUT.textEncoder.config) as Record<string, unknown>);
}

/** The training size: the model's default, or `size` if it is a multiple the model takes. */
export function trainingSize(model: DiffusionModel, size: number | undefined): number {
  const s = size ?? model.spec.defaultWidth;
  const multiple = model.spec.vaeScaleFactor * model.spec.unetMultiple;
  if (!Number.isInteger(s) || s < multiple || s % multiple !== 0) throw new InputError(`--size ${s}: this model needs a multiple of ${multiple} pixels`);
  return s;
}

/** The folder's objective (scheduler_config.json prediction_type). */
export function predictionOf(model: DiffusionModel): Prediction {
  const prediction = model.scheduler.config.prediction_type ?? 'epsilon';
  if (prediction !== 'epsilon' && prediction !== 'v_prediction')
    throw new InputError(`${model.dir}: prediction_type "${prediction}" is not supported for fine-tuning (expected epsilon or v_prediction)`);
  return prediction;
}

/**
 * Sets every parameter of `g` from the folder's ONNX files (`parts`: paths inside the folder). A
 * parameter no file holds is an error: the folder was not exported with diffusers parameter names.
 */
export function loadFolderWeights(g: Graph, modelDir: string, parts: readonly string[]): void {
  const values = new Map<string, Float32Array>();
  for (const part of parts) {
    const weights = readOnnxWeights(join(modelDir, part));
    for (const p of g.params.keys()) if (weights.initializers.has(p)) values.set(p, initializerValues(weights, p));
  }
  const missing = [...g.params.keys()].find((p) => !values.has(p));
  if (missing)
    throw new InputError(`${modelDir}: no initializer "${missing}"; fine-tuning needs a UNet and text encoder exported with diffusers parameter names`);
  g.setValues(values, { complete: true });
}

/** Every picture's VAE latents through the folder's own encoder: (N, C, h, w). */
export async function encodeFolder(model: DiffusionModel, data: ImageDataset, size: number): Promise<Float32Array> {
  const n = data.items.length;
  const latentSize = model.spec.latentChannels * (size / model.spec.vaeScaleFactor) ** 2;
  const latents = new Float32Array(n * latentSize);
  for (let i = 0; i < n; i++) latents.set(await encodeImage(model, data.readBatch([i]), size, size), i * latentSize);
  return latents;
}

/**
 * Noised latents for a batch: x0 rows picked from `latents` by `picks`, uniform timesteps, and the
 * target the objective asks for (ε, or v = √ᾱ·ε − √(1−ᾱ)·x0).
 */
export function noisedBatch(
  rng: Rng,
  schedule: NoiseSchedule,
  prediction: Prediction,
  latents: Float32Array,
  picks: readonly number[],
  dims: readonly number[],
): { noisy: HostTensor; t: HostTensor; target: HostTensor } {
  const latentSize = dims.slice(1).reduce((a, b) => a * b, 1);
  const x0 = new Float32Array(picks.length * latentSize); // (B, C, h, w)
  picks.forEach((i, b) => x0.set(latents.subarray(i * latentSize, (i + 1) * latentSize), b * latentSize));
  const ts = picks.map(() => rng.int(schedule.numTrainTimesteps));
  const eps = rng.normal(x0.length);
  return {
    noisy: { dtype: 'float32', dims: [...dims], data: schedule.addNoiseAt(x0, eps, ts) },
    t: { dtype: 'int64', dims: [picks.length], data: BigInt64Array.from(ts.map((v) => BigInt(v))) },
    target: { dtype: 'float32', dims: [...dims], data: prediction === 'epsilon' ? eps : schedule.velocity(x0, eps, ts) },
  };
}

/**
 * Mean squared error of the UNet's prediction; with `sampleWeights` (B,) each picture's mean error is
 * weighted first (DreamBooth's prior-preservation term: class pictures at the prior weight).
 */
export function diffusionLoss(prediction: Tensor, target: Tensor, sampleWeights?: Tensor): Tensor {
  const d = sub(prediction, target); // (B, C, h, w)
  if (!sampleWeights) return reduceMean(mul(d, d));
  return reduceMean(mul(reduceMean(mul(d, d), [1, 2, 3]), sampleWeights)); // (B,) -> ()
}
