/**
 * Writes a built graph as an ONNX ModelProto. Only what the requested outputs depend on is
 * emitted. Parameters become initializers (an inference model) or graph inputs (a training step,
 * whose weights change every run).
 */
import { ShapeError } from '../core/errors.ts';
import type { Graph, Node, Tensor } from './graph.ts';
import {
  ATTR_TYPE,
  encodeModel,
  ONNX_DTYPE,
  type AttributeProtoObject,
  type ModelProtoObject,
  type NodeProtoObject,
  type TensorProtoObject,
  type ValueInfoProtoObject,
} from './onnx-proto.ts';
import type { Attr, ConstData, DType, Shape } from './types.ts';
import { lowerComposite } from './composite.ts';
import { lowerConvToNchwc } from './nchwc.ts';

export const OPSET = 18;

export interface ExportOptions {
  /** Output name -> tensor. */
  outputs: Record<string, Tensor>;
  /** 'initializers' bakes parameter values in; 'inputs' makes every parameter a graph input. */
  params: 'initializers' | 'inputs';
  /** Graph name and free-form metadata (model card fields, gesso version). */
  name?: string;
  metadata?: Record<string, string>;
  /**
   * Store parameter initializers of at least `minBytes` (default 1 KiB) in a separate file named
   * `location` beside the model, as ONNX external data: needed past protobuf's 2 GB limit, and lets
   * the big weights be read without a protobuf copy.
   */
  externalData?: { location: string; minBytes?: number };
  /**
   * Input/output name -> {axis: symbolic name}: dims to declare dynamic (e.g. `{ sample: { 0: 'batch' } }`).
   * The graph is built at one example size; ops that bake sizes in must be written to allow this
   * (reshape keeps leading dims as 0, `reshapeLike`), and a test at a second size proves it.
   */
  dynamicAxes?: Record<string, Record<number, string>>;
  /**
   * ORT's NCHWc block size (16 with AVX-512, 8 with AVX2; see src/graph/nchwc.ts): lowers every Conv whose
   * weight is not an initializer to ORT's blocked kernels. Absent or 0: standard Conv nodes only.
   */
  nchwcBlock?: number;
}

export interface ExportedModel {
  bytes: Uint8Array;
  /** The external-data file's name and contents (views of the parameter arrays, in order). */
  external?: { location: string; chunks: Uint8Array[] };
  inputs: { name: string; shape: Shape; dtype: DType }[];
  outputs: { name: string; shape: Shape; dtype: DType }[];
}

export function exportOnnx(g: Graph, options: ExportOptions): ExportedModel {
  const outputEntries = Object.entries(options.outputs);
  if (outputEntries.length === 0) throw new ShapeError('exportOnnx: no outputs requested');
  const nodes = reachableNodes(outputEntries.map(([, t]) => t));
  const used = new Set<string>();
  for (const n of nodes) for (const t of n.inputs) if (t) used.add(t.name);
  for (const [, t] of outputEntries) used.add(t.name);

  const initializers: TensorProtoObject[] = [];
  const constantWeight = (t: Tensor): boolean => g.constants.has(t.name) || (options.params === 'initializers' && g.params.has(t.name));
  const nodeProtos: NodeProtoObject[] = nodes.flatMap((n) => {
    const block = options.nchwcBlock ?? 0;
    const fresh = (base: string): string => g.freshName(base);
    const lowered =
      lowerComposite(n, fresh, used) ?? (block > 0 && n.op === 'Conv' && !constantWeight(n.inputs[1] as Tensor) ? lowerConvToNchwc(n, block, fresh) : null);
    if (lowered === null) return [nodeToProto(n)];
    initializers.push(...lowered.initializers);
    return lowered.nodes;
  });
  const outputs: ValueInfoProtoObject[] = [];
  for (const [name, t] of outputEntries) {
    if (t.graph !== g) throw new ShapeError(`exportOnnx: output "${name}" belongs to another graph`);
    if (name !== t.name) nodeProtos.push({ op_type: 'Identity', name: `out_${name}`, input: [t.name], output: [name] });
    outputs.push(valueInfo(name, t.shape, t.dtype, options.dynamicAxes?.[name]));
  }

  const inputs: ValueInfoProtoObject[] = [];
  const external =
    options.externalData && options.params === 'initializers' ? { location: options.externalData.location, chunks: [] as Uint8Array[] } : undefined;
  let externalOffset = 0;
  for (const t of g.inputs) if (used.has(t.name)) inputs.push(valueInfo(t.name, t.shape, t.dtype, options.dynamicAxes?.[t.name]));
  for (const p of g.params.values()) {
    if (!used.has(p.name)) continue;
    if (options.params === 'inputs') inputs.push(valueInfo(p.name, p.tensor.shape, 'float32'));
    else if (external && p.value.byteLength >= (options.externalData?.minBytes ?? 1024)) {
      initializers.push(externalTensorProto(p.name, p.tensor.shape, external.location, externalOffset, p.value.byteLength));
      external.chunks.push(new Uint8Array(p.value.buffer, p.value.byteOffset, p.value.byteLength));
      externalOffset += p.value.byteLength;
    } else initializers.push(tensorProto(p.name, { dtype: 'float32', dims: p.tensor.shape, data: p.value }));
  }
  for (const [name, c] of g.constants) if (used.has(name)) initializers.push(tensorProto(name, c));

  const model: ModelProtoObject = {
    ir_version: 8,
    opset_import: [
      { domain: '', version: OPSET },
      ...[...new Set(nodeProtos.map((n) => n.domain ?? ''))].filter((d) => d !== '').map((domain) => ({ domain, version: 1 })),
    ],
    producer_name: 'gesso',
    producer_version: '0.1.0',
    graph: { name: options.name ?? 'gesso', node: nodeProtos, input: inputs, output: outputs, initializer: initializers },
    metadata_props: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
  const describe = (v: ValueInfoProtoObject, t: { shape: Shape; dtype: DType }) => ({ name: v.name, shape: t.shape, dtype: t.dtype });
  return {
    bytes: encodeModel(model),
    ...(external ? { external } : {}),
    inputs: inputs.map((v) => describe(v, lookup(g, v.name))),
    outputs: outputEntries.map(([name, t]) => ({ name, shape: t.shape, dtype: t.dtype })),
  };
}

function lookup(g: Graph, name: string): { shape: Shape; dtype: DType } {
  const t = g.inputs.find((i) => i.name === name) ?? g.params.get(name)?.tensor;
  if (!t) throw new ShapeError(`exportOnnx: unknown input ${name}`);
  return t;
}

/** Nodes the given tensors depend on, in build (= topological) order. */
export function reachableNodes(targets: readonly Tensor[]): Node[] {
  const seen = new Set<Node>();
  const stack = targets.map((t) => t.node).filter((n): n is Node => n !== null);
  while (stack.length > 0) {
    const n = stack.pop() as Node;
    if (seen.has(n)) continue;
    seen.add(n);
    for (const t of n.inputs) if (t?.node && !seen.has(t.node)) stack.push(t.node);
  }
  const g = targets[0]?.graph;
  return g ? g.nodes.filter((n) => seen.has(n)) : [];
}

function nodeToProto(n: Node): NodeProtoObject {
  return {
    op_type: n.op,
    ...(n.domain ? { domain: n.domain } : {}),
    name: n.name,
    input: n.inputs.map((t) => (t ? t.name : '')),
    output: n.outputs.map((t) => t.name),
    attribute: Object.entries(n.attrs).map(([name, a]) => attrToProto(name, a)),
  };
}

function attrToProto(name: string, a: Attr): AttributeProtoObject {
  if ('i' in a) return { name, type: ATTR_TYPE.INT, i: a.i };
  if ('f' in a) return { name, type: ATTR_TYPE.FLOAT, f: a.f };
  if ('s' in a) return { name, type: ATTR_TYPE.STRING, s: new TextEncoder().encode(a.s) };
  if ('ints' in a) return { name, type: ATTR_TYPE.INTS, ints: [...a.ints] };
  if ('floats' in a) return { name, type: ATTR_TYPE.FLOATS, floats: [...a.floats] };
  return { name, type: ATTR_TYPE.TENSOR, t: tensorProto(name, a.t) };
}

export function tensorProto(name: string, c: ConstData): TensorProtoObject {
  const raw = new Uint8Array(c.data.buffer, c.data.byteOffset, c.data.byteLength);
  return { name, dims: [...c.dims], data_type: ONNX_DTYPE[c.dtype], raw_data: raw };
}

function externalTensorProto(name: string, dims: Shape, location: string, offset: number, length: number): TensorProtoObject {
  return {
    name,
    dims: [...dims],
    data_type: ONNX_DTYPE.float32,
    data_location: 1, // EXTERNAL
    external_data: [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(length) },
    ],
  };
}

function valueInfo(name: string, shape: Shape, dtype: DType, dynamic?: Record<number, string>): ValueInfoProtoObject {
  const dim = shape.map((d, i) => (dynamic?.[i] !== undefined ? { dim_param: dynamic[i] } : { dim_value: d }));
  return { name, type: { tensor_type: { elem_type: ONNX_DTYPE[dtype], shape: { dim } } } };
}
