/**
 * PNDM (Liu et al. 2022, "Pseudo Numerical Methods for Diffusion Models"), as diffusers' PNDMScheduler.
 *
 * The transfer φ(x, t → t', ε) moves x along the deterministic path (same as DDIM with η = 0; eq. 11):
 *   x' = √(ᾱ'/ᾱ) x − (ᾱ' − ᾱ) ε / (ᾱ √(1−ᾱ') + √(ᾱ (1−ᾱ) ᾱ'))
 * and ε is a linear multistep combination of earlier model outputs:
 *
 * PLMS mode (skip_prk_steps: true, Stable Diffusion's choice). Timesteps t_0 > t_1 > … with stride r,
 * the second one repeated: [t_0, t_1, t_1, t_2, …] (n + 1 calls for n ≥ 2 steps); call k uses
 *   k=0: ε_0, x → φ(x, t_0 → t_1)                    (a first guess, then)
 *   k=1: (ε_0 + ε_1)/2 from the *same* x at t_0       (a Heun step; its ε_1 is not kept)
 *   then Adams–Bashforth on the kept ε's (newest e_1):  (3e_1 − e_2)/2,  (23e_1 − 16e_2 + 5e_3)/12,
 *   (55e_1 − 59e_2 + 37e_3 − 9e_4)/24.
 * PRK mode (skip_prk_steps: false, diffusers' default): three classical Runge–Kutta steps (4 calls each,
 * at t, t − r/2, t − r/2, t − r) start the history, then PLMS of order 4.
 * Only epsilon and v_prediction models (diffusers refuses sample prediction here too).
 */
import { InputError } from '../core/errors.ts';
import type { SchedulerConfig } from './config.ts';
import { AlphaPlan, checkNumSteps, checkTimestepsInRange, img2imgStart, type StepUpdate } from './plan-base.ts';
import type { SamplingPlan, StepState } from './scheduler.ts';
import { SchedulerBase } from './scheduler-base.ts';
import { weightedSum } from './tensor-math.ts';
import { spacedTimesteps } from './timesteps.ts';

export class PndmScheduler extends SchedulerBase {
  readonly name = 'PNDMScheduler';

  constructor(config: Readonly<Required<SchedulerConfig>>) {
    super(config);
    if (config.prediction_type === 'sample') {
      throw new InputError(
        `${this.name}: prediction_type "sample" is not supported by PNDM; expected epsilon or v_prediction (use DDIM for sample-predicting models)`,
      );
    }
  }

  plan(numSteps: number, strength = 1): SamplingPlan {
    const c = this.config;
    checkNumSteps(this.name, numSteps, c.num_train_timesteps);
    const base = spacedTimesteps(c.timestep_spacing, c.num_train_timesteps, numSteps, c.steps_offset); // descending
    checkTimestepsInRange(this.name, base, c.num_train_timesteps);
    const stride = Math.floor(c.num_train_timesteps / numSteps);
    let all: number[];
    let prkCalls = 0;
    if (c.skip_prk_steps) {
      // [t_0, t_1, t_1, t_2, …]: the second timestep is evaluated twice (PLMS warm-up). diffusers builds
      // it as concat(ts[:-1], ts[-2:-1], ts[-1:]) on ascending ts, which for one step is just [t_0].
      all = numSteps === 1 ? base : [base[0], base[1], ...base.slice(1)];
    } else {
      if (numSteps < 4)
        throw new InputError(
          `${this.name}: the Runge–Kutta warm-up (skip_prk_steps false) needs at least 4 steps, got ${numSteps}; set skip_prk_steps to true`,
        );
      if (strength < 1)
        throw new InputError(`${this.name}: img2img (strength ${strength}) needs skip_prk_steps true; the Runge–Kutta warm-up cannot start midway`);
      const top = base.slice(0, 4).reverse(); // the 4 largest, ascending
      const half = Math.floor(stride / 2);
      const withMid = top.flatMap((t) => [t, t + half]).slice(0, -1); // t, t + r/2, … (7 values)
      const prk = withMid
        .flatMap((t) => [t, t])
        .slice(1, -1)
        .reverse(); // 12 calls: t, t−r/2, t−r/2, t−r per RK step
      prkCalls = prk.length;
      all = [...prk, ...base.slice(3)];
    }
    const begin = img2imgStart(this.name, numSteps, strength);
    return new PndmPlan(this, numSteps, all.slice(begin), stride, prkCalls);
  }
}

class PndmPlan extends AlphaPlan<PndmScheduler> {
  readonly #stride: number;
  readonly #prkCalls: number;

  constructor(scheduler: PndmScheduler, numSteps: number, timesteps: number[], stride: number, prkCalls: number) {
    super(scheduler, numSteps, timesteps);
    this.#stride = stride;
    this.#prkCalls = prkCalls;
  }

  protected takeStep(modelOutput: Float32Array, stepIndex: number, sample: Float32Array, state: StepState): StepUpdate {
    return stepIndex < this.#prkCalls ? this.#prkStep(modelOutput, stepIndex, sample, state) : this.#plmsStep(modelOutput, stepIndex, sample, state);
  }

  /** diffusers' step_plms, with its counter = state.stepsTaken and its ets = state.history. */
  #plmsStep(modelOutput: Float32Array, counter: number, sample: Float32Array, state: StepState): StepUpdate {
    let t = this.timesteps[counter];
    let prevT = t - this.#stride;
    let history = state.history;
    if (counter !== 1) {
      history = [...history.slice(-3), modelOutput];
    } else {
      // The repeated timestep: redo the first jump from the held sample with averaged ε.
      prevT = t;
      t = t + this.#stride;
    }
    const e = history;
    const n = e.length;
    let eps: Float32Array;
    let from = sample;
    let heldSample: Float32Array | null = null;
    if (n === 1 && counter === 0) {
      eps = modelOutput;
      heldSample = sample;
    } else if (n === 1 && counter === 1) {
      eps = weightedSum([
        [0.5, modelOutput],
        [0.5, e[0] as Float32Array],
      ]);
      from = state.heldSample ?? sample;
    } else if (n === 2) {
      eps = weightedSum([
        [1.5, e[1] as Float32Array],
        [-0.5, e[0] as Float32Array],
      ]);
    } else if (n === 3) {
      eps = weightedSum([
        [23 / 12, e[2] as Float32Array],
        [-16 / 12, e[1] as Float32Array],
        [5 / 12, e[0] as Float32Array],
      ]);
    } else {
      eps = weightedSum([
        [55 / 24, e[3] as Float32Array],
        [-59 / 24, e[2] as Float32Array],
        [37 / 24, e[1] as Float32Array],
        [-9 / 24, e[0] as Float32Array],
      ]);
    }
    return { ...this.#transfer(from, t, prevT, eps), history, heldSample };
  }

  /** diffusers' step_prk: 4 calls per Runge–Kutta step, weights 1/6, 1/3, 1/3, 1/6. */
  #prkStep(modelOutput: Float32Array, counter: number, sample: Float32Array, state: StepState): StepUpdate {
    const call = counter % 4;
    const tCall = this.timesteps[counter];
    const prevT = tCall - (counter % 2 === 1 ? 0 : Math.floor(this.#stride / 2));
    const t = this.timesteps[counter - call]; // the RK step's start
    let history = state.history;
    let heldSample = state.heldSample;
    let acc = state.heldOutput;
    let eps: Float32Array;
    if (call === 0) {
      acc = weightedSum([[1 / 6, modelOutput]]);
      history = [...history, modelOutput];
      heldSample = sample;
      eps = modelOutput;
    } else if (call === 1 || call === 2) {
      acc = weightedSum([
        [1, acc as Float32Array],
        [1 / 3, modelOutput],
      ]);
      eps = modelOutput;
    } else {
      eps = weightedSum([
        [1, acc as Float32Array],
        [1 / 6, modelOutput],
      ]);
      acc = null;
    }
    return { ...this.#transfer(heldSample ?? sample, t, prevT, eps), history, heldSample, heldOutput: acc };
  }

  /** φ(x, t → prevT, model output), after turning v into ε; also the x0 it implies. */
  #transfer(x: Float32Array, t: number, prevT: number, output: Float32Array): { prevSample: Float32Array; predOriginal: Float32Array } {
    const { config: c, schedule } = this.scheduler;
    const ab = schedule.alphaCumprod(t);
    const abPrev = prevT >= 0 ? schedule.alphaCumprod(prevT) : c.set_alpha_to_one ? 1 : schedule.alphaCumprod(0);
    const eps =
      c.prediction_type === 'v_prediction'
        ? weightedSum([
            [Math.sqrt(ab), output],
            [Math.sqrt(1 - ab), x],
          ])
        : output;
    const denom = ab * Math.sqrt(1 - abPrev) + Math.sqrt(ab * (1 - ab) * abPrev);
    return {
      prevSample: weightedSum([
        [Math.sqrt(abPrev / ab), x],
        [-(abPrev - ab) / denom, eps],
      ]),
      predOriginal: weightedSum([
        [1 / Math.sqrt(ab), x],
        [-Math.sqrt(1 - ab) / Math.sqrt(ab), eps],
      ]),
    };
  }
}
