/** Matrix products. */
import { ShapeError } from '../../core/errors.ts';
import type { Tensor } from '../graph.ts';
import { formatShape } from '../types.ts';
import { broadcastShapes, sameDtype } from './util.ts';

/** Numpy matmul: (..., M, K) @ (..., K, N) -> (..., M, N), batch dims broadcast. Rank >= 2. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  sameDtype('MatMul', a, b);
  if (a.rank < 2 || b.rank < 2) {
    throw new ShapeError(`MatMul: gesso needs rank >= 2 operands, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  }
  const [m, k] = a.shape.slice(-2) as [number, number];
  const [k2, n] = b.shape.slice(-2) as [number, number];
  if (k !== k2) {
    throw new ShapeError(`MatMul: inner dims differ: ${formatShape(a.shape)} @ ${formatShape(b.shape)} (${k} vs ${k2})`);
  }
  const batch = broadcastShapes('MatMul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  return a.graph.addNode('MatMul', [a, b], {}, [{ shape: [...batch, m, n], dtype: a.dtype }])[0] as Tensor;
}

/** Gemm: alpha * op(A) @ op(B) + beta * C, A and B rank 2, C broadcast to (M, N). */
export function gemm(a: Tensor, b: Tensor, c: Tensor | null, opts: { transA?: boolean; transB?: boolean; alpha?: number; beta?: number } = {}): Tensor {
  sameDtype('Gemm', a, b);
  if (a.rank !== 2 || b.rank !== 2) throw new ShapeError(`Gemm: needs rank-2 A and B, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  const [m, k] = opts.transA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
  const [k2, n] = opts.transB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
  if (k !== k2)
    throw new ShapeError(
      `Gemm: inner dims differ: A ${formatShape(a.shape)}${opts.transA ? 'ᵀ' : ''} and B ${formatShape(b.shape)}${opts.transB ? 'ᵀ' : ''} (${k} vs ${k2})`,
    );
  if (c) broadcastShapes('Gemm (C)', [m, n], c.shape);
  const attrs = {
    transA: { i: opts.transA ? 1 : 0 },
    transB: { i: opts.transB ? 1 : 0 },
    alpha: { f: opts.alpha ?? 1 },
    beta: { f: opts.beta ?? 1 },
  };
  return a.graph.addNode('Gemm', c ? [a, b, c] : [a, b], attrs, [{ shape: [m, n], dtype: a.dtype }])[0] as Tensor;
}
