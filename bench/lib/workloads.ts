/**
 * The two reference workloads of bench/REFERENCE.md as data: their input shapes, their parameter
 * counts and their FLOPs, counted analytically so every peer is divided by the same number.
 * FLOPs = 2 × multiply-accumulates of convolutions and matrix products (attention's QKᵀ and AV
 * included); norms, activations, softmax, bias adds, the loss and Adam are not counted.
 * A training step counts as 3 × forward (backward ≈ dX + dW, each about one forward).
 */

export type WorkloadName = 'convnet' | 'transformer';
export const WORKLOADS: readonly WorkloadName[] = ['convnet', 'transformer'];

/** Training step FLOPs as a multiple of forward FLOPs (the usual convention, see REFERENCE.md). */
export const TRAIN_FLOP_FACTOR = 3;

/** The 2048³ float32 MatMul whose GFLOP/s is the machine's ceiling (DESIGN.md §6). */
export const MATMUL_N = 2048;
export const MATMUL_FLOPS = 2 * MATMUL_N ** 3;

/** Adam as the reference workloads train with it. */
export const ADAM = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 } as const;

export const CONVNET = {
  batch: 8,
  channels: 3,
  size: 64,
  groups: 8,
  groupNormEps: 1e-5,
} as const;

export const TRANSFORMER = {
  batch: 8,
  seq: 256,
  width: 256,
  heads: 4,
  headDim: 64,
  hidden: 1024,
  layerNormEps: 1e-5,
} as const;

/** One 3×3 convolution of the conv net (padding 1): channels in/out, the output resolution and the stride. */
interface ConvLayer {
  cin: number;
  cout: number;
  outSize: number;
  stride: 1 | 2;
}

/** The conv net's 3×3 convolutions in order, as REFERENCE.md lists them. */
export function convNetLayers(): ConvLayer[] {
  const resBlock = (c: number, size: number): ConvLayer[] => [
    { cin: c, cout: c, outSize: size, stride: 1 },
    { cin: c, cout: c, outSize: size, stride: 1 },
  ];
  return [
    { cin: 3, cout: 32, outSize: 64, stride: 1 }, // stem
    ...resBlock(32, 64),
    { cin: 32, cout: 64, outSize: 32, stride: 2 }, // down1
    ...resBlock(64, 32),
    { cin: 64, cout: 128, outSize: 16, stride: 2 }, // down2
    ...resBlock(128, 16),
    ...resBlock(128, 16),
    { cin: 128, cout: 64, outSize: 32, stride: 1 }, // up1, after nearest ×2
    ...resBlock(64, 32),
    { cin: 64, cout: 32, outSize: 64, stride: 1 }, // up2, after nearest ×2
    ...resBlock(32, 64),
    { cin: 32, cout: 3, outSize: 64, stride: 1 }, // head
  ];
}

/** Channel counts of the conv net's GroupNorms (two per ResBlock, one in the head). */
function convNetNormChannels(): number[] {
  const perBlock = [32, 64, 128, 128, 64, 32];
  return [...perBlock.flatMap((c) => [c, c]), 32];
}

export function convNetParams(): number {
  const convs = convNetLayers().reduce((n, l) => n + 9 * l.cin * l.cout + l.cout, 0);
  const norms = convNetNormChannels().reduce((n, c) => n + 2 * c, 0);
  return convs + norms;
}

export function convNetForwardMacs(): number {
  const b = CONVNET.batch;
  return convNetLayers().reduce((n, l) => n + b * l.outSize * l.outSize * l.cout * l.cin * 9, 0);
}

export function transformerParams(): number {
  const { width: d, hidden } = TRANSFORMER;
  const linear = (i: number, o: number): number => i * o + o;
  const layerNorms = 2 * 2 * d;
  return layerNorms + 4 * linear(d, d) + linear(d, hidden) + linear(hidden, d);
}

export function transformerForwardMacs(): number {
  const { batch: b, seq: s, width: d, heads, headDim, hidden } = TRANSFORMER;
  const tokens = b * s;
  const linears = tokens * (4 * d * d + 2 * d * hidden); // q, k, v, o; W1, W2
  const attention = 2 * b * heads * s * s * headDim; // QKᵀ and AV
  return linears + attention;
}

export function workloadParams(name: WorkloadName): number {
  return name === 'convnet' ? convNetParams() : transformerParams();
}

export function forwardFlops(name: WorkloadName): number {
  return 2 * (name === 'convnet' ? convNetForwardMacs() : transformerForwardMacs());
}

export function trainFlops(name: WorkloadName): number {
  return TRAIN_FLOP_FACTOR * forwardFlops(name);
}

/** Input (and target) shape of a workload, in the spec's layout (NCHW for the conv net). */
export function inputShape(name: WorkloadName): number[] {
  if (name === 'convnet') return [CONVNET.batch, CONVNET.channels, CONVNET.size, CONVNET.size];
  return [TRANSFORMER.batch, TRANSFORMER.seq, TRANSFORMER.width];
}
