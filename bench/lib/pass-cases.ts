/**
 * The per-pass cases of `npm run bench:engine` (issue 9's "what is known" table): one convolution's
 * forward, input gradient (dX) and weight gradient (dW) at stride 1 and 2, and forward + backward of
 * the other layers whose backward gesso derives itself (transposed conv, GroupNorm, InstanceNorm,
 * attention). The same list goes to the PyTorch peer as JSON, so both sides time the same shapes.
 */

export interface ConvPassCase {
  kind: 'conv';
  id: string;
  batch: number;
  cin: number;
  cout: number;
  /** Input height = width. */
  size: number;
  kernel: number;
  stride: number;
  pad: number;
}

/** Forward + backward (gradients of every input and parameter) of one layer, given the output gradient. */
export interface LayerCase {
  kind: 'convtranspose' | 'groupnorm' | 'instancenorm' | 'attention';
  id: string;
  /** (B, C, H, W) for the image layers, (B, S, D) for attention. */
  shape: number[];
  /** ConvTranspose: output channels, kernel, stride, pad. Norms: groups. Attention: heads. */
  params: Record<string, number>;
}

export type PassCase = ConvPassCase | LayerCase;

export const CONV_PASSES = ['forward', 'dX', 'dW'] as const;
export type ConvPass = (typeof CONV_PASSES)[number];

/** The 64→64 3×3 conv on 8×64×64, at stride 1 and 2, and the layers named in the issue. */
export const PASS_CASES: readonly PassCase[] = [
  { kind: 'conv', id: 'conv 3×3 64→64 on 8×64×64, stride 1', batch: 8, cin: 64, cout: 64, size: 64, kernel: 3, stride: 1, pad: 1 },
  { kind: 'conv', id: 'conv 3×3 64→64 on 8×64×64, stride 2', batch: 8, cin: 64, cout: 64, size: 64, kernel: 3, stride: 2, pad: 1 },
  // A GAN generator's upsampling layer: 4×4, stride 2, 64→32 channels, 8×64×32×32 -> 8×32×64×64.
  { kind: 'convtranspose', id: 'ConvTranspose 4×4 s2 64→32, 8×64×32×32', shape: [8, 64, 32, 32], params: { cout: 32, kernel: 4, stride: 2, pad: 1 } },
  { kind: 'groupnorm', id: 'GroupNorm 8 groups, 8×64×64×64', shape: [8, 64, 64, 64], params: { groups: 8 } },
  { kind: 'instancenorm', id: 'InstanceNorm (affine), 8×64×64×64', shape: [8, 64, 64, 64], params: {} },
  { kind: 'attention', id: 'self-attention 4 heads, 8×256×256', shape: [8, 256, 256], params: { heads: 4 } },
];

export const NORM_EPS = 1e-5;

/** Multiply-accumulates ×2 of a conv pass (forward, dX and dW each do the forward's MACs). */
export function convPassFlops(c: ConvPassCase): number {
  const out = Math.floor((c.size + 2 * c.pad - c.kernel) / c.stride) + 1;
  return 2 * c.batch * c.cout * out * out * c.cin * c.kernel * c.kernel;
}
