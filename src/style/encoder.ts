/**
 * Perceptual encoders for style transfer: a network whose intermediate layers give the features that
 * content losses, Gram matrices (style) and AdaIN statistics are taken from. An encoder builds its
 * layers into any graph on an image (N, 3, H, W) with pixels in [0, 1], so the same features serve
 * a feature-extraction session, the Gatys optimisation graph and decoder training.
 *
 * The default is nsfwjs's MobileNetV2 (MIT, weights inside the npm package): nothing to download.
 */
import { Rng } from '../core/rng.ts';
import type { Graph, Tensor } from '../graph/graph.ts';
import { buildTfjsLayers } from '../tfjs/layers-graph.ts';
import { nsfwjsModelDir, readTfjsModel, type NsfwjsModelName, type TfjsLayersModel } from '../tfjs/model-files.ts';
import type { TfjsWeight } from '../tfjs/weights.ts';

export interface FeatureEncoder {
  /** Names the encoder in recipes: `nsfwjs:mobilenet_v2`, `onnx:<sha256 prefix>`, `...+random(seed)`. */
  readonly id: string;
  /** Layers used when the caller names none. */
  readonly defaults: { readonly content: readonly string[]; readonly style: readonly string[] };
  /** Builds the named layers' outputs, each (N, C, h, w), for `image` (N, 3, H, W) in [0, 1]. */
  features(g: Graph, image: Tensor, layers: readonly string[]): Record<string, Tensor>;
}

/**
 * Layers of MobileNetV2 (Keras names; 'pixels' is the image itself, for the palette). Style: the expansion ReLUs at 1/2, 1/4, 1/8 and 1/16 of the
 * image size, the analogue of VGG's relu1_1..relu4_1; content: the 1/8 expansion, like VGG's relu4_2
 * sits one level below the deepest style layer. Chosen with `npm run eval:style` against a
 * random-weight encoder of the same shape (docs/style-transfer.md).
 */
export const MOBILENET_V2_LAYERS = {
  content: ['block_6_expand_relu'],
  style: ['pixels', 'Conv1_relu', 'block_1_expand_relu', 'block_3_expand_relu', 'block_6_expand_relu', 'block_13_expand_relu'],
} as const;

const cache = new Map<string, TfjsLayersModel>();

/** A TF.js layers model as an encoder (inputs scaled from [0, 1] by `inputScale`, `inputShift`). */
export function tfjsEncoder(
  model: TfjsLayersModel,
  id: string,
  defaults: FeatureEncoder['defaults'],
  options: { weights?: Map<string, TfjsWeight> } = {},
): FeatureEncoder {
  return {
    id,
    defaults,
    features: (g, image, layers) => buildTfjsLayers(g, model, image, { outputs: layers, ...(options.weights ? { weights: options.weights } : {}) }),
  };
}

/** nsfwjs's MobileNetV2, which takes pixels in [0, 1] as nsfwjs feeds them. Read once per process. */
export function defaultEncoder(): FeatureEncoder {
  return tfjsEncoder(nsfwjsModel('mobilenet_v2'), 'nsfwjs:mobilenet_v2', MOBILENET_V2_LAYERS);
}

export function nsfwjsModel(name: NsfwjsModelName): TfjsLayersModel {
  let model = cache.get(name);
  if (!model) {
    model = readTfjsModel(nsfwjsModelDir(name));
    cache.set(name, model);
  }
  return model;
}

/**
 * The baseline the encoder choice is measured against: the same network with random weights
 * (He-normal kernels, batch norms as identity, zero biases), seeded.
 */
export function randomWeightEncoder(seed = 1): FeatureEncoder {
  const model = nsfwjsModel('mobilenet_v2');
  const rng = new Rng(seed);
  const weights = new Map<string, TfjsWeight>();
  for (const [name, w] of model.weights) {
    const size = w.data.length;
    const leaf = name.slice(name.lastIndexOf('/') + 1);
    let data: Float32Array;
    if (leaf === 'kernel' || leaf === 'depthwise_kernel') {
      // fan_in = kH * kW * C_in for a conv (HWIO), kH * kW for a depthwise kernel, rows for a Dense kernel.
      const fanIn = leaf === 'depthwise_kernel' ? (w.shape[0] as number) * (w.shape[1] as number) : size / (w.shape[w.shape.length - 1] as number);
      data = rng.normal(size, Math.sqrt(2 / fanIn));
    } else if (leaf === 'gamma' || leaf === 'moving_variance') data = new Float32Array(size).fill(1);
    else data = new Float32Array(size);
    weights.set(name, { shape: w.shape, data });
  }
  return tfjsEncoder(model, `nsfwjs:mobilenet_v2+random(${seed})`, MOBILENET_V2_LAYERS, { weights });
}
