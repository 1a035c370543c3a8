/**
 * Euler ancestral sampling (k-diffusion's sample_euler_ancestral with η = 1), as diffusers'
 * EulerAncestralDiscreteScheduler ("Euler a" in A1111). Each step goes down to σ_down with Euler, then adds
 * fresh noise of size σ_up so the marginal noise level is σ_{i+1}:
 *
 *   σ_up = √(σ_{i+1}² (σ_i² − σ_{i+1}²)/σ_i²),  σ_down = √(σ_{i+1}² − σ_up²)
 *   x_{i+1} = x_i + (σ_down − σ_i)·(x_i − x0_i)/σ_i + σ_up·z
 *
 * Like diffusers it has no Karras option (use_karras_sigmas is ignored) and always ends at σ = 0.
 * It also accepts prediction_type "sample", which diffusers leaves unimplemented.
 */
import type { Rng } from '../core/rng.ts';
import { SigmaPlan } from './euler.ts';
import { checkNumSteps, img2imgStart } from './plan-base.ts';
import type { SamplingPlan } from './scheduler.ts';
import { SchedulerBase } from './scheduler-base.ts';
import { eulerInitNoiseSigma, eulerSigmaSchedule } from './sigmas.ts';
import { weightedSum } from './tensor-math.ts';

export class EulerAncestralScheduler extends SchedulerBase {
  readonly name = 'EulerAncestralDiscreteScheduler';

  plan(numSteps: number, strength = 1): SamplingPlan {
    const c = this.config;
    checkNumSteps(this.name, numSteps, c.num_train_timesteps);
    const { timesteps, sigmas } = eulerSigmaSchedule(this.name, this.schedule, c, numSteps, false);
    const allSigmas = [...sigmas, 0];
    const begin = img2imgStart(this.name, numSteps, strength);
    return new SigmaPlan(this.name, numSteps, timesteps.slice(begin), allSigmas.slice(begin), eulerInitNoiseSigma(c, allSigmas), c, ancestralStep);
  }
}

function ancestralStep(sample: Float32Array, x0: Float32Array, sigma: number, nextSigma: number, rng: Rng): Float32Array {
  const up = Math.sqrt((nextSigma ** 2 * (sigma ** 2 - nextSigma ** 2)) / sigma ** 2);
  const down = Math.sqrt(Math.max(0, nextSigma ** 2 - up ** 2));
  const ratio = (down - sigma) / sigma;
  const noise = rng.normal(sample.length); // drawn every step, as diffusers does, so seeds line up
  return weightedSum([
    [1 + ratio, sample],
    [-ratio, x0],
    [up, noise],
  ]);
}
