/** Small building blocks shared by the gradient rules. */
import { ShapeError } from '../core/errors.ts';
import type { Tensor } from '../graph/graph.ts';
import { reduceSum, reshape } from '../graph/ops/index.ts';
import type { Shape } from '../graph/types.ts';
import { sizeOf } from '../graph/types.ts';

/** Sums a broadcast gradient back down to `shape` (the inverse of broadcasting). */
export function sumTo(x: Tensor, shape: Shape): Tensor {
  if (x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
  const lead = x.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < x.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && x.shape[i] !== 1)) axes.push(i);
  }
  const reduced = axes.length > 0 ? reduceSum(x, axes, true) : x;
  return reshape(reduced, [...shape]);
}

/** The values of a constant int64 tensor (slice bounds, axes), read at build time. */
export function constInts(t: Tensor | null | undefined, what: string): number[] {
  const c = t ? t.graph.constants.get(t.name) : undefined;
  if (!c) throw new ShapeError(`autodiff: ${what} must be a constant`);
  return Array.from(c.data as ArrayLike<number | bigint>, (v) => Number(v));
}

/** A float32 tensor of zeros with the given shape (a constant). */
export function zeros(like: Tensor, shape: Shape = like.shape): Tensor {
  return like.graph.constant(new Float32Array(sizeOf(shape)), shape, 'float32', 'zeros');
}
