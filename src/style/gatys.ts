/**
 * Style transfer by optimisation (Gatys, Ecker & Bethge, "Image Style Transfer Using Convolutional
 * Neural Networks", CVPR 2016): the image itself is the one trainable parameter of a gesso graph whose
 * loss is content error + Gram-matrix style error + total variation, and Adam updates it inside the
 * same ONNX training-step graph that gesso's autodiff derives for any model.
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
import { TrainSession } from '../train/train-session.ts';
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
  /** Fractions of the full size to optimise at, coarse to fine, ending with 1. */
  scales?: readonly number[];
  /** Called after each iteration (1-based, over all scales). */
  onIteration?: (iteration: number, total: number, losses: { loss: number; content: number; style: number; tv: number }) => void;
  /** Called with the current image every `intermediateEvery` iterations. */
  onIntermediate?: (image: RgbPlanes, iteration: number) => void | Promise<void>;
  intermediateEvery?: number;
  signal?: AbortSignal;
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
  const scales = options.scales ?? (Math.max(content.width, content.height) >= 256 ? [0.5, 1] : [1]);
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
    const start: RgbPlanes = image ? await resizePlanes(image, size.width, size.height) : await resizePlanes(content, size.width, size.height);
    image = await optimiseAtSize(encoder, await resizePlanes(content, size.width, size.height), styles, start, perScale[i] as number, done, total, options);
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
  const contentLayers = o.contentLayers ?? encoder.defaults.content;
  const styleLayers = o.styleLayers ?? encoder.defaults.style;
  const { width, height } = content;
  const targets = await extractFeatures(encoder, content, { features: contentLayers });
  // Style images are brought to the content's scale (the same longer side), so textures keep their size.
  const styleGrams = await Promise.all(
    styles.map(async (s) => {
      const size = fitSize(s.image.width, s.image.height, Math.max(width, height));
      return (await extractFeatures(encoder, await resizePlanes(s.image, size.width, size.height), { grams: styleLayers })).grams;
    }),
  );

  const { g, step } = buildGatysStep(encoder, start, targets.features, styles, styleGrams, { ...o, contentLayers, styleLayers });
  const session = await TrainSession.create(g, step, { inProcess: true });
  const lr = o.learningRate ?? GATYS_DEFAULTS.learningRate;
  try {
    for (let it = 1; it <= iterations; it++) {
      if (o.signal?.aborted) throw new InputError('style transfer was cancelled');
      const r = await session.step({}, lr);
      if (!Number.isFinite(r.loss)) throw new InputError(`style transfer diverged at iteration ${offset + it} (loss ${r.loss}); try a lower learning rate`);
      o.onIteration?.(offset + it, total, { loss: r.loss, content: r.metrics['content'] ?? NaN, style: r.metrics['style'] ?? NaN, tv: r.metrics['tv'] ?? NaN });
      if (o.onIntermediate && o.intermediateEvery && (offset + it) % o.intermediateEvery === 0) {
        await o.onIntermediate(await current(session, width, height), offset + it);
      }
    }
    return await current(session, width, height);
  } finally {
    await session.release();
  }
}

/** Content targets by layer and each style's Gram targets by layer, measured on host beforehand. */
type Targets = Map<string, { shape: number[]; data: Float32Array }>;

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
  const { contentLayers, styleLayers } = o;
  const { width, height } = start;
  const g = new Graph();
  const x = g.param('image', [1, 3, height, width], Float32Array.from(start.data)); // (1, 3, H, W)
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
  const loss = op.add(op.add(cl, op.mul(styleLoss, styleWeight)), op.mul(tv, tvWeight * 100));
  const step = buildTrainStep(g, { loss, optimizer: { kind: 'adam' }, metrics: { content: cl, style: styleLoss, tv } });
  return { g, step };
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
