/**
 * Host tensors: a dtype, dims and a flat typed array in row-major order. This is the only tensor type
 * that code outside `src/runtime/` sees; ORT's own tensor type stays inside the runtime.
 */
import { InputError } from '../core/errors.ts';

export type DType = 'float32' | 'float16' | 'float64' | 'int64' | 'int32' | 'uint8' | 'int8' | 'bool';

/** float16 is stored as raw IEEE half bits (Uint16Array); bool as 0/1 bytes (Uint8Array). */
export type TensorData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Int8Array | Uint16Array;

export interface HostTensor {
  dtype: DType;
  dims: number[];
  data: TensorData;
}

type ArrayKind =
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | BigInt64ArrayConstructor
  | Int32ArrayConstructor
  | Uint8ArrayConstructor
  | Int8ArrayConstructor
  | Uint16ArrayConstructor;

/** The typed array that holds each dtype (the same choice ONNX Runtime's JS API makes). */
export const ARRAY_OF: Record<DType, ArrayKind> = {
  float32: Float32Array,
  float16: Uint16Array,
  float64: Float64Array,
  int64: BigInt64Array,
  int32: Int32Array,
  uint8: Uint8Array,
  int8: Int8Array,
  bool: Uint8Array,
};

export const DTYPES = Object.keys(ARRAY_OF) as DType[];

export function isDType(value: string): value is DType {
  return Object.hasOwn(ARRAY_OF, value);
}

/** Number of elements for dims; 1 for a scalar (dims []). */
export function sizeOf(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** `float32 [2, 3]`: how errors print a tensor's type. Symbolic dims print by name. */
export function describeType(dtype: string, dims: readonly (number | string)[]): string {
  return `${dtype} [${dims.join(', ')}]`;
}

/**
 * A tensor of dtype and dims. `data` may be the matching typed array (kept, not copied), a plain
 * array of numbers (or bigints for int64), or omitted for zeros.
 */
export function tensor(dtype: DType, dims: readonly number[], data?: TensorData | readonly (number | bigint)[]): HostTensor {
  if (!isDType(dtype)) throw new InputError(`unknown dtype "${String(dtype)}": expected one of ${DTYPES.join(', ')}`);
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0) {
      throw new InputError(`tensor ${describeType(dtype, dims)}: dim ${d} is not a non-negative integer`);
    }
  }
  const n = sizeOf(dims);
  const Kind = ARRAY_OF[dtype];
  if (data === undefined) return { dtype, dims: [...dims], data: new Kind(n) };
  if (data.length !== n) {
    throw new InputError(`tensor ${describeType(dtype, dims)}: needs ${n} values, got ${data.length}`);
  }
  if (Array.isArray(data)) return { dtype, dims: [...dims], data: fromPlainArray(dtype, data) };
  if (!(data instanceof Kind)) {
    throw new InputError(`tensor ${describeType(dtype, dims)}: data is a ${data.constructor.name}, expected a ${Kind.name}`);
  }
  return { dtype, dims: [...dims], data: data as TensorData };
}

function fromPlainArray(dtype: DType, values: readonly (number | bigint)[]): TensorData {
  if (dtype === 'int64') return BigInt64Array.from(values, (v) => BigInt(v));
  const out = new (ARRAY_OF[dtype] as Exclude<ArrayKind, BigInt64ArrayConstructor>)(values.length);
  values.forEach((v, i) => (out[i] = Number(v)));
  return out;
}

/** A copy that shares no memory with `t`. */
export function cloneTensor(t: HostTensor): HostTensor {
  return { dtype: t.dtype, dims: [...t.dims], data: t.data.slice() };
}

export function zeros(dtype: DType, dims: readonly number[]): HostTensor {
  return tensor(dtype, dims);
}

/** A rank-0 tensor (dims []). Many exported models want dims [1] instead: use `tensor(dtype, [1], [v])`. */
export function scalar(dtype: DType, value: number | bigint): HostTensor {
  return tensor(dtype, [], [value]);
}
