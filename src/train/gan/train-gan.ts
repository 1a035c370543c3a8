/**
 * `gesso train gan`: trains src/models/gan.ts on a folder of the artist's pictures with gesso's engine.
 *
 * One ONNX training step holds both players (simultaneous updates): the discriminator's parameters
 * descend the hinge loss  mean(relu(1 − D(aug(x)))) + mean(relu(1 + D(aug(G(z))))),  the generator's
 * the non-saturating hinge generator loss  −mean(D(aug(G(z)))),  each with its own backward pass
 * (buildTrainStep's `objectives`), Adam (β = 0, 0.99) on both, an EMA of all weights (the generator's
 * EMA is what is exported and sampled), spectral-norm buffers carried between steps.
 *
 * Batches, latents and augmentations are pure functions of (seed, step), so a resumed run is the
 * uninterrupted run. The run folder holds checkpoint.safetensors, history.jsonl (both losses per
 * step), samples/step-NNNNNN.png (fixed-latent grids) and, at the end, the exported model folder.
 */
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../core/rng.ts';
import { Graph } from '../../graph/graph.ts';
import { add, neg, reduceMean, relu, sub } from '../../graph/ops/index.ts';
import { buildTrainStep, type TrainStep } from '../../autodiff/train-step.ts';
import { batchToGrid } from '../../image/grid.ts';
import { writeImageFile } from '../../image/write-image.ts';
import { Discriminator, ganConfig, Generator, type GanConfig } from '../../models/gan.ts';
import { exportGenerator } from '../../models/gan-export.ts';
import { GanModel } from '../../pipelines/gan-model.ts';
import type { HostTensor } from '../../runtime/tensor.ts';
import { readSafetensorsHeader } from '../../weights/safetensors.ts';
import { constantLr } from '../lr-schedule.ts';
import { trainLoop } from '../loop.ts';
import { TrainSession } from '../train-session.ts';
import { augmentInputs, diffAugment, sampleAugment } from './diff-augment.ts';
import { prepareGanData, type GanData } from './gan-data.ts';
import { exportGanModel } from './gan-export-folder.ts';

export interface TrainGanOptions {
  /** A folder of pictures, or a dataset built by `gesso data`. */
  dataDir: string;
  /** Checkpoint, history, sample grids (and the model, unless `outDir`). */
  runDir: string;
  /** Where the trained model folder goes (default `<runDir>/model`). */
  outDir?: string;
  size?: number;
  steps?: number;
  /** Stop after this step (checkpoint written) though the run is planned for `steps`; resume goes on. */
  stopAt?: number;
  batchSize?: number;
  /** Adam learning rate of the generator (default 1e-4). */
  lr?: number;
  /** Adam learning rate of the discriminator (default 4e-4: TTUR, Heusel et al. 2017). */
  dLr?: number;
  seed?: number;
  emaDecay?: number;
  sampleEvery?: number;
  checkpointEvery?: number;
  /** Architecture overrides (tests use tiny networks). */
  architecture?: Partial<Omit<GanConfig, 'size'>>;
  threads?: number;
  quiet?: boolean;
  log?: (line: string) => void;
}

export interface TrainGanResult {
  modelDir: string | null;
  steps: number;
  data: GanData;
  runSeconds: number;
}

/** Defaults of `gesso train gan` (chosen by the diagnostic runs in docs/gan.md). */
export const GAN_DEFAULTS = { lr: 1e-4, dLr: 4e-4 } as const;

/** Fixed latents of the sample grids: 32 z vectors from this seed. */
export const SAMPLE_SEED = 777;
export const SAMPLE_COUNT = 32;

/** The per-step random stream: a pure function of (seed, step). */
export function stepRng(seed: number, step: number): Rng {
  return new Rng((Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(step, 0x85ebca6b)) >>> 0);
}

export async function trainGan(o: TrainGanOptions): Promise<TrainGanResult> {
  const log = o.log ?? ((line: string) => console.log(line));
  const size = o.size ?? 64;
  const steps = o.steps ?? 5000;
  const batch = o.batchSize ?? 32;
  const seed = o.seed ?? 0;
  const config = ganConfig(size, o.architecture);
  mkdirSync(join(o.runDir, 'samples'), { recursive: true });
  const data = await prepareGanData(o.dataDir, o.runDir, size, log);
  log(`gan: ${data.train.count} training images at ${size} px from ${data.dir} (data sha256 ${data.hash.slice(0, 12)})`);

  const lr = o.lr ?? GAN_DEFAULTS.lr;
  const dLr = o.dLr ?? GAN_DEFAULTS.dLr;
  const { g, spec } = buildGanTrainStep(config, batch, seed, o.emaDecay ?? 0.995, dLr / lr);
  const session = await TrainSession.create(g, spec, o.threads ? { threads: o.threads } : {});
  log(`gan: generator ${count(g, 'G.')} parameters, discriminator ${count(g, 'D.')}; batch ${batch}, ${steps} steps`);

  const historyPath = join(o.runDir, 'history.jsonl');
  const checkpointPath = join(o.runDir, 'checkpoint.safetensors');
  const metadata: Record<string, string> = { kind: 'gan', config: JSON.stringify(config), data_sha256: data.hash, seconds: '0' };
  const resumeMeta = existsSync(checkpointPath) ? readSafetensorsHeader(checkpointPath, checkpointPath).metadata : null;
  const priorSeconds = Number(resumeMeta?.['seconds'] ?? 0);
  const started = Date.now();
  const elapsed = (): number => priorSeconds + (Date.now() - started) / 1000;
  const sampleZ = new Rng(SAMPLE_SEED).normal(SAMPLE_COUNT * config.zDim);

  const emaGenerator = async (): Promise<Map<string, Float32Array>> => {
    const ema = await session.emaValues();
    return new Map([...ema].filter(([name]) => name.startsWith('G.')));
  };
  const writeSamples = async (step: number): Promise<void> => {
    const model = await GanModel.fromModels(config, exportGenerator(config, await emaGenerator()));
    try {
      const images = await model.synthesize(await model.map(sampleZ));
      const grid = batchToGrid(images, [SAMPLE_COUNT, 3, size, size], { cols: 8, gap: 2 });
      await writeImageFile(join(o.runDir, 'samples', `step-${String(step).padStart(6, '0')}.png`), grid.pixels, grid.width, grid.height, 3);
    } finally {
      await model.release();
    }
  };

  const planned = o.stopAt !== undefined ? Math.min(o.stopAt, steps) : steps;
  if (!existsSync(checkpointPath)) await writeSamples(0);
  const result = await trainLoop({
    session,
    steps: planned,
    lr: constantLr(lr),
    label: 'gan',
    quiet: o.quiet ?? false,
    resume: true,
    showMetrics: ['d_loss', 'g_loss'],
    checkpoint: { path: checkpointPath, every: o.checkpointEvery ?? 250, metadata },
    history: historyPath,
    sample: { every: o.sampleEvery ?? 500, run: writeSamples },
    batch: (step) => ganBatch(data, config, batch, seed, step),
    onStep: (r) => {
      metadata['seconds'] = elapsed().toFixed(1);
      appendFileSync(
        historyPath,
        JSON.stringify({
          step: r.step,
          d_loss: r.metrics['d_loss'],
          g_loss: r.metrics['g_loss'],
          d_real: r.metrics['d_real'],
          d_fake: r.metrics['d_fake'],
          seconds: Number(elapsed().toFixed(2)),
        }) + '\n',
      );
    },
  });
  if (result.resumedFrom > 0) log(`gan: resumed from step ${result.resumedFrom}`);
  let modelDir: string | null = null;
  if (session.stepCount >= steps) {
    modelDir = o.outDir ?? join(o.runDir, 'model');
    await exportGanModel({
      dir: modelDir,
      config,
      values: await emaGenerator(),
      data,
      runDir: o.runDir,
      steps: session.stepCount,
      seconds: elapsed(),
      batch,
      seed,
      lr,
      dLr,
    });
    log(`gan: wrote ${modelDir}`);
  }
  await session.release();
  return { modelDir, steps: session.stepCount, data, runSeconds: elapsed() };
}

/** The training graph: both networks, augmentation, both losses, one step of both optimizers. */
export function buildGanTrainStep(config: GanConfig, batch: number, seed: number, emaDecay: number, dLrScale = 1): { g: Graph; spec: TrainStep } {
  const size = config.size;
  const g = new Graph();
  const rng = new Rng(seed);
  const gen = new Generator(g, rng, config);
  const disc = new Discriminator(g, rng, config);
  const real = g.input('real', [batch, 3, size, size]);
  const z = g.input('z', [batch, config.zDim]);
  const fake = gen.forward(z); // (B, 3, S, S)
  const dReal = disc.forward(diffAugment(real, augmentInputs(g, 'aug_real', batch, size))); // (B, 1)
  const dFake = disc.forward(diffAugment(fake, augmentInputs(g, 'aug_fake', batch, size))); // (B, 1)
  const dLoss = add(reduceMean(relu(sub(1, dReal))), reduceMean(relu(add(dFake, 1))));
  const gLoss = neg(reduceMean(dFake));
  const names = (prefix: string): string[] =>
    g
      .trainableParams()
      .map((p) => p.name)
      .filter((n) => n.startsWith(prefix));
  const spec = buildTrainStep(g, {
    loss: add(dLoss, gLoss),
    objectives: [
      { loss: dLoss, params: names('D.'), lrScale: dLrScale }, // the step's lr input is G's
      { loss: gLoss, params: names('G.') },
    ],
    metrics: { d_loss: dLoss, g_loss: gLoss, d_real: reduceMean(dReal), d_fake: reduceMean(dFake) },
    optimizer: { kind: 'adam', beta1: 0, beta2: 0.99, eps: 1e-8 },
    emaDecay,
    bufferUpdates: disc.bufferUpdates,
  });
  return { g, spec };
}

/** The batch of a step: real images (random, mirrored half the time), latents, augmentations. */
export async function ganBatch(data: GanData, config: GanConfig, batch: number, seed: number, step: number): Promise<Record<string, HostTensor>> {
  const rng = stepRng(seed, step);
  const size = config.size;
  const indices = Array.from({ length: batch }, () => rng.int(data.train.count));
  const realPixels = await data.train.readBatch(indices); // (B, 3, S, S)
  for (let b = 0; b < batch; b++) if (rng.uniform() < 0.5) mirror(realPixels, b, size);
  return {
    real: { dtype: 'float32', dims: [batch, 3, size, size], data: realPixels },
    z: { dtype: 'float32', dims: [batch, config.zDim], data: rng.normal(batch * config.zDim) },
    ...sampleAugment(rng, 'aug_real', batch, size),
    ...sampleAugment(rng, 'aug_fake', batch, size),
  };
}

function mirror(pixels: Float32Array, b: number, size: number): void {
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < size; y++) {
      const row = ((b * 3 + c) * size + y) * size;
      pixels.subarray(row, row + size).reverse();
    }
  }
}

function count(g: Graph, prefix: string): number {
  return g
    .trainableParams()
    .filter((p) => p.name.startsWith(prefix))
    .reduce((s, p) => s + p.value.length, 0);
}
