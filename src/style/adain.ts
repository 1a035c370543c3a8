/**
 * Arbitrary style transfer with adaptive instance normalisation (Huang & Belongie, "Arbitrary Style
 * Transfer in Real-time with Adaptive Instance Normalization", ICCV 2017): the content's encoder
 * features are re-normalised to the style's per-channel mean and standard deviation, and a decoder
 * trained by gesso turns them back into an image. Style strength alpha blends the re-normalised
 * features with the content's own; several styles mix by weighting their statistics.
 * The decoder upsamples by nearest resize + 3×3 conv (no transposed conv: no checkerboards).
 */
import type { Rng } from '../core/rng.ts';
import type { Graph, Tensor } from '../graph/graph.ts';
import * as op from '../graph/ops/index.ts';
import { Conv2d, Upsample } from '../nn/index.ts';

export interface AdainConfig {
  /** Encoder layer the transfer happens at (1/8 of the image size for MobileNetV2's block_6_expand_relu). */
  layer: string;
  /** Channels of that layer. */
  channels: number;
  /** Downsampling factor of that layer (a power of 2). */
  factor: number;
  /** Decoder widths from the feature resolution up to full size, one per level (log2(factor) + 1). */
  widths: number[];
  /** Layers whose mean/std the style loss matches. */
  styleLayers: string[];
  /**
   * 'nearest' (default): nearest ×2; 'smooth': nearest ×2 then a fixed [1 2 1]/4 blur per axis, which
   * equals bilinear ×2 (half-pixel centres) away from the border (tried against the 1/8 block pattern;
   * it did not remove it).
   */
  upsample?: 'nearest' | 'smooth';
  /** Decoder convolutions' padding: 'zeros' (the default, as older model folders were trained) or 'reflect' (no dark frame at the borders). */
  padding?: 'zeros' | 'reflect';
  /**
   * 'style': the decoded image's colour channels are re-normalised to the style image's per-channel
   * mean and std (AdaIN in pixel space, clipped to [0, 1]), in training and at inference, so the palette
   * follows the style instead of the decoder's muted average. Absent: the decoder's colours as they are.
   */
  outputColor?: 'style';
}

const STYLE_LAYERS = ['pixels', 'Conv1_relu', 'block_1_expand_relu', 'block_3_expand_relu', 'block_6_expand_relu'];

/**
 * The first gesso-adain-v1 decoder (replaced): AdaIN at 1/8 (block_6_expand_relu, 192 channels), zero
 * padding. Each decoded feature vector had to paint an 8×8 patch through nearest upsampling, and the
 * output showed that 8-px block pattern ('smooth' upsampling, tried by fine-tuning, did not remove it).
 * Kept so that run can be reproduced (scripts/train-adain.ts --variant eighth).
 */
export const ADAIN_EIGHTH: AdainConfig = {
  layer: 'block_6_expand_relu',
  channels: 192,
  factor: 8,
  widths: [128, 64, 32, 16],
  styleLayers: STYLE_LAYERS,
};

/**
 * AdaIN at 1/4 of the image (MobileNetV2's block_3_expand_relu, 144 channels) with a reflect-padded
 * decoder: each feature vector covers a 4×4 patch, finer than the pattern the 1/8 layer left, and no
 * dark frame at the borders. Its colours came out muted (scripts/train-adain.ts --variant quarter).
 */
export const ADAIN_QUARTER: AdainConfig = {
  layer: 'block_3_expand_relu',
  channels: 144,
  factor: 4,
  widths: [96, 48, 24],
  styleLayers: STYLE_LAYERS,
  padding: 'reflect',
};

/** ADAIN_QUARTER with the output's colour statistics matched to the style's. The shipped models/gesso-adain-v1 (see its model card). */
export const ADAIN_DEFAULT: AdainConfig = { ...ADAIN_QUARTER, outputColor: 'style' };

const EPS = 1e-5;

/** Per-channel mean and std over H, W: (N, C, H, W) -> two (N, C, 1, 1). */
export function channelStats(f: Tensor): { mean: Tensor; std: Tensor } {
  const mean = op.reduceMean(f, [2, 3], true);
  const d = op.sub(f, mean);
  const std = op.sqrt(op.add(op.reduceMean(op.mul(d, d), [2, 3], true), EPS));
  return { mean, std };
}

/** AdaIN(c, s) = σ_s · (c − μ_c) / σ_c + μ_s, with the style statistics given as (N, C, 1, 1). */
export function adaptiveInstanceNorm(content: Tensor, styleMean: Tensor, styleStd: Tensor): Tensor {
  const { mean, std } = channelStats(content);
  return op.add(op.mul(op.div(op.sub(content, mean), std), styleStd), styleMean);
}

/** (N, 3, H, W) image in [0, 1] with each colour channel moved to the given (N, 3, 1, 1) mean and std, clipped to [0, 1]. */
export function matchColorStats(image: Tensor, mean: Tensor, std: Tensor): Tensor {
  return op.clip(adaptiveInstanceNorm(image, mean, std), 0, 1);
}

/** Bilinear ×2 as nearest ×2 + a constant depthwise [1 2 1]⊗[1 2 1]/16 blur: (N, C, H, W) -> (N, C, 2H, 2W). */
function smoothUpsample(g: Graph, x: Tensor, channels: number, up: Upsample): Tensor {
  const k = [1, 2, 1, 2, 4, 2, 1, 2, 1].map((v) => v / 16);
  const w = g.constant(
    new Float32Array(channels * 9).map((_, i) => k[i % 9] as number),
    [channels, 1, 3, 3],
    'float32',
    'smooth_up',
  );
  return op.conv(up.forward(x), w, null, { pads: [1, 1, 1, 1], group: channels });
}

/** Decoder: (N, C, H/f, W/f) features -> (N, 3, H, W) image in [0, 1]. Parameter names are stable (`decoder.*`). */
export function buildDecoder(g: Graph, t: Tensor, config: AdainConfig, rng: Rng): Tensor {
  const levels = Math.round(Math.log2(config.factor));
  if (config.widths.length !== levels + 1) throw new Error(`AdaIN decoder: ${config.widths.length} widths for ${levels + 1} levels`);
  return g.scope('decoder', () => {
    let h = t;
    let cin = config.channels;
    const up = new Upsample({ scale: 2 });
    const conv3 = { kernel: 3, padding: 1, paddingMode: config.padding ?? 'zeros' } as const;
    config.widths.forEach((w, i) => {
      h = op.relu(new Conv2d(g, `level${i}.conv1`, { in: cin, out: w, ...conv3 }, rng).forward(h));
      if (i > 0) h = op.relu(new Conv2d(g, `level${i}.conv2`, { in: w, out: w, ...conv3 }, rng).forward(h));
      cin = w;
      if (i < levels) h = config.upsample === 'smooth' ? smoothUpsample(g, h, w, up) : up.forward(h); // (N, w, 2h, 2w)
    });
    return op.sigmoid(new Conv2d(g, 'out', { in: cin, out: 3, ...conv3 }, rng).forward(h)); // (N, 3, H, W)
  });
}
