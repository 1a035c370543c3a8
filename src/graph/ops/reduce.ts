/** Reductions and softmax. Opset 18: reduce axes are an int64 input. */
import type { Tensor } from '../graph.ts';
import { normAxis } from './util.ts';

function reduce(op: string, x: Tensor, axes: readonly number[] | undefined, keepdims: boolean): Tensor {
  const norm = (axes ?? x.shape.map((_, i) => i)).map((a) => normAxis(op, a, x.rank));
  const set = new Set(norm);
  const shape: number[] = [];
  x.shape.forEach((d, i) => {
    if (!set.has(i)) shape.push(d);
    else if (keepdims) shape.push(1);
  });
  const g = x.graph;
  return g.addNode(op, [x, g.int64s([...set].sort((p, q) => p - q))], { keepdims: { i: keepdims ? 1 : 0 } }, [{ shape, dtype: x.dtype }])[0] as Tensor;
}

/** Sum over `axes` (all when omitted). */
export const reduceSum = (x: Tensor, axes?: readonly number[], keepdims = false): Tensor => reduce('ReduceSum', x, axes, keepdims);
export const reduceMean = (x: Tensor, axes?: readonly number[], keepdims = false): Tensor => reduce('ReduceMean', x, axes, keepdims);
export const reduceMax = (x: Tensor, axes?: readonly number[], keepdims = false): Tensor => reduce('ReduceMax', x, axes, keepdims);

export function softmax(x: Tensor, axis = -1): Tensor {
  const a = normAxis('Softmax', axis, x.rank);
  return x.graph.addNode('Softmax', [x], { axis: { i: a } }, [{ shape: x.shape, dtype: x.dtype }])[0] as Tensor;
}
