/**
 * The forward (noising) process every scheduler shares, and the helpers gesso's trainer needs.
 *
 *   ᾱ_t = Π_{s≤t} (1 − β_s)                     ("alphas_cumprod", t = 0 … T−1)
 *   x_t = √ᾱ_t · x0 + √(1−ᾱ_t) · ε              (Ho et al. 2020, eq. 4)
 *   v_t = √ᾱ_t · ε − √(1−ᾱ_t) · x0              (Salimans & Ho 2022, §4)
 *   σ_t = √((1−ᾱ_t)/ᾱ_t)                        (the same noise level in "x0 + σ·ε" form, Karras et al. 2022)
 *
 * Tables are float64; diffusers keeps them in float32 (differences stay below ~1e-6 relative).
 */
import { InputError } from '../core/errors.ts';
import type { SchedulerConfig } from './config.ts';

/**
 * Largest σ = √((1−ᾱ)/ᾱ) a schedule may reach. Stable Diffusion's ends at 14.6, squaredcos_cap_v2 at
 * ~20,300; beyond this, noise × σ and σ² leave float32's useful range and every step turns to NaN
 * (beta 0.5 for 1000 steps gives σ ≈ 3e150; a million default steps drives ᾱ to 0).
 */
export const MAX_SCHEDULE_SIGMA = 1e5;

export class NoiseSchedule {
  readonly numTrainTimesteps: number;
  readonly #betas: Float64Array;
  readonly #alphasCumprod: Float64Array;
  readonly #logSigmas: Float64Array;

  constructor(betas: Float64Array) {
    if (betas.length < 2) throw new InputError(`a noise schedule needs at least 2 betas, got ${betas.length}`);
    this.numTrainTimesteps = betas.length;
    this.#betas = Float64Array.from(betas);
    this.#alphasCumprod = new Float64Array(betas.length);
    this.#logSigmas = new Float64Array(betas.length);
    let product = 1;
    for (let t = 0; t < betas.length; t++) {
      product *= 1 - betas[t];
      this.#alphasCumprod[t] = product;
      this.#logSigmas[t] = 0.5 * Math.log((1 - product) / product);
    }
    const last = this.#alphasCumprod[betas.length - 1] as number;
    const sigmaMax = Math.sqrt((1 - last) / last);
    if (!(sigmaMax <= MAX_SCHEDULE_SIGMA)) {
      throw new InputError(
        `the noise schedule ends at alphas_cumprod ${last.toExponential(3)} (sigma ${sigmaMax.toExponential(3)}) after ${betas.length} timesteps; ` +
          `sigma above ${MAX_SCHEDULE_SIGMA} overflows float32 sampling (Stable Diffusion's ends at 14.6): check num_train_timesteps, beta_start/beta_end or trained_betas`,
      );
    }
  }

  static fromConfig(config: Pick<SchedulerConfig, 'num_train_timesteps' | 'beta_start' | 'beta_end' | 'beta_schedule' | 'trained_betas'>): NoiseSchedule {
    return new NoiseSchedule(betasFromConfig(config));
  }

  /** ᾱ_t for an integer t in [0, T). */
  alphaCumprod(t: number): number {
    return this.#alphasCumprod[this.#checkT(t)];
  }

  /** A copy of the whole ᾱ table (index = timestep). */
  alphasCumprod(): Float64Array {
    return Float64Array.from(this.#alphasCumprod);
  }

  /** A copy of the betas (index = timestep). */
  betas(): Float64Array {
    return Float64Array.from(this.#betas);
  }

  /** σ_t = √((1−ᾱ_t)/ᾱ_t) at an integer t. */
  sigma(t: number): number {
    return Math.exp(this.#logSigmas[this.#checkT(t)]);
  }

  /** σ at a real timestep in [0, T−1], interpolating σ linearly between integers (numpy `interp`, as diffusers). */
  sigmaAt(t: number): number {
    if (!(t >= 0 && t <= this.numTrainTimesteps - 1)) throw new RangeError(`timestep ${t} is outside [0, ${this.numTrainTimesteps - 1}]`);
    const lo = Math.floor(t);
    const hi = Math.min(lo + 1, this.numTrainTimesteps - 1);
    const w = t - lo;
    return (1 - w) * this.sigma(lo) + w * this.sigma(hi);
  }

  /**
   * The real timestep whose σ is `sigma`, interpolating log σ between the two nearest table entries and
   * clamping to [0, T−1] (diffusers' `_sigma_to_t`, used to give Karras sigmas a model timestep).
   */
  timestepForSigma(sigma: number): number {
    const logSigma = Math.log(Math.max(sigma, 1e-10));
    const logs = this.#logSigmas;
    // low = the last index whose log σ is ≤ logSigma (log σ rises with t), kept so that low+1 exists.
    let low = 0;
    for (let t = 0; t < logs.length; t++) if (logSigma >= logs[t]) low = t;
    low = Math.min(low, logs.length - 2);
    const a = logs[low];
    const b = logs[low + 1];
    const w = Math.min(1, Math.max(0, (a - logSigma) / (a - b)));
    return (1 - w) * low + w * (low + 1);
  }

  /** x_t = √ᾱ_t·x0 + √(1−ᾱ_t)·ε. `t` is one timestep, or one per batch item (x0 is split into t.length equal items). */
  addNoiseAt(x0: Float32Array, noise: Float32Array, t: number | ArrayLike<number>): Float32Array {
    return this.#perItem(x0, noise, t, (ab) => [Math.sqrt(ab), Math.sqrt(1 - ab)]);
  }

  /** The v-prediction target v_t = √ᾱ_t·ε − √(1−ᾱ_t)·x0, with `t` as in addNoiseAt. */
  velocity(x0: Float32Array, noise: Float32Array, t: number | ArrayLike<number>): Float32Array {
    return this.#perItem(x0, noise, t, (ab) => [-Math.sqrt(1 - ab), Math.sqrt(ab)]);
  }

  /** Signal-to-noise ratio ᾱ_t/(1−ᾱ_t) at an integer t (for min-SNR loss weighting). */
  snr(t: number): number {
    const ab = this.alphaCumprod(t);
    return ab / (1 - ab);
  }

  #checkT(t: number): number {
    if (!Number.isInteger(t) || t < 0 || t >= this.numTrainTimesteps) {
      throw new RangeError(`timestep ${t} is not an integer in 0..${this.numTrainTimesteps - 1}`);
    }
    return t;
  }

  /** out = a(t)·x0 + b(t)·noise, item by item. */
  #perItem(x0: Float32Array, noise: Float32Array, t: number | ArrayLike<number>, coeffs: (ab: number) => [number, number]): Float32Array {
    if (x0.length !== noise.length) throw new RangeError(`x0 has ${x0.length} values but noise has ${noise.length}`);
    const ts = typeof t === 'number' ? [t] : Array.from(t);
    if (ts.length === 0 || x0.length % ts.length !== 0) {
      throw new RangeError(`${ts.length} timesteps do not split ${x0.length} values into equal batch items`);
    }
    const itemSize = x0.length / ts.length;
    const out = new Float32Array(x0.length);
    ts.forEach((ti, item) => {
      const [a, b] = coeffs(this.alphaCumprod(ti));
      for (let i = item * itemSize; i < (item + 1) * itemSize; i++) out[i] = a * x0[i] + b * noise[i];
    });
    return out;
  }
}

/** Betas from diffusers' config fields (`trained_betas` wins over the named schedules). */
export function betasFromConfig(
  config: Pick<SchedulerConfig, 'num_train_timesteps' | 'beta_start' | 'beta_end' | 'beta_schedule' | 'trained_betas'>,
): Float64Array {
  const n = config.num_train_timesteps;
  if (config.trained_betas) return Float64Array.from(config.trained_betas);
  switch (config.beta_schedule) {
    case 'linear':
      return linspace(config.beta_start, config.beta_end, n);
    case 'scaled_linear':
      // Latent diffusion's schedule: linear in √β.
      return linspace(Math.sqrt(config.beta_start), Math.sqrt(config.beta_end), n).map((s) => s * s);
    case 'squaredcos_cap_v2': {
      // Nichol & Dhariwal 2021, eq. 17: ᾱ(t) = cos²((t + 0.008)/1.008 · π/2), β capped at 0.999.
      const alphaBar = (u: number): number => Math.cos(((u + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
      return Float64Array.from({ length: n }, (_, i) => Math.min(1 - alphaBar((i + 1) / n) / alphaBar(i / n), 0.999));
    }
  }
}

function linspace(start: number, stop: number, n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => (i === n - 1 ? stop : start + (i * (stop - start)) / (n - 1)));
}
