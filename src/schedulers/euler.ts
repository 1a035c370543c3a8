/**
 * Euler's method on the probability-flow ODE dx/dσ = (x − x0(x, σ))/σ (Karras et al. 2022, Alg. 2
 * without churn), as diffusers' EulerDiscreteScheduler ("Euler" in A1111):
 *
 *   x_{i+1} = x_i + (σ_{i+1} − σ_i) · (x_i − x0_i)/σ_i,    model input x_i/√(σ_i²+1)
 *
 * With an exact x0 the last step (σ → 0) lands on x0.
 */
import type { Rng } from '../core/rng.ts';
import type { SchedulerConfig } from './config.ts';
import { BasePlan, checkNumSteps, img2imgStart, type StepUpdate } from './plan-base.ts';
import { x0FromSigma } from './prediction.ts';
import type { SamplingPlan, StepState } from './scheduler.ts';
import { SchedulerBase } from './scheduler-base.ts';
import { eulerInitNoiseSigma, eulerSigmaSchedule, finalSigma } from './sigmas.ts';
import { scaled, weightedSum } from './tensor-math.ts';

export class EulerScheduler extends SchedulerBase {
  readonly name = 'EulerDiscreteScheduler';

  plan(numSteps: number, strength = 1): SamplingPlan {
    const c = this.config;
    checkNumSteps(this.name, numSteps, c.num_train_timesteps);
    const { timesteps, sigmas } = eulerSigmaSchedule(this.name, this.schedule, c, numSteps, c.use_karras_sigmas);
    const allSigmas = [...sigmas, finalSigma(this.schedule, c)];
    const begin = img2imgStart(this.name, numSteps, strength);
    return new SigmaPlan(this.name, numSteps, timesteps.slice(begin), allSigmas.slice(begin), eulerInitNoiseSigma(c, allSigmas), c, eulerStep);
  }
}

/** One Euler step from sigmas[i] to sigmas[i+1]. */
function eulerStep(sample: Float32Array, x0: Float32Array, sigma: number, nextSigma: number): Float32Array {
  const ratio = (nextSigma - sigma) / sigma; // dt/σ
  return weightedSum([
    [1 + ratio, sample],
    [-ratio, x0],
  ]);
}

/** How one sigma-based step moves the sample, given its x0 estimate. */
export type SigmaUpdate = (sample: Float32Array, x0: Float32Array, sigma: number, nextSigma: number, rng: Rng) => Float32Array;

/** A plan over sigmas (Euler, Euler a): scales the model input, noises by σ, and steps with `update`. */
export class SigmaPlan extends BasePlan {
  readonly #config: Readonly<Required<SchedulerConfig>>;
  readonly #update: SigmaUpdate;

  constructor(
    name: string,
    numSteps: number,
    timesteps: number[],
    sigmas: number[],
    initNoiseSigma: number,
    config: Readonly<Required<SchedulerConfig>>,
    update: SigmaUpdate,
  ) {
    super(name, numSteps, timesteps, sigmas, initNoiseSigma);
    this.#config = config;
    this.#update = update;
  }

  override scaleModelInput(sample: Float32Array, stepIndex: number): Float32Array {
    this.checkIndex(stepIndex);
    const sigma = this.#sigma(stepIndex);
    return scaled(sample, 1 / Math.sqrt(sigma * sigma + 1));
  }

  addNoise(original: Float32Array, noise: Float32Array, stepIndex: number): Float32Array {
    this.checkNoise(original, noise, stepIndex);
    return weightedSum([
      [1, original],
      [this.#sigma(stepIndex), noise],
    ]);
  }

  protected takeStep(modelOutput: Float32Array, stepIndex: number, sample: Float32Array, _state: StepState, rng: Rng): StepUpdate {
    const sigma = this.#sigma(stepIndex);
    const x0 = x0FromSigma(modelOutput, sample, sigma, this.#config.prediction_type); // (B, C, H, W)
    return { prevSample: this.#update(sample, x0, sigma, this.#sigma(stepIndex + 1), rng), predOriginal: x0 };
  }

  #sigma(i: number): number {
    return (this.sigmas as readonly number[])[i] as number;
  }
}
