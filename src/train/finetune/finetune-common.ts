/**
 * What every fine-tuning method (LoRA, textual inversion, full) shares: the model folder's size rule and
 * objective, its UNet and text encoder rebuilt in gesso's graph with the folder's own weights, the
 * pictures encoded to latents once, noised batches of them, and the run itself (train step, checkpoints
 * and resume, sample grids, the product written at each sample and at the end).
 */
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildTrainStep } from '../../autodiff/train-step.ts';
import { InputError } from '../../core/errors.ts';
import { readJsonObjectFile } from '../../core/json.ts';
import { Rng } from '../../core/rng.ts';
import type { ImageDataset } from '../../data/dataset.ts';
import type { Graph, Tensor } from '../../graph/graph.ts';
import { mul, reduceMean, sub } from '../../graph/ops/index.ts';
import { clipTextConfig, type ClipTextConfig } from '../../models/clip-text-encoder.ts';
import { initializerValues, readOnnxWeights } from '../../models/onnx-weights.ts';
import { SD_LAYOUT } from '../../models/sd-layout.ts';
import { unetConfig, type UNet2DConditionConfig } from '../../models/unet2d-condition.ts';
import { encodeImage } from '../../pipelines/latents.ts';
import { DiffusionModel, type LoraChoice } from '../../pipelines/model-folder.ts';
import { encodePrompts } from '../../pipelines/text-conditioning.ts';
import type { HostTensor } from '../../runtime/tensor.ts';
import { createNoiseSchedule } from '../../schedulers/index.ts';
import { sampleGrid } from '../default-model/samples.ts';
import { trainLoop } from '../loop.ts';
import { warmupCosine } from '../lr-schedule.ts';
import type { SessionOptions } from '../../runtime/runner.ts';
import { type StepResult, TrainSession } from '../train-session.ts';
import { loadFinetuneData } from './finetune-data.ts';

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

/** Throws unless every count (flag name -> value) is a whole number of at least 1. */
export function checkCounts(counts: Record<string, number>): void {
  for (const [flag, v] of Object.entries(counts)) {
    if (!Number.isInteger(v) || v < 1) throw new InputError(`--${flag} ${v}: expected a whole number of at least 1`);
  }
}

/** Runs `use` with the folder's model loaded in this process (no upscaler), and releases it after. */
export async function withFolderModel<T>(modelDir: string, use: (model: DiffusionModel) => Promise<T>): Promise<T> {
  const model = await DiffusionModel.load(modelDir, { runner: 'in-process', upscaler: false });
  try {
    return await use(model);
  } finally {
    await model.release();
  }
}

/** The options every fine-tuning method takes (each method adds its own). */
export interface FinetuneCommonOptions {
  modelDir: string;
  dataDir: string;
  /** Run folder: checkpoint, samples, and what the run makes. */
  outDir: string;
  /** Picture size to train at, in pixels (default: the model's default size). */
  size?: number;
  steps?: number;
  batch?: number;
  /** Peak learning rate. */
  lr?: number;
  seed?: number;
  checkpointEvery?: number;
  sampleEvery?: number;
  /** Prompts of the sample grids (default: the method's choice from the captions). */
  samplePrompts?: string[];
  sampleSteps?: number;
  quiet?: boolean;
  log?: (line: string) => void;
}

/** What every method's run reports (each method adds what it made). */
export interface FinetuneCommonResult {
  steps: number;
  /** Loss of each step this call ran (a resumed run's earlier steps are not repeated). */
  losses: number[];
  /** Pictures in the data folder. */
  images: number;
  /** The checkpoint's step the run went on from (0: a fresh run). */
  resumedFrom: number;
  /** Wall-clock seconds of this call. */
  seconds: number;
}

/** What a method trains on, read through the folder's model before it is released. */
export interface TrainingPictures {
  size: number;
  captions: string[];
  /** (N, C, h, w) */
  latents: Float32Array;
  prediction: Prediction;
  schedule: NoiseSchedule;
  /** Pixels per latent cell. */
  vaeScale: number;
}

/**
 * The data folder's pictures at the training size (`size`, else the model's), their captions
 * (`uncaptioned` for pictures without one; see loadFinetuneData), their latents, and the folder's
 * objective and noise schedule. Creates `<outDir>/samples` once the data is known good.
 */
export async function prepareTraining(
  model: DiffusionModel,
  o: { dataDir: string; outDir: string; size?: number },
  log: (line: string) => void,
  uncaptioned?: string,
): Promise<TrainingPictures> {
  const prediction = predictionOf(model);
  const size = trainingSize(model, o.size);
  const data = await loadFinetuneData(o.dataDir, size, o.outDir, log, uncaptioned);
  mkdirSync(join(o.outDir, 'samples'), { recursive: true });
  return {
    size,
    captions: data.items.map((i) => i.caption),
    latents: await encodeFolder(model, data, size),
    prediction,
    schedule: createNoiseSchedule(model.scheduler.config),
    vaeScale: model.spec.vaeScaleFactor,
  };
}

/** Each distinct caption's text states through the folder's frozen text encoder: (S, D) each. */
export async function captionStates(
  model: DiffusionModel,
  captions: Iterable<string>,
): Promise<{ states: Map<string, Float32Array>; sequence: number; hidden: number }> {
  const states = new Map<string, Float32Array>();
  let sequence = 0;
  let hidden = 0;
  for (const c of new Set(captions)) {
    const e = await encodePrompts(model, c, '', { maxChunks: 1 });
    states.set(c, e.cond);
    sequence = e.sequence;
    hidden = e.hidden;
  }
  return { states, sequence, hidden };
}

/** The batch inputs every method feeds the UNet: noisy latents and the target (B, C, h, w), timesteps (B,). */
export function latentInputs(g: Graph, dims: readonly number[]): { noisy: Tensor; t: Tensor; target: Tensor } {
  return { noisy: g.input('noisy', dims), t: g.input('t', [dims[0] as number], 'int64'), target: g.input('target', dims) };
}

/**
 * ORT options of a fine-tuning step. No memory pattern: ORT would otherwise plan one block for every
 * intermediate of the next step and allocate it beside what the first step left in its arena, doubling
 * the activation memory (bench:finetune, SD 1.5-shaped UNet at 256²: peak 6.06 GiB with it, 4.83 without,
 * step CPU time within 10%). Activations, not weights, are what a 512² step of SD 1.5 runs out of.
 */
export const FINETUNE_SESSION_OPTIONS: SessionOptions = { enableMemPattern: false };

/** The training session of `loss`: AdamW on the trainable parameters, gradients clipped when asked. */
export function adamwSession(g: Graph, loss: Tensor, o: { weightDecay: number; clipGradNorm?: number }): Promise<TrainSession> {
  const clip = o.clipGradNorm === undefined ? {} : { clipGradNorm: o.clipGradNorm };
  const spec = buildTrainStep(g, { loss, optimizer: { kind: 'adamw', weightDecay: o.weightDecay }, ...clip });
  // The frozen base model moves to the session's worker: fine-tuning never reads it from the graph again.
  return TrainSession.create(g, spec, { moveFrozen: true, session: FINETUNE_SESSION_OPTIONS });
}

/** A run's sample grids: fixed prompts and 4 seeds, of the base folder first, then of what the run made. */
export interface RunSamples {
  /** The method's prompts when the options name none. */
  defaultPrompts: string[];
  size: number;
  /** Draw the trained state from this folder (default the base folder) ... */
  trainedModelDir?: string;
  /** ... with these LoRAs or embeddings loaded. */
  loras?: readonly LoraChoice[];
  embeddings?: readonly string[];
}

export interface FinetuneRun {
  session: TrainSession;
  /** The method's options: folders, cadences of checkpoints and samples, sample prompts and steps, quiet. */
  options: FinetuneCommonOptions;
  /** Total steps, with the method's default applied. */
  steps: number;
  /** Peak learning rate: warm-up over min(20, steps / 10) steps, then cosine down to a tenth. */
  lr: number;
  /** Step k's batch is drawn from Rng(seed · 104729 + k), so a resumed run draws the same batches. */
  seed: number;
  /** The progress bar's label. */
  label: string;
  checkpointMetadata: Record<string, string>;
  samples: RunSamples;
  /** One step's feeds, drawn from `rng`. */
  batch: (rng: Rng) => Record<string, HostTensor>;
  onStep?: (result: StepResult) => void;
  /**
   * A JSON-lines loss file: one `{step, loss}` line appended per step; on resume, lines past the
   * checkpoint's step are dropped, so a stopped and resumed run lists each step once.
   */
  history?: string;
  /** Writes what the run makes (LoRA file, embedding, model folder) from the session's values now. */
  save: () => Promise<void>;
}

/**
 * Trains to `steps` (resuming from the run folder's checkpoint), saving and drawing a grid every
 * `sampleEvery` steps (only the last one when quiet), and saves at the end; the session is released.
 */
export async function runFinetune(r: FinetuneRun): Promise<{ losses: number[]; resumedFrom: number }> {
  const o = r.options;
  const quiet = o.quiet ?? false;
  const checkpointPath = join(o.outDir, 'checkpoint.safetensors');
  const s = r.samples;
  const grid = (file: string, trained: boolean): Promise<void> =>
    sampleGrid(trained ? (s.trainedModelDir ?? o.modelDir) : o.modelDir, join(o.outDir, 'samples', file), {
      prompts: o.samplePrompts ?? s.defaultPrompts,
      seeds: 4,
      size: s.size,
      steps: o.sampleSteps ?? 20,
      ...(trained && s.loras ? { loras: s.loras } : {}),
      ...(trained && s.embeddings ? { embeddings: s.embeddings } : {}),
    });
  const losses: number[] = [];
  try {
    if (!existsSync(checkpointPath) && !quiet) await grid('step000000-base.png', false);
    const result = await trainLoop({
      session: r.session,
      steps: r.steps,
      lr: warmupCosine({ lr: r.lr, warmupSteps: Math.min(20, Math.floor(r.steps / 10)), totalSteps: r.steps, minLr: r.lr / 10 }),
      label: r.label,
      quiet,
      resume: true,
      checkpoint: { path: checkpointPath, every: o.checkpointEvery ?? 50, metadata: r.checkpointMetadata },
      batch: (step) => r.batch(new Rng((r.seed * 104729 + step) >>> 0)),
      ...(r.history ? { history: r.history } : {}),
      onStep: (result) => {
        losses.push(result.loss);
        if (r.history) appendFileSync(r.history, `${JSON.stringify({ step: result.step, loss: result.loss })}\n`);
        r.onStep?.(result);
      },
      sample: {
        every: o.sampleEvery ?? 100,
        run: async (step) => {
          await r.save();
          if (!quiet || step === r.steps) await grid(`step${String(step).padStart(6, '0')}.png`, true);
        },
      },
    });
    await r.save();
    return { losses, resumedFrom: result.resumedFrom };
  } finally {
    await r.session.release();
  }
}
