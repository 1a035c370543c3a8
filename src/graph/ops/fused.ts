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

/**
 * Scaled dot-product attention of pre-scaled queries q (B, H, T, dh) over keys k and values v (B, H, S, dh):
 * softmax(q·kᵀ)·v, without a mask. Outputs [o (B, H, T, dh), logsumexp of each score row (B, H, T, 1)].
 * Lowered to Transpose, MatMul, Softmax, MatMul (the nodes an inference model always had); a training step
 * also computes the row logsumexp, so the gradient rule recomputes the T×S probabilities from q, k and it
 * instead of keeping them from the forward pass: at 4096 positions (SD 1.5 at 512²) each is 512 MiB per
 * layer (the memory-saving recomputation of FlashAttention, Dao et al. 2022, without its tiling).
 */
export function attention(q: Tensor, k: Tensor, v: Tensor): Tensor {
  const label = `Attention of q ${formatShape(q.shape)}, k ${formatShape(k.shape)}, v ${formatShape(v.shape)}`;
  const rank = q.rank;
  const same = (a: Tensor, b: Tensor, dims: number[]): boolean => dims.every((d) => a.shape[d] === b.shape[d]);
  const batchDims = q.shape.map((_, i) => i).slice(0, rank - 2);
  if ([q, k, v].some((t) => t.dtype !== 'float32' || t.rank !== rank) || rank < 3) throw new ShapeError(`${label}: needs float32 tensors of one rank >= 3`);
  if (!same(q, k, [...batchDims, rank - 1]) || !same(k, v, [...batchDims, rank - 2]))
    throw new ShapeError(`${label}: q (..., T, d), k (..., S, d) and v (..., S, dv) must share their batch dims, q and k their width`);
  const o = { shape: [...q.shape.slice(0, rank - 1), v.shape[rank - 1] as number], dtype: q.dtype };
  const lse = { shape: [...q.shape.slice(0, rank - 1), 1], dtype: q.dtype };
  return q.graph.addNode('Attention', [q, k, v], {}, [o, lse], COMPOSITE_DOMAIN)[0] as Tensor;
}
