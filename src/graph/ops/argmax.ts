/** ArgMax: the index of the largest value along an axis. Forward only: its output carries no gradient. */
import { ShapeError } from '../../core/errors.ts';
import type { Tensor } from '../graph.ts';
import { formatShape } from '../types.ts';
import { normAxis } from './util.ts';

/**
 * int64 indices of the maximum along `axis` (ONNX ArgMax). Ties pick the first index
 * (select_last_index = 0), as torch.argmax does; CLIP relies on this to find the first end-of-text token.
 */
export function argmax(x: Tensor, axis = -1, keepdims = false): Tensor {
  const a = normAxis('ArgMax', axis, x.rank);
  if (x.dtype === 'bool' || x.dtype === 'float16')
    throw new ShapeError(`ArgMax: ${x.dtype} ${formatShape(x.shape)} is not supported; cast to float32 or an integer type`);
  const shape = keepdims ? x.shape.map((d, i) => (i === a ? 1 : d)) : x.shape.filter((_, i) => i !== a);
  const attrs = { axis: { i: a }, keepdims: { i: keepdims ? 1 : 0 }, select_last_index: { i: 0 } };
  return x.graph.addNode('ArgMax', [x], attrs, [{ shape, dtype: 'int64' }])[0] as Tensor;
}
