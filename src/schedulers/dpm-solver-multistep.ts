/**
 * Multistep DPM-Solver++ (Lu et al. 2022, arXiv:2211.01095, Alg. 2), as diffusers'
 * DPMSolverMultistepScheduler with algorithm_type "dpmsolver++" ("DPM++ 2M", with use_karras_sigmas
 * "DPM++ 2M Karras"). With α_i = 1/√(σ_i²+1), s_i = σ_i α_i, λ_i = log(α_i/s_i), h = λ_{i+1} − λ_i and
 * D_k the model's x0 estimates (newest first):
 *
 *   1st order:  x_{i+1} = (s_{i+1}/s_i) x_i − α_{i+1}(e^{−h} − 1) D_0                    (= DDIM)
 *   2nd order:  … − ½ α_{i+1}(e^{−h} − 1) (D_0 − D_1)/r,   r = h_prev/h                   (midpoint)
 *               … + α_{i+1}((e^{−h} − 1)/h + 1) (D_0 − D_1)/r                            (heun)
 *   3rd order:  diffusers' multistep_dpm_solver_third_order_update.
 *
 * Warm-up uses lower orders; `lower_order_final` lowers them again on the last steps when there are
 * fewer than 15, and the last step is always first order when the final σ is 0 (as diffusers).
 */
import { BasePlan, checkNumSteps, checkTimestepsInRange, img2imgStart, type StepUpdate } from './plan-base.ts';
import { vpFromSigma, x0FromVp } from './prediction.ts';
import type { SamplingPlan, StepState } from './scheduler.ts';
import { SchedulerBase } from './scheduler-base.ts';
import { finalSigma, karrasSigmas } from './sigmas.ts';
import { weightedSum } from './tensor-math.ts';
import { dpmSpacedTimesteps, roundHalfEven } from './timesteps.ts';

export class DpmSolverMultistepScheduler extends SchedulerBase {
  readonly name = 'DPMSolverMultistepScheduler';

  plan(numSteps: number, strength = 1): SamplingPlan {
    const c = this.config;
    const T = c.num_train_timesteps;
    checkNumSteps(this.name, numSteps, T);
    let timesteps = dpmSpacedTimesteps(c.timestep_spacing, T, numSteps, c.steps_offset);
    checkTimestepsInRange(this.name, timesteps, T);
    let sigmas: number[];
    if (c.use_karras_sigmas) {
      // Karras sigmas span the whole training range, whatever the spacing; timesteps are mapped back from σ
      // and made integers as current diffusers does: rounded, except for squaredcos_cap_v2, where they are
      // truncated (cast to int64 without rounding), so 20 steps give 999, 998, 998, … rather than 999, 999, ….
      const toInteger = c.beta_schedule === 'squaredcos_cap_v2' ? Math.trunc : roundHalfEven; // diffusers looks at the name only
      sigmas = karrasSigmas(c.sigma_min ?? this.schedule.sigma(0), c.sigma_max ?? this.schedule.sigma(T - 1), numSteps);
      timesteps = sigmas.map((s) => toInteger(this.schedule.timestepForSigma(s)));
    } else {
      sigmas = timesteps.map((t) => this.schedule.sigma(t));
    }
    const allSigmas = [...sigmas, finalSigma(this.schedule, c)].map(Math.fround); // float32, as diffusers stores them
    const begin = img2imgStart(this.name, numSteps, strength);
    return new DpmPlan(this, numSteps, timesteps, allSigmas, begin);
  }
}

class DpmPlan extends BasePlan {
  readonly #scheduler: DpmSolverMultistepScheduler;
  readonly #fullLength: number;
  readonly #begin: number;

  constructor(scheduler: DpmSolverMultistepScheduler, numSteps: number, timesteps: number[], sigmas: number[], begin: number) {
    super(scheduler.name, numSteps, timesteps.slice(begin), sigmas.slice(begin), 1);
    this.#scheduler = scheduler;
    this.#fullLength = timesteps.length;
    this.#begin = begin;
  }

  addNoise(original: Float32Array, noise: Float32Array, stepIndex: number): Float32Array {
    this.checkNoise(original, noise, stepIndex);
    const { alpha, sigma } = vpFromSigma(this.#sigma(stepIndex));
    return weightedSum([
      [alpha, original],
      [sigma, noise],
    ]);
  }

  protected takeStep(modelOutput: Float32Array, stepIndex: number, sample: Float32Array, state: StepState): StepUpdate {
    const c = this.#scheduler.config;
    const { alpha, sigma } = vpFromSigma(this.#sigma(stepIndex));
    const x0 = x0FromVp(modelOutput, sample, alpha, sigma, c.prediction_type); // (B, C, H, W)
    const history = [...state.history, x0].slice(-c.solver_order);

    // Orders as diffusers picks them: warm-up from the steps taken, lowered near the end of the full plan.
    const fullIndex = this.#begin + stepIndex;
    const fewSteps = c.lower_order_final && this.#fullLength < 15;
    const lastStep = fullIndex === this.#fullLength - 1;
    const lowerFinal = lastStep && (c.euler_at_final || fewSteps || c.final_sigmas_type === 'zero');
    const lowerSecond = fullIndex === this.#fullLength - 2 && fewSteps;
    const warm = state.stepsTaken; // diffusers' lower_order_nums, before this step
    let order = 3;
    if (c.solver_order === 1 || warm < 1 || lowerFinal) order = 1;
    else if (c.solver_order === 2 || warm < 2 || lowerSecond) order = 2;

    const prevSample = this.#update(order, history, stepIndex, sample);
    return { prevSample, predOriginal: x0, history };
  }

  #update(order: number, d: readonly Float32Array[], i: number, sample: Float32Array): Float32Array {
    const c = this.#scheduler.config;
    const point = (k: number): { alpha: number; sigma: number; lambda: number } => {
      const { alpha, sigma } = vpFromSigma(this.#sigma(k));
      return { alpha, sigma, lambda: Math.log(alpha) - Math.log(sigma) }; // λ = +∞ at σ = 0
    };
    const t = point(i + 1);
    const s0 = point(i);
    const h = t.lambda - s0.lambda;
    const expm1 = Math.exp(-h) - 1; // −1 when the target σ is 0
    const m0 = d[d.length - 1] as Float32Array;
    const first: [number, Float32Array][] = [
      [t.sigma / s0.sigma, sample],
      [-t.alpha * expm1, m0],
    ];
    if (order === 1) return weightedSum(first);

    const s1 = point(i - 1);
    const m1 = d[d.length - 2] as Float32Array;
    const r0 = (s0.lambda - s1.lambda) / h;
    if (order === 2) {
      // D1 = (m0 − m1)/r0
      const coeff = c.solver_type === 'midpoint' ? -0.5 * t.alpha * expm1 : t.alpha * (expm1 / h + 1);
      return weightedSum([...first, [coeff / r0, m0], [-coeff / r0, m1]]);
    }

    const s2 = point(i - 2);
    const m2 = d[d.length - 3] as Float32Array;
    const r1 = (s1.lambda - s2.lambda) / h;
    // D1_0 = (m0 − m1)/r0, D1_1 = (m1 − m2)/r1, D1 = D1_0 + r0/(r0+r1)·(D1_0 − D1_1), D2 = (D1_0 − D1_1)/(r0+r1)
    const c1 = t.alpha * (expm1 / h + 1);
    const c2 = -t.alpha * ((expm1 + h) / (h * h) - 0.5);
    const a = 1 / r0; // D1_0 = a·(m0 − m1)
    const b = 1 / r1; // D1_1 = b·(m1 − m2)
    const k1 = 1 + r0 / (r0 + r1); // D1 = k1·D1_0 − (k1 − 1)·D1_1
    const k2 = 1 / (r0 + r1); // D2 = k2·(D1_0 − D1_1)
    const wD10 = c1 * k1 + c2 * k2;
    const wD11 = -c1 * (k1 - 1) - c2 * k2;
    return weightedSum([...first, [wD10 * a, m0], [-wD10 * a + wD11 * b, m1], [-wD11 * b, m2]]);
  }

  #sigma(i: number): number {
    return (this.sigmas as readonly number[])[i] as number;
  }
}
