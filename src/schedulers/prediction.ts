/**
 * Turning a model's output into x0 (and ε) for each `prediction_type`.
 *
 * "VP" form, used by DDPM/DDIM/PNDM/LCM/DPM-Solver: x_t = α·x0 + s·ε with α = √ᾱ_t, s = √(1−ᾱ_t), so
 *   epsilon:       x0 = (x_t − s·ε̂)/α
 *   v_prediction:  x0 = α·x_t − s·v̂,  ε = α·v̂ + s·x_t     (v = α·ε − s·x0)
 *   sample:        x0 = x̂
 * "Sigma" form, used by Euler: x = x0 + σ·ε, and the model sees x/√(σ²+1), so
 *   epsilon:       x0 = x − σ·ε̂
 *   v_prediction:  x0 = x/(σ²+1) − σ/√(σ²+1)·v̂
 */
import type { PredictionType } from './config.ts';
import { weightedSum } from './tensor-math.ts';

/** x0 from the model output at a VP noise level (alpha = √ᾱ, sigma = √(1−ᾱ)). */
export function x0FromVp(output: Float32Array, sample: Float32Array, alpha: number, sigma: number, type: PredictionType): Float32Array {
  switch (type) {
    case 'epsilon':
      return weightedSum([
        [1 / alpha, sample],
        [-sigma / alpha, output],
      ]);
    case 'v_prediction':
      return weightedSum([
        [alpha, sample],
        [-sigma, output],
      ]);
    case 'sample':
      return Float32Array.from(output);
  }
}

/** ε from the model output at a VP noise level; `x0` is the unclipped x0 derived from the same output. */
export function epsFromVp(output: Float32Array, sample: Float32Array, x0: Float32Array, alpha: number, sigma: number, type: PredictionType): Float32Array {
  switch (type) {
    case 'epsilon':
      return Float32Array.from(output);
    case 'v_prediction':
      return weightedSum([
        [alpha, output],
        [sigma, sample],
      ]);
    case 'sample':
      return weightedSum([
        [1 / sigma, sample],
        [-alpha / sigma, x0],
      ]);
  }
}

/** x0 from the model output at noise level σ, with `sample` the unscaled x = x0 + σ·ε. */
export function x0FromSigma(output: Float32Array, sample: Float32Array, sigma: number, type: PredictionType): Float32Array {
  switch (type) {
    case 'epsilon':
      return weightedSum([
        [1, sample],
        [-sigma, output],
      ]);
    case 'v_prediction':
      return weightedSum([
        [1 / (sigma * sigma + 1), sample],
        [-sigma / Math.sqrt(sigma * sigma + 1), output],
      ]);
    case 'sample':
      return Float32Array.from(output);
  }
}

/** VP coefficients (α, s) for a sigma-form noise level: α = 1/√(σ²+1), s = σ/√(σ²+1). */
export function vpFromSigma(sigma: number): { alpha: number; sigma: number } {
  const norm = Math.sqrt(sigma * sigma + 1);
  return { alpha: 1 / norm, sigma: sigma / norm };
}
