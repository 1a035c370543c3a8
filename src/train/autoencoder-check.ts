/**
 * The engine's learning check on real images: a conv autoencoder trained on rendered drawings, with
 * validation reconstruction error measured before and after, and a grid (originals over
 * reconstructions at each evaluation) to look at. Used by a test (short) and by
 * `npm run example:autoencoder` (longer, writes docs/engine-autoencoder.png).
 */
import { Rng } from '../core/rng.ts';
import { Graph } from '../graph/graph.ts';
import { mul, reduceMean, sub } from '../graph/ops/index.ts';
import { exportOnnx } from '../graph/export.ts';
import { buildTrainStep } from '../autodiff/train-step.ts';
import { buildConvAutoencoder } from '../models/conv-autoencoder.ts';
import { Session } from '../runtime/session.ts';
import type { ImageDataset } from '../data/dataset.ts';
import { batchToGrid, stackGrids, type GridImage } from '../image/grid.ts';
import { psnrFromMse } from '../image/metrics.ts';
import { trainLoop } from './loop.ts';
import { warmupCosine } from './lr-schedule.ts';
import { TrainSession } from './train-session.ts';

export interface AutoencoderCheckOptions {
  train: ImageDataset;
  val: ImageDataset;
  steps: number;
  batchSize?: number;
  evalEvery: number;
  lr?: number;
  seed?: number;
  quiet?: boolean;
  /** Validation images shown in the grid. */
  show?: number;
}

export interface AutoencoderCheckResult {
  /** (step, validation MSE on [-1, 1] pixels, PSNR in dB on [0, 1] pixels) per evaluation. */
  evals: { step: number; mse: number; psnr: number }[];
  grid: GridImage;
  params: number;
}

export async function autoencoderCheck(o: AutoencoderCheckOptions): Promise<AutoencoderCheckResult> {
  const size = o.train.size;
  const batch = o.batchSize ?? 32;
  const seed = o.seed ?? 0;
  const build = (g: Graph, n: number) => {
    const x = g.input('x', [n, 3, size, size]);
    const y = buildConvAutoencoder(g, new Rng(seed)).forward(x);
    const d = sub(y, x);
    return { y, loss: reduceMean(mul(d, d)) };
  };
  const g = new Graph();
  const { loss } = build(g, batch);
  const session = await TrainSession.create(g, buildTrainStep(g, { loss, optimizer: { kind: 'adam' }, clipGradNorm: 1 }));

  // Evaluation graph: the whole validation set in one batch, rebuilt with the current weights.
  const valIndices = o.val.items.map((_, i) => i);
  const valBatch = o.val.readBatch(valIndices);
  const show = Math.min(o.show ?? 8, valIndices.length);
  const grids: GridImage[] = [batchToGrid(valBatch.subarray(0, show * 3 * size * size), [show, 3, size, size], { scale: 2 })];
  const evals: AutoencoderCheckResult['evals'] = [];
  const evaluate = async (step: number): Promise<void> => {
    const eg = new Graph();
    const { y } = build(eg, valIndices.length);
    eg.setValues(await session.values(), { complete: true });
    const infer = await Session.create(exportOnnx(eg, { outputs: { y }, params: 'initializers' }).bytes);
    const out = (await infer.run({ x: { dtype: 'float32', dims: [valIndices.length, 3, size, size], data: valBatch } }))['y']?.data as Float32Array;
    await infer.release();
    let se = 0;
    for (let i = 0; i < out.length; i++) se += (out[i] - valBatch[i]) ** 2;
    const mse = se / out.length;
    // Pixels in [0, 1] are (v + 1) / 2, so their MSE is mse / 4.
    evals.push({ step, mse, psnr: psnrFromMse(mse / 4) });
    grids.push(batchToGrid(out.subarray(0, show * 3 * size * size), [show, 3, size, size], { scale: 2 }));
  };

  try {
    await evaluate(0);
    const rng = new Rng(seed + 1);
    const batches = new Map<number, Float32Array>();
    await trainLoop({
      session,
      steps: o.steps,
      lr: warmupCosine({ lr: o.lr ?? 3e-3, warmupSteps: Math.min(50, o.steps / 10), totalSteps: o.steps }),
      quiet: o.quiet ?? true,
      label: 'autoencoder',
      batch: (step) => {
        if (!batches.has(step)) batches.set(step, o.train.readBatch(o.train.sampleIndices(rng, batch)));
        const data = batches.get(step) as Float32Array;
        batches.delete(step);
        return { x: { dtype: 'float32', dims: [batch, 3, size, size], data } };
      },
      sample: { every: o.evalEvery, run: evaluate },
    });
  } finally {
    await session.release();
  }
  return { evals, grid: stackGrids(grids), params: g.paramCount() };
}
