/**
 * Differentiable augmentation (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN
 * Training"): the discriminator sees real *and* generated images through the same random colour,
 * translation and cutout, and the generator's gradient flows back through them, so D cannot memorise a
 * few hundred images and G is not taught to draw the augmentations. Policy 'color,translation,cutout'
 * with the paper's ranges: brightness ±0.5, saturation ×[0, 2], contrast ×[0.5, 1.5], shifts up to 1/8
 * of the side (zero fill), one cutout square of half the side.
 *
 * The random numbers are drawn on the host from gesso's Rng (a pure function of seed and step, so a
 * resumed run augments exactly as an uninterrupted one) and fed as inputs; the graph applies them with
 * elementwise ops and, for the shifts, a per-image 0/1 shift matrix on each side: (S, S) @ x @ (S, S).
 */
import type { Rng } from '../../core/rng.ts';
import type { Graph, Tensor } from '../../graph/graph.ts';
import { add, matmul, mul, reduceMean, sub } from '../../graph/ops/index.ts';
import type { HostTensor } from '../../runtime/tensor.ts';

export interface AugmentInputs {
  /** (B, 1, 1, 1) each */
  brightness: Tensor;
  saturation: Tensor;
  contrast: Tensor;
  /** (B, 1, S, S): rows[b] @ x[b, c] shifts rows. */
  rows: Tensor;
  /** (B, 1, S, S): x[b, c] @ cols[b] shifts columns. */
  cols: Tensor;
  /** (B, 1, S, S): 0 inside the cutout square, 1 elsewhere. */
  cutout: Tensor;
}

const KEYS = ['brightness', 'saturation', 'contrast', 'rows', 'cols', 'cutout'] as const;

/** Graph inputs `<prefix>.<key>` for a batch of `batch` images of side `size`. */
export function augmentInputs(g: Graph, prefix: string, batch: number, size: number): AugmentInputs {
  const scalar = [batch, 1, 1, 1];
  const plane = [batch, 1, size, size];
  const shapes: Record<(typeof KEYS)[number], number[]> = { brightness: scalar, saturation: scalar, contrast: scalar, rows: plane, cols: plane, cutout: plane };
  return Object.fromEntries(KEYS.map((k) => [k, g.input(`${prefix}.${k}`, shapes[k])])) as unknown as AugmentInputs;
}

/** (B, 3, S, S) -> (B, 3, S, S), augmented by the given per-image parameters. */
export function diffAugment(x: Tensor, a: AugmentInputs): Tensor {
  let y = add(x, a.brightness);
  const pixelMean = reduceMean(y, [1], true); // (B, 1, S, S)
  y = add(mul(sub(y, pixelMean), a.saturation), pixelMean);
  const imageMean = reduceMean(y, [1, 2, 3], true); // (B, 1, 1, 1)
  y = add(mul(sub(y, imageMean), a.contrast), imageMean);
  y = matmul(matmul(a.rows, y), a.cols); // (B, 1, S, S) @ (B, 3, S, S) @ (B, 1, S, S)
  return mul(y, a.cutout);
}

/** Host values for `augmentInputs(g, prefix, batch, size)`, drawn from `rng`. */
export function sampleAugment(rng: Rng, prefix: string, batch: number, size: number): Record<string, HostTensor> {
  const plane = size * size;
  const brightness = new Float32Array(batch);
  const saturation = new Float32Array(batch);
  const contrast = new Float32Array(batch);
  const rows = new Float32Array(batch * plane);
  const cols = new Float32Array(batch * plane);
  const cutout = new Float32Array(batch * plane).fill(1);
  const maxShift = Math.floor(size / 8);
  const cut = Math.floor(size / 2);
  for (let b = 0; b < batch; b++) {
    brightness[b] = rng.uniform() - 0.5;
    saturation[b] = rng.uniform() * 2;
    contrast[b] = rng.uniform() + 0.5;
    const dy = rng.int(2 * maxShift + 1) - maxShift;
    const dx = rng.int(2 * maxShift + 1) - maxShift;
    for (let i = 0; i < size; i++) {
      // output row i reads input row i - dy; output column j reads input column j - dx (zero outside)
      const src = i - dy;
      if (src >= 0 && src < size) rows[b * plane + i * size + src] = 1;
      const srcCol = i - dx;
      if (srcCol >= 0 && srcCol < size) cols[b * plane + srcCol * size + i] = 1;
    }
    // cutout centre anywhere in the image; the square is clipped at the borders (as DiffAugment does)
    const cy = rng.int(size + (1 - (cut % 2)));
    const cx = rng.int(size + (1 - (cut % 2)));
    for (let y = Math.max(0, cy - cut / 2); y < Math.min(size, cy + cut / 2); y++) {
      for (let x = Math.max(0, cx - cut / 2); x < Math.min(size, cx + cut / 2); x++) cutout[b * plane + y * size + x] = 0;
    }
  }
  const t = (data: Float32Array, dims: number[]): HostTensor => ({ dtype: 'float32', dims, data });
  return {
    [`${prefix}.brightness`]: t(brightness, [batch, 1, 1, 1]),
    [`${prefix}.saturation`]: t(saturation, [batch, 1, 1, 1]),
    [`${prefix}.contrast`]: t(contrast, [batch, 1, 1, 1]),
    [`${prefix}.rows`]: t(rows, [batch, 1, size, size]),
    [`${prefix}.cols`]: t(cols, [batch, 1, size, size]),
    [`${prefix}.cutout`]: t(cutout, [batch, 1, size, size]),
  };
}
