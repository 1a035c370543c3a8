/**
 * A user's VGG-style encoder from an ONNX file, with layers chosen by the names style-transfer papers
 * use: conv1_1, relu1_1, relu1_2, pool1, relu2_1 ... (the n-th conv/ReLU of the b-th block, blocks
 * ending at each pooling), or by any tensor name in the file. The ONNX nodes up to the deepest chosen
 * layer are rebuilt in gesso's graph (Conv, Relu, MaxPool, AveragePool, elementwise Add/Sub/Mul/Div,
 * Identity, Dropout), with the weights as constants, so the features are differentiable for Gatys and
 * usable for decoder training. Input normalisation follows the file's convention (`imagenet`: torchvision's
 * (x - mean) / std on [0, 1] RGB; `caffe`: BGR 0-255 minus the mean, as the original VGG release).
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { InputError } from '../core/errors.ts';
import type { Graph, Tensor } from '../graph/graph.ts';
import * as op from '../graph/ops/index.ts';
import { decodeModel, type AttributeProtoObject, type NodeProtoObject, type TensorProtoObject } from '../graph/onnx-proto.ts';
import type { FeatureEncoder } from './encoder.ts';

export type InputNormalisation = 'imagenet' | 'caffe' | 'none';

export interface OnnxEncoderInfo {
  /** Paper-style name (relu3_1) -> the ONNX tensor it denotes. */
  layerNames: Map<string, string>;
}

/** Gives paper-style names to the outputs of a VGG-like node list. */
export function vggLayerNames(nodes: readonly NodeProtoObject[]): Map<string, string> {
  const names = new Map<string, string>();
  let block = 1;
  let index = 0;
  for (const n of nodes) {
    const out = n.output?.[0];
    if (!out) continue;
    if (n.op_type === 'Conv') {
      index++;
      names.set(`conv${block}_${index}`, out);
    } else if (n.op_type === 'Relu' && index > 0) names.set(`relu${block}_${index}`, out);
    else if (n.op_type === 'MaxPool' || n.op_type === 'AveragePool') {
      names.set(`pool${block}`, out);
      block++;
      index = 0;
    }
  }
  return names;
}

/** Reads an ONNX encoder; `defaults` name its content and style layers (VGG-19 conventions by default). */
export function onnxEncoder(
  path: string,
  options: { normalise?: InputNormalisation; defaults?: FeatureEncoder['defaults'] } = {},
): FeatureEncoder & OnnxEncoderInfo {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new InputError(`encoder ${JSON.stringify(path)} cannot be read: ${(e as Error).message}`);
  }
  let model;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    throw new InputError(`${path}: not an ONNX model (${(e as Error).message})`);
  }
  const graph = model.graph ?? {};
  const nodes = graph.node ?? [];
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const input = (graph.input ?? []).find((i) => !inits.has(i.name));
  if (!input) throw new InputError(`${path}: has no image input`);
  const layerNames = vggLayerNames(nodes);
  const producer = new Map<string, NodeProtoObject>();
  for (const n of nodes) for (const o of n.output ?? []) producer.set(o, n);
  const normalise = options.normalise ?? 'imagenet';
  const id = `onnx:${createHash('sha256').update(bytes).digest('hex').slice(0, 12)}`;

  const resolve = (layer: string): string => {
    const t = layerNames.get(layer) ?? (producer.has(layer) ? layer : undefined);
    if (!t)
      throw new InputError(
        `${path}: no layer "${layer}"; VGG-style names here are ${[...layerNames.keys()].slice(0, 8).join(', ')}, ... (or give an ONNX tensor name)`,
      );
    return t;
  };
  return {
    id,
    layerNames,
    defaults: options.defaults ?? { content: ['relu4_2'], style: ['relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu5_1'] },
    features(g: Graph, image: Tensor, layers: readonly string[]): Record<string, Tensor> {
      const values = new Map<string, Tensor>([[input.name, normaliseInput(image, normalise)]]);
      const build = (name: string): Tensor => {
        const known = values.get(name);
        if (known) return known;
        const init = inits.get(name);
        if (init) {
          const t = g.constant(tensorData(init, path), init.dims ?? [], 'float32', 'onnx_weight');
          values.set(name, t);
          return t;
        }
        const n = producer.get(name);
        if (!n) throw new InputError(`${path}: tensor "${name}" has no producer`);
        const t = buildNode(
          n,
          (n.input ?? []).map((i) => (i === '' ? null : build(i))),
          path,
        );
        values.set(name, t);
        return t;
      };
      return Object.fromEntries(layers.map((l) => [l, build(resolve(l))]));
    },
  };
}

function normaliseInput(x: Tensor, how: InputNormalisation): Tensor {
  const g = x.graph;
  if (how === 'none') return x;
  if (how === 'imagenet') {
    const mean = g.constant(Float32Array.of(0.485, 0.456, 0.406), [1, 3, 1, 1], 'float32', 'imagenet_mean');
    const std = g.constant(Float32Array.of(0.229, 0.224, 0.225), [1, 3, 1, 1], 'float32', 'imagenet_std');
    return op.div(op.sub(x, mean), std);
  }
  // Caffe: BGR order, 0-255, minus the per-channel mean (103.939, 116.779, 123.68).
  const bgr = op.concat([op.slice(x, [2], [3], [1]), op.slice(x, [1], [2], [1]), op.slice(x, [0], [1], [1])], 1);
  return op.sub(op.mul(bgr, 255), g.constant(Float32Array.of(103.939, 116.779, 123.68), [1, 3, 1, 1], 'float32', 'caffe_mean'));
}

/** The float32 initializers (trained weights) of a single-file ONNX model, by name. */
export function onnxInitializers(path: string): Map<string, Float32Array> {
  let model;
  try {
    model = decodeModel(readFileSync(path));
  } catch (e) {
    throw new InputError(`${path}: not a readable ONNX model (${(e as Error).message})`);
  }
  return new Map((model.graph?.initializer ?? []).filter((t) => t.data_type === 1).map((t) => [t.name ?? '', tensorData(t, path)]));
}

function tensorData(t: TensorProtoObject, path: string): Float32Array {
  if (t.data_type !== 1) throw new InputError(`${path}: weight "${t.name}" is not float32 (data type ${t.data_type})`);
  if (t.data_location === 1) throw new InputError(`${path}: weight "${t.name}" is in external data; give a single-file ONNX encoder`);
  if (t.raw_data && t.raw_data.length > 0)
    return new Float32Array(t.raw_data.buffer.slice(t.raw_data.byteOffset, t.raw_data.byteOffset + t.raw_data.byteLength));
  return Float32Array.from(t.float_data ?? []);
}

function attr(n: NodeProtoObject, name: string): AttributeProtoObject | undefined {
  return n.attribute?.find((a) => a.name === name);
}

function buildNode(n: NodeProtoObject, xs: (Tensor | null)[], path: string): Tensor {
  const x = xs[0] as Tensor;
  const ints = (name: string): number[] | undefined => attr(n, name)?.ints?.map(Number);
  const autoPad = attr(n, 'auto_pad')?.s;
  if (autoPad && new TextDecoder().decode(autoPad) !== 'NOTSET')
    throw new InputError(`${path}: node ${n.name} uses auto_pad; only explicit pads are supported`);
  switch (n.op_type) {
    case 'Conv':
      return op.conv(x, xs[1] as Tensor, xs[2] ?? null, {
        strides: ints('strides'),
        pads: ints('pads'),
        dilations: ints('dilations'),
        group: Number(attr(n, 'group')?.i ?? 1),
      });
    case 'Relu':
      return op.relu(x);
    case 'MaxPool':
      return op.maxPool(x, { kernel: ints('kernel_shape') ?? [2, 2], strides: ints('strides'), pads: ints('pads') ?? 0 });
    case 'AveragePool':
      return op.avgPool(x, { kernel: ints('kernel_shape') ?? [2, 2], strides: ints('strides'), pads: ints('pads') ?? 0 });
    case 'Add':
      return op.add(x, xs[1] as Tensor);
    case 'Sub':
      return op.sub(x, xs[1] as Tensor);
    case 'Mul':
      return op.mul(x, xs[1] as Tensor);
    case 'Div':
      return op.div(x, xs[1] as Tensor);
    case 'Identity':
    case 'Dropout':
      return x;
    default:
      throw new InputError(
        `${path}: node ${n.name ?? ''} is ${n.op_type}; the encoder import supports Conv, Relu, MaxPool, AveragePool, Add, Sub, Mul, Div, Identity, Dropout`,
      );
  }
}
