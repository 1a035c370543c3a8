/**
 * Builds a TensorFlow.js (Keras) layers model into gesso's graph. TF.js works in NHWC; gesso in NCHW,
 * so kernels are transposed once here (HWIO -> OIHW; depthwise HWCM -> (C*M, 1, kH, kW) with group C)
 * and the graph takes (N, 3, H, W) images. Every 2-D layer output is NCHW; Flatten restores NHWC order
 * first so Dense layers see what they were trained on. Weights become graph constants (ORT prepacks
 * constant conv weights), so the graph differentiates with respect to its input only.
 * Layer semantics: Keras layer docs (keras.io/api/layers); TF "SAME" padding puts the odd pixel at the end.
 */
import { InputError, ShapeError } from '../core/errors.ts';
import type { Graph, Tensor } from '../graph/graph.ts';
import * as op from '../graph/ops/index.ts';
import type { KerasLayer, TfjsLayersModel } from './model-files.ts';
import type { TfjsWeight } from './weights.ts';

export interface BuildTfjsOptions {
  /** Layer names whose outputs are wanted; layers no output needs are not built. Default: the model's outputs. */
  outputs?: readonly string[];
  /** Replace weights (e.g. a random-weight baseline of the same shapes). */
  weights?: Map<string, TfjsWeight>;
}

/** Layer kinds the importer understands. */
export const SUPPORTED_LAYERS = [
  'InputLayer',
  'ZeroPadding2D',
  'Conv2D',
  'DepthwiseConv2D',
  'BatchNormalization',
  'ReLU',
  'Activation',
  'Add',
  'Concatenate',
  'AveragePooling2D',
  'MaxPooling2D',
  'UpSampling2D',
  'GlobalAveragePooling2D',
  'Flatten',
  'Dense',
  'Dropout',
] as const;

/** Builds the layers needed for `outputs` on `image` (N, 3, H, W); returns each requested layer's output. */
export function buildTfjsLayers(g: Graph, model: TfjsLayersModel, image: Tensor, options: BuildTfjsOptions = {}): Record<string, Tensor> {
  const wanted = [...(options.outputs ?? model.outputLayers)];
  const byName = new Map(model.layers.map((l) => [l.name, l]));
  for (const name of wanted) {
    if (!byName.has(name))
      throw new InputError(
        `${model.source}: no layer named "${name}" (layers include ${model.layers
          .slice(1, 6)
          .map((l) => l.name)
          .join(', ')}, ...)`,
      );
  }
  const needed = neededLayers(wanted, byName);
  const weights = options.weights ?? model.weights;
  const values = new Map<string, Tensor>();
  for (const layer of model.layers) {
    if (!needed.has(layer.name)) continue;
    const inputs = (layer.inbound_nodes[0] ?? []).map(([name]) => {
      const t = values.get(name);
      if (!t) throw new InputError(`${model.source}: layer "${layer.name}" reads "${name}", which comes later or is missing`);
      return t;
    });
    if (layer.inbound_nodes.length > 1)
      throw new InputError(`${model.source}: layer "${layer.name}" is called ${layer.inbound_nodes.length} times; shared layers are not supported`);
    const w = (suffix: string): Tensor | null => weightOf(g, weights, `${layer.name}/${suffix}`);
    values.set(layer.name, buildLayer(layer, layer.class_name === 'InputLayer' ? [image] : inputs, w, model.source));
  }
  return Object.fromEntries(wanted.map((n) => [n, values.get(n) as Tensor]));
}

function neededLayers(wanted: string[], byName: Map<string, KerasLayer>): Set<string> {
  const needed = new Set<string>();
  const stack = [...wanted];
  while (stack.length > 0) {
    const name = stack.pop() as string;
    if (needed.has(name)) continue;
    needed.add(name);
    for (const node of byName.get(name)?.inbound_nodes ?? []) for (const [src] of node) stack.push(src);
  }
  return needed;
}

function weightOf(g: Graph, weights: Map<string, TfjsWeight>, name: string): Tensor | null {
  const w = weights.get(name);
  return w ? g.constant(w.data, w.shape, 'float32', name.replace(/[^A-Za-z0-9_]/g, '_')) : null;
}

type WeightGetter = (suffix: string) => Tensor | null;

function buildLayer(layer: KerasLayer, xs: Tensor[], w: WeightGetter, source: string): Tensor {
  const c = layer.config;
  const x = xs[0] as Tensor;
  const need = (suffix: string): Tensor => {
    const t = w(suffix);
    if (!t) throw new InputError(`${source}: layer "${layer.name}" has no weight "${layer.name}/${suffix}" in the weight manifest`);
    return t;
  };
  if (c['data_format'] !== undefined && c['data_format'] !== 'channels_last') {
    throw new InputError(`${source}: layer "${layer.name}" uses data_format ${String(c['data_format'])}; only channels_last is supported`);
  }
  switch (layer.class_name) {
    case 'InputLayer':
      return x;
    case 'Dropout':
      return x;
    case 'ZeroPadding2D': {
      const [[t, b], [l, r]] = pairs(c['padding']);
      return op.pad(x, [0, 0, t, l, 0, 0, b, r]);
    }
    case 'Conv2D': {
      const kernel = op.transpose(need('kernel'), [3, 2, 0, 1]); // HWIO -> (O, I, kH, kW)
      const y = convSame(x, kernel, c, 1);
      return activation(addBias(y, c['use_bias'] ? need('bias') : null), String(c['activation'] ?? 'linear'), layer);
    }
    case 'DepthwiseConv2D': {
      const k = need('depthwise_kernel'); // (kH, kW, C, M)
      const [kh, kw, ch, m] = k.shape as [number, number, number, number];
      const kernel = op.reshape(op.transpose(k, [2, 3, 0, 1]), [ch * m, 1, kh, kw]); // channel c*M + j
      const y = convSame(x, kernel, c, ch);
      return activation(addBias(y, c['use_bias'] ? need('bias') : null), String(c['activation'] ?? 'linear'), layer);
    }
    case 'BatchNormalization':
      return batchNorm(x, c, w, need, layer);
    case 'ReLU': {
      if (Number(c['threshold'] ?? 0) !== 0)
        throw new InputError(`${source}: layer "${layer.name}": ReLU threshold ${String(c['threshold'])} is not supported`);
      const slope = Number(c['negative_slope'] ?? 0);
      const max = c['max_value'] === null || c['max_value'] === undefined ? undefined : Number(c['max_value']);
      const y = slope === 0 ? op.relu(x) : op.leakyRelu(x, slope);
      return max === undefined ? y : slope === 0 ? op.clip(x, 0, max) : op.minimum(y, max);
    }
    case 'Activation':
      return activation(x, String(c['activation']), layer);
    case 'Add':
      return xs.slice(1).reduce((a, b) => op.add(a, b), x);
    case 'Concatenate': {
      const axis = Number(c['axis'] ?? -1);
      if (x.rank === 4 && axis !== -1 && axis !== 3)
        throw new InputError(`${source}: layer "${layer.name}": Concatenate on axis ${axis} is not supported (only channels)`);
      return op.concat(xs, x.rank === 4 ? 1 : -1);
    }
    case 'AveragePooling2D':
    case 'MaxPooling2D':
      return pool(x, c, layer.class_name === 'MaxPooling2D');
    case 'UpSampling2D': {
      // Keras's nearest upsampling repeats each pixel size × size times, as ONNX Resize 'nearest' at an integer scale does.
      const [sh, sw] = Array.isArray(c['size']) ? (c['size'] as number[]) : [Number(c['size']), Number(c['size'])];
      const mode = String(c['interpolation'] ?? 'nearest');
      if (sh !== sw || !Number.isInteger(sh) || (sh as number) < 1 || mode !== 'nearest')
        throw new InputError(
          `${source}: layer "${layer.name}": UpSampling2D size ${JSON.stringify(c['size'])} ${mode} is not supported (equal integer sizes, nearest)`,
        );
      return op.resize(x, sh as number, 'nearest'); // (N, C, H·s, W·s)
    }
    case 'GlobalAveragePooling2D':
      return op.reduceMean(x, [2, 3]);
    case 'Flatten':
      return x.rank === 4 ? op.flatten(op.transpose(x, [0, 2, 3, 1])) : op.flatten(x);
    case 'Dense': {
      const y = op.matmul(x, need('kernel'));
      return activation(c['use_bias'] ? op.add(y, need('bias')) : y, String(c['activation'] ?? 'linear'), layer);
    }
    default:
      throw new InputError(`${source}: layer "${layer.name}" is a ${layer.class_name}; the importer supports ${SUPPORTED_LAYERS.join(', ')}`);
  }
}

/** [[top, bottom], [left, right]] from Keras's int / [h, w] / [[t, b], [l, r]] forms. */
function pairs(p: unknown): [[number, number], [number, number]] {
  if (typeof p === 'number')
    return [
      [p, p],
      [p, p],
    ];
  const [a, b] = p as [number | number[], number | number[]];
  const pair = (v: number | number[]): [number, number] => (typeof v === 'number' ? [v, v] : [v[0] as number, v[1] as number]);
  return [pair(a), pair(b)];
}

function twice(v: unknown, fallback: number): [number, number] {
  if (v === undefined || v === null) return [fallback, fallback];
  if (typeof v === 'number') return [v, v];
  const a = v as number[];
  return [a[0] as number, a[1] as number];
}

/** TF padding for one spatial dim: VALID pads nothing; SAME pads so out = ceil(in / stride), odd pixel at the end. */
function samePads(size: number, k: number, stride: number, dilation: number): [number, number] {
  const span = dilation * (k - 1) + 1;
  const total = Math.max((Math.ceil(size / stride) - 1) * stride + span - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

function convSame(x: Tensor, kernel: Tensor, c: Record<string, unknown>, group: number): Tensor {
  const strides = twice(c['strides'], 1);
  const dilations = twice(c['dilation_rate'], 1);
  const [kh, kw] = [kernel.shape[2] as number, kernel.shape[3] as number];
  let pads = [0, 0, 0, 0];
  if (c['padding'] === 'same') {
    const [t, b] = samePads(x.shape[2] as number, kh, strides[0], dilations[0]);
    const [l, r] = samePads(x.shape[3] as number, kw, strides[1], dilations[1]);
    pads = [t, l, b, r];
  }
  return op.conv(x, kernel, null, { strides, dilations, pads, group });
}

function addBias(y: Tensor, bias: Tensor | null): Tensor {
  return bias ? op.add(y, op.reshape(bias, [1, -1, 1, 1])) : y;
}

function batchNorm(x: Tensor, c: Record<string, unknown>, w: WeightGetter, need: (s: string) => Tensor, layer: KerasLayer): Tensor {
  const axis = Number(c['axis'] ?? -1);
  if (x.rank === 4 && axis !== -1 && axis !== 3)
    throw new InputError(`layer "${layer.name}": BatchNormalization over axis ${axis} is not supported (only channels)`);
  const eps = Number(c['epsilon'] ?? 1e-3);
  const shape = x.rank === 4 ? [1, -1, 1, 1] : [1, -1];
  const mean = need('moving_mean');
  const variance = need('moving_variance');
  const gamma = c['scale'] === false ? null : w('gamma');
  const beta = c['center'] === false ? null : w('beta');
  // y = (x - mean) * gamma / sqrt(var + eps) + beta, as one scale and one shift per channel.
  let scale = op.reciprocal(op.sqrt(op.add(variance, eps)));
  if (gamma) scale = op.mul(scale, gamma);
  let shift = op.neg(op.mul(mean, scale));
  if (beta) shift = op.add(shift, beta);
  return op.add(op.mul(x, op.reshape(scale, shape)), op.reshape(shift, shape));
}

function pool(x: Tensor, c: Record<string, unknown>, max: boolean): Tensor {
  const kernel = twice(c['pool_size'], 2);
  const strides = twice(c['strides'] ?? c['pool_size'], 2);
  const [h, wd] = [x.shape[2] as number, x.shape[3] as number];
  if (c['padding'] !== 'same') return max ? op.maxPool(x, { kernel, strides }) : op.avgPool(x, { kernel, strides });
  const [t, b] = samePads(h, kernel[0], strides[0], 1);
  const [l, r] = samePads(wd, kernel[1], strides[1], 1);
  const pads = [t, l, b, r];
  if (max) return op.maxPool(x, { kernel, strides, pads });
  // TF's SAME average pooling divides by the cells inside the image, not the window area: rescale.
  const y = op.avgPool(x, { kernel, strides, pads });
  const [oh, ow] = [y.shape[2] as number, y.shape[3] as number];
  const factor = new Float32Array(oh * ow);
  for (let i = 0; i < oh; i++) {
    for (let j = 0; j < ow; j++) {
      const rows = Math.min(i * strides[0] - t + kernel[0], h) - Math.max(i * strides[0] - t, 0);
      const cols = Math.min(j * strides[1] - l + kernel[1], wd) - Math.max(j * strides[1] - l, 0);
      factor[i * ow + j] = (kernel[0] * kernel[1]) / (rows * cols);
    }
  }
  return op.mul(y, x.graph.constant(factor, [1, 1, oh, ow], 'float32', 'same_avgpool_scale'));
}

function activation(x: Tensor, name: string, layer: KerasLayer): Tensor {
  switch (name) {
    case 'linear':
      return x;
    case 'relu':
      return op.relu(x);
    case 'relu6':
      return op.clip(x, 0, 6);
    case 'sigmoid':
      return op.sigmoid(x);
    case 'tanh':
      return op.tanh(x);
    case 'softmax':
      return op.softmax(x, x.rank === 4 ? 1 : -1);
    case 'swish':
    case 'silu':
      return op.silu(x);
    default:
      throw new ShapeError(`layer "${layer.name}": activation "${name}" is not supported`);
  }
}
