/** Element-wise ops with ONNX broadcasting, and the unary math ops. */
import { ShapeError } from '../../core/errors.ts';
import type { Tensor } from '../graph.ts';
import type { DType } from '../types.ts';
import { formatShape, isFloat } from '../types.ts';
import { broadcastShapes, graphOf, lift, type Operand, sameDtype } from './util.ts';

function binary(op: string, a: Operand, b: Operand, outDtype?: DType): Tensor {
  const g = graphOf(op, a, b);
  const dtype = typeof a !== 'number' ? a.dtype : (b as Tensor).dtype;
  const ta = lift(g, a, dtype);
  const tb = lift(g, b, dtype);
  sameDtype(op, ta, tb);
  const shape = broadcastShapes(op, ta.shape, tb.shape);
  return g.addNode(op, [ta, tb], {}, [{ shape, dtype: outDtype ?? dtype }])[0] as Tensor;
}

export const add = (a: Operand, b: Operand): Tensor => binary('Add', a, b);
export const sub = (a: Operand, b: Operand): Tensor => binary('Sub', a, b);
export const mul = (a: Operand, b: Operand): Tensor => binary('Mul', a, b);
export const div = (a: Operand, b: Operand): Tensor => binary('Div', a, b);
export const pow = (a: Operand, b: Operand): Tensor => binary('Pow', a, b);
/** Element-wise maximum / minimum of two tensors (ONNX Max/Min with two inputs). */
export const maximum = (a: Operand, b: Operand): Tensor => binary('Max', a, b);
export const minimum = (a: Operand, b: Operand): Tensor => binary('Min', a, b);
export const greater = (a: Operand, b: Operand): Tensor => binary('Greater', a, b, 'bool');
export const less = (a: Operand, b: Operand): Tensor => binary('Less', a, b, 'bool');
export const equal = (a: Operand, b: Operand): Tensor => binary('Equal', a, b, 'bool');

function unary(op: string, x: Tensor, attrs: Record<string, { f: number }> = {}): Tensor {
  if (!isFloat(x.dtype) && op !== 'Neg' && op !== 'Abs' && op !== 'Identity' && op !== 'Not') {
    throw new ShapeError(`${op}: needs a float tensor, got ${x.dtype} ${formatShape(x.shape)}`);
  }
  return x.graph.addNode(op, [x], attrs, [{ shape: x.shape, dtype: x.dtype }])[0] as Tensor;
}

export const neg = (x: Tensor): Tensor => unary('Neg', x);
export const abs = (x: Tensor): Tensor => unary('Abs', x);
export const identity = (x: Tensor): Tensor => unary('Identity', x);
export const exp = (x: Tensor): Tensor => unary('Exp', x);
export const log = (x: Tensor): Tensor => unary('Log', x);
export const sqrt = (x: Tensor): Tensor => unary('Sqrt', x);
export const reciprocal = (x: Tensor): Tensor => unary('Reciprocal', x);
export const erf = (x: Tensor): Tensor => unary('Erf', x);
export const tanh = (x: Tensor): Tensor => unary('Tanh', x);
export const sigmoid = (x: Tensor): Tensor => unary('Sigmoid', x);
export const relu = (x: Tensor): Tensor => unary('Relu', x);
export const sign = (x: Tensor): Tensor => unary('Sign', x);
export const cos = (x: Tensor): Tensor => unary('Cos', x);
export const sin = (x: Tensor): Tensor => unary('Sin', x);
export const leakyRelu = (x: Tensor, alpha = 0.01): Tensor => unary('LeakyRelu', x, { alpha: { f: alpha } });
export const not = (x: Tensor): Tensor => {
  if (x.dtype !== 'bool') throw new ShapeError(`Not: needs a bool tensor, got ${x.dtype}`);
  return x.graph.addNode('Not', [x], {}, [{ shape: x.shape, dtype: 'bool' }])[0] as Tensor;
};

/** Exact GELU: x * 0.5 * (1 + erf(x / sqrt 2)). */
export const gelu = (x: Tensor): Tensor => mul(mul(x, 0.5), add(erf(mul(x, Math.SQRT1_2)), 1));

export function square(x: Tensor): Tensor {
  return mul(x, x);
}

/** Clamps to [min, max]; either bound may be omitted. */
export function clip(x: Tensor, min?: number, max?: number): Tensor {
  const g = x.graph;
  const lo = min === undefined ? null : g.scalar(min, x.dtype);
  const hi = max === undefined ? null : g.scalar(max, x.dtype);
  return g.addNode('Clip', [x, lo, hi], {}, [{ shape: x.shape, dtype: x.dtype }])[0] as Tensor;
}

/** Picks `a` where `cond` is true, else `b`, with broadcasting over all three. */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  if (cond.dtype !== 'bool') throw new ShapeError(`Where: condition must be bool, got ${cond.dtype}`);
  const g = cond.graph;
  const dtype = typeof a !== 'number' ? a.dtype : typeof b !== 'number' ? b.dtype : 'float32';
  const ta = lift(g, a, dtype);
  const tb = lift(g, b, dtype);
  sameDtype('Where', ta, tb);
  const shape = broadcastShapes('Where', broadcastShapes('Where', cond.shape, ta.shape), tb.shape);
  return g.addNode('Where', [cond, ta, tb], {}, [{ shape, dtype }])[0] as Tensor;
}

export function cast(x: Tensor, to: DType): Tensor {
  if (x.dtype === to) return x;
  return x.graph.addNode('Cast', [x], { to: { i: ONNX_CODES[to] } }, [{ shape: x.shape, dtype: to }])[0] as Tensor;
}

const ONNX_CODES: Record<DType, number> = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11 };
