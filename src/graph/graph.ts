/**
 * The graph builder: symbolic tensors with static shapes, nodes in build order, parameters with
 * their initial values. Ops (in ./ops) check shapes when a node is added, so a mismatch is reported
 * at build time naming the op and both shapes, not by ONNX Runtime later.
 */
import { ShapeError } from '../core/errors.ts';
import type { Attr, ConstData, DType, Shape, TypedData } from './types.ts';
import { formatShape, sizeOf } from './types.ts';

export class Tensor {
  constructor(
    readonly graph: Graph,
    readonly name: string,
    readonly shape: Shape,
    readonly dtype: DType,
    /** The node that computes this tensor; null for graph inputs, parameters and constants. */
    readonly node: Node | null,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  get size(): number {
    return sizeOf(this.shape);
  }

  toString(): string {
    return `${this.name}: ${this.dtype} ${formatShape(this.shape)}`;
  }
}

export interface Node {
  readonly op: string;
  readonly name: string;
  /** Inputs in ONNX order; null marks an omitted optional input. */
  readonly inputs: readonly (Tensor | null)[];
  readonly outputs: readonly Tensor[];
  readonly attrs: Readonly<Record<string, Attr>>;
  /** Operator set domain; absent for the standard ONNX ops ('com.microsoft' for ORT's contrib ops). */
  readonly domain?: string;
}

export interface Param {
  readonly name: string;
  readonly tensor: Tensor;
  /** Initial value; replaced by trained values when a checkpoint is loaded. */
  value: Float32Array;
  /** Trainable parameters get gradients and optimizer state; buffers (e.g. EMA copies) do not. */
  readonly trainable: boolean;
}

export interface OutputSpec {
  shape: Shape;
  dtype: DType;
}

export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: Tensor[] = [];
  readonly params = new Map<string, Param>();
  readonly constants = new Map<string, ConstData>();
  private readonly names = new Set<string>();
  private readonly scalarCache = new Map<string, Tensor>();
  private counter = 0;
  /** Prefix for parameter names, pushed by `scope()` so layers nest (`unet.down.0.conv.weight`). */
  private prefix: string[] = [];

  /** A fresh tensor name that no other tensor in this graph has. */
  freshName(base: string): string {
    let name = base;
    while (this.names.has(name)) name = `${base}_${++this.counter}`;
    this.names.add(name);
    return name;
  }

  private claim(name: string, what: string): void {
    if (this.names.has(name)) throw new ShapeError(`${what} name "${name}" is already used in this graph`);
    this.names.add(name);
  }

  /** A graph input (a batch, a timestep, a learning rate...). */
  input(name: string, shape: Shape, dtype: DType = 'float32'): Tensor {
    checkShape(shape, `input "${name}"`);
    this.claim(name, 'input');
    const t = new Tensor(this, name, [...shape], dtype, null);
    this.inputs.push(t);
    return t;
  }

  /** Runs `build` with `name` appended to the parameter-name prefix. */
  scope<T>(name: string, build: () => T): T {
    this.prefix.push(name);
    try {
      return build();
    } finally {
      this.prefix.pop();
    }
  }

  /** A float32 parameter named `<scope>.<name>` with the given initial value. */
  param(name: string, shape: Shape, value: Float32Array, options: { trainable?: boolean } = {}): Tensor {
    const full = [...this.prefix, name].join('.');
    checkShape(shape, `parameter "${full}"`);
    if (value.length !== sizeOf(shape)) {
      throw new ShapeError(`parameter "${full}": initial value has ${value.length} elements, shape ${formatShape(shape)} needs ${sizeOf(shape)}`);
    }
    this.claim(full, 'parameter');
    const tensor = new Tensor(this, full, [...shape], 'float32', null);
    this.params.set(full, { name: full, tensor, value, trainable: options.trainable ?? true });
    return tensor;
  }

  /** A constant tensor baked into the graph. */
  constant(data: TypedData, shape: Shape, dtype: DType, base = 'const'): Tensor {
    checkShape(shape, 'constant');
    if (data.length !== sizeOf(shape)) {
      throw new ShapeError(`constant: ${data.length} values for shape ${formatShape(shape)}`);
    }
    const name = this.freshName(base);
    this.constants.set(name, { dtype, dims: [...shape], data });
    return new Tensor(this, name, [...shape], dtype, null);
  }

  /** A rank-0 constant, shared by every use of the same value and dtype. */
  scalar(value: number, dtype: DType = 'float32'): Tensor {
    const key = `${dtype}:${Object.is(value, -0) ? '-0' : value}`;
    const cached = this.scalarCache.get(key);
    if (cached) return cached;
    const t = this.constant(typedArrayOf(dtype, [value]), [], dtype, 'scalar');
    this.scalarCache.set(key, t);
    return t;
  }

  /** A rank-1 int64 constant (shapes, axes, slice bounds). */
  int64s(values: readonly number[]): Tensor {
    return this.constant(BigInt64Array.from(values.map((v) => BigInt(v))), [values.length], 'int64', 'ints');
  }

  /** Adds a node; ops call this after checking shapes. */
  addNode(op: string, inputs: readonly (Tensor | null)[], attrs: Record<string, Attr>, outputs: readonly OutputSpec[], domain?: string): Tensor[] {
    for (const t of inputs) {
      if (t && t.graph !== this) throw new ShapeError(`${op}: input ${t.name} belongs to another graph`);
    }
    const name = this.freshName(op.toLowerCase());
    const outTensors: Tensor[] = [];
    const node: Node = { op, name, inputs, outputs: outTensors, attrs, ...(domain ? { domain } : {}) };
    outputs.forEach((spec, i) => {
      outTensors.push(new Tensor(this, this.freshName(`${name}_out${i}`), [...spec.shape], spec.dtype, node));
    });
    this.nodes.push(node);
    return outTensors;
  }

  /**
   * Replaces parameter values (trained weights from a session or a checkpoint). Every given name must be
   * a parameter of this graph with the same size; with `complete`, every parameter must be given.
   */
  setValues(values: ReadonlyMap<string, Float32Array>, options: { complete?: boolean } = {}): void {
    for (const [name, value] of values) {
      const p = this.params.get(name);
      if (!p) continue;
      if (value.length !== p.value.length) {
        throw new ShapeError(`parameter "${name}": got ${value.length} values, shape ${formatShape(p.tensor.shape)} needs ${p.value.length}`);
      }
      p.value = value;
    }
    if (options.complete) {
      const missing = [...this.params.keys()].filter((n) => !values.has(n));
      if (missing.length > 0)
        throw new ShapeError(`missing values for ${missing.length} parameters: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`);
    }
  }

  trainableParams(): Param[] {
    return [...this.params.values()].filter((p) => p.trainable);
  }

  /** Total number of trainable parameter values. */
  paramCount(): number {
    let n = 0;
    for (const p of this.trainableParams()) n += p.value.length;
    return n;
  }
}

function checkShape(shape: Shape, what: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`${what}: shape ${formatShape(shape)} has a dim that is not a non-negative integer`);
  }
}

export function typedArrayOf(dtype: DType, values: readonly number[]): TypedData {
  switch (dtype) {
    case 'float32':
      return Float32Array.from(values);
    case 'float64':
      return Float64Array.from(values);
    case 'int64':
      return BigInt64Array.from(values.map((v) => BigInt(Math.trunc(v))));
    case 'int32':
      return Int32Array.from(values);
    case 'int8':
      return Int8Array.from(values);
    case 'uint8':
    case 'bool':
      return Uint8Array.from(values);
    case 'float16':
      throw new ShapeError('float16 constants are not supported by the graph builder; build in float32 and Cast');
  }
}
