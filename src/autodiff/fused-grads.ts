/**
 * Gradient rules of the composite ops (src/graph/ops/fused.ts), each written to make as few passes
 * over the activations as the math allows: on a 2-core CPU these passes, not the arithmetic, are
 * what normalisation and activation layers cost.
 */
import { ShapeError } from '../core/errors.ts';
import type { Node, Tensor } from '../graph/graph.ts';
import { add, exp, expand, matmul, mul, neg, reduceSum, reshape, sub, transposeLast } from '../graph/ops/index.ts';

/** SiLU y = x·s, s = sigmoid(x): dy/dx = s + x·s·(1 − s) = s·(1 + x − y), from the saved s and y (4 passes). */
export function siluGrad(n: Node, [gy, ...rest]: readonly (Tensor | null)[]): (Tensor | null)[] {
  if (rest.some((g) => g !== null)) throw new ShapeError(`autodiff: SiLU ${n.name}: its sigmoid output is internal and has no gradient rule`);
  const x = n.inputs[0] as Tensor;
  const [y, s] = n.outputs as [Tensor, Tensor];
  return [mul(gy as Tensor, mul(add(sub(x, y), 1), s))];
}

/**
 * GroupNorm y = x̂·γ + β, x̂ = (x − μ)·r per (sample, group) of M elements, r = 1/std. With
 * g = dL/dy, per (n, c) sums S1 = Σ g and S2 = Σ g·x̂ over positions, and per group
 * m1 = Σ_c γ_c·S1 / M, m2 = Σ_c γ_c·S2 / M (the standard normalisation backward with γ folded in):
 *   dx = (r·γ_c)·g − (r·m2)·x̂ − r·m1,   dγ = Σ_n S2,   dβ = Σ_n S1.
 * Two reductions and four elementwise passes over the activations; γ never multiplies a full tensor.
 */
export function groupNormGrad(n: Node, [gy, ...rest]: readonly (Tensor | null)[]): (Tensor | null)[] {
  if (rest.some((g) => g !== null)) throw new ShapeError(`autodiff: GroupNorm ${n.name}: its x̂ and 1/std outputs are internal and have no gradient rule`);
  const g = gy as Tensor;
  const [x, scale, bias] = n.inputs as [Tensor, Tensor | null, Tensor | null];
  const [, xhat, invStd] = n.outputs as [Tensor, Tensor, Tensor];
  const groupsAttr = n.attrs['groups'];
  const groups = groupsAttr && 'i' in groupsAttr ? groupsAttr.i : 1;
  const [batch, c] = x.shape as [number, number];
  const perGroup = c / groups;
  const m = x.size / batch / groups; // elements per (sample, group)
  const positions = x.shape.map((_, i) => i).slice(2);
  const sumPositions = (t: Tensor): Tensor => (positions.length > 0 ? reduceSum(t, positions, false) : t); // (N, C)
  const s1 = sumPositions(g);
  const s2 = sumPositions(mul(g, xhat));
  const gamma = scale ? reshape(scale, [1, groups, perGroup]) : null; // (1, G, C/G)
  const groupMean = (s: Tensor): Tensor => {
    const grouped = reshape(s, [batch, groups, perGroup]); // (N, G, C/G)
    return mul(reduceSum(gamma ? mul(grouped, gamma) : grouped, [2], true), 1 / m); // (N, G, 1)
  };
  const r = reshape(invStd, [batch, groups, 1]);
  const perChannel = (t: Tensor): Tensor => reshape(expand(t, [batch, groups, perGroup]), [batch, c, ...positions.map(() => 1)]); // (N, C, 1, 1)
  const a = perChannel(gamma ? mul(r, gamma) : r);
  const b = perChannel(neg(mul(r, groupMean(s2))));
  const d = perChannel(neg(mul(r, groupMean(s1))));
  const dx = add(add(mul(g, a), mul(xhat, b)), d);
  return [dx, scale ? reduceSum(s2, [0], false) : null, bias ? reduceSum(s1, [0], false) : null];
}

/**
 * Attention o = p·v, p = softmax(s), s = q·kᵀ, with g = dL/do, worked in the transposed (S, T) layout so
 * that no recomputed node repeats a forward one (ONNX Runtime would merge the two and keep s alive from
 * the forward pass to the backward, the memory this rule is for):
 *   pᵀ = exp(sᵀ − lseᵀ), sᵀ = k·qᵀ recomputed;   dv = pᵀ·g;   dpᵀ = v·gᵀ;
 *   dsᵀ = pᵀ ⊙ (dpᵀ − Dᵀ), D = rowsum(g ⊙ o) (= rowsum(dp ⊙ p), FlashAttention's identity);
 *   dq = ds·k = (kᵀ·dsᵀ)ᵀ;   dk = dsᵀ·q.
 * T×S tensors live only inside this rule: sᵀ/pᵀ, dpᵀ and dsᵀ (two at a time when ORT reuses buffers).
 * A non-finite gradient g makes every gradient here NaN (0·∞): such a step is refused as diverged anyway.
 */
export function attentionGrad(n: Node, [gy, gLse]: readonly (Tensor | null)[]): (Tensor | null)[] {
  if (gLse) throw new ShapeError(`autodiff: Attention ${n.name}: its logsumexp output is internal and has no gradient rule`);
  const g = gy as Tensor; // (..., T, dv)
  const [q, k, v] = n.inputs as [Tensor, Tensor, Tensor];
  const [o, lse] = n.outputs as [Tensor, Tensor];
  const rowsT = (t: Tensor): Tensor => reshape(t, [...t.shape.slice(0, -2), 1, t.shape[t.rank - 2] as number]); // (..., T, 1) -> (..., 1, T)
  // qᵀ + 0·Σg: the same values, but the recomputation cannot start before this layer's gradient exists, so
  // ONNX Runtime cannot schedule it in the forward pass and keep every layer's pᵀ until its backward (a
  // guard: with the forward's logsumexp made eager in src/graph/composite.ts, it was not measured without it).
  const qT = add(transposeLast(q), mul(reduceSum(g), 0)); // (..., d, T)
  const pT = exp(sub(matmul(k, qT), rowsT(lse))); // (..., S, T)
  const dv = matmul(pT, g); // (..., S, dv)
  const d = reduceSum(mul(g, o), [-1], true); // (..., T, 1)
  const dsT = mul(pT, sub(matmul(v, transposeLast(g)), rowsT(d))); // (..., S, T)
  const dq = transposeLast(matmul(transposeLast(k), dsT)); // (..., T, d)
  const dk = matmul(dsT, q); // (..., S, d)
  return [dq, dk, dv];
}
