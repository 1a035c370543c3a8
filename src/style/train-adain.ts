/**
 * Trains the AdaIN decoder (./adain.ts) with gesso's engine over the encoder's features: content
 * images and style images are paired at random each step; the loss is the content error at the AdaIN
 * layer (the decoded image re-encoded must give the AdaIN target back) plus the style error, the
 * per-channel means and standard deviations of the style layers (Huang & Belongie 2017, eq. 11-13),
 * both relative to the target's scale. Checkpoints and resumes; exports a model folder:
 * `decoder.safetensors` + `config.json` (encoder id, layer, widths, training settings).
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../core/rng.ts';
import { Graph, type Tensor } from '../graph/graph.ts';
import * as op from '../graph/ops/index.ts';
import { buildTrainStep } from '../autodiff/train-step.ts';
import { trainLoop } from '../train/loop.ts';
import { warmupCosine } from '../train/lr-schedule.ts';
import { TrainSession } from '../train/train-session.ts';
import { readSafetensors, toFloat32, writeSafetensors } from '../weights/safetensors.ts';
import { ADAIN_DEFAULT, adaptiveInstanceNorm, buildDecoder, channelStats, matchColorStats, type AdainConfig } from './adain.ts';
import { loadAdainModel } from './adain-model.ts';
import { ContentSet } from './content-set.ts';
import { defaultEncoder, type FeatureEncoder } from './encoder.ts';
import { PIXELS } from './pixels-layer.ts';

export interface TrainAdainOptions {
  contentDir: string;
  styleDir: string;
  runDir: string;
  /** Model folder to export into. */
  out: string;
  steps?: number;
  batch?: number;
  size?: number;
  lr?: number;
  styleWeight?: number;
  seed?: number;
  config?: AdainConfig;
  encoder?: FeatureEncoder;
  quiet?: boolean;
  checkpointEvery?: number;
  /** A model folder whose decoder weights start the training (fine-tuning); a checkpoint in runDir wins. */
  init?: string;
}

export const TRAIN_ADAIN_DEFAULTS = { steps: 2000, batch: 4, size: 128, lr: 1e-3, styleWeight: 2, seed: 7 } as const;

function relMse(a: Tensor, b: Tensor): Tensor {
  const d = op.sub(a, b);
  return op.div(op.reduceMean(op.mul(d, d)), op.add(op.reduceMean(op.mul(b, b)), 1e-6));
}

export async function trainAdainDecoder(o: TrainAdainOptions): Promise<void> {
  const d = TRAIN_ADAIN_DEFAULTS;
  const [steps, batch, size, seed] = [o.steps ?? d.steps, o.batch ?? d.batch, o.size ?? d.size, o.seed ?? d.seed];
  const config = o.config ?? ADAIN_DEFAULT;
  const encoder = o.encoder ?? defaultEncoder();
  mkdirSync(o.runDir, { recursive: true });
  const contents = await ContentSet.load(o.contentDir, size);
  const styles = await ContentSet.load(o.styleDir, size);

  const g = new Graph();
  const c = g.input('content_images', [batch, 3, size, size]); // (B, 3, S, S) in [0, 1]
  const s = g.input('style_images', [batch, 3, size, size]);
  const encLayers = [...new Set([config.layer, ...config.styleLayers])].filter((l) => l !== PIXELS);
  const fc = encoder.features(g, c, [config.layer])[config.layer] as Tensor; // (B, C, S/f, S/f)
  const fs: Record<string, Tensor> = { ...encoder.features(g, s, encLayers), [PIXELS]: s };
  const target = fs[config.layer] as Tensor;
  const st = channelStats(target);
  const t = adaptiveInstanceNorm(fc, st.mean, st.std);
  const decoded = buildDecoder(g, t, config, new Rng(seed)); // (B, 3, S, S)
  const matchTo = config.outputColor === 'style' ? channelStats(s) : null; // the style images' pixel statistics
  const out = matchTo ? matchColorStats(decoded, matchTo.mean, matchTo.std) : decoded;
  const fo: Record<string, Tensor> = { ...encoder.features(g, out, encLayers), [PIXELS]: out };
  const contentLoss = relMse(fo[config.layer] as Tensor, t);
  let styleLoss: Tensor | null = null;
  for (const l of config.styleLayers) {
    const a = channelStats(fo[l] as Tensor);
    const b = channelStats(fs[l] as Tensor);
    const term = op.add(relMse(a.mean, b.mean), relMse(a.std, b.std));
    styleLoss = styleLoss ? op.add(styleLoss, term) : term;
  }
  const sl = op.div(styleLoss as Tensor, config.styleLayers.length);
  const loss = op.add(contentLoss, op.mul(sl, o.styleWeight ?? d.styleWeight));
  const step = buildTrainStep(g, { loss, optimizer: { kind: 'adam' }, metrics: { content_loss: contentLoss, style_loss: sl }, clipGradNorm: 10 });
  if (o.init) g.setValues(loadAdainModel(o.init).weights);
  const session = await TrainSession.create(g, step);

  const settings = {
    steps,
    batch,
    size,
    lr: o.lr ?? d.lr,
    styleWeight: o.styleWeight ?? d.styleWeight,
    seed,
    contentImages: contents.images.length,
    styleImages: styles.images.length,
    contentDir: o.contentDir,
    styleDir: o.styleDir,
    ...(o.init ? { init: o.init } : {}),
  };
  const exportNow = async (stepNo: number): Promise<void> => {
    const values = await session.values();
    writeAdainModel(o.out, new Map([...values].map(([name, v]) => [name, { shape: [...(g.params.get(name)?.tensor.shape ?? [v.length])], data: v }])), {
      encoder: encoder.id,
      ...config,
      training: { ...settings, trainedSteps: stepNo },
    });
  };
  try {
    await trainLoop({
      session,
      batch: (k) => ({ content_images: contents.batch(k, batch, seed), style_images: styles.batch(k, batch, seed + 1) }),
      steps,
      lr: warmupCosine({ lr: o.lr ?? d.lr, warmupSteps: Math.min(100, Math.floor(steps / 10)), totalSteps: steps, minLr: (o.lr ?? d.lr) / 20 }),
      checkpoint: { path: join(o.runDir, 'checkpoint.safetensors'), every: o.checkpointEvery ?? 100 },
      sample: { every: 250, run: exportNow },
      // One line per step, appended as it happens, so a stopped run keeps its loss curve.
      onStep: (r, lr) => appendFileSync(join(o.runDir, 'log.jsonl'), `${JSON.stringify({ step: r.step, loss: r.loss, lr, ...r.metrics })}\n`),
      label: 'train adain',
      resume: true,
      ...(o.quiet ? { quiet: true } : {}),
    });
  } finally {
    await session.release();
  }
}

/** Writes a model folder: decoder.safetensors (the `decoder.*` parameters) and config.json. */
export function writeAdainModel(out: string, params: Map<string, { shape: number[]; data: Float32Array }>, config: Record<string, unknown>): void {
  mkdirSync(out, { recursive: true });
  const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  for (const [name, t] of params) if (name.startsWith('decoder.')) tensors[name] = { dtype: 'F32', shape: t.shape, data: t.data };
  writeSafetensors(join(out, 'decoder.safetensors'), tensors, { format: 'gesso-adain-decoder-v1' });
  writeFileSync(join(out, 'config.json'), `${JSON.stringify({ format: 'gesso-adain-v1', ...config }, null, 2)}\n`);
}

/** Exports the decoder from a training checkpoint (e.g. when a run is stopped before its last step). */
export function exportAdainCheckpoint(checkpoint: string, out: string, config: Record<string, unknown>): number {
  const file = readSafetensors(checkpoint, checkpoint);
  const params = new Map([...file.tensors].map(([name, t]) => [name, { shape: [...t.shape], data: Float32Array.from(toFloat32(t)) }]));
  const step = Number(file.metadata['step']);
  const training = (config['training'] ?? {}) as Record<string, unknown>;
  writeAdainModel(out, params, { ...config, training: { ...training, trainedSteps: step } });
  return step;
}
