/** What every SamplingPlan shares: argument checks, frozen state, the img2img start rule. */
import { InputError } from '../core/errors.ts';
import type { Rng } from '../core/rng.ts';
import type { SamplingPlan, StepResult, StepState } from './scheduler.ts';
import type { NoiseSchedule } from './noise-schedule.ts';

/** Checks a step count against the training schedule (diffusers raises the same errors). */
export function checkNumSteps(schedulerName: string, numSteps: number, numTrain: number): void {
  if (!Number.isInteger(numSteps) || numSteps < 1 || numSteps > numTrain) {
    throw new InputError(`${schedulerName}: steps ${numSteps} is not an integer in 1..${numTrain} (num_train_timesteps)`);
  }
}

/** Checks strength: in (0, 1], 1 meaning txt2img. */
export function checkStrength(schedulerName: string, strength: number): void {
  if (typeof strength !== 'number' || !(strength > 0 && strength <= 1)) {
    throw new InputError(`${schedulerName}: strength ${strength} is not a number in (0, 1]`);
  }
}

/**
 * img2img: index of the first step to run in an n-step plan. diffusers' pipelines run the last
 * min(⌊n·strength⌋, n) steps; fewer than one is an error here rather than an empty loop.
 */
export function img2imgStart(schedulerName: string, numSteps: number, strength: number): number {
  checkStrength(schedulerName, strength);
  const run = Math.min(Math.floor(numSteps * strength), numSteps);
  if (run < 1) {
    throw new InputError(`${schedulerName}: strength ${strength} with ${numSteps} steps leaves no step to run; raise strength or steps`);
  }
  return numSteps - run;
}

/** Every timestep must index the training tables (a large steps_offset can push `leading` past the end). */
export function checkTimestepsInRange(schedulerName: string, timesteps: readonly number[], numTrain: number): void {
  for (const t of timesteps) {
    if (!(t >= 0 && t <= numTrain - 1)) {
      throw new InputError(`${schedulerName}: timestep ${t} is outside 0..${numTrain - 1}; lower steps_offset or the number of steps`);
    }
  }
}

export function makeState(
  stepsTaken: number,
  history: readonly Float32Array[] = [],
  heldSample: Float32Array | null = null,
  heldOutput: Float32Array | null = null,
): StepState {
  return Object.freeze({ stepsTaken, history: Object.freeze([...history]), heldSample, heldOutput });
}

/**
 * Shared checks and bookkeeping. A subclass implements `takeStep` for stepIndex = state.stepsTaken,
 * with lengths already checked, and returns the next state's fields.
 */
export abstract class BasePlan implements SamplingPlan {
  readonly timesteps: readonly number[];
  readonly sigmas: readonly number[] | null;

  constructor(
    readonly schedulerName: string,
    readonly numSteps: number,
    timesteps: readonly number[],
    sigmas: readonly number[] | null,
    readonly initNoiseSigma: number,
  ) {
    this.timesteps = Object.freeze([...timesteps]);
    this.sigmas = sigmas ? Object.freeze([...sigmas]) : null;
  }

  scaleModelInput(sample: Float32Array, stepIndex: number): Float32Array {
    this.checkIndex(stepIndex);
    return sample;
  }

  step(modelOutput: Float32Array, stepIndex: number, sample: Float32Array, state: StepState, rng: Rng): StepResult {
    this.checkIndex(stepIndex);
    if (stepIndex !== state.stepsTaken) {
      throw new RangeError(
        `${this.schedulerName}: step ${stepIndex} called with a state after ${state.stepsTaken} steps; run steps in order, passing each returned state on`,
      );
    }
    if (modelOutput.length !== sample.length) {
      throw new RangeError(`${this.schedulerName}: model output has ${modelOutput.length} values but the sample has ${sample.length}`);
    }
    const next = this.takeStep(modelOutput, stepIndex, sample, state, rng);
    return {
      prevSample: next.prevSample,
      predOriginal: next.predOriginal,
      state: makeState(stepIndex + 1, next.history ?? state.history, next.heldSample ?? null, next.heldOutput ?? null),
    };
  }

  initialState(): StepState {
    return makeState(0);
  }

  abstract addNoise(original: Float32Array, noise: Float32Array, stepIndex: number): Float32Array;

  protected abstract takeStep(modelOutput: Float32Array, stepIndex: number, sample: Float32Array, state: StepState, rng: Rng): StepUpdate;

  protected checkIndex(stepIndex: number): void {
    if (!Number.isInteger(stepIndex) || stepIndex < 0 || stepIndex >= this.timesteps.length) {
      throw new RangeError(`${this.schedulerName}: step index ${stepIndex} is not in 0..${this.timesteps.length - 1}`);
    }
  }

  protected checkNoise(original: Float32Array, noise: Float32Array, stepIndex: number): void {
    this.checkIndex(stepIndex);
    if (original.length !== noise.length) {
      throw new RangeError(`${this.schedulerName}: image has ${original.length} values but noise has ${noise.length}`);
    }
  }
}

/** What takeStep returns; omitted history keeps the old one, omitted held values become null. */
export interface StepUpdate {
  prevSample: Float32Array;
  predOriginal: Float32Array;
  history?: readonly Float32Array[];
  heldSample?: Float32Array | null;
  heldOutput?: Float32Array | null;
}

/**
 * Plans of the schedulers that step in ᾱ_t rather than σ (DDPM, DDIM, PNDM, LCM): no input scaling,
 * initial noise σ 1, and img2img noise added at a plan timestep by the scheduler's noise schedule.
 */
export abstract class AlphaPlan<S extends { readonly name: string; readonly schedule: NoiseSchedule }> extends BasePlan {
  constructor(
    protected readonly scheduler: S,
    numSteps: number,
    timesteps: readonly number[],
  ) {
    super(scheduler.name, numSteps, timesteps, null, 1);
  }

  addNoise(original: Float32Array, noise: Float32Array, stepIndex: number): Float32Array {
    this.checkNoise(original, noise, stepIndex);
    return this.scheduler.schedule.addNoiseAt(original, noise, this.timesteps[stepIndex]);
  }
}
