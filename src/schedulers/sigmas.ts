/** Sigma schedules for the "x = x0 + σ·ε" samplers (Euler, Euler a, DPM-Solver with Karras sigmas). */
import type { SchedulerConfig } from './config.ts';
import type { NoiseSchedule } from './noise-schedule.ts';
import { checkTimestepsInRange } from './plan-base.ts';
import { spacedTimesteps } from './timesteps.ts';

/**
 * Karras, Aittala, Aila & Laine 2022, eq. 5: σ_i = (σ_max^(1/ρ) + i/(n−1) · (σ_min^(1/ρ) − σ_max^(1/ρ)))^ρ,
 * i = 0 … n−1, so σ_0 = σ_max and σ_{n−1} = σ_min, denser near σ_min.
 */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, n: number, rho = 7): number[] {
  const maxInv = sigmaMax ** (1 / rho);
  const minInv = sigmaMin ** (1 / rho);
  return Array.from({ length: n }, (_, i) => {
    const ramp = n === 1 ? 0 : i / (n - 1);
    return (maxInv + ramp * (minInv - maxInv)) ** rho;
  });
}

/**
 * Euler's timesteps and sigmas (diffusers' EulerDiscreteScheduler.set_timesteps): σ interpolated at
 * the spaced timesteps, or Karras sigmas between the ends of that range with timesteps mapped back from σ.
 * One σ per step; the caller appends the σ after the last step. As in diffusers, the timesteps are float32
 * before σ is interpolated at them, and both lists end up float32.
 */
export function eulerSigmaSchedule(
  name: string,
  schedule: NoiseSchedule,
  c: Readonly<Required<SchedulerConfig>>,
  n: number,
  karras: boolean,
): { timesteps: number[]; sigmas: number[] } {
  let timesteps = spacedTimesteps(c.timestep_spacing, c.num_train_timesteps, n, c.steps_offset, false).map(Math.fround);
  checkTimestepsInRange(name, timesteps, c.num_train_timesteps);
  let sigmas = timesteps.map((t) => schedule.sigmaAt(t));
  if (karras) {
    sigmas = karrasSigmas(c.sigma_min ?? sigmas[n - 1], c.sigma_max ?? sigmas[0], n);
    timesteps = sigmas.map((s) => Math.fround(schedule.timestepForSigma(s)));
  }
  return { timesteps, sigmas: sigmas.map(Math.fround) };
}

/** The σ after the last step: 0, or σ at t = 0 when final_sigmas_type is "sigma_min". */
export function finalSigma(schedule: NoiseSchedule, c: Readonly<Required<SchedulerConfig>>): number {
  return c.final_sigmas_type === 'sigma_min' ? schedule.sigma(0) : 0;
}

/** diffusers' init_noise_sigma for Euler: σ_max for linspace/trailing spacing, √(σ_max²+1) for leading. */
export function eulerInitNoiseSigma(c: Readonly<Required<SchedulerConfig>>, sigmas: readonly number[]): number {
  const max = Math.max(...sigmas);
  return c.timestep_spacing === 'leading' ? Math.sqrt(max * max + 1) : max;
}
