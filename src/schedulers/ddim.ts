/**
 * DDIM (Song, Meng & Ermon 2021, eqs. 12 and 16), as diffusers' DDIMScheduler.
 *
 *   x0 = from the model output (prediction.ts), clipped to ±clip_sample_range if clip_sample
 *   σ_t = η · √((1−ᾱ_prev)/(1−ᾱ_t)) · √(1 − ᾱ_t/ᾱ_prev)
 *   x_prev = √ᾱ_prev · x0 + √(1−ᾱ_prev−σ_t²) · ε + σ_t · z
 *
 * As in diffusers, the previous timestep is t − T div n (not the plan's next entry; the two differ only
 * for linspace spacing or a T that n does not divide), and ᾱ_prev after the last step is 1 when
 * set_alpha_to_one, else ᾱ_0.
 */
import { InputError } from '../core/errors.ts';
import type { Rng } from '../core/rng.ts';
import { AlphaPlan, checkNumSteps, checkTimestepsInRange, img2imgStart, type StepUpdate } from './plan-base.ts';
import { epsFromVp, x0FromVp } from './prediction.ts';
import type { PlanOptions, SamplingPlan, StepState } from './scheduler.ts';
import { SchedulerBase } from './scheduler-base.ts';
import { clamped, weightedSum } from './tensor-math.ts';
import { spacedTimesteps } from './timesteps.ts';

export class DdimScheduler extends SchedulerBase {
  readonly name = 'DDIMScheduler';

  plan(numSteps: number, strength = 1, options: PlanOptions = {}): SamplingPlan {
    const c = this.config;
    checkNumSteps(this.name, numSteps, c.num_train_timesteps);
    const eta = options.eta ?? 0;
    if (!(eta >= 0 && Number.isFinite(eta))) throw new InputError(`${this.name}: eta ${eta} is not a number ≥ 0`);
    const all = spacedTimesteps(c.timestep_spacing, c.num_train_timesteps, numSteps, c.steps_offset);
    checkTimestepsInRange(this.name, all, c.num_train_timesteps);
    const begin = img2imgStart(this.name, numSteps, strength);
    return new DdimPlan(this, numSteps, all.slice(begin), eta);
  }
}

class DdimPlan extends AlphaPlan<DdimScheduler> {
  readonly #stride: number;
  readonly #eta: number;

  constructor(scheduler: DdimScheduler, numSteps: number, timesteps: number[], eta: number) {
    super(scheduler, numSteps, timesteps);
    this.#stride = Math.floor(scheduler.config.num_train_timesteps / numSteps);
    this.#eta = eta;
  }

  protected takeStep(modelOutput: Float32Array, stepIndex: number, sample: Float32Array, _state: StepState, rng: Rng): StepUpdate {
    const { config: c, schedule } = this.scheduler;
    const t = this.timesteps[stepIndex];
    const prevT = t - this.#stride;
    const abT = schedule.alphaCumprod(t);
    const abPrev = prevT >= 0 ? schedule.alphaCumprod(prevT) : c.set_alpha_to_one ? 1 : schedule.alphaCumprod(0);
    const alpha = Math.sqrt(abT);
    const sigma = Math.sqrt(1 - abT);

    const rawX0 = x0FromVp(modelOutput, sample, alpha, sigma, c.prediction_type); // (B, C, H, W)
    const eps = epsFromVp(modelOutput, sample, rawX0, alpha, sigma, c.prediction_type);
    const x0 = c.clip_sample ? clamped(rawX0, c.clip_sample_range) : rawX0;

    // In float32 as diffusers' _get_variance: 1 − ᾱ_t/ᾱ_prev cancels near t = 0 (see ddpm.ts).
    const f32 = Math.fround;
    const variance = f32(f32(f32(1 - abPrev) / f32(1 - abT)) * f32(1 - f32(abT / abPrev)));
    const std = this.#eta * Math.sqrt(variance);
    const terms: [number, Float32Array][] = [
      [Math.sqrt(abPrev), x0],
      [Math.sqrt(Math.max(0, 1 - abPrev - std * std)), eps],
    ];
    if (this.#eta > 0) terms.push([std, rng.normal(sample.length)]);
    return { prevSample: weightedSum(terms), predOriginal: x0 };
  }
}
