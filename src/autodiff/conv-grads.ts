/**
 * Gradients of Conv and ConvTranspose with standard ONNX ops (no training kernels).
 * Weight gradients are im2col-style products of the input and the output gradient (DESIGN.md §1
 * measured this ~4× faster than expressing dW as a transposed convolution), in three forms:
 * factored unfolds at stride 1, one unfold at other strides, per-tap slices for grouped strided convs.
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
  const taps = oneHotTaps(input, k, kernel, (t) => t, 'unfold_taps'); // (Cin·K, 1, kH, kW)
  const parts: Tensor[] = [];
  for (const [start, end] of batchRanges(n, 4 * cin * k * ho * wo, UNFOLD_CHUNK_BYTES)) {
    const x = end - start === n ? input : slice(input, [start], [end], [0]);
    const gy = end - start === n ? gout : slice(gout, [start], [end], [0]);
    const cols = conv(x, taps, null, { strides: geo.strides, pads: geo.pads, dilations: geo.dilations, group: cin }); // (n', Cin·K, Ho, Wo)
    const prod = matmul(reshape(gy, [end - start, cout, ho * wo]), transposeLast(reshape(cols, [end - start, cin * k, ho * wo]))); // (n', Cout, Cin·K)
    parts.push(reduceSum(prod, [0])); // (Cout, Cin·K)
  }
  const sum = parts.reduce((a, b) => add(a, b));
  return reshape(sum, [cout, cin, kh, kw]);
}

/** Unfolded tensors per chunk: 64 MiB keeps a 64-channel 3×3 layer at 64×64 in one piece for batch 8. */
const UNFOLD_CHUNK_BYTES = 64 * 2 ** 20;

/** [start, end) batch ranges of near-equal size, each holding at most `bytesPerSample · size` ≤ `limit` bytes. */
function batchRanges(n: number, bytesPerSample: number, limit: number): [number, number][] {
  const count = Math.ceil(n / Math.max(1, Math.floor(limit / bytesPerSample)));
  const size = Math.ceil(n / count);
  const ranges: [number, number][] = [];
  for (let start = 0; start < n; start += size) ranges.push([start, Math.min(n, start + size)]);
  return ranges;
}

/** Constant depthwise one-hot kernels (C·T, 1, kH, kW): output channel c·T + t copies tap `tapOf(t)` of channel c. */
function oneHotTaps(input: Tensor, taps: number, kernel: readonly [number, number], tapOf: (t: number) => number, name: string): Tensor {
  const c = input.shape[1] as number;
  const k = kernel[0] * kernel[1];
  const values = new Float32Array(c * taps * k);
  for (let ch = 0; ch < c; ch++) for (let t = 0; t < taps; t++) values[(ch * taps + t) * k + tapOf(t)] = 1;
  return input.graph.constant(values, [c * taps, 1, kernel[0], kernel[1]], 'float32', name);
}

/**
 * dL/dW at stride 1 from two small unfolds instead of one big one. The input is unfolded along the
 * width only (kW shifted copies, padded rows kept) and the output gradient along the height only (kH
 * copies, shifted down by i·dH rows and zero-filled), each by a depthwise Conv with one-hot kernels;
 * one batched MatMul over (padded rows × output columns) then yields every (row tap, column tap) pair
 * at once:
 *   Σ_{y',x} gout[o, y'−i·dH, x] · xpad[c, y', x+j·dW] = Σ_{y,x} gout[o, y, x] · xpad[c, y+i·dH, x+j·dW] = dW[o, c, i, j].
 * It writes kW·|x| + kH·|gout| (6 copies for 3×3) where convWeightGradUnfold writes kH·kW·|x| (9), for
 * a MatMul only (H+kH−1)/H longer. Measured in the per-pass table of bench:engine (BENCHMARKS.md).
 */
export function convWeightGradFactored(input: Tensor, gout: Tensor, kernel: readonly [number, number], geo: Geometry, chunkBytes = UNFOLD_CHUNK_BYTES): Tensor {
  const [n, cin, h] = input.shape as [number, number, number, number];
  const [, cout, , wo] = gout.shape as [number, number, number, number];
  const [kh, kw] = kernel;
  const [dh, dw] = geo.dilations as [number, number];
  const [pt, pl, pb, pr] = geo.pads as [number, number, number, number];
  const g = geo.group;
  if (geo.strides.some((s) => s !== 1))
    throw new ShapeError(`convWeightGradFactored: strides ${geo.strides.join('x')}; only stride 1 is supported (use convWeightGrad)`);
  const hp = h + pt + pb; // padded input rows = gout rows + (kH − 1)·dH
  const l = hp * wo;
  const colTaps = kw === 1 && pt + pl + pb + pr === 0 ? null : oneHotTaps(input, kw, [1, kw], (t) => t, 'unfold_cols');
  const rowTaps = kh === 1 ? null : oneHotTaps(gout, kh, [kh, 1], (t) => kh - 1 - t, 'unfold_rows');
  const parts: Tensor[] = [];
  for (const [start, end] of batchRanges(n, 4 * l * (cin * kw + cout * kh), chunkBytes)) {
    const m = end - start;
    const x = m === n ? input : slice(input, [start], [end], [0]);
    const gy = m === n ? gout : slice(gout, [start], [end], [0]);
    const cols = colTaps ? conv(x, colTaps, null, { pads: geo.pads, dilations: [1, dw], group: cin }) : x; // (m, Cin·kW, Hp, Wo)
    const rows = rowTaps ? conv(gy, rowTaps, null, { pads: [(kh - 1) * dh, 0, (kh - 1) * dh, 0], dilations: [dh, 1], group: cout }) : gy; // (m, Cout·kH, Hp, Wo)
    const prod = matmul(reshape(rows, [m, g, (cout / g) * kh, l]), transposeLast(reshape(cols, [m, g, (cin / g) * kw, l]))); // (m, G, Cout/G·kH, Cin/G·kW)
    parts.push(reduceSum(prod, [0])); // (G, Cout/G·kH, Cin/G·kW)
  }
  const sum = parts.reduce((a, b) => add(a, b));
  return reshape(transpose(reshape(sum, [g, cout / g, kh, cin / g, kw]), [0, 1, 3, 2, 4]), [cout, cin / g, kh, kw]);
}

/**
 * dL/dW for y = conv(input, W), by the method measured fastest for its geometry (bench:engine's
 * per-pass table): factored unfolds at stride 1, one unfold at other strides, per-tap slices for
 * grouped strided convolutions (which the unfold does not take).
 */
export function convWeightGrad(input: Tensor, gout: Tensor, kernel: readonly [number, number], geo: Geometry): Tensor {
  const method = weightGradMethod(geo);
  if (method === 'factored') return convWeightGradFactored(input, gout, kernel, geo);
  return method === 'unfold' ? convWeightGradUnfold(input, gout, kernel, geo) : convWeightGradPerTap(input, gout, kernel, geo);
}

/** Which method convWeightGrad uses for this geometry (also the benchmark's "used" marks). */
export function weightGradMethod(geo: Geometry): 'factored' | 'unfold' | 'per-tap' {
  if (geo.strides.every((s) => s === 1)) return 'factored';
  return geo.group === 1 ? 'unfold' : 'per-tap';
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
