/**
 * The scheduler contract: diffusers' algorithms and config semantics, without diffusers' hidden state.
 *
 * A `Scheduler` is immutable: its resolved config plus the noise tables (`schedule`). `plan(numSteps,
 * strength?, options?)` is diffusers' `set_timesteps` (+ the img2img pipeline's `get_timesteps`) and
 * returns an immutable `SamplingPlan`. Everything that changes while sampling (multistep history, PNDM's
 * stored outputs, the step counter) lives in a `StepState` value that the caller threads through `step`:
 *
 *   const plan = createScheduler('DPM++ 2M Karras', config).plan(20);
 *   let x = scaled(new Rng(seed).normal(n), plan.initNoiseSigma);     // txt2img start
 *   let state = plan.initialState();
 *   for (let i = 0; i < plan.timesteps.length; i++) {
 *     const out = unet(plan.scaleModelInput(x, i), plan.timesteps[i]);  // (B, C, H, W) in, same out
 *     ({ prevSample: x, state } = plan.step(out, i, x, state, rng));
 *   }
 *
 * Rules every implementation keeps (the shared contract test checks them):
 * - One `timesteps` entry per model call. PNDM in PLMS mode calls the model numSteps + 1 times for 2 or
 *   more steps (diffusers evaluates its second timestep twice to warm up); in PRK mode numSteps + 9.
 *   All others: numSteps. img2img with strength drops the first entries of that list.
 * - Timesteps never increase and lie in [0, num_train_timesteps − 1]; they may be fractional
 *   (Euler with linspace spacing or Karras sigmas), as in diffusers.
 * - `step`, `scaleModelInput` and `addNoise` never write into their arguments; `step` returns a new frozen
 *   state and must be called with stepIndex = state.stepsTaken (steps run in order, each once).
 * - Randomness comes only from the `rng` passed to `step` (DDPM, DDIM with eta > 0, Euler a, LCM), so the
 *   same seed gives the same image.
 * - img2img: `plan(n, strength)` keeps diffusers' rule — run the last min(⌊n·strength⌋, n) of the n-step
 *   plan (LCM instead shrinks its distillation schedule by strength, as diffusers' LCM does) — and
 *   `addNoise(x0, noise, 0)` noises the input image to the plan's first step.
 */
import type { Rng } from '../core/rng.ts';
import type { SchedulerConfig } from './config.ts';
import type { NoiseSchedule } from './noise-schedule.ts';

export interface Scheduler {
  /** diffusers' class name, e.g. "DPMSolverMultistepScheduler". */
  readonly name: string;
  readonly config: Readonly<Required<SchedulerConfig>>;
  /** Betas, ᾱ table, and the training helpers (addNoiseAt, velocity) for any integer t. */
  readonly schedule: NoiseSchedule;
  /** The timesteps and step function for `numSteps` steps; `strength` < 1 means img2img (later start, fewer steps). */
  plan(numSteps: number, strength?: number, options?: PlanOptions): SamplingPlan;
}

export interface PlanOptions {
  /** DDIM's η: 0 is deterministic DDIM, 1 is DDPM-like ancestral noise. Other schedulers ignore it, as diffusers' pipelines do. */
  eta?: number;
}

export interface SamplingPlan {
  readonly schedulerName: string;
  /** Steps asked for (before strength shortened the plan). */
  readonly numSteps: number;
  /** Model timestep for each call, in order. */
  readonly timesteps: readonly number[];
  /** Sigma-based schedulers: σ for each call plus the σ after the last (length timesteps + 1); otherwise null. */
  readonly sigmas: readonly number[] | null;
  /** Standard deviation of the starting noise for txt2img (1 for VP schedulers, ≈ σ_max for Euler). */
  readonly initNoiseSigma: number;
  /** The UNet's input at `stepIndex` (Euler divides by √(σ²+1)); may return `sample` itself when nothing changes. */
  scaleModelInput(sample: Float32Array, stepIndex: number): Float32Array;
  /** One denoising step from timesteps[stepIndex] to the next. */
  step(modelOutput: Float32Array, stepIndex: number, sample: Float32Array, state: StepState, rng: Rng): StepResult;
  /** `original` noised to the noise level of timesteps[stepIndex] (img2img: stepIndex 0). */
  addNoise(original: Float32Array, noise: Float32Array, stepIndex: number): Float32Array;
  /** The state before the first step. */
  initialState(): StepState;
}

export interface StepResult {
  prevSample: Float32Array;
  /** The step's estimate of the clean sample (LCM: its denoised output), for previews. */
  predOriginal: Float32Array;
  state: StepState;
}

/** Everything a step needs from earlier steps. Frozen; arrays in it are never written. */
export interface StepState {
  /** Steps taken so far with this state (PNDM's counter; DPM-Solver's warm-up). */
  readonly stepsTaken: number;
  /** Earlier outputs a multistep method combines, oldest first (PNDM: ε's; DPM-Solver: x0's). */
  readonly history: readonly Float32Array[];
  /** PNDM: the sample a multi-evaluation step started from. */
  readonly heldSample: Float32Array | null;
  /** PNDM (PRK): the running weighted sum of the Runge–Kutta evaluations. */
  readonly heldOutput: Float32Array | null;
}
