/**
 * Small ONNX models for the runtime tests, written directly as ModelProto objects (no graph builder).
 */
import { encodeModel, ONNX_DTYPE, ATTR_TYPE, type AttributeProtoObject, type NodeProtoObject, type ValueInfoProtoObject } from '../../src/graph/onnx-proto.ts';
import { Rng } from '../../src/core/rng.ts';
import type { DType } from '../../src/runtime/tensor.ts';

export function valueInfo(name: string, dtype: DType, dims: (number | string)[]): ValueInfoProtoObject {
  const dim = dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d }));
  return { name, type: { tensor_type: { elem_type: ONNX_DTYPE[dtype], shape: { dim } } } };
}

export function node(op_type: string, input: string[], output: string[], attribute: AttributeProtoObject[] = []): NodeProtoObject {
  return { op_type, input, output, attribute };
}

interface GraphSpec {
  nodes: NodeProtoObject[];
  inputs: ValueInfoProtoObject[];
  outputs: ValueInfoProtoObject[];
  constants?: Record<string, { dtype?: 'float32' | 'int64'; dims: number[]; values: number[] }>;
}

export function model(spec: GraphSpec): Uint8Array {
  const initializer = Object.entries(spec.constants ?? {}).map(([name, c]) =>
    c.dtype === 'int64'
      ? { name, dims: c.dims, data_type: ONNX_DTYPE.int64, int64_data: c.values }
      : { name, dims: c.dims, data_type: ONNX_DTYPE.float32, float_data: c.values },
  );
  return encodeModel({
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    producer_name: 'gesso-tests',
    graph: { name: 'test', node: spec.nodes, input: spec.inputs, output: spec.outputs, initializer },
  });
}

/** y = x * w + b with a symbolic batch dim; t_next = timestep + 1 (int64). */
export function affineModel(): Uint8Array {
  return model({
    nodes: [node('Mul', ['x', 'w'], ['xw']), node('Add', ['xw', 'b'], ['y']), node('Add', ['timestep', 'one'], ['t_next'])],
    inputs: [valueInfo('x', 'float32', ['batch', 3]), valueInfo('w', 'float32', [3]), valueInfo('b', 'float32', [3]), valueInfo('timestep', 'int64', [1])],
    outputs: [valueInfo('y', 'float32', ['batch', 3]), valueInfo('t_next', 'int64', [1])],
    constants: { one: { dtype: 'int64', dims: [1], values: [1] } },
  });
}

/**
 * One SGD-with-momentum step on n parameters: m' = 0.9 m + g, w' = w - 0.1 m'; loss = sum(w * g).
 * State inputs w and m.w; outputs new.w, new.m.w and loss.
 */
export function momentumModel(n: number): Uint8Array {
  return model({
    nodes: [
      node('Mul', ['m.w', 'beta'], ['m_scaled']),
      node('Add', ['m_scaled', 'g'], ['new.m.w']),
      node('Mul', ['new.m.w', 'lr'], ['step']),
      node('Sub', ['w', 'step'], ['new.w']),
      node('Mul', ['w', 'g'], ['wg']),
      node('ReduceSum', ['wg'], ['loss'], [{ name: 'keepdims', type: ATTR_TYPE.INT, i: 0 }]),
    ],
    inputs: [valueInfo('g', 'float32', [n]), valueInfo('w', 'float32', [n]), valueInfo('m.w', 'float32', [n])],
    outputs: [valueInfo('loss', 'float32', []), valueInfo('new.w', 'float32', [n]), valueInfo('new.m.w', 'float32', [n])],
    constants: { beta: { dims: [], values: [0.9] }, lr: { dims: [], values: [0.1] } },
  });
}

/** a + b with unrelated symbolic dims: passes gesso's checks, then ORT refuses mismatched lengths. */
export function broadcastModel(): Uint8Array {
  return model({
    nodes: [node('Add', ['a', 'b'], ['c'])],
    inputs: [valueInfo('a', 'float32', ['n']), valueInfo('b', 'float32', ['m'])],
    outputs: [valueInfo('c', 'float32', ['k'])],
  });
}

/** `count` chained (size x size) MatMuls: roughly count * 2 size^3 FLOPs, to keep ORT busy. */
export function matmulChainModel(size: number, count: number): Uint8Array {
  const nodes: NodeProtoObject[] = [];
  let last = 'x';
  for (let i = 0; i < count; i++) {
    nodes.push(node('MatMul', [last, 'w'], [`h${i}`]));
    last = `h${i}`;
  }
  nodes.push(node('Identity', [last], ['y']));
  return model({
    nodes,
    inputs: [valueInfo('x', 'float32', [size, size]), valueInfo('w', 'float32', [size, size])],
    outputs: [valueInfo('y', 'float32', [size, size])],
  });
}

/**
 * Two 3x3 convolutions (channels -> channels, pad 1) with a Relu between, weights as constants:
 * a small conv net for timing thread options. x (batch, channels, size, size).
 */
export function convModel(batch: number, channels: number, size: number, seed = 1): Uint8Array {
  const rng = new Rng(seed);
  const weights = (): { dims: number[]; values: number[] } => ({
    dims: [channels, channels, 3, 3],
    values: Array.from(rng.normal(channels * channels * 9), (v) => v * 0.05),
  });
  const pads = [{ name: 'pads', type: ATTR_TYPE.INTS, ints: [1, 1, 1, 1] }];
  return model({
    nodes: [node('Conv', ['x', 'w1'], ['h'], pads), node('Relu', ['h'], ['r']), node('Conv', ['r', 'w2'], ['y'], pads)],
    inputs: [valueInfo('x', 'float32', [batch, channels, size, size])],
    outputs: [valueInfo('y', 'float32', [batch, channels, size, size])],
    constants: { w1: weights(), w2: weights() },
  });
}
