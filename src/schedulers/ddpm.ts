/**
 * DDPM ancestral sampling (Ho, Jain & Abbeel 2020, eqs. 6–7), as diffusers' DDPMScheduler, on any
 * sub-sequence of timesteps: with t' the plan's next timestep (or −1 after the last, ᾱ = 1),
 *
 *   β'_t  = 1 − ᾱ_t/ᾱ_t'
 *   μ     = √ᾱ_t' β'_t/(1−ᾱ_t) · x0 + √(1−β'_t) (1−ᾱ_t')/(1−ᾱ_t) · x_t
 *   x_t'  = μ + √var · z      (z only when t > 0)
 *   var   = (1−ᾱ_t')/(1−ᾱ_t) · β'_t   (fixed_small, floored at 1e-20)   or   β'_t   (fixed_large)
 */
import type { Rng } from '../core/rng.ts';
import { AlphaPlan, checkNumSteps, checkTimestepsInRange, img2imgStart, type StepUpdate } from './plan-base.ts';
import { x0FromVp } from './prediction.ts';
import type { SamplingPlan, StepState } from './scheduler.ts';
import { SchedulerBase } from './scheduler-base.ts';
import { clamped, weightedSum } from './tensor-math.ts';

const f32 = Math.fround;
import { spacedTimesteps } from './timesteps.ts';

export class DdpmScheduler extends SchedulerBase {
  readonly name = 'DDPMScheduler';

  plan(numSteps: number, strength = 1): SamplingPlan {
    const c = this.config;
    checkNumSteps(this.name, numSteps, c.num_train_timesteps);
    const all = spacedTimesteps(c.timestep_spacing, c.num_train_timesteps, numSteps, c.steps_offset);
    checkTimestepsInRange(this.name, all, c.num_train_timesteps);
    const begin = img2imgStart(this.name, numSteps, strength);
    return new DdpmPlan(this, numSteps, all.slice(begin));
  }
}

class DdpmPlan extends AlphaPlan<DdpmScheduler> {
  protected takeStep(modelOutput: Float32Array, stepIndex: number, sample: Float32Array, _state: StepState, rng: Rng): StepUpdate {
    const { config: c, schedule } = this.scheduler;
    const t = this.timesteps[stepIndex];
    const prevT = stepIndex + 1 < this.timesteps.length ? this.timesteps[stepIndex + 1] : -1;
    const abT = schedule.alphaCumprod(t);
    const abPrev = prevT >= 0 ? schedule.alphaCumprod(prevT) : 1;
    // The step's coefficients in float32, as diffusers computes them from its float32 tables: β over the
    // jump t → prevT, 1 − ᾱ_t/ᾱ_prev, cancels near t = 0, where its float32 rounding moves the result
    // visibly (5e-4 relative at t = 1; diffusers' test_full_loop_with_noise pins it).
    const alphaT = f32(abT / abPrev);
    const betaT = f32(1 - alphaT);
    const oneMinusAbT = f32(1 - abT);
    const oneMinusAbPrev = f32(1 - abPrev);

    const rawX0 = x0FromVp(modelOutput, sample, Math.sqrt(abT), Math.sqrt(oneMinusAbT), c.prediction_type); // (B, C, H, W)
    const x0 = c.clip_sample ? clamped(rawX0, c.clip_sample_range) : rawX0;
    const terms: [number, Float32Array][] = [
      [f32(f32(f32(Math.sqrt(abPrev)) * betaT) / oneMinusAbT), x0],
      [f32(f32(f32(Math.sqrt(alphaT)) * oneMinusAbPrev) / oneMinusAbT), sample],
    ];
    if (t > 0) {
      const variance = c.variance_type === 'fixed_large' ? betaT : Math.max(f32(f32(oneMinusAbPrev / oneMinusAbT) * betaT), 1e-20);
      terms.push([f32(Math.sqrt(variance)), rng.normal(sample.length)]);
    }
    return { prevSample: weightedSum(terms), predOriginal: x0 };
  }
}
