/**
 * Stable Diffusion's denoising UNet: diffusers' `UNet2DConditionModel`, configured by the same
 * config.json fields and with the same parameter names as its state dict, so diffusers weights load
 * by name and gesso's own UNets export in the layout every SD tool reads.
 *
 *   t (B,) ─ sinusoidal(C0) ─ time_embedding: Linear ─ SiLU ─ Linear ─► temb (B, 4·C0)
 *   sample (B, in, H, W) ─ conv_in ─► (B, C0, H, W)
 *     down_blocks[i]: layers_per_block × (ResBlock [+ Transformer2D]) [+ stride-2 conv]   every output kept as a skip
 *     mid_block:      ResBlock, Transformer2D, ResBlock
 *     up_blocks[i]:   (layers_per_block + 1) × (concat skip, ResBlock [+ Transformer2D]) [+ nearest ×2, conv]
 *   ─ GroupNorm ─ SiLU ─ conv_out ─► out_sample (B, out, H, W)
 * Transformer2D = self-attention, cross-attention to encoder_hidden_states (B, S, D), GEGLU feed-forward.
 *
 * The diffusers quirk: the config field `attention_head_dim` holds the number of heads, not their width
 * (a naming mistake diffusers kept for compatibility; `num_attention_heads`, when set, takes precedence).
 * SD 1.x: attention_head_dim 8 -> 8 heads everywhere, head width C/8 (40, 80, 160, 160).
 * SD 2.x: attention_head_dim [5, 10, 20, 20] -> head width 64 at every level.
 *
 * H and W must divide by 2^(levels-1) (8 for SD): the up path doubles sizes and must meet its skips.
 */
import { InputError } from '../core/errors.ts';
import { Rng } from '../core/rng.ts';
import { exportOnnx, type ExportedModel } from '../graph/export.ts';
import { Graph, type Tensor } from '../graph/graph.ts';
import type { DType } from '../graph/types.ts';
import { concat, silu } from '../graph/ops/index.ts';
import { Conv2d, GroupNorm, ResBlock, sinusoidalTimestepEmbedding, TimestepMLP, type WeightInit } from '../nn/index.ts';
import type { BuildWeights } from './build-options.ts';
import { Downsample2D, Upsample2D } from './resample.ts';
import { Transformer2D } from './transformer-2d.ts';

export type DownBlockType = 'CrossAttnDownBlock2D' | 'DownBlock2D';
export type UpBlockType = 'CrossAttnUpBlock2D' | 'UpBlock2D';

/** The fields of diffusers' UNet2DConditionModel config.json that gesso implements (snake_case as there). */
export interface UNet2DConditionConfig {
  sample_size: number;
  in_channels: number;
  out_channels: number;
  block_out_channels: number[];
  layers_per_block: number;
  down_block_types: DownBlockType[];
  up_block_types: UpBlockType[];
  cross_attention_dim: number;
  /** Number of heads (sic, see the file comment): one for all levels or one per level. */
  attention_head_dim: number | number[];
  /** When set, the number of heads (newer diffusers' name for it). */
  num_attention_heads?: number | number[] | null;
  norm_num_groups: number;
  norm_eps: number;
  use_linear_projection: boolean;
  transformer_layers_per_block: number;
  flip_sin_to_cos: boolean;
  freq_shift: number;
}

/** diffusers' defaults (which are Stable Diffusion 1.x's choices). */
export const UNET_DEFAULTS: UNet2DConditionConfig = {
  sample_size: 64,
  in_channels: 4,
  out_channels: 4,
  block_out_channels: [320, 640, 1280, 1280],
  layers_per_block: 2,
  down_block_types: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
  up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
  cross_attention_dim: 1280,
  attention_head_dim: 8,
  num_attention_heads: null,
  norm_num_groups: 32,
  norm_eps: 1e-5,
  use_linear_projection: false,
  transformer_layers_per_block: 1,
  flip_sin_to_cos: true,
  freq_shift: 0,
};

/**
 * Fields of a diffusers config.json that change the architecture in ways gesso does not build: refused
 * unless they hold their default value, so a model gesso cannot run is never half-understood.
 */
const UNSUPPORTED: Record<string, readonly unknown[]> = {
  act_fn: ['silu', undefined],
  center_input_sample: [false, undefined],
  class_embed_type: [null, undefined],
  addition_embed_type: [null, undefined],
  encoder_hid_dim: [null, undefined],
  time_cond_proj_dim: [null, undefined],
  time_embedding_type: ['positional', undefined],
  mid_block_type: ['UNetMidBlock2DCrossAttn', undefined],
  mid_block_scale_factor: [1, undefined],
  downsample_padding: [1, undefined],
  only_cross_attention: [false, undefined],
  dual_cross_attention: [false, undefined],
  resnet_time_scale_shift: ['default', undefined],
  conv_in_kernel: [3, undefined],
  conv_out_kernel: [3, undefined],
  num_class_embeds: [null, undefined],
};

/** A full config from a diffusers config.json object (or a partial one), checked; unknown keys are ignored. */
export function unetConfig(raw: Partial<UNet2DConditionConfig> & Record<string, unknown> = {}): UNet2DConditionConfig {
  for (const [key, allowed] of Object.entries(UNSUPPORTED)) {
    if (!allowed.some((v) => v === raw[key]))
      throw new InputError(`UNet config: ${key} ${JSON.stringify(raw[key])} is not supported (gesso builds ${JSON.stringify(allowed[0])})`);
  }
  const c: UNet2DConditionConfig = { ...UNET_DEFAULTS };
  for (const key of Object.keys(UNET_DEFAULTS) as (keyof UNet2DConditionConfig)[]) {
    if (raw[key] !== undefined) (c as unknown as Record<string, unknown>)[key] = raw[key];
  }
  const levels = c.block_out_channels.length;
  const posInt = (key: string, v: unknown): void => {
    if (!Number.isInteger(v) || (v as number) <= 0) throw new InputError(`UNet config: ${key} ${JSON.stringify(v)} must be a positive integer`);
  };
  for (const key of [
    'sample_size',
    'in_channels',
    'out_channels',
    'layers_per_block',
    'cross_attention_dim',
    'norm_num_groups',
    'transformer_layers_per_block',
  ] as const)
    posInt(key, c[key]);
  if (!Array.isArray(c.block_out_channels) || levels === 0)
    throw new InputError(`UNet config: block_out_channels ${JSON.stringify(c.block_out_channels)} must be a non-empty list`);
  c.block_out_channels.forEach((ch, i) => {
    posInt(`block_out_channels[${i}]`, ch);
    if (ch % c.norm_num_groups !== 0) throw new InputError(`UNet config: block_out_channels[${i}] ${ch} must divide by norm_num_groups ${c.norm_num_groups}`);
  });
  const listOf = <T extends string>(key: string, v: unknown, allowed: readonly T[]): void => {
    if (!Array.isArray(v) || v.length !== levels)
      throw new InputError(`UNet config: ${key} ${JSON.stringify(v)} must list ${levels} block types (one per block_out_channels entry)`);
    v.forEach((t, i) => {
      if (!allowed.includes(t as T)) throw new InputError(`UNet config: ${key}[${i}] "${String(t)}" is not supported; expected one of ${allowed.join(', ')}`);
    });
  };
  listOf('down_block_types', c.down_block_types, ['CrossAttnDownBlock2D', 'DownBlock2D'] as const);
  listOf('up_block_types', c.up_block_types, ['CrossAttnUpBlock2D', 'UpBlock2D'] as const);
  if (!(c.norm_eps > 0)) throw new InputError(`UNet config: norm_eps ${c.norm_eps} must be > 0`);
  headsPerLevel(c); // validates
  return c;
}

/** Heads per level, from num_attention_heads or (the quirk) attention_head_dim. */
export function headsPerLevel(c: UNet2DConditionConfig): number[] {
  const levels = c.block_out_channels.length;
  const key = c.num_attention_heads != null ? 'num_attention_heads' : 'attention_head_dim';
  const v = c.num_attention_heads ?? c.attention_head_dim;
  const heads = Array.isArray(v) ? [...v] : new Array<number>(levels).fill(v);
  if (heads.length !== levels || heads.some((h) => !Number.isInteger(h) || h <= 0)) {
    throw new InputError(`UNet config: ${key} ${JSON.stringify(v)} must be a positive integer or a list of ${levels}`);
  }
  heads.forEach((h, i) => {
    const ch = c.block_out_channels[i];
    if (ch < h) throw new InputError(`UNet config: ${key} ${h} heads at level ${i} exceed its ${ch} channels`);
  });
  return heads;
}

/** One down/up block's layers: resnets, optional attentions, optional resampler. */
interface Level<R> {
  resnets: ResBlock[];
  attentions: Transformer2D[] | null;
  resample: R | null;
}

export class UNet2DCondition {
  readonly convIn: Conv2d;
  readonly timeEmbedding: TimestepMLP;
  readonly down: Level<Downsample2D>[];
  readonly mid: { resnets: [ResBlock, ResBlock]; attention: Transformer2D };
  readonly up: Level<Upsample2D>[];
  readonly convNormOut: GroupNorm;
  readonly convOut: Conv2d;

  constructor(
    g: Graph,
    readonly config: UNet2DConditionConfig,
    rng: Rng,
    init: WeightInit = 'pytorch',
  ) {
    const c = config;
    const ch = c.block_out_channels;
    const levels = ch.length;
    const heads = headsPerLevel(c);
    const tembDim = ch[0] * 4;
    const res = (name: string, inC: number, outC: number): ResBlock =>
      new ResBlock(g, name, { in: inC, out: outC, groups: c.norm_num_groups, eps: c.norm_eps, tembDim, init }, rng);
    const attn = (name: string, channels: number, level: number): Transformer2D => {
      const h = heads[level];
      return new Transformer2D(
        g,
        name,
        {
          channels,
          heads: h,
          headDim: Math.floor(channels / h),
          crossAttentionDim: c.cross_attention_dim,
          groups: c.norm_num_groups,
          useLinearProjection: c.use_linear_projection,
          layers: c.transformer_layers_per_block,
          init,
        },
        rng,
      );
    };

    this.convIn = new Conv2d(g, 'conv_in', { in: c.in_channels, out: ch[0], kernel: 3, padding: 1, init }, rng);
    this.timeEmbedding = new TimestepMLP(g, 'time_embedding', { in: ch[0], dim: tembDim, init }, rng);

    this.down = g.scope('down_blocks', () =>
      ch.map((outC, i) =>
        g.scope(String(i), () => {
          const inC = i === 0 ? ch[0] : ch[i - 1];
          const cross = c.down_block_types[i] === 'CrossAttnDownBlock2D';
          return {
            resnets: g.scope('resnets', () => Array.from({ length: c.layers_per_block }, (_, j) => res(String(j), j === 0 ? inC : outC, outC))),
            attentions: cross ? g.scope('attentions', () => Array.from({ length: c.layers_per_block }, (_, j) => attn(String(j), outC, i))) : null,
            resample: i < levels - 1 ? g.scope('downsamplers', () => new Downsample2D(g, '0', outC, 1, rng, init)) : null,
          };
        }),
      ),
    );

    const last = ch[levels - 1];
    this.mid = g.scope('mid_block', () => {
      const resnets = g.scope('resnets', () => [res('0', last, last), res('1', last, last)] as [ResBlock, ResBlock]);
      return { resnets, attention: g.scope('attentions', () => attn('0', last, levels - 1)) };
    });

    // Up level i mirrors down level (levels-1-i); each resnet takes one skip, the last one the level's input skip.
    const reversed = [...ch].reverse();
    this.up = g.scope('up_blocks', () =>
      reversed.map((outC, i) =>
        g.scope(String(i), () => {
          const prevOut = i === 0 ? last : reversed[i - 1];
          const skipIn = reversed[Math.min(i + 1, levels - 1)];
          const n = c.layers_per_block + 1;
          const cross = c.up_block_types[i] === 'CrossAttnUpBlock2D';
          return {
            resnets: g.scope('resnets', () =>
              Array.from({ length: n }, (_, j) => res(String(j), (j === 0 ? prevOut : outC) + (j === n - 1 ? skipIn : outC), outC)),
            ),
            attentions: cross ? g.scope('attentions', () => Array.from({ length: n }, (_, j) => attn(String(j), outC, levels - 1 - i))) : null,
            resample: i < levels - 1 ? g.scope('upsamplers', () => new Upsample2D(g, '0', outC, rng, init)) : null,
          };
        }),
      ),
    );

    this.convNormOut = new GroupNorm(g, 'conv_norm_out', { groups: c.norm_num_groups, channels: ch[0], eps: c.norm_eps });
    this.convOut = new Conv2d(g, 'conv_out', { in: ch[0], out: c.out_channels, kernel: 3, padding: 1, init }, rng);
  }

  /**
   * sample (B, in, H, W), timestep (B,) int64/int32/float32, context (B, S, D) -> (B, out, H, W).
   * A timestep of shape (1,) also serves any batch in the export (the time embedding broadcasts).
   */
  forward(sample: Tensor, timestep: Tensor, context: Tensor): Tensor {
    const c = this.config;
    const levels = c.block_out_channels.length;
    const [, inC, height, width] = sample.shape as [number, number, number, number];
    if (inC !== c.in_channels) throw new InputError(`UNet: sample has ${inC} channels, the config says in_channels ${c.in_channels}`);
    const factor = 2 ** (levels - 1);
    if (height % factor !== 0 || width % factor !== 0) throw new InputError(`UNet: sample size ${height}x${width} must divide by ${factor} (2^(levels-1))`);

    const tSin = sinusoidalTimestepEmbedding(timestep, c.block_out_channels[0], {
      flipSinToCos: c.flip_sin_to_cos,
      downscaleFreqShift: c.freq_shift,
    }); // (B, C0)
    const temb = this.timeEmbedding.forward(tSin); // (B, 4·C0)

    let h = this.convIn.forward(sample); // (B, C0, H, W)
    const skips: Tensor[] = [h];
    for (const level of this.down) {
      level.resnets.forEach((resnet, j) => {
        h = resnet.forward(h, temb);
        if (level.attentions) h = (level.attentions[j] as Transformer2D).forward(h, context);
        skips.push(h);
      });
      if (level.resample) {
        h = level.resample.forward(h); // (B, C, H/2, W/2)
        skips.push(h);
      }
    }

    h = this.mid.resnets[0].forward(h, temb);
    h = this.mid.attention.forward(h, context);
    h = this.mid.resnets[1].forward(h, temb); // (B, C_last, H/f, W/f)

    for (const level of this.up) {
      level.resnets.forEach((resnet, j) => {
        h = resnet.forward(concat([h, skips.pop() as Tensor], 1), temb); // skip joins on channels, after h
        if (level.attentions) h = (level.attentions[j] as Transformer2D).forward(h, context);
      });
      if (level.resample) h = level.resample.forward(h); // (B, C, 2H, 2W)
    }

    return this.convOut.forward(silu(this.convNormOut.forward(h))); // (B, out, H, W)
  }
}

export interface UNetBuildOptions extends BuildWeights {
  /** Example sizes the graph is built at (batch, height and width are dynamic in the export). */
  batch?: number;
  /** Latent height and width; default the config's sample_size. */
  height?: number;
  width?: number;
  /** Text sequence length S (77 for CLIP). */
  sequence?: number;
  /** dtype of the `timestep` input: int64 (SD 1.x exports) or float32 (others). Default int64. */
  timestepDtype?: 'int64' | 'float32';
}

export interface BuiltUNet {
  graph: Graph;
  model: UNet2DCondition;
  config: UNet2DConditionConfig;
  inputs: { sample: Tensor; timestep: Tensor; encoder_hidden_states: Tensor };
  out: Tensor;
}

/** Builds the UNet graph with inputs named as Stable Diffusion's ONNX exports. */
export function buildUNet2DCondition(config: UNet2DConditionConfig, options: UNetBuildOptions = {}): BuiltUNet {
  const g = new Graph();
  const rng = new Rng(options.seed ?? 0);
  const model = new UNet2DCondition(g, config, rng, options.init ?? 'pytorch');
  const b = options.batch ?? 1;
  const sample = g.input('sample', [b, config.in_channels, options.height ?? config.sample_size, options.width ?? config.sample_size]);
  const timestepDtype: DType = options.timestepDtype ?? 'int64';
  const timestep = g.input('timestep', [b], timestepDtype);
  const context = g.input('encoder_hidden_states', [b, options.sequence ?? 77, config.cross_attention_dim]);
  const out = model.forward(sample, timestep, context);
  return { graph: g, model, config, inputs: { sample, timestep, encoder_hidden_states: context }, out };
}

/** Dynamic dims of the UNet export, named as optimum names them. */
export const UNET_DYNAMIC_AXES = {
  sample: { 0: 'batch', 2: 'height', 3: 'width' },
  timestep: { 0: 'batch' },
  encoder_hidden_states: { 0: 'batch', 1: 'sequence' },
  out_sample: { 0: 'batch', 2: 'height', 3: 'width' },
} as const;

/**
 * ONNX model: sample, timestep, encoder_hidden_states -> out_sample, with batch, height and width
 * dynamic. `externalData` stores the weights beside the model (needed past 2 GB, e.g. SD 1.5's 3.4 GB).
 * The sequence length stays free too (nothing in the UNet depends on it).
 */
export function exportUNet(built: BuiltUNet, options: { externalData?: string; metadata?: Record<string, string> } = {}): ExportedModel {
  return exportOnnx(built.graph, {
    outputs: { out_sample: built.out },
    params: 'initializers',
    name: 'unet',
    dynamicAxes: UNET_DYNAMIC_AXES,
    ...(options.externalData ? { externalData: { location: options.externalData } } : {}),
    ...(options.metadata ? { metadata: options.metadata } : {}),
  });
}
