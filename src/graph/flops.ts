/**
 * FLOP counts of a built graph, from its static shapes, for benchmarks (model FLOPs / time as a share
 * of the machine's MatMul ceiling, DESIGN.md §6).
 *
 * Convention: FLOPs = 2 × multiply-accumulates, counted for MatMul, Gemm, Conv and ConvTranspose only (and
 * the two MatMuls inside gesso's composite Attention).
 * Element-wise ops, normalisations, softmax, resizes and data movement are ignored: they are memory-bound
 * and a few percent of a conv net's arithmetic. A Gemm's bias add and alpha/beta scaling are not counted.
 *   MatMul (..., M, K) @ (..., K, N):          2 · prod(out) · K
 *   Gemm   (M, K) @ (K, N):                   2 · M · N · K
 *   Conv   out (N, O, H', W'), w (O, C/g, kh, kw):   2 · prod(out) · C/g · kh · kw
 *   ConvTranspose in (N, C, H, W), w (C, O/g, kh, kw): 2 · prod(in) · O/g · kh · kw
 */
import { reachableNodes } from './export.ts';
import type { Graph, Node, Tensor } from './graph.ts';
import { sizeOf } from './types.ts';

/** FLOPs of one node (0 for ops that are not counted). */
export function nodeFlops(n: Node): number {
  const out = n.outputs[0] as Tensor;
  const a = n.inputs[0];
  const w = n.inputs[1];
  if (!a || !w) return 0;
  switch (n.op) {
    case 'MatMul':
      return 2 * out.size * a.shape[a.rank - 1];
    case 'Gemm': {
      const transA = n.attrs['transA'];
      const k = transA && 'i' in transA && transA.i === 1 ? a.shape[0] : a.shape[1];
      return 2 * out.size * (k as number);
    }
    case 'Conv':
      return 2 * out.size * sizeOf(w.shape.slice(1));
    case 'ConvTranspose':
      return 2 * a.size * sizeOf(w.shape.slice(1));
    case 'Attention': {
      // gesso's composite (src/graph/ops/fused.ts): q·kᵀ (..., T, S) and p·v, two MatMuls.
      const scores = (out.size / (out.shape[out.rank - 1] as number)) * (w.shape[w.rank - 2] as number);
      return 2 * scores * (a.shape[a.rank - 1] as number) + 2 * out.size * (w.shape[w.rank - 2] as number);
    }
    default:
      return 0;
  }
}

/** FLOPs per counted op type, over the nodes `outputs` depend on (default: every node of the graph). */
export function flopsByOp(g: Graph, outputs?: readonly Tensor[]): Record<string, number> {
  const nodes = outputs ? reachableNodes(outputs) : g.nodes;
  const byOp: Record<string, number> = {};
  for (const n of nodes) {
    const f = nodeFlops(n);
    if (f > 0) byOp[n.op] = (byOp[n.op] ?? 0) + f;
  }
  return byOp;
}

/** Total FLOPs (2 × MACs of MatMul, Gemm, Conv, ConvTranspose) of one run of the graph at its built shapes. */
export function countFlops(g: Graph, outputs?: readonly Tensor[]): number {
  return Object.values(flopsByOp(g, outputs)).reduce((s, v) => s + v, 0);
}
