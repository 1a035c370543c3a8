/**
 * Parameter initializers, drawn from gesso's seeded Rng so a model built with seed s starts the same
 * way every time. The defaults are PyTorch's (torch.nn.init and each module's reset_parameters), so
 * gesso layers start with the same distributions as their PyTorch counterparts (not the same values:
 * the generators differ).
 */
import { InputError } from '../core/errors.ts';
import type { Rng } from '../core/rng.ts';
import type { Shape } from '../graph/types.ts';
import { formatShape, sizeOf } from '../graph/types.ts';

/**
 * How a layer's weight (and bias) start:
 * - 'pytorch': kaiming-uniform with a = sqrt(5) for the weight, uniform(±1/sqrt(fan_in)) for the bias
 *   (what nn.Linear / nn.Conv2d / nn.ConvTranspose2d do).
 * - 'xavier': xavier-uniform (Glorot & Bengio, 2010) weight, zero bias.
 * - 'zeros': everything zero (e.g. the last conv of a residual branch, so the block starts as identity).
 */
export type WeightInit = 'pytorch' | 'xavier' | 'zeros';

/**
 * fan_in and fan_out of a weight as torch.nn.init._calculate_fan_in_and_fan_out: dims 1 and 0 times
 * the receptive field (product of the remaining dims). For a ConvTranspose weight (in, out/groups, kH, kW)
 * this makes fan_in = out/groups * kH * kW, as PyTorch does.
 */
export function fans(shape: Shape): { fanIn: number; fanOut: number } {
  if (shape.length < 2) throw new InputError(`fans: weight shape ${formatShape(shape)} needs at least 2 dims`);
  const receptive = sizeOf(shape.slice(2));
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

/** Kaiming-uniform (He et al., 2015) for a leaky-ReLU slope `a`: bound = gain * sqrt(3 / fan_in), gain = sqrt(2 / (1 + a²)). */
export function kaimingUniform(rng: Rng, shape: Shape, a = Math.sqrt(5)): Float32Array {
  const { fanIn } = fans(shape);
  const gain = Math.sqrt(2 / (1 + a * a));
  const bound = fanIn > 0 ? gain * Math.sqrt(3 / fanIn) : 0;
  return rng.uniformArray(sizeOf(shape), -bound, bound);
}

/** Xavier-uniform: bound = gain * sqrt(6 / (fan_in + fan_out)). */
export function xavierUniform(rng: Rng, shape: Shape, gain = 1): Float32Array {
  const { fanIn, fanOut } = fans(shape);
  const bound = gain * Math.sqrt(6 / Math.max(fanIn + fanOut, 1));
  return rng.uniformArray(sizeOf(shape), -bound, bound);
}

/** Xavier-normal: std = gain * sqrt(2 / (fan_in + fan_out)). */
export function xavierNormal(rng: Rng, shape: Shape, gain = 1): Float32Array {
  const { fanIn, fanOut } = fans(shape);
  return rng.normal(sizeOf(shape), gain * Math.sqrt(2 / Math.max(fanIn + fanOut, 1)));
}

/** PyTorch's bias default for Linear and convolutions: uniform(±1/sqrt(fan_in)), fan_in of the weight. */
export function fanInUniform(rng: Rng, n: number, fanIn: number): Float32Array {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return rng.uniformArray(n, -bound, bound);
}

export function zeros(n: number): Float32Array {
  return new Float32Array(n);
}

export function ones(n: number): Float32Array {
  return new Float32Array(n).fill(1);
}

/** normal(0, std): PyTorch's default for nn.Embedding weights (std 1). */
export function normal(rng: Rng, n: number, std = 1): Float32Array {
  return rng.normal(n, std);
}

/**
 * Initial weight and bias of a Linear or convolution, drawn in PyTorch's order (weight first).
 * The bias is drawn only when the layer has one, so the stream matches a layer built without bias.
 */
export function initWeightAndBias(
  rng: Rng,
  init: WeightInit,
  weightShape: Shape,
  biasSize: number | null,
): { weight: Float32Array; bias: Float32Array | null } {
  const n = sizeOf(weightShape);
  switch (init) {
    case 'pytorch': {
      const weight = kaimingUniform(rng, weightShape);
      return { weight, bias: biasSize === null ? null : fanInUniform(rng, biasSize, fans(weightShape).fanIn) };
    }
    case 'xavier':
      return { weight: xavierUniform(rng, weightShape), bias: biasSize === null ? null : zeros(biasSize) };
    case 'zeros':
      return { weight: zeros(n), bias: biasSize === null ? null : zeros(biasSize) };
    default:
      throw new InputError(`unknown weight init "${String(init)}": expected 'pytorch', 'xavier' or 'zeros'`);
  }
}
