/** Element types gesso's graphs use (ONNX names in onnx-proto.ts). */
export type DType = 'float32' | 'float16' | 'float64' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

/** A static shape: every dim is known when the graph is built. */
export type Shape = readonly number[];

export type TypedData = Float32Array | Float64Array | BigInt64Array | Int32Array | Int8Array | Uint8Array | Uint16Array;

/** Constant data baked into a graph (initializers, attribute tensors). */
export interface ConstData {
  dtype: DType;
  dims: readonly number[];
  data: TypedData;
}

/** One ONNX attribute, tagged with its ONNX type so ints and floats never get confused. */
export type Attr = { i: number } | { f: number } | { s: string } | { ints: readonly number[] } | { floats: readonly number[] } | { t: ConstData };

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float16' || dtype === 'float64';
}
