/**
 * Stable Diffusion's VAE: diffusers' `AutoencoderKL` (Rombach et al., 2022), same config fields and
 * state-dict names (`encoder.*`, `quant_conv`, `post_quant_conv`, `decoder.*`).
 *
 *   encoder: conv_in ─ down_blocks[i] (layers_per_block ResBlocks [+ stride-2 conv]) ─ mid (ResBlock,
 *            attention, ResBlock) ─ GroupNorm ─ SiLU ─ conv_out (2·latent) ─ quant_conv (1x1)
 *   decoder: post_quant_conv (1x1) ─ conv_in ─ mid ─ up_blocks[i] ((layers_per_block+1) ResBlocks
 *            [+ nearest ×2, conv]) ─ GroupNorm ─ SiLU ─ conv_out (3)
 * One spatial factor of 2 per level after the first: SD's 4 levels map 512×512 pixels to 64×64 latents.
 *
 * ONNX I/O as optimum exports it:
 *   vae_encoder: sample (B, 3, H, W) in [-1, 1] -> latent_sample (B, 2·latent, H/f, W/f)
 *   vae_decoder: latent_sample (B, latent, h, w) -> sample (B, 3, h·f, w·f) in about [-1, 1]
 * The encoder's output holds the latent distribution's parameters, not a sample: channels
 * [0, latent) are the mean, [latent, 2·latent) the log-variance. A pipeline takes the mean (deterministic
 * img2img), or samples mean + exp(logvar / 2)·noise with logvar clamped to [-30, 20] as diffusers does,
 * then multiplies by `scaling_factor` before the UNet sees it. Before decoding it divides latents by
 * `scaling_factor`.
 */
import { InputError } from '../core/errors.ts';
import { Rng } from '../core/rng.ts';
import { exportOnnx, type ExportedModel } from '../graph/export.ts';
import { Graph, type Tensor } from '../graph/graph.ts';
import { add, clip, exp, mul, randomNormalLike, silu, split } from '../graph/ops/index.ts';
import { Conv2d, GroupNorm, MultiHeadAttention, ResBlock, type WeightInit } from '../nn/index.ts';
import { Downsample2D, Upsample2D } from './resample.ts';
import { toImage, toTokens } from './transformer-2d.ts';
import type { BuildWeights } from './build-options.ts';

export interface AutoencoderKLConfig {
  in_channels: number;
  out_channels: number;
  block_out_channels: number[];
  layers_per_block: number;
  latent_channels: number;
  norm_num_groups: number;
  sample_size: number;
  /** Latents the UNet sees = VAE latents × scaling_factor (0.18215 for SD 1.x/2.x). */
  scaling_factor: number;
}

export const VAE_DEFAULTS: AutoencoderKLConfig = {
  in_channels: 3,
  out_channels: 3,
  block_out_channels: [128, 256, 512, 512],
  layers_per_block: 2,
  latent_channels: 4,
  norm_num_groups: 32,
  sample_size: 512,
  scaling_factor: 0.18215,
};

const UNSUPPORTED: Record<string, readonly unknown[]> = {
  act_fn: ['silu', undefined],
  shift_factor: [null, 0, undefined],
  use_quant_conv: [true, undefined],
  use_post_quant_conv: [true, undefined],
  mid_block_add_attention: [true, undefined],
  latents_mean: [null, undefined],
  latents_std: [null, undefined],
};

/** A full config from a diffusers config.json object (or a partial one), checked. */
export function vaeConfig(raw: Partial<AutoencoderKLConfig> & Record<string, unknown> = {}): AutoencoderKLConfig {
  for (const [key, allowed] of Object.entries(UNSUPPORTED)) {
    if (!allowed.some((v) => v === raw[key]))
      throw new InputError(`VAE config: ${key} ${JSON.stringify(raw[key])} is not supported (gesso builds ${JSON.stringify(allowed[0])})`);
  }
  const c: AutoencoderKLConfig = { ...VAE_DEFAULTS };
  for (const key of Object.keys(VAE_DEFAULTS) as (keyof AutoencoderKLConfig)[]) {
    if (raw[key] !== undefined) (c as unknown as Record<string, unknown>)[key] = raw[key];
  }
  for (const key of ['in_channels', 'out_channels', 'layers_per_block', 'latent_channels', 'norm_num_groups', 'sample_size'] as const) {
    if (!Number.isInteger(c[key]) || c[key] <= 0) throw new InputError(`VAE config: ${key} ${JSON.stringify(c[key])} must be a positive integer`);
  }
  if (!Array.isArray(c.block_out_channels) || c.block_out_channels.length === 0)
    throw new InputError(`VAE config: block_out_channels ${JSON.stringify(c.block_out_channels)} must be a non-empty list`);
  c.block_out_channels.forEach((ch, i) => {
    if (!Number.isInteger(ch) || ch <= 0 || ch % c.norm_num_groups !== 0)
      throw new InputError(`VAE config: block_out_channels[${i}] ${ch} must be a positive multiple of norm_num_groups ${c.norm_num_groups}`);
  });
  if (!(c.scaling_factor > 0)) throw new InputError(`VAE config: scaling_factor ${c.scaling_factor} must be > 0`);
  return c;
}

/** Pixels per latent along each axis: 2^(levels - 1). */
export function vaeScaleFactor(c: AutoencoderKLConfig): number {
  return 2 ** (c.block_out_channels.length - 1);
}

/**
 * The VAE's single-head self-attention over all positions, with a residual (diffusers' Attention as the
 * VAE mid block builds it: group_norm, to_q/to_k/to_v with bias, to_out.0).
 */
class SpatialSelfAttention {
  readonly groupNorm: GroupNorm;
  readonly attn: MultiHeadAttention;

  constructor(g: Graph, name: string, channels: number, groups: number, rng: Rng, init: WeightInit) {
    this.groupNorm = g.scope(name, () => new GroupNorm(g, 'group_norm', { groups, channels, eps: 1e-6 }));
    // The projections sit beside group_norm (`<name>.to_q`), not under a name of their own.
    this.attn = new MultiHeadAttention(g, name, { dim: channels, heads: 1, qkvBias: true, init, names: { out: 'to_out.0' } }, rng);
  }

  /** (B, C, H, W) -> (B, C, H, W) */
  forward(x: Tensor): Tensor {
    const tokens = toTokens(this.groupNorm.forward(x)); // (B, HW, C)
    return add(toImage(this.attn.forward(tokens), x), x);
  }
}

class MidBlock {
  readonly resnets: [ResBlock, ResBlock];
  readonly attention: SpatialSelfAttention;

  constructor(g: Graph, name: string, channels: number, groups: number, rng: Rng, init: WeightInit) {
    const res = (n: string): ResBlock => new ResBlock(g, n, { in: channels, groups, eps: 1e-6, init }, rng);
    [this.resnets, this.attention] = g.scope(name, () => [
      g.scope('resnets', () => [res('0'), res('1')] as [ResBlock, ResBlock]),
      g.scope('attentions', () => new SpatialSelfAttention(g, '0', channels, groups, rng, init)),
    ]);
  }

  forward(x: Tensor): Tensor {
    return this.resnets[1].forward(this.attention.forward(this.resnets[0].forward(x)));
  }
}

export class VaeEncoder {
  readonly convIn: Conv2d;
  readonly down: { resnets: ResBlock[]; downsample: Downsample2D | null }[];
  readonly mid: MidBlock;
  readonly convNormOut: GroupNorm;
  readonly convOut: Conv2d;
  readonly quantConv: Conv2d;

  constructor(
    g: Graph,
    readonly config: AutoencoderKLConfig,
    rng: Rng,
    init: WeightInit = 'pytorch',
  ) {
    const c = config;
    const ch = c.block_out_channels;
    const groups = c.norm_num_groups;
    const last = ch[ch.length - 1];
    const latent2 = 2 * c.latent_channels;
    const parts = g.scope('encoder', () => ({
      convIn: new Conv2d(g, 'conv_in', { in: c.in_channels, out: ch[0], kernel: 3, padding: 1, init }, rng),
      down: g.scope('down_blocks', () =>
        ch.map((outC, i) =>
          g.scope(String(i), () => {
            const inC = i === 0 ? ch[0] : ch[i - 1];
            return {
              resnets: g.scope('resnets', () =>
                Array.from(
                  { length: c.layers_per_block },
                  (_, j) => new ResBlock(g, String(j), { in: j === 0 ? inC : outC, out: outC, groups, eps: 1e-6, init }, rng),
                ),
              ),
              downsample: i < ch.length - 1 ? g.scope('downsamplers', () => new Downsample2D(g, '0', outC, 0, rng, init)) : null,
            };
          }),
        ),
      ),
      mid: new MidBlock(g, 'mid_block', last, groups, rng, init),
      convNormOut: new GroupNorm(g, 'conv_norm_out', { groups, channels: last, eps: 1e-6 }),
      convOut: new Conv2d(g, 'conv_out', { in: last, out: latent2, kernel: 3, padding: 1, init }, rng),
    }));
    ({ convIn: this.convIn, down: this.down, mid: this.mid, convNormOut: this.convNormOut, convOut: this.convOut } = parts);
    this.quantConv = new Conv2d(g, 'quant_conv', { in: latent2, out: latent2, kernel: 1, init }, rng);
  }

  /** image (B, in, H, W) -> latent parameters (B, 2·latent, H/f, W/f): mean, then log-variance */
  forward(x: Tensor): Tensor {
    let h = this.convIn.forward(x); // (B, C0, H, W)
    for (const level of this.down) {
      for (const resnet of level.resnets) h = resnet.forward(h);
      if (level.downsample) h = level.downsample.forward(h); // (B, C, H/2, W/2)
    }
    h = this.mid.forward(h);
    h = this.convOut.forward(silu(this.convNormOut.forward(h))); // (B, 2·latent, H/f, W/f)
    return this.quantConv.forward(h);
  }
}

export class VaeDecoder {
  readonly postQuantConv: Conv2d;
  readonly convIn: Conv2d;
  readonly mid: MidBlock;
  readonly up: { resnets: ResBlock[]; upsample: Upsample2D | null }[];
  readonly convNormOut: GroupNorm;
  readonly convOut: Conv2d;

  constructor(
    g: Graph,
    readonly config: AutoencoderKLConfig,
    rng: Rng,
    init: WeightInit = 'pytorch',
  ) {
    const c = config;
    const groups = c.norm_num_groups;
    const reversed = [...c.block_out_channels].reverse();
    const last = reversed[0];
    this.postQuantConv = new Conv2d(g, 'post_quant_conv', { in: c.latent_channels, out: c.latent_channels, kernel: 1, init }, rng);
    const parts = g.scope('decoder', () => ({
      convIn: new Conv2d(g, 'conv_in', { in: c.latent_channels, out: last, kernel: 3, padding: 1, init }, rng),
      mid: new MidBlock(g, 'mid_block', last, groups, rng, init),
      up: g.scope('up_blocks', () =>
        reversed.map((outC, i) =>
          g.scope(String(i), () => {
            const inC = i === 0 ? last : reversed[i - 1];
            return {
              resnets: g.scope('resnets', () =>
                Array.from(
                  { length: c.layers_per_block + 1 },
                  (_, j) => new ResBlock(g, String(j), { in: j === 0 ? inC : outC, out: outC, groups, eps: 1e-6, init }, rng),
                ),
              ),
              upsample: i < reversed.length - 1 ? g.scope('upsamplers', () => new Upsample2D(g, '0', outC, rng, init)) : null,
            };
          }),
        ),
      ),
      convNormOut: new GroupNorm(g, 'conv_norm_out', { groups, channels: reversed[reversed.length - 1], eps: 1e-6 }),
      convOut: new Conv2d(g, 'conv_out', { in: reversed[reversed.length - 1], out: c.out_channels, kernel: 3, padding: 1, init }, rng),
    }));
    ({ convIn: this.convIn, mid: this.mid, up: this.up, convNormOut: this.convNormOut, convOut: this.convOut } = parts);
  }

  /** latents (B, latent, h, w), already divided by scaling_factor -> image (B, out, h·f, w·f) */
  forward(z: Tensor): Tensor {
    let h = this.convIn.forward(this.postQuantConv.forward(z)); // (B, C_last, h, w)
    h = this.mid.forward(h);
    for (const level of this.up) {
      for (const resnet of level.resnets) h = resnet.forward(h);
      if (level.upsample) h = level.upsample.forward(h); // (B, C, 2h, 2w)
    }
    return this.convOut.forward(silu(this.convNormOut.forward(h))); // (B, out, H, W)
  }
}

export interface VaeBuildOptions extends BuildWeights {
  /** Example batch; dynamic in the export. */
  batch?: number;
  /** Example image height/width in pixels (latents are these / f); default the config's sample_size. */
  height?: number;
  width?: number;
  /**
   * Encoder only: output a sample, mean + exp(logvar / 2)·ε with an unseeded ε, as folders exported by
   * optimum ≤ 1.22 have it (`latent_dist.sample()` traced into the graph), instead of mean and log-variance.
   */
  sampleInGraph?: boolean;
}

export interface BuiltVae<M> {
  graph: Graph;
  model: M;
  config: AutoencoderKLConfig;
  input: Tensor;
  out: Tensor;
}

function checkImageSize(c: AutoencoderKLConfig, height: number, width: number): void {
  const f = vaeScaleFactor(c);
  if (height % f !== 0 || width % f !== 0) throw new InputError(`VAE: image size ${height}x${width} must divide by ${f} (2^(levels-1))`);
}

export function buildVaeEncoder(config: AutoencoderKLConfig, options: VaeBuildOptions = {}): BuiltVae<VaeEncoder> {
  const g = new Graph();
  const model = new VaeEncoder(g, config, new Rng(options.seed ?? 0), options.init ?? 'pytorch');
  const [h, w] = [options.height ?? config.sample_size, options.width ?? config.sample_size];
  checkImageSize(config, h, w);
  const input = g.input('sample', [options.batch ?? 1, config.in_channels, h, w]);
  const moments = model.forward(input); // (B, 2·latent, h, w)
  if (!options.sampleInGraph) return { graph: g, model, config, input, out: moments };
  const [mean, logvar] = split(moments, [config.latent_channels, config.latent_channels], 1) as [Tensor, Tensor]; // (B, latent, h, w) each
  const std = exp(mul(clip(logvar, -30, 20), 0.5));
  return { graph: g, model, config, input, out: add(mean, mul(std, randomNormalLike(mean))) };
}

export function buildVaeDecoder(config: AutoencoderKLConfig, options: VaeBuildOptions = {}): BuiltVae<VaeDecoder> {
  const g = new Graph();
  const model = new VaeDecoder(g, config, new Rng(options.seed ?? 0), options.init ?? 'pytorch');
  const [h, w] = [options.height ?? config.sample_size, options.width ?? config.sample_size];
  checkImageSize(config, h, w);
  const f = vaeScaleFactor(config);
  const input = g.input('latent_sample', [options.batch ?? 1, config.latent_channels, h / f, w / f]);
  return { graph: g, model, config, input, out: model.forward(input) };
}

const IMAGE_AXES = { 0: 'batch', 2: 'height', 3: 'width' } as const;
const LATENT_AXES = { 0: 'batch', 2: 'height_latent', 3: 'width_latent' } as const;

/** vae_encoder/model.onnx: sample -> latent_sample (the latent parameters), batch/height/width dynamic. */
export function exportVaeEncoder(built: BuiltVae<VaeEncoder>, options: { externalData?: string } = {}): ExportedModel {
  return exportOnnx(built.graph, {
    outputs: { latent_sample: built.out },
    params: 'initializers',
    name: 'vae_encoder',
    dynamicAxes: { sample: IMAGE_AXES, latent_sample: LATENT_AXES },
    ...(options.externalData ? { externalData: { location: options.externalData } } : {}),
  });
}

/** vae_decoder/model.onnx: latent_sample -> sample, batch/height/width dynamic. */
export function exportVaeDecoder(built: BuiltVae<VaeDecoder>, options: { externalData?: string } = {}): ExportedModel {
  return exportOnnx(built.graph, {
    outputs: { sample: built.out },
    params: 'initializers',
    name: 'vae_decoder',
    dynamicAxes: { latent_sample: LATENT_AXES, sample: IMAGE_AXES },
    ...(options.externalData ? { externalData: { location: options.externalData } } : {}),
  });
}
