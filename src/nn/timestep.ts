/**
 * Sinusoidal timestep embeddings (Vaswani et al., 2017; used by DDPM, Ho et al., 2020) and the small
 * MLP UNets put after them.
 *
 * Convention, the same as diffusers' `get_timestep_embedding` with the same option names:
 *   half = floor(dim / 2)
 *   freq_i = exp(-ln(maxPeriod) * i / (half - downscaleFreqShift)),  i = 0 .. half-1
 *   arg = scale * t * freq
 *   emb = [sin(arg), cos(arg)]    or [cos(arg), sin(arg)] when flipSinToCos
 *   an odd dim gets one zero column at the end.
 * The defaults (flipSinToCos false, downscaleFreqShift 1, maxPeriod 10000) are the original DDPM
 * code's; Stable Diffusion's UNet uses flipSinToCos true, downscaleFreqShift 0.
 */
import { InputError } from '../core/errors.ts';
import type { Rng } from '../core/rng.ts';
import type { Graph, Tensor } from '../graph/graph.ts';
import { cast, concat, cos, mul, pad, reshape, sin } from '../graph/ops/index.ts';
import { SiLU } from './activation.ts';
import type { WeightInit } from './init.ts';
import { expectInput, positiveInt } from './layer.ts';
import { Linear } from './linear.ts';

export interface TimestepEmbeddingOptions {
  /** Default false: sin first. */
  flipSinToCos?: boolean;
  /** Default 1 (DDPM). */
  downscaleFreqShift?: number;
  /** Multiplies the arguments; default 1. */
  scale?: number;
  /** Longest period; default 10000. */
  maxPeriod?: number;
}

/** The frequencies freq_i, computed in float64 and stored as float32. */
export function timestepFrequencies(dim: number, options: TimestepEmbeddingOptions = {}): Float32Array {
  const half = Math.floor(positiveInt('timestep embedding', 'dim', dim) / 2);
  const shift = options.downscaleFreqShift ?? 1;
  const maxPeriod = options.maxPeriod ?? 10000;
  if (half - shift <= 0) throw new InputError(`timestep embedding: dim ${dim} is too small for downscaleFreqShift ${shift} (need floor(dim/2) > shift)`);
  if (!(maxPeriod > 0)) throw new InputError(`timestep embedding: maxPeriod ${maxPeriod} must be > 0`);
  return Float32Array.from({ length: half }, (_, i) => Math.exp((-Math.log(maxPeriod) * i) / (half - shift)));
}

/** t (B) float32, int64 or int32 -> (B, dim) float32. No parameters. */
export function sinusoidalTimestepEmbedding(t: Tensor, dim: number, options: TimestepEmbeddingOptions = {}): Tensor {
  const label = `timestep embedding (dim ${dim})`;
  expectInput(t.rank === 1 && (t.dtype === 'float32' || t.dtype === 'int64' || t.dtype === 'int32'), label, 'timesteps (B) float32, int64 or int32', t);
  const freqs = timestepFrequencies(dim, options);
  const half = freqs.length;
  const g = t.graph;
  const column = reshape(cast(t, 'float32'), [t.shape[0], 1]); // (B, 1)
  const args = mul(mul(column, g.constant(freqs, [1, half], 'float32', 'timestep_freqs')), options.scale ?? 1); // (B, half)
  const parts = options.flipSinToCos ? [cos(args), sin(args)] : [sin(args), cos(args)];
  const emb = concat(parts, 1); // (B, 2*half)
  return dim % 2 === 1 ? pad(emb, [0, 0, 0, 1]) : emb; // (B, dim)
}

export interface TimestepMLPConfig {
  /** Width of the sinusoidal embedding fed in. */
  in: number;
  /** Hidden and output width (DDPM: 4 × the UNet's base channels). */
  dim: number;
  init?: WeightInit;
}

/** Linear -> SiLU -> Linear on a timestep embedding, named as diffusers' TimestepEmbedding (linear_1, linear_2). */
export class TimestepMLP {
  readonly linear1: Linear;
  readonly linear2: Linear;

  constructor(g: Graph, name: string, config: TimestepMLPConfig, rng: Rng) {
    const init = config.init ?? 'pytorch';
    const parts = g.scope(name, () => ({
      l1: new Linear(g, 'linear_1', { in: config.in, out: config.dim, init }, rng),
      l2: new Linear(g, 'linear_2', { in: config.dim, out: config.dim, init }, rng),
    }));
    this.linear1 = parts.l1;
    this.linear2 = parts.l2;
  }

  /** (B, in) -> (B, dim) */
  forward(emb: Tensor): Tensor {
    return this.linear2.forward(new SiLU().forward(this.linear1.forward(emb)));
  }
}
