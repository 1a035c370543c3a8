/**
 * Gradients of Conv and ConvTranspose with standard ONNX ops (no training kernels).
 * Weight gradients use im2col: one strided slice of the padded input per kernel tap, stacked and
 * multiplied by the output gradient in a single batched MatMul. DESIGN.md §1 measured this ~4×
 * faster than expressing dW as a transposed convolution.
 */
import type { Tensor } from '../graph/graph.ts';
import { ShapeError } from '../core/errors.ts';
import {
  add,
  concat,
  conv,
  type convGeometry,
  convTranspose,
  matmul,
  pad,
  reduceSum,
  reshape,
  slice,
  transpose,
  transposeLast,
  type ConvOptions,
} from '../graph/ops/index.ts';

type Geometry = ReturnType<typeof convGeometry>;

/**
 * dL/dW for y = conv(input, W): input (N, Cin, H, W), gout (N, Cout, Ho, Wo)
 * -> (Cout, Cin/group, kH, kW). Also serves ConvTranspose (with input and gout swapped).
 * One MatMul per kernel tap, gout (G, Cout/G, N·P) @ tapᵀ, and only the small (Cout, Cin/G) results are
 * stacked: measured 29 ms against 38 ms for stacking the taps themselves first (64→64 3×3, batch 8).
 * The batch is split into S chunks that become the MatMul's batch dimension, with one ReduceSum over
 * them at the end: ORT's GEMM splits a single product with small M = Cout, N = Cin and long K = N·P
 * across threads by rows, and every thread then packs all of the tap again; S independent products
 * run one per thread instead (measured numbers at batchChunks).
 */
export function convWeightGradPerTap(
  input: Tensor,
  gout: Tensor,
  kernel: readonly [number, number],
  geo: Geometry,
  chunks = batchChunks(input.shape[0] as number),
): Tensor {
  const [n, cin, h, w] = input.shape as [number, number, number, number];
  const [, cout, ho, wo] = gout.shape as [number, number, number, number];
  const [kh, kw] = kernel;
  const [sh, sw] = geo.strides as [number, number];
  const [dh, dw] = geo.dilations as [number, number];
  const g = geo.group;
  const [pt, pl, pb, pr] = geo.pads as [number, number, number, number];
  const s = chunks;
  if (!Number.isInteger(n / s)) throw new ShapeError(`convWeightGradPerTap: batch ${n} does not split into ${s} chunks`);
  const k = (n / s) * ho * wo; // MatMul K per chunk
  // Channels before the chunk's samples, so each tap's slice is already (S, Cin, N/S, Ho, Wo).
  const chunked = (t: Tensor, c: number, th: number, tw: number): Tensor => transpose(reshape(t, [s, n / s, c, th, tw]), [0, 2, 1, 3, 4]); // (S, C, N/S, H, W)
  let xc = chunked(input, cin, h, w); // (S, Cin, N/S, H, W)
  if (pt || pl || pb || pr) xc = pad(xc, [0, 0, 0, pt, pl, 0, 0, 0, pb, pr]);
  const gy = reshape(chunked(gout, cout, ho, wo), [s, g, cout / g, k]); // (S, G, Cout/G, K)
  const perTap: Tensor[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const y0 = i * dh;
      const x0 = j * dw;
      const whole = y0 === 0 && x0 === 0 && sh === 1 && sw === 1 && xc.shape[3] === ho && xc.shape[4] === wo;
      const tap = whole ? xc : slice(xc, [y0, x0], [y0 + sh * (ho - 1) + 1, x0 + sw * (wo - 1) + 1], [3, 4], [sh, sw]); // (S, Cin, N/S, Ho, Wo)
      const cols = reshape(tap, [s, g, cin / g, k]); // (S, G, Cin/G, K)
      perTap.push(reshape(matmul(gy, transposeLast(cols)), [s, g, cout / g, cin / g, 1])); // (S, G, Cout/G, Cin/G, 1)
    }
  }
  const stacked = perTap.length === 1 ? (perTap[0] as Tensor) : concat(perTap, 4); // (S, G, Cout/G, Cin/G, K)
  const summed = s === 1 ? stacked : reduceSum(stacked, [0], true); // (1, G, Cout/G, Cin/G, K)
  return reshape(summed, [cout, cin / g, kh, kw]);
}

/**
 * Chunks of the batch for convWeightGradPerTap: 2 when the batch is even. Measured on 2 cores,
 * dW CPU ms at 2 threads, batch 8, 1 → 2 chunks: 32 ch at 64² 9.1 → 7.5, 64 ch at 32² 6.2 → 5.5,
 * 128 ch at 16² 4.9 → 5.2; at 1 thread unchanged (7.5 / 5.3 / 4.9 → 7.4 / 5.3 / 5.3). 4 chunks
 * only shrink each product.
 */
export function batchChunks(batch: number): number {
  return batch % 2 === 0 ? 2 : 1;
}

/**
 * dL/dW by "unfold": one depthwise Conv with constant one-hot kernels copies every kernel tap of the
 * input into its own channel, (N, Cin·K, Ho, Wo), then one batched MatMul with the output gradient and a
 * ReduceSum over the batch. Two threaded ops instead of per-tap Slices (ORT's Slice and Concat run on
 * one thread) and no strided copies: measured faster at stride 2 (bench/engine_passes.ts). The unfolded
 * input is K times the input, so a big layer runs in batch chunks of at most UNFOLD_CHUNK_BYTES.
 */
export function convWeightGradUnfold(input: Tensor, gout: Tensor, kernel: readonly [number, number], geo: Geometry): Tensor {
  const [n, cin] = input.shape as [number, number, number, number];
  const [, cout, ho, wo] = gout.shape as [number, number, number, number];
  const [kh, kw] = kernel;
  const k = kh * kw;
  if (geo.group !== 1) throw new ShapeError(`convWeightGradUnfold: group ${geo.group} is not supported (use convWeightGrad)`);
  const oneHot = new Float32Array(cin * k * k); // (Cin·K, 1, kH, kW): channel c·K + t copies tap t of channel c
  for (let c = 0; c < cin; c++) for (let t = 0; t < k; t++) oneHot[(c * k + t) * k + t] = 1;
  const taps = input.graph.constant(oneHot, [cin * k, 1, kh, kw], 'float32', 'unfold_taps');
  const chunk = Math.max(1, Math.floor(UNFOLD_CHUNK_BYTES / (4 * cin * k * ho * wo)));
  const parts: Tensor[] = [];
  for (let start = 0; start < n; start += chunk) {
    const end = Math.min(n, start + chunk);
    const x = end - start === n ? input : slice(input, [start], [end], [0]);
    const gy = end - start === n ? gout : slice(gout, [start], [end], [0]);
    const cols = conv(x, taps, null, { strides: geo.strides, pads: geo.pads, dilations: geo.dilations, group: cin }); // (n', Cin·K, Ho, Wo)
    const prod = matmul(reshape(gy, [end - start, cout, ho * wo]), transposeLast(reshape(cols, [end - start, cin * k, ho * wo]))); // (n', Cout, Cin·K)
    parts.push(reduceSum(prod, [0])); // (Cout, Cin·K)
  }
  const sum = parts.reduce((a, b) => add(a, b));
  return reshape(sum, [cout, cin, kh, kw]);
}

/** Unfolded input per chunk: 64 MiB keeps a 64-channel 3×3 layer at 64×64 in one piece for batch 8. */
const UNFOLD_CHUNK_BYTES = 64 * 2 ** 20;

/** Whether dW goes by unfold (measured in bench/engine_passes.ts; see convWeightGradUnfold). */
export function weightGradByUnfold(geo: Geometry): boolean {
  return geo.group === 1 && geo.strides.some((s) => s > 1);
}

/** dL/dW for y = conv(input, W), by whichever method measured faster for this geometry. */
export function convWeightGrad(input: Tensor, gout: Tensor, kernel: readonly [number, number], geo: Geometry): Tensor {
  return weightGradByUnfold(geo) ? convWeightGradUnfold(input, gout, kernel, geo) : convWeightGradPerTap(input, gout, kernel, geo);
}

/** dL/dx for y = conv(x, W). */
export function convInputGrad(x: Tensor, weight: Tensor, gy: Tensor, geo: Geometry): Tensor {
  const [, , h, w] = x.shape as [number, number, number, number];
  const [, , kh, kw] = weight.shape as [number, number, number, number];
  const [sh, sw] = geo.strides as [number, number];
  const [dh, dw] = geo.dilations as [number, number];
  const [pt, pl, pb, pr] = geo.pads as [number, number, number, number];
  const [, , ho, wo] = gy.shape as [number, number, number, number];
  const fullPads = [kh - 1 - pt, kw - 1 - pl, kh - 1 - pb, kw - 1 - pr];
  const simple = sh === 1 && sw === 1 && dh === 1 && dw === 1 && geo.group === 1 && fullPads.every((p) => p >= 0);
  if (simple) {
    // Stride 1: a plain Conv with the kernel flipped and in/out channels swapped runs as fast as the forward.
    const flipped = slice(weight, [-1, -1], [-kh - 1, -kw - 1], [2, 3], [-1, -1]);
    const wt = transpose(flipped, [1, 0, 2, 3]); // (Cin, Cout, kH, kW)
    const dx = conv(gy, wt, null, { pads: fullPads });
    const [, , dh2, dw2] = dx.shape as [number, number, number, number];
    // Rows/cols the forward never read (when stride leaves a remainder) get zero gradient.
    return dh2 === h && dw2 === w ? dx : pad(dx, [0, 0, 0, 0, 0, 0, h - dh2, w - dw2]);
  }
  const outputPadding = [h - (sh * (ho - 1) + dh * (kh - 1) + 1 - pt - pb), w - (sw * (wo - 1) + dw * (kw - 1) + 1 - pl - pr)];
  return convTranspose(gy, weight, null, { strides: geo.strides, pads: geo.pads, dilations: geo.dilations, group: geo.group, outputPadding });
}

/** dL/dx for y = convTranspose(x, W): the adjoint of a transposed convolution is a convolution. */
export function convTransposeInputGrad(weight: Tensor, gy: Tensor, options: ConvOptions): Tensor {
  return conv(gy, weight, null, options);
}
