/**
 * Trains gesso's 4× upscaler (src/models/upscaler.ts) on rendered drawings and exports it into a model
 * folder as `upscaler/model.onnx` + `upscaler/config.json`.
 *
 * Data: a `gesso data` folder (the real run: `gesso data openclipart --size 256 --limit 2500`), its
 * train split for crops, its val split for metrics. Pairs: random crops and their 4×4 box averages
 * (see upscaler-pairs.ts); L1 loss (EDSR's choice: sharper than L2); Adam with warmup + cosine decay.
 * The run folder holds `checkpoint.safetensors` (resume), `history.json` (loss and PSNR curves),
 * `loss.png`, `samples/step-NNNNNN.png` + `samples/latest.png`, and `metrics.json` at the end.
 */
import { readJsonObjectFile } from '../../core/json.ts';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../core/errors.ts';
import { Rng } from '../../core/rng.ts';
import { Graph, type Tensor } from '../../graph/graph.ts';
import { abs, reduceMean, sub } from '../../graph/ops/index.ts';
import { saveOnnx } from '../../graph/save.ts';
import { buildTrainStep } from '../../autodiff/train-step.ts';
import { loadImageDataset, type ImageDataset } from '../../data/dataset.ts';
import { plotLines } from '../../image/plot.ts';
import { buildUpscaler, exportUpscaler, upscalerConfig, upscalerConfigJson, type UpscalerConfig } from '../../models/upscaler.ts';
import { Session } from '../../runtime/session.ts';
import { writeFileAtomic } from '../../weights/file-io.ts';
import { trainLoop } from '../loop.ts';
import { warmupCosine } from '../lr-schedule.ts';
import { TrainSession } from '../train-session.ts';
import {
  evalSet,
  firstImages,
  sampleGridPng,
  score,
  upscaleClassic,
  upscaleNearest,
  upscaleWithModel,
  upscaleWithSharp,
  type EvalSet,
  type Method,
  type Scores,
} from './upscaler-eval.ts';
import { samplePairs, UPSCALE, type ImagePlanes } from './upscaler-pairs.ts';

export interface TrainUpscalerOptions {
  /** A `gesso data` folder with train and val splits; images at least `crop` px, a multiple of 4. */
  dataDir: string;
  /** Run folder (checkpoint, samples, curves, metrics). */
  outDir: string;
  /** Total optimizer steps (default 3000; 20 with `quick`). */
  steps?: number;
  /**
   * Stop after this step (checkpoint written) although the schedule runs to `steps`; a later call
   * with `resume` goes on from there exactly as an uninterrupted run would.
   */
  stopAt?: number;
  /** Tiny settings for smoke tests: small batch and crops, few evaluation images. */
  quick?: boolean;
  /** Continue from `outDir/checkpoint.safetensors` when it exists (default true). */
  resume?: boolean;
  /** Model folder to export into (`<exportTo>/upscaler/`); nothing else in it is touched. */
  exportTo?: string;
  batchSize?: number;
  /** Side of the high-resolution crops (default 128; a multiple of 4). */
  crop?: number;
  /** Peak learning rate (default 1e-3). */
  lr?: number;
  seed?: number;
  channels?: number;
  blocks?: number;
  /** ONNX Runtime intra-op threads for training and evaluation (default: the runtime's default). */
  threads?: number;
  sampleEvery?: number;
  checkpointEvery?: number;
  /** Validation images scored at the end (default all) and during training (default 16). */
  evalImages?: number;
  trackImages?: number;
  quiet?: boolean;
  /** Progress lines (evaluations, files written); default console.log unless quiet. */
  log?: (line: string) => void;
}

export interface UpscalerMetrics {
  /** Validation images scored, and their side in pixels (inputs are a quarter of it). */
  images: number;
  size: number;
  scores: Record<Method, Scores>;
}

export interface TrainUpscalerResult {
  config: UpscalerConfig;
  params: number;
  steps: number;
  resumedFrom: number;
  /** Wall-clock seconds of this call's training loop (without resumed steps' time). */
  seconds: number;
  /** (step, loss) of every step, including steps before a resume. */
  losses: [number, number][];
  metrics: UpscalerMetrics;
  /** `model`, `config` and `modelMetrics` (upscaler/metrics.json) when exported. */
  files: { checkpoint: string; samples: string; lossCurve: string; metrics: string; model?: string; config?: string; modelMetrics?: string };
}

interface History {
  losses: [number, number][];
  /** (step, gesso PSNR on the tracking subset) */
  psnr: [number, number][];
  seconds: number;
}

export async function trainUpscaler(o: TrainUpscalerOptions): Promise<TrainUpscalerResult> {
  const settings = upscalerSettings(o);
  const { steps, log } = settings;
  const data = await loadUpscalerData(o, settings);
  const { g, low, high, session } = await upscalerTrainStep(settings, data.crop, o.threads);
  const files = runFiles(o.outDir);
  const resume = o.resume ?? true;
  const history: History = resume && existsSync(files.history) ? readHistory(files.history) : { losses: [], psnr: [], seconds: 0 };
  const withModel = evaluationModel(session, settings.config, o.threads);
  // Wall-clock time, summed over resumed runs through history.json.
  const secondsBefore = history.seconds;
  const started = Date.now();
  const elapsed = (): number => secondsBefore + (Date.now() - started) / 1000;
  const writeProgress = progressWriter(data, files, history, withModel, elapsed, log);

  try {
    const result = await trainLoop({
      session,
      steps: Math.min(o.stopAt ?? steps, steps),
      lr: warmupCosine({ lr: o.lr ?? 1e-3, warmupSteps: Math.min(100, Math.ceil(steps / 10)), totalSteps: steps, minLr: (o.lr ?? 1e-3) / 100 }),
      batch: (step) => {
        const pair = samplePairs(data.trainPlanes, { seed: settings.seed, step, batch: settings.batch, crop: data.crop });
        return {
          low: { dtype: 'float32', dims: [...low.shape], data: pair.low },
          high: { dtype: 'float32', dims: [...high.shape], data: pair.high },
        };
      },
      checkpoint: {
        path: files.checkpoint,
        every: o.checkpointEvery ?? (settings.quick ? steps : 200),
        metadata: { model: 'GessoUpscaler', config: JSON.stringify(settings.config) },
      },
      sample: { every: o.sampleEvery ?? (settings.quick ? steps : 250), run: writeProgress },
      onStep: (r) => {
        while (history.losses.length > 0 && (history.losses[history.losses.length - 1] as [number, number])[0] >= r.step) history.losses.pop();
        history.losses.push([r.step, r.loss]);
      },
      label: 'upscaler',
      quiet: o.quiet ?? false,
      resume,
    });
    if (result.resumedFrom > 0) log(`upscaler: resumed from step ${result.resumedFrom}`);
    const trainSeconds = result.results.length > 0 ? elapsed() : secondsBefore;
    history.seconds = trainSeconds;
    writeFileAtomic(files.history, JSON.stringify(history));

    const metrics = await finalMetrics(withModel, data.fullSet);
    const values = await session.values();
    writeSummary(files.metrics, o, settings, data, g.paramCount(), trainSeconds, metrics);
    for (const [method, s] of Object.entries(metrics.scores))
      log(
        `upscaler: ${method.padEnd(10)} PSNR ${s.psnr.toFixed(2)} dB  SSIM ${s.ssim.toFixed(4)}  (${metrics.images} val images, ${data.size / UPSCALE} -> ${data.size} px)`,
      );

    let exported: { model: string; config: string; metrics?: string } | undefined;
    if (o.exportTo !== undefined) {
      const card = modelCardMetrics(metrics, {
        steps,
        trainSeconds,
        train: data.train.items.length,
        dataDir: o.dataDir,
        batch: settings.batch,
        crop: data.crop,
      });
      exported = exportToFolder(o.exportTo, settings.config, values, Object.fromEntries(Object.entries(card).map(([k, v]) => [k, String(v)])), card);
      log(`upscaler: exported ${exported.model}`);
    }
    return {
      config: settings.config,
      params: g.paramCount(),
      steps,
      resumedFrom: result.resumedFrom,
      seconds: trainSeconds,
      losses: history.losses,
      metrics,
      files: {
        checkpoint: files.checkpoint,
        samples: files.samples,
        lossCurve: files.lossCurve,
        metrics: files.metrics,
        ...(exported ? { model: exported.model, config: exported.config, ...(exported.metrics ? { modelMetrics: exported.metrics } : {}) } : {}),
      },
    };
  } finally {
    await session.release();
  }
}

/** The run's settings with their defaults (tiny ones with `quick`). */
interface UpscalerSettings {
  quick: boolean;
  steps: number;
  batch: number;
  seed: number;
  config: UpscalerConfig;
  log: (line: string) => void;
}

function upscalerSettings(o: TrainUpscalerOptions): UpscalerSettings {
  const quick = o.quick ?? false;
  const steps = o.steps ?? (quick ? 20 : 3000);
  const batch = o.batchSize ?? (quick ? 4 : 16);
  const seed = o.seed ?? 0;
  const config = upscalerConfig({ ...(o.channels ? { channels: o.channels } : {}), ...(o.blocks !== undefined ? { blocks: o.blocks } : {}) });
  const log = o.log ?? (o.quiet ? () => undefined : (line: string) => console.log(line));
  if (!Number.isInteger(steps) || steps < 1) throw new InputError(`upscaler training: steps ${steps} must be a positive integer`);
  return { quick, steps, batch, seed, config, log };
}

/** The drawings: train split for crops; from the val split, the scored, tracked and shown images. */
interface UpscalerData {
  train: ImageDataset;
  val: ImageDataset;
  /** Side of the drawings, and of the training crops, in pixels. */
  size: number;
  crop: number;
  trainPlanes: ImagePlanes;
  /** Scored at the end; its first images tracked during training; a few shown in the sample grids. */
  fullSet: EvalSet;
  trackSet: EvalSet;
  showSet: EvalSet;
}

async function loadUpscalerData(o: TrainUpscalerOptions, s: UpscalerSettings): Promise<UpscalerData> {
  const train = await loadImageDataset(o.dataDir, { split: 'train' });
  const val = await loadImageDataset(o.dataDir, { split: 'val' });
  const size = train.size;
  const crop = o.crop ?? Math.min(s.quick ? 64 : 128, size);
  if (size % UPSCALE !== 0 || crop % UPSCALE !== 0 || crop > size) {
    throw new InputError(
      `upscaler training: images of ${o.dataDir} are ${size} px and crops ${crop} px; both must be multiples of ${UPSCALE}, crops at most the image size`,
    );
  }
  const trainPlanes = planes(train);
  const fullSet = firstImages(evalSet(planes(val)), o.evalImages ?? (s.quick ? 8 : val.items.length));
  const trackSet = firstImages(fullSet, o.trackImages ?? (s.quick ? 4 : 16));
  const showSet = pickShown(fullSet, 4);
  s.log(
    `upscaler: ${train.items.length} train and ${val.items.length} val drawings at ${size} px; C=${s.config.channels}, N=${s.config.blocks}; batch ${s.batch} of ${crop} px crops (inputs ${crop / UPSCALE} px), ${s.steps} steps`,
  );
  return { train, val, size, crop, trainPlanes, fullSet, trackSet, showSet };
}

/** The training graph (fixed batch and crop sizes; the exported inference model is size-agnostic) and its session. */
async function upscalerTrainStep(
  s: UpscalerSettings,
  crop: number,
  threads: number | undefined,
): Promise<{ g: Graph; low: Tensor; high: Tensor; session: TrainSession }> {
  const g = new Graph();
  const low = g.input('low', [s.batch, 3, crop / UPSCALE, crop / UPSCALE]);
  const high = g.input('high', [s.batch, 3, crop, crop]);
  const net = buildUpscaler(g, new Rng(s.seed), s.config);
  const loss = reduceMean(abs(sub(net.forward(low), high))); // L1
  const spec = buildTrainStep(g, { loss, optimizer: { kind: 'adam' } });
  const session = await TrainSession.create(g, spec, threads ? { threads } : {});
  return { g, low, high, session };
}

type RunFiles = ReturnType<typeof runFiles>;

/** The run folder's files (its samples folder created). */
function runFiles(outDir: string) {
  mkdirSync(join(outDir, 'samples'), { recursive: true });
  return {
    checkpoint: join(outDir, 'checkpoint.safetensors'),
    samples: join(outDir, 'samples'),
    lossCurve: join(outDir, 'loss.png'),
    metrics: join(outDir, 'metrics.json'),
    history: join(outDir, 'history.json'),
  };
}

type WithModel = <T>(run: (s: Session) => Promise<T>) => Promise<T>;

/** Runs `run` with an inference session of the weights trained so far, released after. */
function evaluationModel(session: TrainSession, config: UpscalerConfig, threads: number | undefined): WithModel {
  const inferenceOptions = { name: 'upscaler (evaluation)', ...(threads ? { intraOpThreads: threads } : {}) };
  return async <T>(run: (s: Session) => Promise<T>): Promise<T> => {
    const infer = await Session.create(exportUpscaler(config, await session.values()).bytes, inferenceOptions);
    try {
      return await run(infer);
    } finally {
      await infer.release();
    }
  };
}

/**
 * What a sampling step writes: PSNR on the tracked images into the history, the sample grid (nearest,
 * bicubic, gesso) as `step-NNNNNN.png` and `latest.png`, the loss curve and history.json.
 */
function progressWriter(
  data: UpscalerData,
  files: RunFiles,
  history: History,
  withModel: WithModel,
  elapsed: () => number,
  log: (line: string) => void,
): (step: number) => Promise<void> {
  const { trackSet, showSet } = data;
  const showNearest = upscaleNearest(showSet);
  const showBicubic = upscaleClassic(showSet, 'bicubic');
  const trackBicubic = score(trackSet, upscaleClassic(trackSet, 'bicubic')).psnr;
  return async (step) => {
    const { psnr, grid } = await withModel(async (s) => ({
      psnr: score(trackSet, await upscaleWithModel(s, trackSet)).psnr,
      grid: await sampleGridPng(showSet, { nearest: showNearest, bicubic: showBicubic, gesso: await upscaleWithModel(s, showSet) }, `step ${step}`),
    }));
    while (history.psnr.length > 0 && (history.psnr[history.psnr.length - 1] as [number, number])[0] >= step) history.psnr.pop();
    history.psnr.push([step, psnr]);
    history.seconds = elapsed();
    const name = `step-${String(step).padStart(6, '0')}.png`;
    writeFileAtomic(join(files.samples, name), grid);
    writeFileAtomic(join(files.samples, 'latest.png'), grid);
    writeFileAtomic(files.lossCurve, await lossCurvePng(history));
    writeFileAtomic(files.history, JSON.stringify(history));
    log(
      `upscaler: step ${step}: PSNR ${psnr.toFixed(2)} dB on ${trackSet.count} val images (bicubic ${trackBicubic.toFixed(2)} dB); wrote ${join(files.samples, name)}`,
    );
  };
}

/** PSNR and SSIM of gesso's upscaler and the classic methods on the whole validation subset. */
async function finalMetrics(withModel: WithModel, fullSet: EvalSet): Promise<UpscalerMetrics> {
  const gessoOut = await withModel((s) => upscaleWithModel(s, fullSet));
  return {
    images: fullSet.count,
    size: fullSet.size,
    scores: {
      nearest: score(fullSet, upscaleNearest(fullSet)),
      bilinear: score(fullSet, upscaleClassic(fullSet, 'bilinear')),
      bicubic: score(fullSet, upscaleClassic(fullSet, 'bicubic')),
      sharpCubic: score(fullSet, await upscaleWithSharp(fullSet, 'cubic')),
      gesso: score(fullSet, gessoOut),
    },
  };
}

/** The run's `metrics.json`: settings, data, training time and the final metrics. */
function writeSummary(
  path: string,
  o: TrainUpscalerOptions,
  s: UpscalerSettings,
  data: UpscalerData,
  params: number,
  trainSeconds: number,
  metrics: UpscalerMetrics,
): void {
  const summary = {
    steps: s.steps,
    params,
    config: upscalerConfigJson(s.config),
    batch: s.batch,
    crop: data.crop,
    data: { dir: o.dataDir, train: data.train.items.length, val: data.val.items.length, size: data.size },
    trainSeconds: Math.round(trainSeconds),
    metrics,
  };
  writeFileAtomic(path, `${JSON.stringify(summary, null, 2)}\n`);
}

/** The flat numbers a model card prints (`upscaler/metrics.json`): PSNR/SSIM per method and how they were made. */
export function modelCardMetrics(
  m: UpscalerMetrics,
  run: { steps: number; trainSeconds: number; train: number; dataDir: string; batch: number; crop: number },
): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const [method, s] of Object.entries(m.scores)) {
    const key = method === 'sharpCubic' ? 'sharp_cubic' : method;
    out[`psnr_${key}`] = Number(s.psnr.toFixed(2));
    out[`ssim_${key}`] = Number(s.ssim.toFixed(4));
  }
  return {
    ...out,
    val_images: m.images,
    size: m.size,
    input_size: m.size / UPSCALE,
    steps: run.steps,
    batch: run.batch,
    crop: run.crop,
    train_images: run.train,
    train_seconds: Math.round(run.trainSeconds),
    data: run.dataDir,
  };
}

/**
 * Writes `<modelDir>/upscaler/model.onnx`, `config.json` and, when given, `metrics.json` (created if
 * missing; other components of the model folder are left alone). Each file is written to a temp name first.
 */
export function exportToFolder(
  modelDir: string,
  config: UpscalerConfig,
  values: ReadonlyMap<string, Float32Array>,
  metadata: Record<string, string> = {},
  metrics?: Record<string, number | string>,
): { model: string; config: string; metrics?: string } {
  const dir = join(modelDir, 'upscaler');
  mkdirSync(dir, { recursive: true });
  const model = join(dir, 'model.onnx');
  const configPath = join(dir, 'config.json');
  saveOnnx(model, exportUpscaler(config, values, metadata));
  writeFileAtomic(configPath, `${JSON.stringify(upscalerConfigJson(config), null, 2)}\n`);
  if (!metrics) return { model, config: configPath };
  const metricsPath = join(dir, 'metrics.json');
  writeFileAtomic(metricsPath, `${JSON.stringify(metrics, null, 2)}\n`);
  return { model, config: configPath, metrics: metricsPath };
}

function planes(d: ImageDataset): ImagePlanes {
  return { pixels: d.pixels, count: d.items.length, size: d.size };
}

/**
 * `n` images for the sample grid, where upscaling matters and not all alike: the val images ranked by
 * how much detail the 64 px input loses (bicubic's error), taking every 4th of the top 4n.
 */
export function pickShown(set: EvalSet, n: number): EvalSet {
  const per = 3 * set.size * set.size;
  const small = set.size / UPSCALE;
  const smallPer = 3 * small * small;
  const bicubic = upscaleClassic(set, 'bicubic');
  const lost = (i: number): number => {
    let se = 0;
    for (let k = i * per; k < (i + 1) * per; k++) se += (set.high[k] - bicubic[k]) ** 2;
    return se;
  };
  const losses = Array.from({ length: set.count }, (_, i) => lost(i));
  const ranked = [...Array(set.count).keys()].sort((a, b) => losses[b] - losses[a] || a - b);
  const step = Math.max(1, Math.min(4, Math.floor(set.count / n)));
  const chosen = ranked.filter((_, r) => r % step === 0).slice(0, n);
  const high = new Uint8Array(chosen.length * per);
  const low = new Uint8Array(chosen.length * smallPer);
  chosen.forEach((i, k) => {
    high.set(set.high.subarray(i * per, (i + 1) * per), k * per);
    low.set(set.low.subarray(i * smallPer, (i + 1) * smallPer), k * smallPer);
  });
  return { high, low, count: chosen.length, size: set.size };
}

async function lossCurvePng(h: History): Promise<Uint8Array> {
  // An exponential moving average makes the trend readable under per-batch noise.
  let ema = Number.NaN;
  const smooth = h.losses.map(([x, y]): [number, number] => {
    ema = Number.isNaN(ema) ? y : 0.98 * ema + 0.02 * y;
    return [x, ema];
  });
  return plotLines(
    [
      { name: 'L1 loss (per step)', points: h.losses },
      { name: 'moving average', points: smooth },
    ],
    { title: 'gesso upscaler training', xLabel: 'step', yLabel: 'L1 loss on [-1, 1] pixels', logY: true },
  );
}

function readHistory(path: string): History {
  const h = readJsonObjectFile(path, 'training history (delete it to start the curves afresh)') as Partial<History>;
  return { losses: h.losses ?? [], psnr: h.psnr ?? [], seconds: h.seconds ?? 0 };
}
