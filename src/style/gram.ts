/** Gram matrices and the losses of neural style transfer (Gatys, Ecker & Bethge, 2016), as graph ops. */
import type { Tensor } from '../graph/graph.ts';
import * as op from '../graph/ops/index.ts';

/** F (1, C, h, w) -> G = F Fᵀ / (h·w), (C, C): channel correlations, independent of the image size. */
export function gram(f: Tensor): Tensor {
  const [, c, h, w] = f.shape as [number, number, number, number];
  const flat = op.reshape(f, [c, h * w]); // (C, hw)
  return op.div(op.matmul(flat, op.transposeLast(flat)), h * w);
}

/** mean((a - b)²) / norm: a loss that starts near 1 whatever the layer's scale (norm = mean(b²) of the target). */
export function relativeMse(a: Tensor, target: Tensor, norm: number): Tensor {
  const d = op.sub(a, target);
  return op.div(op.reduceMean(op.mul(d, d)), Math.max(norm, 1e-8));
}

/** Total variation: mean squared difference between neighbouring pixels, (1, 3, H, W) -> scalar. */
export function totalVariation(x: Tensor): Tensor {
  const [, , h, w] = x.shape as [number, number, number, number];
  const dy = op.sub(op.slice(x, [1], [h], [2]), op.slice(x, [0], [h - 1], [2]));
  const dx = op.sub(op.slice(x, [1], [w], [3]), op.slice(x, [0], [w - 1], [3]));
  return op.add(op.reduceMean(op.mul(dy, dy)), op.reduceMean(op.mul(dx, dx)));
}

/** mean(x²) of host values: the normaliser relativeMse uses. */
export function meanSquare(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i] as number) * (x[i] as number);
  return s / Math.max(1, x.length);
}

/** F (B, C, h, w) -> (B, C, C): one Gram matrix per image of a batch. */
export function batchGram(f: Tensor): Tensor {
  const [b, c, h, w] = f.shape as [number, number, number, number];
  const flat = op.reshape(f, [b, c, h * w]); // (B, C, hw)
  return op.div(op.matmul(flat, op.transposeLast(flat)), h * w);
}
