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
import { Graph } from '../../graph/graph.ts';
import { abs, reduceMean, sub } from '../../graph/ops/index.ts';
import { saveOnnx } from '../../graph/save.ts';
import { buildTrainStep } from '../../autodiff/train-step.ts';
import { loadImageDataset, type ImageDataset } from '../../data/dataset.ts';
import { plotLines } from '../../image/plot.ts';
import { buildUpscaler, exportUpscaler, upscalerConfig, upscalerConfigJson, type UpscalerConfig } from '../../models/upscaler.ts';
import { Session } from '../../runtime/session.ts';
import { writeAll, writeFileAtomic } from '../../weights/file-io.ts';
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
  const quick = o.quick ?? false;
  const steps = o.steps ?? (quick ? 20 : 3000);
  const batch = o.batchSize ?? (quick ? 4 : 16);
  const seed = o.seed ?? 0;
  const config = upscalerConfig({ ...(o.channels ? { channels: o.channels } : {}), ...(o.blocks !== undefined ? { blocks: o.blocks } : {}) });
  const log = o.log ?? (o.quiet ? () => undefined : (line: string) => console.log(line));
  if (!Number.isInteger(steps) || steps < 1) throw new InputError(`upscaler training: steps ${steps} must be a positive integer`);

  const train = await loadImageDataset(o.dataDir, { split: 'train' });
  const val = await loadImageDataset(o.dataDir, { split: 'val' });
  const size = train.size;
  const crop = o.crop ?? Math.min(quick ? 64 : 128, size);
  if (size % UPSCALE !== 0 || crop % UPSCALE !== 0 || crop > size) {
    throw new InputError(
      `upscaler training: images of ${o.dataDir} are ${size} px and crops ${crop} px; both must be multiples of ${UPSCALE}, crops at most the image size`,
    );
  }
  const trainPlanes = planes(train);
  const fullSet = firstImages(evalSet(planes(val)), o.evalImages ?? (quick ? 8 : val.items.length));
  const trackSet = firstImages(fullSet, o.trackImages ?? (quick ? 4 : 16));
  const showSet = pickShown(fullSet, 4);
  log(
    `upscaler: ${train.items.length} train and ${val.items.length} val drawings at ${size} px; C=${config.channels}, N=${config.blocks}; batch ${batch} of ${crop} px crops (inputs ${crop / UPSCALE} px), ${steps} steps`,
  );

  // Training graph: fixed batch and crop sizes (the exported inference model is size-agnostic).
  const g = new Graph();
  const low = g.input('low', [batch, 3, crop / UPSCALE, crop / UPSCALE]);
  const high = g.input('high', [batch, 3, crop, crop]);
  const net = buildUpscaler(g, new Rng(seed), config);
  const loss = reduceMean(abs(sub(net.forward(low), high)));
  const spec = buildTrainStep(g, { loss, optimizer: { kind: 'adam' } });
  const session = await TrainSession.create(g, spec, o.threads ? { threads: o.threads } : {});

  mkdirSync(join(o.outDir, 'samples'), { recursive: true });
  const files = {
    checkpoint: join(o.outDir, 'checkpoint.safetensors'),
    samples: join(o.outDir, 'samples'),
    lossCurve: join(o.outDir, 'loss.png'),
    metrics: join(o.outDir, 'metrics.json'),
    history: join(o.outDir, 'history.json'),
  };
  const resume = o.resume ?? true;
  const history: History = resume && existsSync(files.history) ? readHistory(files.history) : { losses: [], psnr: [], seconds: 0 };
  const inferenceOptions = { name: 'upscaler (evaluation)', ...(o.threads ? { intraOpThreads: o.threads } : {}) };
  const withModel = async <T>(run: (s: Session) => Promise<T>): Promise<T> => {
    const infer = await Session.create(exportUpscaler(config, await session.values()).bytes, inferenceOptions);
    try {
      return await run(infer);
    } finally {
      await infer.release();
    }
  };
  const showNearest = upscaleNearest(showSet);
  const showBicubic = upscaleClassic(showSet, 'bicubic');
  const trackBicubic = score(trackSet, upscaleClassic(trackSet, 'bicubic')).psnr;

  // Wall-clock time, summed over resumed runs through history.json.
  const secondsBefore = history.seconds;
  const started = Date.now();
  const writeProgress = async (step: number): Promise<void> => {
    const { psnr, grid } = await withModel(async (s) => ({
      psnr: score(trackSet, await upscaleWithModel(s, trackSet)).psnr,
      grid: await sampleGridPng(showSet, { nearest: showNearest, bicubic: showBicubic, gesso: await upscaleWithModel(s, showSet) }, `step ${step}`),
    }));
    while (history.psnr.length > 0 && (history.psnr[history.psnr.length - 1] as [number, number])[0] >= step) history.psnr.pop();
    history.psnr.push([step, psnr]);
    history.seconds = secondsBefore + (Date.now() - started) / 1000;
    const name = `step-${String(step).padStart(6, '0')}.png`;
    writeBytes(join(files.samples, name), grid);
    writeBytes(join(files.samples, 'latest.png'), grid);
    writeBytes(files.lossCurve, await lossCurvePng(history));
    writeBytes(files.history, new TextEncoder().encode(JSON.stringify(history)));
    log(
      `upscaler: step ${step}: PSNR ${psnr.toFixed(2)} dB on ${trackSet.count} val images (bicubic ${trackBicubic.toFixed(2)} dB); wrote ${join(files.samples, name)}`,
    );
  };

  let result: Awaited<ReturnType<typeof trainLoop>>;
  try {
    result = await trainLoop({
      session,
      steps: Math.min(o.stopAt ?? steps, steps),
      lr: warmupCosine({ lr: o.lr ?? 1e-3, warmupSteps: Math.min(100, Math.ceil(steps / 10)), totalSteps: steps, minLr: (o.lr ?? 1e-3) / 100 }),
      batch: (step) => {
        const pair = samplePairs(trainPlanes, { seed, step, batch, crop });
        return {
          low: { dtype: 'float32', dims: [...low.shape], data: pair.low },
          high: { dtype: 'float32', dims: [...high.shape], data: pair.high },
        };
      },
      checkpoint: {
        path: files.checkpoint,
        every: o.checkpointEvery ?? (quick ? steps : 200),
        metadata: { model: 'GessoUpscaler', config: JSON.stringify(config) },
      },
      sample: { every: o.sampleEvery ?? (quick ? steps : 250), run: writeProgress },
      onStep: (r) => {
        while (history.losses.length > 0 && (history.losses[history.losses.length - 1] as [number, number])[0] >= r.step) history.losses.pop();
        history.losses.push([r.step, r.loss]);
      },
      label: 'upscaler',
      quiet: o.quiet ?? false,
      resume,
    });
    if (result.resumedFrom > 0) log(`upscaler: resumed from step ${result.resumedFrom}`);
    const trainSeconds = result.results.length > 0 ? secondsBefore + (Date.now() - started) / 1000 : secondsBefore;
    history.seconds = trainSeconds;
    writeBytes(files.history, new TextEncoder().encode(JSON.stringify(history)));

    // Final metrics on the whole validation subset.
    const gessoOut = await withModel((s) => upscaleWithModel(s, fullSet));
    const metrics: UpscalerMetrics = {
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
    const values = await session.values();
    const summary = {
      steps,
      params: g.paramCount(),
      config: upscalerConfigJson(config),
      batch,
      crop,
      data: { dir: o.dataDir, train: train.items.length, val: val.items.length, size },
      trainSeconds: Math.round(trainSeconds),
      metrics,
    };
    writeBytes(files.metrics, new TextEncoder().encode(`${JSON.stringify(summary, null, 2)}\n`));
    for (const [method, s] of Object.entries(metrics.scores))
      log(
        `upscaler: ${method.padEnd(10)} PSNR ${s.psnr.toFixed(2)} dB  SSIM ${s.ssim.toFixed(4)}  (${metrics.images} val images, ${size / UPSCALE} -> ${size} px)`,
      );

    let exported: { model: string; config: string; metrics?: string } | undefined;
    if (o.exportTo !== undefined) {
      const card = modelCardMetrics(metrics, { steps, trainSeconds, train: train.items.length, dataDir: o.dataDir, batch, crop });
      exported = exportToFolder(o.exportTo, config, values, Object.fromEntries(Object.entries(card).map(([k, v]) => [k, String(v)])), card);
      log(`upscaler: exported ${exported.model}`);
    }
    return {
      config,
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
  writeBytes(configPath, new TextEncoder().encode(`${JSON.stringify(upscalerConfigJson(config), null, 2)}\n`));
  if (!metrics) return { model, config: configPath };
  const metricsPath = join(dir, 'metrics.json');
  writeBytes(metricsPath, new TextEncoder().encode(`${JSON.stringify(metrics, null, 2)}\n`));
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

function writeBytes(path: string, bytes: Uint8Array): void {
  writeFileAtomic(path, (fd) => writeAll(fd, bytes));
}
