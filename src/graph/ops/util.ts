import { ShapeError } from '../../core/errors.ts';
import type { Graph, Tensor } from '../graph.ts';
import type { DType, Shape } from '../types.ts';
import { formatShape } from '../types.ts';

/** A tensor, or a plain number that becomes a scalar constant of the other operand's dtype. */
export type Operand = Tensor | number;

/** Numpy-style broadcast of two shapes, as ONNX's multidirectional broadcasting. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(`${op}: shapes ${formatShape(a)} and ${formatShape(b)} do not broadcast (dim ${i}: ${da} vs ${db})`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** The graph of the first tensor operand; numbers alone have no graph. */
export function graphOf(op: string, ...xs: Operand[]): Graph {
  for (const x of xs) if (typeof x !== 'number') return x.graph;
  throw new ShapeError(`${op}: needs at least one tensor operand`);
}

/** Turns numbers into scalar constants of `dtype`. */
export function lift(g: Graph, x: Operand, dtype: DType): Tensor {
  return typeof x === 'number' ? g.scalar(x, dtype) : x;
}

export function sameDtype(op: string, a: Tensor, b: Tensor): void {
  if (a.dtype !== b.dtype) throw new ShapeError(`${op}: dtypes differ: ${a.dtype} ${formatShape(a.shape)} and ${b.dtype} ${formatShape(b.shape)}`);
}

/** Normalises a possibly negative axis against a rank, with a clear error. */
export function normAxis(op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new ShapeError(`${op}: axis ${axis} is out of range for rank ${rank}`);
  return a;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
