// The shared contract every scheduler keeps (see src/schedulers/scheduler.ts), run over the whole registry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.ts';
import { createScheduler, listSchedulers, type SamplingPlan, type SchedulerConfig, type StepState } from '../../src/schedulers/index.ts';

/** Stable Diffusion 1.x's scheduler_config.json (PNDMScheduler export). */
const SD15: Partial<SchedulerConfig> = {
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  num_train_timesteps: 1000,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  clip_sample: false,
};

const STEP_COUNTS = [1, 2, 4, 10, 25];
const SIZE = 2 * 4 * 3 * 3; // (B=2, C=4, H=3, W=3)

/** Every registry name (class names and A1111 aliases) with each config it is tested under. */
const CASES = listSchedulers()
  .flatMap((s) => [s.name, ...s.aliases])
  .flatMap((name) => [
    { name, label: `${name} (SD 1.5 config)`, config: SD15 },
    { name, label: `${name} (defaults)`, config: {} },
  ]);

/** Model calls per plan, from diffusers' documented behaviour (PNDM repeats a timestep; PRK adds 9). */
function expectedCalls(schedulerName: string, config: Readonly<Required<SchedulerConfig>>, steps: number): number {
  if (schedulerName !== 'PNDMScheduler') return steps;
  if (!config.skip_prk_steps) return steps + 9;
  return steps === 1 ? 1 : steps + 1;
}

/** A smooth fake UNet: its output depends on the input and the timestep, like a real one. */
function fakeModel(input: Float32Array, t: number): Float32Array {
  const out = new Float32Array(input.length);
  for (let i = 0; i < input.length; i++) out[i] = 0.5 * Math.tanh(input[i]) + 0.01 * Math.sin(i + t / 100);
  return out;
}

/** Runs a whole plan, checking the per-step rules, and returns the final sample. */
function run(plan: SamplingPlan, seed: number): Float32Array {
  const rng = new Rng(seed);
  let x = rng.normal(SIZE, plan.initNoiseSigma);
  let state: StepState = plan.initialState();
  for (let i = 0; i < plan.timesteps.length; i++) {
    const xBefore = Float32Array.from(x);
    const scaledInput = plan.scaleModelInput(x, i);
    assert.equal(scaledInput.length, SIZE);
    const out = fakeModel(scaledInput, plan.timesteps[i]);
    const outBefore = Float32Array.from(out);
    const stateBefore = snapshot(state);
    const result = plan.step(out, i, x, state, rng);
    // inputs untouched: sample, model output, state (and everything it holds)
    assert.deepEqual(x, xBefore, `step ${i} changed its sample argument`);
    assert.deepEqual(out, outBefore, `step ${i} changed the model output`);
    assert.deepEqual(snapshot(state), stateBefore, `step ${i} mutated the state it was given`);
    assert.ok(Object.isFrozen(result.state) && Object.isFrozen(result.state.history), 'returned state is frozen');
    assert.equal(result.state.stepsTaken, i + 1);
    assert.equal(result.prevSample.length, SIZE);
    assert.equal(result.predOriginal.length, SIZE);
    assert.ok(result.prevSample.every(Number.isFinite), `step ${i} produced a non-finite sample`);
    assert.ok(result.predOriginal.every(Number.isFinite), `step ${i} produced a non-finite x0`);
    x = result.prevSample;
    state = result.state;
  }
  return x;
}

function snapshot(state: StepState): unknown {
  return {
    stepsTaken: state.stepsTaken,
    history: state.history.map((h) => Array.from(h)),
    heldSample: state.heldSample ? Array.from(state.heldSample) : null,
    heldOutput: state.heldOutput ? Array.from(state.heldOutput) : null,
  };
}

for (const { name, label, config } of CASES) {
  test(`contract: ${label}`, () => {
    const scheduler = createScheduler(name, config);
    const T = scheduler.config.num_train_timesteps;
    for (const steps of STEP_COUNTS) {
      if (scheduler.name === 'PNDMScheduler' && !scheduler.config.skip_prk_steps && steps < 4) {
        assert.throws(() => scheduler.plan(steps), /at least 4 steps/);
        continue;
      }
      const plan = scheduler.plan(steps);
      const ts = plan.timesteps;
      assert.equal(ts.length, expectedCalls(scheduler.name, scheduler.config, steps), `${steps} steps: plan length`);
      assert.equal(plan.numSteps, steps);
      assert.ok(
        ts.every((t) => Number.isFinite(t) && t >= 0 && t <= T - 1),
        `${steps} steps: timesteps in range: ${ts.join(',')}`,
      );
      for (let i = 1; i < ts.length; i++) {
        // PNDM evaluates some timesteps twice by design; everything else strictly decreases.
        if (scheduler.name === 'PNDMScheduler') assert.ok(ts[i] <= ts[i - 1], `${steps} steps: ${ts.join(',')}`);
        else assert.ok(ts[i] < ts[i - 1], `${steps} steps: not decreasing: ${ts.join(',')}`);
      }
      if (plan.sigmas) {
        assert.equal(plan.sigmas.length, ts.length + 1);
        assert.ok(
          plan.sigmas.every((s, i) => i === 0 || s <= (plan.sigmas as readonly number[])[i - 1]!),
          'sigmas do not increase',
        );
      }
      assert.ok(plan.initNoiseSigma > 0 && Number.isFinite(plan.initNoiseSigma));
      assert.ok(Object.isFrozen(plan.timesteps), 'plan timesteps are frozen');

      const a = run(plan, 1234);
      const b = run(plan, 1234);
      assert.deepEqual(a, b, `${steps} steps: same seed, same result`);
    }
  });

  test(`contract: ${label}: img2img plan is the tail of the full plan`, () => {
    const scheduler = createScheduler(name, config);
    if (scheduler.name === 'PNDMScheduler' && !scheduler.config.skip_prk_steps) {
      assert.throws(() => scheduler.plan(10, 0.5), /skip_prk_steps/);
      return;
    }
    const full = scheduler.plan(10);
    const part = scheduler.plan(10, 0.5);
    if (scheduler.name === 'LCMScheduler') {
      // LCM spreads all steps over the first half of its distillation schedule instead.
      assert.equal(part.timesteps.length, 10);
      assert.ok(part.timesteps[0] < full.timesteps[0] / 2 + 20);
    } else {
      // diffusers' img2img rule: skip the first n − ⌊n·strength⌋ entries of the n-step plan.
      assert.deepEqual(part.timesteps, full.timesteps.slice(5));
    }
    const x0 = new Rng(5).normal(SIZE, 0.5);
    const noise = new Rng(6).normal(SIZE);
    const noisy = part.addNoise(x0, noise, 0);
    assert.equal(noisy.length, SIZE);
    assert.ok(noisy.every(Number.isFinite));
    assert.notDeepEqual(noisy, x0);
    assert.ok(run(part, 99).every(Number.isFinite));
  });
}

test('contract: every scheduler class is covered', () => {
  const names = new Set(CASES.map((c) => createScheduler(c.name, c.config).name));
  assert.deepEqual([...names].sort(), [
    'DDIMScheduler',
    'DDPMScheduler',
    'DPMSolverMultistepScheduler',
    'EulerAncestralDiscreteScheduler',
    'EulerDiscreteScheduler',
    'LCMScheduler',
    'PNDMScheduler',
  ]);
});

test('contract: a step out of order or with a mismatched output is refused', () => {
  for (const name of ['DDIM', 'DPM++ 2M', 'PLMS']) {
    const plan = createScheduler(name, SD15).plan(5);
    const x = new Rng(1).normal(SIZE);
    assert.throws(() => plan.step(x, 1, x, plan.initialState(), new Rng(1)), /run steps in order/);
    assert.throws(() => plan.step(new Float32Array(3), 0, x, plan.initialState(), new Rng(1)), /model output has 3 values/);
    assert.throws(() => plan.step(x, 99, x, plan.initialState(), new Rng(1)), /step index 99/);
  }
});
