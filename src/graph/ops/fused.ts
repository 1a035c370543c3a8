/**
 * Composite ops: one node in gesso's graph (domain `ai.gesso`) that export lowers to a few standard
 * ONNX nodes (src/graph/composite.ts). They exist for their gradient: one fused rule
 * (src/autodiff/fused-grads.ts) makes fewer passes over the activations than the chain of
 * per-op rules the standard nodes would get, and the extra outputs hand the forward's
 * intermediates (sigmoid, normalised input, 1/std) to that rule instead of recomputing them.
 */
import { ShapeError } from '../../core/errors.ts';
import type { Tensor } from '../graph.ts';
import { formatShape, isFloat } from '../types.ts';

export const COMPOSITE_DOMAIN = 'ai.gesso';

/**
 * x * sigmoid(x): SiLU / swish. Outputs [y, sigmoid(x)]; lowered to Sigmoid + Mul, which ORT fuses
 * into one kernel in an inference model where nothing else reads the sigmoid.
 */
export function silu(x: Tensor): Tensor {
  if (!isFloat(x.dtype)) throw new ShapeError(`SiLU: needs a float tensor, got ${x.dtype} ${formatShape(x.shape)}`);
  const spec = { shape: x.shape, dtype: x.dtype };
  return x.graph.addNode('Silu', [x], {}, [spec, spec], COMPOSITE_DOMAIN)[0] as Tensor;
}

/**
 * Group normalization of x (N, C, ...): statistics per sample over each of `groups` groups of C/groups
 * channels and all positions (biased variance), then per-channel scale and bias (either may be null).
 * Outputs [y, x̂ (the normalised x, before scale and bias), 1/std (N, groups)]. Lowered to
 * LayerNormalization over a (N, groups, -1) view, which computes the statistics in one pass and
 * returns 1/std for the gradient rule. N and the spatial dims may be dynamic in an export.
 */
export function groupNorm(x: Tensor, scale: Tensor | null, bias: Tensor | null, groups: number, eps: number): Tensor {
  const c = x.shape[1] as number;
  const label = `GroupNorm (${groups} groups) of ${formatShape(x.shape)}`;
  if (x.dtype !== 'float32' || x.rank < 2) throw new ShapeError(`${label}: needs a float32 (N, C, ...) input`);
  if (!Number.isInteger(groups) || groups < 1 || c % groups !== 0) throw new ShapeError(`${label}: C = ${c} must divide by the group count`);
  for (const [what, t] of [
    ['scale', scale],
    ['bias', bias],
  ] as const) {
    if (t && (t.rank !== 1 || t.shape[0] !== c)) throw new ShapeError(`${label}: ${what} must have shape [${c}], got ${formatShape(t.shape)}`);
  }
  const outs = [
    { shape: x.shape, dtype: x.dtype },
    { shape: x.shape, dtype: x.dtype },
    { shape: [x.shape[0] as number, groups], dtype: x.dtype },
  ];
  return x.graph.addNode('GroupNorm', [x, scale, bias], { groups: { i: groups }, epsilon: { f: eps } }, outs, COMPOSITE_DOMAIN)[0] as Tensor;
}
