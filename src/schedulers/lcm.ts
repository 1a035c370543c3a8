/**
 * Latent Consistency Model sampling (Luo et al. 2023, arXiv:2310.04378, Alg. 3), as diffusers'
 * LCMScheduler. Timesteps are picked from the distillation schedule of `original_inference_steps`
 * (k = T div original: k−1, 2k−1, …, T−1), evenly by index: for 4 steps of 50 → 999, 759, 499, 259.
 * Each step denoises with the consistency boundary condition and, except on the last step, re-noises
 * to the next timestep with fresh noise:
 *
 *   c_skip = σ_d²/((10t)² + σ_d²),  c_out = 10t/√((10t)² + σ_d²),  σ_d = 0.5  (10 = timestep_scaling)
 *   x̂0 = c_out · x0(model) + c_skip · x_t
 *   x_next = √ᾱ_next · x̂0 + √(1−ᾱ_next) · z
 *
 * img2img (strength < 1) shrinks the distillation schedule to its first ⌊original·strength⌋ entries and
 * spreads all `numSteps` steps over it, as diffusers' LCM does.
 */
import { InputError } from '../core/errors.ts';
import type { Rng } from '../core/rng.ts';
import type { SchedulerConfig } from './config.ts';
import { AlphaPlan, checkNumSteps, checkStrength, type StepUpdate } from './plan-base.ts';
import { x0FromVp } from './prediction.ts';
import type { SamplingPlan, StepState } from './scheduler.ts';
import { SchedulerBase } from './scheduler-base.ts';
import { clamped, weightedSum } from './tensor-math.ts';
import { linspace } from './timesteps.ts';

const SIGMA_DATA = 0.5;

export class LcmScheduler extends SchedulerBase {
  readonly name = 'LCMScheduler';

  constructor(config: Readonly<Required<SchedulerConfig>>) {
    super(config);
    if (config.original_inference_steps > config.num_train_timesteps) {
      throw new InputError(
        `${this.name}: original_inference_steps ${config.original_inference_steps} exceeds num_train_timesteps ${config.num_train_timesteps}`,
      );
    }
  }

  plan(numSteps: number, strength = 1): SamplingPlan {
    const c = this.config;
    checkNumSteps(this.name, numSteps, c.num_train_timesteps);
    checkStrength(this.name, strength);
    const original = c.original_inference_steps;
    if (numSteps > original) {
      throw new InputError(`${this.name}: steps ${numSteps} exceeds original_inference_steps ${original}; LCM picks its steps from that schedule`);
    }
    const k = Math.floor(c.num_train_timesteps / original);
    const usable = Math.floor(original * strength);
    const origin = Array.from({ length: usable }, (_, i) => (usable - i) * k - 1); // descending
    if (numSteps > origin.length) {
      throw new InputError(
        `${this.name}: strength ${strength} leaves ${origin.length} of ${original} distillation timesteps, fewer than steps ${numSteps}; raise strength or lower steps`,
      );
    }
    const indices = linspace(0, origin.length, numSteps, false).map(Math.floor);
    return new LcmPlan(
      this,
      numSteps,
      indices.map((i) => origin[i]),
    );
  }
}

class LcmPlan extends AlphaPlan<LcmScheduler> {
  protected takeStep(modelOutput: Float32Array, stepIndex: number, sample: Float32Array, _state: StepState, rng: Rng): StepUpdate {
    const { config: c, schedule } = this.scheduler;
    const t = this.timesteps[stepIndex];
    const ab = schedule.alphaCumprod(t);

    const scaledT = t * c.timestep_scaling;
    const cSkip = SIGMA_DATA ** 2 / (scaledT ** 2 + SIGMA_DATA ** 2);
    const cOut = scaledT / Math.sqrt(scaledT ** 2 + SIGMA_DATA ** 2);

    const rawX0 = x0FromVp(modelOutput, sample, Math.sqrt(ab), Math.sqrt(1 - ab), c.prediction_type); // (B, C, H, W)
    const x0 = c.clip_sample ? clamped(rawX0, c.clip_sample_range) : rawX0;
    const denoised = weightedSum([
      [cOut, x0],
      [cSkip, sample],
    ]);
    if (stepIndex === this.timesteps.length - 1) return { prevSample: denoised, predOriginal: denoised };

    const abNext = schedule.alphaCumprod(this.timesteps[stepIndex + 1]);
    const noise = rng.normal(sample.length);
    return {
      prevSample: weightedSum([
        [Math.sqrt(abNext), denoised],
        [Math.sqrt(1 - abNext), noise],
      ]),
      predOriginal: denoised,
    };
  }
}
