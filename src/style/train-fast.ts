/**
 * `gesso train style`: trains a feed-forward style network (./fast-net.ts) for one style image with the
 * perceptual losses of Johnson et al. 2016, on gesso's engine: the encoder (constants) and the network
 * (parameters) sit in one graph whose training step autodiff derives. Checkpoints and resumes; writes a
 * sample image along the way; exports `style.onnx` in the ONNX model zoo's fast-neural-style I/O
 * (`input1`/`output1`, 1×3×224×224, pixels 0-255), which `gesso style --method fast` runs at any size.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../core/errors.ts';
import { Rng } from '../core/rng.ts';
import { Graph, type Tensor } from '../graph/graph.ts';
import * as op from '../graph/ops/index.ts';
import { exportOnnx } from '../graph/export.ts';
import { saveOnnx } from '../graph/save.ts';
import { buildTrainStep, type TrainStep } from '../autodiff/train-step.ts';
import { trainLoop } from '../train/loop.ts';
import { warmupCosine } from '../train/lr-schedule.ts';
import { TrainSession } from '../train/train-session.ts';
import { ContentSet, squareCrop } from './content-set.ts';
import { defaultEncoder, type FeatureEncoder } from './encoder.ts';
import { extractFeatures } from './features.ts';
import { FAST_INPUT, FAST_NET_DEFAULT, FAST_OUTPUT, buildFastNet, type FastNetConfig } from './fast-net.ts';
import { batchGram, meanSquare, relativeMse, totalVariation } from './gram.ts';
import { loadImage } from './load-image.ts';
import { onnxInitializers } from './onnx-encoder.ts';
import { runImageModel } from './onnx-image-model.ts';
import { PIXELS } from './pixels-layer.ts';
import { writeStyleImage } from './stylize.ts';

export interface TrainFastOptions {
  style: string;
  contentDir: string;
  runDir: string;
  steps?: number;
  batch?: number;
  /** Training crop size (multiple of 4). */
  size?: number;
  lr?: number;
  styleWeight?: number;
  tvWeight?: number;
  net?: FastNetConfig;
  seed?: number;
  encoder?: FeatureEncoder;
  sampleEvery?: number;
  checkpointEvery?: number;
  quiet?: boolean;
  /** A fast network (style.onnx of this architecture) whose weights start the training; a checkpoint in runDir wins. */
  init?: string;
}

// styleWeight: 30 (the Gatys default) and 6 left the content error near 1 (texture everywhere); 1.5 kept the outlines
// (models/gesso-fast-leopard/README.md).
export const TRAIN_FAST_DEFAULTS = { steps: 1500, batch: 4, size: 256, lr: 2e-3, styleWeight: 1.5, tvWeight: 0.5, seed: 1 } as const;

/** Trains (or resumes) and exports `<runDir>/style.onnx`; returns its path. */
export async function trainFastStyle(o: TrainFastOptions): Promise<string> {
  const d = TRAIN_FAST_DEFAULTS;
  const [steps, batch, size, seed] = [o.steps ?? d.steps, o.batch ?? d.batch, o.size ?? d.size, o.seed ?? d.seed];
  if (size % 4 !== 0 || size < 16) throw new InputError(`training size ${size} must be a multiple of 4, at least 16`);
  if (!Number.isInteger(steps) || steps < 1 || !Number.isInteger(batch) || batch < 1)
    throw new InputError(`steps ${steps} and batch ${batch} must be positive whole numbers`);
  const encoder = o.encoder ?? defaultEncoder();
  const net = o.net ?? FAST_NET_DEFAULT;
  mkdirSync(o.runDir, { recursive: true });

  const styleImage = await squareCrop(await loadImage(o.style, 'style image'), size);
  if (Math.min(styleImage.width, styleImage.height) < 16) throw new InputError(`style image ${o.style} is too small`);
  const content = await ContentSet.load(o.contentDir, size);
  const styleLayers = encoder.defaults.style;
  const contentLayers = encoder.defaults.content;
  const targets = (await extractFeatures(encoder, styleImage, { grams: styleLayers })).grams;

  const { g, step } = buildFastTrainStep(encoder, targets, {
    batch,
    size,
    net,
    seed,
    styleWeight: o.styleWeight ?? d.styleWeight,
    tvWeight: o.tvWeight ?? d.tvWeight,
  });
  if (o.init) g.setValues(onnxInitializers(o.init), { complete: true });
  const session = await TrainSession.create(g, step);

  const out = join(o.runDir, 'style.onnx');
  const settings = {
    style: o.style,
    contentDir: o.contentDir,
    contentImages: content.images.length,
    steps,
    batch,
    size,
    lr: o.lr ?? d.lr,
    styleWeight: o.styleWeight ?? d.styleWeight,
    tvWeight: o.tvWeight ?? d.tvWeight,
    net,
    seed,
    encoder: encoder.id,
    styleLayers,
    contentLayers,
    ...(o.init ? { init: o.init } : {}),
  };
  const exportNow = async (stepNo: number): Promise<void> => {
    const values = await session.values();
    exportFastNet(values, net, out, { ...settings, trainedSteps: stepNo });
    const sample = content.images[0]!;
    const styled = await runImageModel(out, sample);
    await writeStyleImage(join(o.runDir, `sample-${String(stepNo).padStart(5, '0')}.png`), {
      image: styled,
      recipe: { format: 'gesso.style', method: 'fast', sampleAtStep: stepNo },
    });
  };
  try {
    await trainLoop({
      session,
      batch: (s) => ({ content: content.batch(s, batch, seed) }),
      steps,
      lr: warmupCosine({ lr: o.lr ?? d.lr, warmupSteps: Math.min(100, Math.floor(steps / 10)), totalSteps: steps, minLr: (o.lr ?? d.lr) / 20 }),
      checkpoint: { path: join(o.runDir, 'checkpoint.safetensors'), every: o.checkpointEvery ?? 100 },
      sample: { every: o.sampleEvery ?? 250, run: exportNow },
      // One line per step, appended as it happens, so a stopped run keeps its loss curve.
      history: join(o.runDir, 'log.jsonl'),
      onStep: (r, lr) => appendFileSync(join(o.runDir, 'log.jsonl'), `${JSON.stringify({ step: r.step, loss: r.loss, lr, ...r.metrics })}\n`),
      label: 'train style',
      resume: true,
      ...(o.quiet ? { quiet: true } : {}),
    });
  } finally {
    await session.release();
  }
  return out;
}

/**
 * One graph: content batch -> network -> encoder features of output and input -> perceptual losses,
 * with its Adam training step. Exported for the benchmark.
 */
export function buildFastTrainStep(
  encoder: FeatureEncoder,
  targets: Map<string, { shape: number[]; data: Float32Array }>,
  o: { batch: number; size: number; net: FastNetConfig; seed: number; styleWeight: number; tvWeight: number },
): { g: Graph; step: TrainStep } {
  const { batch, size, net, seed } = o;
  const styleLayers = encoder.defaults.style;
  const contentLayers = encoder.defaults.content;
  const g = new Graph();
  const x = g.input('content', [batch, 3, size, size]); // (B, 3, S, S) in [0, 1]
  const y = op.div(buildFastNet(g, op.mul(x, 255), net, new Rng(seed)), 255); // (B, 3, S, S) in [0, 1]
  const layers = [...new Set([...contentLayers, ...styleLayers])].filter((l) => l !== PIXELS);
  const fy: Record<string, Tensor> = { ...encoder.features(g, y, layers), [PIXELS]: y };
  const fx = encoder.features(
    g,
    x,
    contentLayers.filter((l) => l !== PIXELS),
  );
  let contentLoss: Tensor | null = null;
  for (const l of contentLayers) {
    const d2 = op.sub(fy[l] as Tensor, fx[l] as Tensor);
    // Normalised by the content features' own mean square, measured in the graph.
    const term = op.div(op.reduceMean(op.mul(d2, d2)), op.add(op.reduceMean(op.mul(fx[l] as Tensor, fx[l] as Tensor)), 1e-8));
    contentLoss = contentLoss ? op.add(contentLoss, term) : term;
  }
  let styleLoss: Tensor | null = null;
  for (const l of styleLayers) {
    const t = targets.get(l)!;
    const term = relativeMse(batchGram(fy[l] as Tensor), g.constant(t.data, [1, ...t.shape], 'float32', 'style_target'), meanSquare(t.data));
    styleLoss = styleLoss ? op.add(styleLoss, term) : term;
  }
  const sl = op.div(styleLoss as Tensor, styleLayers.length);
  const cl = contentLoss as Tensor;
  const tv = totalVariation(y);
  const loss = op.add(op.add(cl, op.mul(sl, o.styleWeight)), op.mul(tv, o.tvWeight * 100));
  const step = buildTrainStep(g, { loss, optimizer: { kind: 'adam' }, metrics: { content_loss: cl, style_loss: sl, tv_loss: tv }, clipGradNorm: 10 });
  return { g, step };
}

/** Writes the network with trained `values` as `path` in the zoo's I/O (input1/output1, 1×3×224×224, 0-255). */
export function exportFastNet(values: Map<string, Float32Array>, net: FastNetConfig, path: string, metadata: Record<string, unknown> = {}): void {
  const g = new Graph();
  const x = g.input(FAST_INPUT, [1, 3, 224, 224]);
  const y = buildFastNet(g, x, net, new Rng(0));
  g.setValues(values, { complete: true });
  const model = exportOnnx(g, {
    outputs: { [FAST_OUTPUT]: y },
    params: 'initializers',
    name: 'gesso-fast-style',
    metadata: { gesso: JSON.stringify(metadata) },
  });
  saveOnnx(path, model);
}
