/**
 * The forward (noising) process every scheduler shares, and the helpers gesso's trainer needs.
 *
 *   ᾱ_t = Π_{s≤t} (1 − β_s)                     ("alphas_cumprod", t = 0 … T−1)
 *   x_t = √ᾱ_t · x0 + √(1−ᾱ_t) · ε              (Ho et al. 2020, eq. 4)
 *   v_t = √ᾱ_t · ε − √(1−ᾱ_t) · x0              (Salimans & Ho 2022, §4)
 *   σ_t = √((1−ᾱ_t)/ᾱ_t)                        (the same noise level in "x0 + σ·ε" form, Karras et al. 2022)
 *
 * The tables hold diffusers' float32 values (in float64 arrays): β as diffusers builds it and rounds it to
 * float32, ᾱ as torch's float32 cumprod, σ = √((1−ᾱ)/ᾱ) in float32 arithmetic and log σ rounded to float32
 * (numpy's float32 log), so a real Stable Diffusion model follows diffusers' trajectory. Sampling
 * arithmetic between table values runs in float64.
 */
import { InputError } from '../core/errors.ts';
import type { SchedulerConfig } from './config.ts';
import { cumprodFloat32, torchLinspaceFloat32 } from './float32.ts';

const f32 = Math.fround;

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
  readonly #sigmas: Float64Array;
  readonly #logSigmas: Float64Array;

  /** `betas` are rounded to float32, as diffusers stores them. */
  constructor(betas: ArrayLike<number>) {
    if (betas.length < 2) throw new InputError(`a noise schedule needs at least 2 betas, got ${betas.length}`);
    this.numTrainTimesteps = betas.length;
    this.#betas = Float64Array.from(betas, f32);
    this.#alphasCumprod = cumprodFloat32(this.#betas.map((b) => f32(1 - b)));
    // diffusers: sigmas = ((1 − ᾱ)/ᾱ) ** 0.5 on float32 tensors, log_sigmas = np.log(sigmas) in float32.
    this.#sigmas = this.#alphasCumprod.map((ab) => f32(Math.sqrt(f32(f32(1 - ab) / ab))));
    this.#logSigmas = this.#sigmas.map((s) => f32(Math.log(s)));
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

  /** σ_t = √((1−ᾱ_t)/ᾱ_t) at an integer t (a float32 value, as diffusers' table). */
  sigma(t: number): number {
    return this.#sigmas[this.#checkT(t)];
  }

  /**
   * σ at a real timestep in [0, T−1], interpolating the σ table linearly between integers in float64 the way
   * numpy's `interp` does (slope·(t − lo) + σ_lo), as diffusers does; exact table values at integers.
   */
  sigmaAt(t: number): number {
    if (!(t >= 0 && t <= this.numTrainTimesteps - 1)) throw new RangeError(`timestep ${t} is outside [0, ${this.numTrainTimesteps - 1}]`);
    const lo = Math.floor(t);
    if (lo === t || lo === this.numTrainTimesteps - 1) return this.sigma(lo);
    const slope = this.sigma(lo + 1) - this.sigma(lo);
    return slope * (t - lo) + this.sigma(lo);
  }

  /**
   * The real timestep whose σ is `sigma`, interpolating log σ between the two nearest table entries and
   * clamping to [0, T−1] (diffusers' `_sigma_to_t`, used to give Karras sigmas a model timestep). As there
   * under numpy 1.x's promotion rules (checked with numpy 1.24), the query's log σ meets the float32 table
   * as a float32 and the weight is float32 arithmetic. That rounding decides whether the top Karras σ maps
   * to exactly T−1 (cosine schedule: 999, then 998 …); numpy 2 keeps log σ in float64 and maps it to
   * 998.99999996, so 998 after truncation. gesso follows numpy 1.x, the result the issue reports.
   */
  timestepForSigma(sigma: number): number {
    const logSigma = f32(Math.log(Math.max(sigma, 1e-10)));
    const logs = this.#logSigmas;
    // low = the last index whose log σ is ≤ logSigma (log σ rises with t), kept so that low+1 exists.
    let low = 0;
    for (let t = 0; t < logs.length; t++) if (logSigma >= logs[t]) low = t;
    low = Math.min(low, logs.length - 2);
    const a = logs[low];
    const b = logs[low + 1];
    const w = Math.min(1, Math.max(0, f32(f32(a - logSigma) / f32(a - b))));
    return f32(1 - w) * low + w * (low + 1);
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

/**
 * Betas from diffusers' config fields (`trained_betas` wins over the named schedules), as diffusers builds
 * them: float32 values, from torch's float32 linspace or from float64 formulas rounded to float32.
 */
export function betasFromConfig(
  config: Pick<SchedulerConfig, 'num_train_timesteps' | 'beta_start' | 'beta_end' | 'beta_schedule' | 'trained_betas'>,
): Float64Array {
  const n = config.num_train_timesteps;
  if (config.trained_betas) return Float64Array.from(config.trained_betas, f32);
  switch (config.beta_schedule) {
    case 'linear':
      return torchLinspaceFloat32(config.beta_start, config.beta_end, n);
    case 'scaled_linear':
      // Latent diffusion's schedule: linear in √β (the square taken in float32).
      return torchLinspaceFloat32(Math.sqrt(config.beta_start), Math.sqrt(config.beta_end), n).map((s) => f32(s * s));
    case 'squaredcos_cap_v2': {
      // Nichol & Dhariwal 2021, eq. 17: ᾱ(t) = cos²((t + 0.008)/1.008 · π/2), β capped at 0.999 (float64, then float32).
      const alphaBar = (u: number): number => Math.cos(((u + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
      return Float64Array.from({ length: n }, (_, i) => f32(Math.min(1 - alphaBar((i + 1) / n) / alphaBar(i / n), 0.999)));
    }
  }
}
