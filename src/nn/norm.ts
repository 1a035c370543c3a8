/**
 * GroupNorm, LayerNorm and InstanceNorm. GroupNorm is one composite node with a fused gradient rule
 * (src/graph/ops/fused.ts); LayerNorm and InstanceNorm use ONNX InstanceNormalization (own rule) and
 * `normalize` primitive ops. Variance is the biased one (divide by n), as PyTorch.
 */
import { InputError } from '../core/errors.ts';
import type { Graph, Tensor } from '../graph/graph.ts';
import { add, div, groupNorm, instanceNormalization, mul, reduceMean, reshape, reshapeLike, sqrt, sub } from '../graph/ops/index.ts';
import { ones, zeros } from './init.ts';
import { expectInput, nameOf, positiveInt } from './layer.ts';

/** (x - mean) / sqrt(var + eps) over `axes`, from primitive ops (any axes). */
export function normalize(x: Tensor, axes: readonly number[], eps: number): Tensor {
  const mean = reduceMean(x, axes, true);
  const centered = sub(x, mean);
  const variance = reduceMean(mul(centered, centered), axes, true);
  return div(centered, sqrt(add(variance, eps)));
}

/**
 * Per (n, c) normalisation of x (N, C, L...) over the remaining axes: one ONNX InstanceNormalization
 * kernel instead of six elementwise passes (it has its own gradient rule). C must be a static size;
 * N and L may be dynamic in an export.
 */
export function normalizePerChannel(x: Tensor, eps: number): Tensor {
  const c = x.shape[1];
  const g = x.graph;
  const unitScale = g.constant(new Float32Array(c).fill(1), [c], 'float32', 'norm_scale');
  const zeroBias = g.constant(new Float32Array(c), [c], 'float32', 'norm_bias');
  return instanceNormalization(x, unitScale, zeroBias, eps);
}

function checkEps(label: string, eps: number): number {
  if (!(eps > 0)) throw new InputError(`${label}: eps ${eps} must be > 0`);
  return eps;
}

/**
 * Weight (ones) and bias (zeros) of `size`, named as PyTorch's, or nulls when not affine. The layer's
 * full name comes from the weight; a norm without parameters keeps the short name it was given.
 */
function affineParams(g: Graph, name: string, size: number, affine: boolean, withBias = true): { weight: Tensor | null; bias: Tensor | null; name: string } {
  if (!affine) return { weight: null, bias: null, name };
  return g.scope(name, () => {
    const weight = g.param('weight', [size], ones(size));
    return { weight, bias: withBias ? g.param('bias', [size], zeros(size)) : null, name: nameOf(weight, 'weight') };
  });
}

/** y * weight + bias with (C) parameters broadcast over a channel axis 1 of a rank-`rank` tensor. */
function channelAffine(y: Tensor, weight: Tensor | null, bias: Tensor | null): Tensor {
  const shape = [y.shape[1], ...new Array<number>(y.rank - 2).fill(1)]; // (C, 1, 1)
  let out = y;
  if (weight) out = mul(out, reshape(weight, shape));
  if (bias) out = add(out, reshape(bias, shape));
  return out;
}

export interface GroupNormConfig {
  groups: number;
  channels: number;
  /** Default 1e-5 (PyTorch); diffusers' UNets use 1e-6 or 1e-5 per model. */
  eps?: number;
  /** Learned per-channel weight and bias; default true. */
  affine?: boolean;
}

export class GroupNorm {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly name: string;
  private readonly eps: number;

  constructor(
    g: Graph,
    name: string,
    readonly config: GroupNormConfig,
  ) {
    const label = `GroupNorm "${name}"`;
    const groups = positiveInt(label, 'groups', config.groups);
    const channels = positiveInt(label, 'channels', config.channels);
    if (channels % groups !== 0) throw new InputError(`${label}: channels ${channels} must divide by groups ${groups}`);
    this.eps = checkEps(label, config.eps ?? 1e-5);
    ({ weight: this.weight, bias: this.bias, name: this.name } = affineParams(g, name, channels, config.affine ?? true));
  }

  /** (N, C, *) -> (N, C, *), statistics per sample over each group of C/groups channels and all positions. */
  forward(x: Tensor): Tensor {
    const { groups, channels } = this.config;
    expectInput(
      x.dtype === 'float32' && x.rank >= 2 && x.shape[1] === channels,
      `GroupNorm "${this.name}" (${groups} groups, ${channels} channels)`,
      `float32 (N, ${channels}, ...)`,
      x,
    );
    // One composite node (statistics, scale and bias) with a fused gradient rule; its export keeps the
    // batch and spatial dims dynamic.
    return groupNorm(x, this.weight, this.bias, groups, this.eps); // (N, C, H, W)
  }
}

export interface LayerNormConfig {
  /** Size of the last dim, over which statistics are taken. */
  dim: number;
  /** Default 1e-5. */
  eps?: number;
  /** Learned weight (and bias); default true (PyTorch's elementwise_affine). */
  affine?: boolean;
  /** Whether the affine part has a bias; default true. */
  bias?: boolean;
}

export class LayerNorm {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly name: string;
  private readonly eps: number;

  constructor(
    g: Graph,
    name: string,
    readonly config: LayerNormConfig,
  ) {
    const label = `LayerNorm "${name}"`;
    const dim = positiveInt(label, 'dim', config.dim);
    this.eps = checkEps(label, config.eps ?? 1e-5);
    ({ weight: this.weight, bias: this.bias, name: this.name } = affineParams(g, name, dim, config.affine ?? true, config.bias ?? true));
  }

  /** (..., D) -> (..., D), statistics over the last dim. */
  forward(x: Tensor): Tensor {
    const { dim } = this.config;
    expectInput(x.dtype === 'float32' && x.rank >= 1 && x.shape[x.rank - 1] === dim, `LayerNorm "${this.name}" (dim ${dim})`, `float32 (..., ${dim})`, x);
    // Every row of D features as its own instance: a (rows, 1, D) view keeps the row count dynamic.
    let y = reshapeLike(normalizePerChannel(reshape(x, [-1, 1, dim]), this.eps), x); // (..., D)
    if (this.weight) y = mul(y, this.weight);
    if (this.bias) y = add(y, this.bias);
    return y;
  }
}

export interface InstanceNormConfig {
  channels: number;
  /** Default 1e-5. */
  eps?: number;
  /** Learned per-channel weight and bias; default false, as PyTorch's InstanceNorm2d. */
  affine?: boolean;
}

/** Instance normalization (Ulyanov et al., 2016): per sample and channel over all positions; no running stats. */
export class InstanceNorm {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly name: string;
  private readonly eps: number;

  constructor(
    g: Graph,
    name: string,
    readonly config: InstanceNormConfig,
  ) {
    const label = `InstanceNorm "${name}"`;
    const channels = positiveInt(label, 'channels', config.channels);
    this.eps = checkEps(label, config.eps ?? 1e-5);
    ({ weight: this.weight, bias: this.bias, name: this.name } = affineParams(g, name, channels, config.affine ?? false));
  }

  /** (N, C, H, W) -> (N, C, H, W); any rank >= 3. */
  forward(x: Tensor): Tensor {
    const { channels } = this.config;
    expectInput(
      x.dtype === 'float32' && x.rank >= 3 && x.shape[1] === channels,
      `InstanceNorm "${this.name}" (${channels} channels)`,
      `float32 (N, ${channels}, H, W)`,
      x,
    );
    return channelAffine(normalizePerChannel(x, this.eps), this.weight, this.bias); // statistics over all of H, W
  }
}
