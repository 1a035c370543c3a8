/**
 * Style transfer by optimisation (Gatys, Ecker & Bethge, "Image Style Transfer Using Convolutional
 * Neural Networks", CVPR 2016): the image itself is the one trainable parameter of a gesso graph whose
 * loss is content error + Gram-matrix style error + total variation. Two optimisers:
 * - 'adam' (default): Adam updates the image inside the ONNX training-step graph gesso's autodiff derives;
 * - 'lbfgs' (as Gatys et al. used): the graph returns the loss and its gradient with respect to the image,
 *   and ./lbfgs.ts (two-loop recursion + backtracking line search) steps on the flat pixel buffer.
 * - Sequences (./sequence.ts): `start` begins from a given image (the previous frame's result, warped) and
 *   `temporal` adds a loss that keeps the image near it where the motion estimate is reliable (Ruder,
 *   Dosovitskiy & Brox, "Artistic style transfer for videos", 2016).
 *
 * - Several styles: their Gram targets are mixed by weight (one loss per layer); with masks, each style
 *   gets its own loss on the Gram matrix of the masked features (Gatys et al. 2017, spatial control).
 * - Coarse to fine: the first scales run at a fraction of the size and seed the next.
 * - Losses are relative (divided by the target's mean square) so one set of weights fits every layer.
 */
import { InputError } from '../core/errors.ts';
import { Graph, type Tensor } from '../graph/graph.ts';
import * as op from '../graph/ops/index.ts';
import { buildTrainStep, type TrainStep } from '../autodiff/train-step.ts';
import { gradients } from '../autodiff/grad.ts';
import { exportOnnx } from '../graph/export.ts';
import { Session } from '../runtime/session.ts';
import { TrainSession } from '../train/train-session.ts';
import { lbfgsMinimize } from './lbfgs.ts';
import type { FeatureEncoder } from './encoder.ts';
import { extractFeatures } from './features.ts';
import { PIXELS } from './pixels-layer.ts';
import { gram, meanSquare, relativeMse, totalVariation } from './gram.ts';
import { fitSize, resampleMask, resizePlanes, type RgbPlanes } from './planes.ts';

export interface WeightedStyle {
  image: RgbPlanes;
  weight: number;
  /** (H, W) at the content's size, 1 where this style applies; omitted: everywhere. */
  mask?: Float32Array;
}

export interface GatysOptions {
  iterations?: number;
  /** Adam learning rate on pixels in [0, 1]. */
  learningRate?: number;
  /** Weight of the style loss against a content weight of 1. */
  styleWeight?: number;
  tvWeight?: number;
  contentLayers?: readonly string[];
  styleLayers?: readonly string[];
  /** Fractions of the full size to optimise at, coarse to fine, ending with 1 (default [1] with `start`). */
  scales?: readonly number[];
  /** 'adam' (default) or 'lbfgs'. An L-BFGS iteration may evaluate the loss more than once (line search). */
  optimizer?: GatysOptimizer;
  /** Start from this image (at the content's size) instead of the content. */
  start?: RgbPlanes;
  /** Keep the result near `target` where `confidence` (H·W, 0..1) is high: weight · mean(conf · (x − target)²). */
  temporal?: TemporalPrior;
  /** Called after each iteration (1-based, over all scales). */
  onIteration?: (iteration: number, total: number, losses: { loss: number; content: number; style: number; tv: number }) => void;
  /** Called with the current image every `intermediateEvery` iterations. */
  onIntermediate?: (image: RgbPlanes, iteration: number) => void | Promise<void>;
  intermediateEvery?: number;
  signal?: AbortSignal;
}

export type GatysOptimizer = 'adam' | 'lbfgs';
export const GATYS_OPTIMIZERS: readonly GatysOptimizer[] = ['adam', 'lbfgs'];

export interface TemporalPrior {
  target: RgbPlanes;
  confidence: Float32Array;
  weight: number;
}

function withoutPixels(layers: string[]): string[] {
  return layers.filter((l) => l !== PIXELS);
}

export const GATYS_DEFAULTS = { iterations: 200, learningRate: 0.05, styleWeight: 30, tvWeight: 0.5 } as const;

/** Optimises an image that keeps `content`'s layout with the styles' textures; returns it at `content`'s size. */
export async function gatysTransfer(
  encoder: FeatureEncoder,
  content: RgbPlanes,
  styles: readonly WeightedStyle[],
  options: GatysOptions = {},
): Promise<RgbPlanes> {
  if (styles.length === 0) throw new InputError('style transfer needs at least one style image');
  const iterations = options.iterations ?? GATYS_DEFAULTS.iterations;
  if (!Number.isInteger(iterations) || iterations < 1) throw new InputError(`iterations is ${iterations}; expected a whole number >= 1`);
  const optimizer = options.optimizer ?? 'adam';
  if (!GATYS_OPTIMIZERS.includes(optimizer)) throw new InputError(`optimizer "${String(optimizer)}" is not one of ${GATYS_OPTIMIZERS.join(', ')}`);
  for (const [what, p] of [
    ['start image', options.start],
    ['temporal target', options.temporal?.target],
  ] as const) {
    if (p && (p.width !== content.width || p.height !== content.height))
      throw new InputError(`${what} is ${p.width}x${p.height}; it must be the content's size, ${content.width}x${content.height}`);
  }
  const scales = options.scales ?? (options.start || Math.max(content.width, content.height) < 256 ? [1] : [0.5, 1]);
  if (scales.length === 0 || scales[scales.length - 1] !== 1 || scales.some((s) => !(s > 0 && s <= 1))) {
    throw new InputError(`scales ${JSON.stringify(scales)} must be fractions in (0, 1] ending with 1`);
  }
  // Coarse scales are cheap: give them half of the iterations between them.
  const perScale = scales.map((_, i) =>
    scales.length === 1
      ? iterations
      : i < scales.length - 1
        ? Math.max(1, Math.round(iterations / 2 / (scales.length - 1)))
        : Math.max(1, iterations - Math.round(iterations / 2)),
  );
  const total = perScale.reduce((a, b) => a + b, 0);
  let image: RgbPlanes | null = null;
  let done = 0;
  for (const [i, scale] of scales.entries()) {
    const size =
      scale === 1
        ? { width: content.width, height: content.height }
        : fitSize(content.width, content.height, Math.max(16, Math.round(Math.max(content.width, content.height) * scale)));
    const start: RgbPlanes = await resizePlanes(image ?? options.start ?? content, size.width, size.height);
    // The temporal prior is at the content's size: it applies at the last (full) scale only.
    const o = scale === 1 ? options : { ...options, temporal: undefined };
    const scaled = await resizePlanes(content, size.width, size.height);
    image =
      optimizer === 'lbfgs'
        ? await lbfgsAtSize(encoder, scaled, styles, start, perScale[i] as number, done, total, o)
        : await optimiseAtSize(encoder, scaled, styles, start, perScale[i] as number, done, total, o);
    done += perScale[i] as number;
  }
  return image as RgbPlanes;
}

async function optimiseAtSize(
  encoder: FeatureEncoder,
  content: RgbPlanes,
  styles: readonly WeightedStyle[],
  start: RgbPlanes,
  iterations: number,
  offset: number,
  total: number,
  o: GatysOptions,
): Promise<RgbPlanes> {
  const { width, height } = content;
  const t = await measureTargets(encoder, content, styles, o);
  const { g, step } = buildGatysStep(encoder, start, t.content, styles, t.styleGrams, { ...o, ...t.layers });
  const session = await TrainSession.create(g, step, { inProcess: true });
  const lr = o.learningRate ?? GATYS_DEFAULTS.learningRate;
  try {
    for (let it = 1; it <= iterations; it++) {
      if (o.signal?.aborted) throw new InputError('style transfer was cancelled');
      const r = await session.step({}, lr);
      await afterIteration(o, offset + it, total, r, () => current(session, width, height));
    }
    return await current(session, width, height);
  } finally {
    await session.release();
  }
}

/** What both optimisers do after an iteration: cancellation, divergence, progress and intermediate images. */
async function afterIteration(
  o: GatysOptions,
  iteration: number,
  total: number,
  r: { loss: number; metrics: Record<string, number> },
  image: () => Promise<RgbPlanes>,
): Promise<void> {
  if (o.signal?.aborted) throw new InputError('style transfer was cancelled');
  if (!Number.isFinite(r.loss))
    throw new InputError(`style transfer diverged at iteration ${iteration} (loss ${r.loss}); try a lower learning rate or style weight`);
  const m = r.metrics;
  o.onIteration?.(iteration, total, { loss: r.loss, content: m['content'] ?? NaN, style: m['style'] ?? NaN, tv: m['tv'] ?? NaN });
  if (o.onIntermediate && o.intermediateEvery && iteration % o.intermediateEvery === 0) await o.onIntermediate(await image(), iteration);
}

/** Content targets by layer and each style's Gram targets by layer, measured on host beforehand. */
type Targets = Map<string, { shape: number[]; data: Float32Array }>;

async function measureTargets(
  encoder: FeatureEncoder,
  content: RgbPlanes,
  styles: readonly WeightedStyle[],
  o: GatysOptions,
): Promise<{ content: Targets; styleGrams: Targets[]; layers: { contentLayers: readonly string[]; styleLayers: readonly string[] } }> {
  const contentLayers = o.contentLayers ?? encoder.defaults.content;
  const styleLayers = o.styleLayers ?? encoder.defaults.style;
  const side = Math.max(content.width, content.height);
  const targets = await extractFeatures(encoder, content, { features: contentLayers });
  // Style images are brought to the content's scale (the same longer side), so textures keep their size.
  const styleGrams = await Promise.all(
    styles.map(async (s) => {
      const size = fitSize(s.image.width, s.image.height, side);
      return (await extractFeatures(encoder, await resizePlanes(s.image, size.width, size.height), { grams: styleLayers })).grams;
    }),
  );
  return { content: targets.features, styleGrams, layers: { contentLayers, styleLayers } };
}

/**
 * L-BFGS on the image: a graph (the image an input) gives the loss and its gradient; the optimiser runs
 * on the host over the flat (3·H·W) buffer, projected onto [0, 1] after each step.
 */
async function lbfgsAtSize(
  encoder: FeatureEncoder,
  content: RgbPlanes,
  styles: readonly WeightedStyle[],
  start: RgbPlanes,
  iterations: number,
  offset: number,
  total: number,
  o: GatysOptions,
): Promise<RgbPlanes> {
  const evaluator = await gatysLossEvaluator(encoder, content, styles, o);
  try {
    const x0 = Float32Array.from(start.data, (v) => (v < 0 ? 0 : Math.min(v, 1)));
    const { width, height } = content;
    const result = await lbfgsMinimize(x0, (x) => evaluator.evaluate(x), {
      iterations,
      project: (x) => {
        for (let i = 0; i < x.length; i++) x[i] = Math.min(1, Math.max(0, x[i] as number));
      },
      onIteration: (it, r, x) => afterIteration(o, offset + it, total, r, async () => ({ data: Float32Array.from(x), width, height })),
    });
    return { data: result.x, width, height };
  } finally {
    await evaluator.release();
  }
}

export interface GatysEvaluation {
  loss: number;
  grad: Float32Array;
  metrics: Record<string, number>;
}

/**
 * The Gatys loss and its gradient with respect to the image, as a function of the image (3·H·W values at
 * the content's size): what L-BFGS needs, and how tests compare optimisers on one objective.
 */
export async function gatysLossEvaluator(
  encoder: FeatureEncoder,
  content: RgbPlanes,
  styles: readonly WeightedStyle[],
  o: GatysOptions = {},
): Promise<{ evaluate: (image: Float32Array) => Promise<GatysEvaluation>; release: () => Promise<void> }> {
  const { width, height } = content;
  const t = await measureTargets(encoder, content, styles, o);
  const g = new Graph();
  const x = g.input('image', [1, 3, height, width]); // (1, 3, H, W)
  const { loss, metrics } = buildGatysLoss(g, x, encoder, t.content, styles, t.styleGrams, { ...o, ...t.layers }, width, height);
  const [grad] = gradients(loss, [x]);
  if (!grad) throw new Error('gatys: the loss does not depend on the image');
  const outputs: Record<string, Tensor> = { loss, grad, ...Object.fromEntries(Object.entries(metrics).map(([k, v]) => [`metric.${k}`, v])) };
  const session = await Session.create(exportOnnx(g, { outputs, params: 'initializers' }).bytes, { name: 'gatys loss+gradient' });
  return {
    evaluate: async (image) => {
      const out = await session.run({ image: { dtype: 'float32', dims: [1, 3, height, width], data: image } });
      const scalar = (name: string): number => (out[name]!.data as Float32Array)[0] as number;
      const m: Record<string, number> = {};
      for (const k of Object.keys(metrics)) m[k] = scalar(`metric.${k}`);
      return { loss: scalar('loss'), grad: out['grad']!.data as Float32Array, metrics: m };
    },
    release: () => session.release(),
  };
}

/**
 * The Gatys training-step graph at `start`'s size: the image is the one parameter; targets are baked
 * in as constants. Exported for the benchmark, which times one step of it.
 */
export function buildGatysStep(
  encoder: FeatureEncoder,
  start: RgbPlanes,
  contentTargets: Targets,
  styles: readonly WeightedStyle[],
  styleGrams: Targets[],
  o: GatysOptions & { contentLayers: readonly string[]; styleLayers: readonly string[] },
): { g: Graph; step: TrainStep } {
  const { width, height } = start;
  const g = new Graph();
  const x = g.param('image', [1, 3, height, width], Float32Array.from(start.data)); // (1, 3, H, W)
  const { loss, metrics } = buildGatysLoss(g, x, encoder, contentTargets, styles, styleGrams, o, width, height);
  const step = buildTrainStep(g, { loss, optimizer: { kind: 'adam' }, metrics });
  return { g, step };
}

/** content + styleWeight · style + TV (+ temporal) on the image `x` (1, 3, H, W); metrics name each term. */
function buildGatysLoss(
  g: Graph,
  x: Tensor,
  encoder: FeatureEncoder,
  contentTargets: Targets,
  styles: readonly WeightedStyle[],
  styleGrams: Targets[],
  o: GatysOptions & { contentLayers: readonly string[]; styleLayers: readonly string[] },
  width: number,
  height: number,
): { loss: Tensor; metrics: Record<string, Tensor> } {
  const { contentLayers, styleLayers } = o;
  const clipped = op.clip(x, 0, 1);
  const feats: Record<string, Tensor> = { ...encoder.features(g, clipped, withoutPixels([...new Set([...contentLayers, ...styleLayers])])), [PIXELS]: clipped };
  let contentLoss: Tensor | null = null;
  for (const l of contentLayers) {
    const t = contentTargets.get(l)!;
    const term = relativeMse(feats[l] as Tensor, g.constant(t.data, t.shape, 'float32', 'content_target'), meanSquare(t.data));
    contentLoss = contentLoss ? op.add(contentLoss, term) : term;
  }
  const styleLoss = buildStyleLoss(g, feats, styles, styleGrams, styleLayers, width, height);
  const tv = totalVariation(x);
  const styleWeight = o.styleWeight ?? GATYS_DEFAULTS.styleWeight;
  const tvWeight = o.tvWeight ?? GATYS_DEFAULTS.tvWeight;
  const cl = op.div(contentLoss as Tensor, contentLayers.length);
  let loss = op.add(op.add(cl, op.mul(styleLoss, styleWeight)), op.mul(tv, tvWeight * 100));
  const metrics: Record<string, Tensor> = { content: cl, style: styleLoss, tv };
  if (o.temporal) {
    const { target, confidence, weight } = o.temporal;
    const d = op.sub(clipped, g.constant(target.data, [1, 3, height, width], 'float32', 'temporal_target')); // (1, 3, H, W)
    const temporal = op.reduceMean(op.mul(op.mul(d, d), g.constant(confidence, [1, 1, height, width], 'float32', 'temporal_confidence')));
    loss = op.add(loss, op.mul(temporal, weight));
    metrics['temporal'] = temporal;
  }
  return { loss, metrics };
}

async function current(session: TrainSession, width: number, height: number): Promise<RgbPlanes> {
  const data = (await session.values(['image'])).get('image') as Float32Array;
  return { data: Float32Array.from(data, (v) => (v < 0 ? 0 : Math.min(v, 1))), width, height };
}

/** Without masks: one loss per layer against the weight-mixed Gram target. With masks: one per style and layer. */
function buildStyleLoss(
  g: Graph,
  feats: Record<string, Tensor>,
  styles: readonly WeightedStyle[],
  grams: Map<string, { shape: number[]; data: Float32Array }>[],
  layers: readonly string[],
  width: number,
  height: number,
): Tensor {
  const weightSum = styles.reduce((s, st) => s + st.weight, 0);
  if (!(weightSum > 0)) throw new InputError(`style weights add up to ${weightSum}; expected a positive total`);
  const terms: Tensor[] = [];
  const masked = styles.some((s) => s.mask);
  for (const l of layers) {
    const f = feats[l] as Tensor; // (1, C, h, w)
    if (!masked) {
      const first = grams[0]!.get(l)!;
      const mix = new Float32Array(first.data.length);
      styles.forEach((s, i) => {
        const d = grams[i]!.get(l)!.data;
        for (let k = 0; k < mix.length; k++) mix[k]! += (d[k] as number) * (s.weight / weightSum);
      });
      terms.push(relativeMse(gram(f), g.constant(mix, first.shape, 'float32', 'style_target'), meanSquare(mix)));
      continue;
    }
    const [, , h, w] = f.shape as [number, number, number, number];
    styles.forEach((s, i) => {
      const m = s.mask ? resampleMask(s.mask, width, height, w, h) : new Float32Array(w * h).fill(1);
      const area = m.reduce((a, b) => a + b, 0) / m.length;
      if (area < 1e-4) return; // this style covers no cell at this layer
      const t = grams[i]!.get(l)!;
      // Gram of the masked features, rescaled by the covered area so it compares with a whole-image Gram.
      const gm = op.div(gram(op.mul(f, g.constant(m, [1, 1, h, w], 'float32', 'style_mask'))), area);
      terms.push(op.mul(relativeMse(gm, g.constant(t.data, t.shape, 'float32', 'style_target'), meanSquare(t.data)), s.weight / weightSum));
    });
  }
  return op.div(
    terms.reduce((a, b) => op.add(a, b)),
    layers.length,
  );
}
