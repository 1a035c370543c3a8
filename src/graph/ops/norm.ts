/** ONNX InstanceNormalization: per (n, c), normalise over all remaining axes, then scale and shift per channel. */
import { ShapeError } from '../../core/errors.ts';
import type { Tensor } from '../graph.ts';
import { formatShape } from '../types.ts';

/** x (N, C, ...) with scale, bias (C): (x - mean) / sqrt(var + eps) * scale + bias; biased variance. */
export function instanceNormalization(x: Tensor, scale: Tensor, bias: Tensor, eps: number): Tensor {
  const c = x.shape[1];
  if (x.rank < 3 || scale.rank !== 1 || bias.rank !== 1 || scale.shape[0] !== c || bias.shape[0] !== c) {
    throw new ShapeError(
      `InstanceNormalization: input ${formatShape(x.shape)} needs rank >= 3 and scale/bias of [${c}], got ${formatShape(scale.shape)} and ${formatShape(bias.shape)}`,
    );
  }
  return x.graph.addNode('InstanceNormalization', [x, scale, bias], { epsilon: { f: eps } }, [{ shape: x.shape, dtype: x.dtype }])[0] as Tensor;
}
