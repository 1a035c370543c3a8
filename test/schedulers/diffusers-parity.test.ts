// gesso's schedulers against diffusers' own published full-loop results.
//
// diffusers' scheduler tests (tests/schedulers/test_scheduler_*.py, SchedulerCommonTest in
// test_schedulers.py; read at huggingface/diffusers 58eb52c, 2026-08) run each scheduler over a
// deterministic 4×3×8×8 sample with a dummy model and pin sum(|x|) and mean(|x|) of the result. The
// sample, noise and model are rebuilt here from their definitions (no code copied):
//   sample[b, c, h, w] = k/768 with k = ((c·8 + h)·8 + w)·4 + b   (arange(768) as (3, 8, 8, 4)/768, permuted)
//   noise [b, c, h, w] = (767 − k)/768                             (the same, flipped)
//   model(x, t)        = x·t/(t + 1)                               (float32, t cast to float32)
// Tolerances are diffusers' own (1e-2 on the sum, 1e-3 on the mean; LCM 1e-3 on both).
// Loops that draw noise from torch.manual_seed(0) (DDPM's variance, Euler a, LCM with several steps) use
// test/helpers/torch-generator.ts, which reproduces torch's CPU randn to ~1e-7.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/core/rng.ts';
import { createScheduler, type SamplingPlan, type SchedulerConfig } from '../../src/schedulers/index.ts';
import { TorchCpuGenerator } from '../helpers/torch-generator.ts';

const f32 = Math.fround;
const N = 4 * 3 * 8 * 8;

function deterministic(flip: boolean): Float32Array {
  const out = new Float32Array(N); // (4, 3, 8, 8)
  for (let b = 0; b < 4; b++)
    for (let c = 0; c < 3; c++)
      for (let h = 0; h < 8; h++)
        for (let w = 0; w < 8; w++) {
          const k = ((c * 8 + h) * 8 + w) * 4 + b;
          out[((b * 3 + c) * 8 + h) * 8 + w] = f32((flip ? N - 1 - k : k) / N);
        }
  return out;
}
const SAMPLE = deterministic(false);
const NOISE = deterministic(true);

function dummyModel(x: Float32Array, t: number): Float32Array {
  const tf = f32(t);
  const denominator = f32(tf + 1);
  return x.map((v) => f32(f32(v * tf) / denominator));
}

/** The full loop as diffusers' tests write it. `scaleInPlace`: Euler's tests keep the scaled input as the sample. */
function fullLoop(plan: SamplingPlan, start: Float32Array, rng: Rng, scaleInPlace = false): Float32Array {
  let x = start;
  let state = plan.initialState();
  for (let i = 0; i < plan.timesteps.length; i++) {
    const t = plan.timesteps[i] as number;
    const input = plan.scaleModelInput(x, i);
    if (scaleInPlace) x = input;
    ({ prevSample: x, state } = plan.step(dummyModel(input, t), i, x, state, rng));
  }
  return x;
}

function expectAbs(x: Float32Array, sum: number | null, mean: number, sumTol = 1e-2, meanTol = 1e-3): void {
  let total = 0;
  for (const v of x) total += Math.abs(v);
  if (sum !== null) assert.ok(Math.abs(total - sum) < sumTol, `sum |x| = ${total.toFixed(4)}; diffusers pins ${sum} (tolerance ${sumTol})`);
  assert.ok(Math.abs(total / x.length - mean) < meanTol, `mean |x| = ${(total / x.length).toFixed(6)}; diffusers pins ${mean} (tolerance ${meanTol})`);
}

const scaled = (x: Float32Array, s: number): Float32Array => x.map((v) => f32(v * s));

// --- DDIMScheduler (test_scheduler_ddim.py): 10 steps, eta 0, linear 1e-4..0.02, clip_sample true.
const DDIM: Partial<SchedulerConfig> = { num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', clip_sample: true };
const ddim = (extra: Partial<SchedulerConfig> = {}, strength = 1): SamplingPlan => createScheduler('DDIMScheduler', { ...DDIM, ...extra }).plan(10, strength);

test('DDIM full loop (test_full_loop_no_noise: 172.0067, 0.223967)', () => {
  expectAbs(fullLoop(ddim(), SAMPLE, new Rng(0)), 172.0067, 0.223967);
});
test('DDIM full loop with v_prediction (52.5302, 0.0684)', () => {
  expectAbs(fullLoop(ddim({ prediction_type: 'v_prediction' }), SAMPLE, new Rng(0)), 52.5302, 0.0684);
});
test('DDIM with set_alpha_to_one, beta_start 0.01 (149.8295, 0.1951)', () => {
  expectAbs(fullLoop(ddim({ set_alpha_to_one: true, beta_start: 0.01 }), SAMPLE, new Rng(0)), 149.8295, 0.1951);
});
test('DDIM without set_alpha_to_one, beta_start 0.01 (149.0784, 0.1941)', () => {
  expectAbs(fullLoop(ddim({ set_alpha_to_one: false, beta_start: 0.01 }), SAMPLE, new Rng(0)), 149.0784, 0.1941);
});
test('DDIM from step 8 of 10 on the noised sample (test_full_loop_with_noise: 354.5418, 0.4616)', () => {
  const plan = ddim({}, 0.2); // the last 2 of 10 steps, as timesteps[8:]
  assert.equal(plan.timesteps.length, 2);
  expectAbs(fullLoop(plan, plan.addNoise(SAMPLE, NOISE, 0), new Rng(0)), 354.5418, 0.4616);
});

// --- EulerDiscreteScheduler (test_scheduler_euler.py): 10 steps, 1100 training steps, linear 1e-4..0.02.
const EULER: Partial<SchedulerConfig> = { num_train_timesteps: 1100, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear' };
const euler = (extra: Partial<SchedulerConfig> = {}, strength = 1): SamplingPlan =>
  createScheduler('EulerDiscreteScheduler', { ...EULER, ...extra }).plan(10, strength);

test('Euler full loop (10.0807, 0.0131)', () => {
  const plan = euler();
  expectAbs(fullLoop(plan, scaled(SAMPLE, plan.initNoiseSigma), new Rng(0), true), 10.0807, 0.0131);
});
test('Euler full loop with v_prediction (0.0002, 2.2676e-06)', () => {
  const plan = euler({ prediction_type: 'v_prediction' });
  expectAbs(fullLoop(plan, scaled(SAMPLE, plan.initNoiseSigma), new Rng(0), true), 0.0002, 2.2676e-6);
});
test('Euler full loop with Karras sigmas (test_full_loop_device_karras_sigmas: 124.52299499511719, 0.16213932633399963)', () => {
  const plan = euler({ use_karras_sigmas: true });
  expectAbs(fullLoop(plan, scaled(SAMPLE, plan.initNoiseSigma), new Rng(0), true), 124.52299499511719, 0.16213932633399963);
});
test('Euler from step 8 of 10 on the noised sample (57062.9297, 74.3007)', () => {
  const full = euler();
  const plan = euler({}, 0.2);
  const start = plan.addNoise(scaled(SAMPLE, full.initNoiseSigma), NOISE, 0);
  expectAbs(fullLoop(plan, start, new Rng(0), true), 57062.9297, 74.3007);
});

// --- DPMSolverMultistepScheduler (test_scheduler_dpm_multi.py): 10 steps, DPM-Solver++ 2M midpoint,
// lower_order_final false, final_sigmas_type sigma_min, linear 1e-4..0.02.
const DPM: Partial<SchedulerConfig> = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  solver_order: 2,
  prediction_type: 'epsilon',
  algorithm_type: 'dpmsolver++',
  solver_type: 'midpoint',
  lower_order_final: false,
  euler_at_final: false,
  final_sigmas_type: 'sigma_min',
};
const dpm = (extra: Partial<SchedulerConfig> = {}, strength = 1): SamplingPlan =>
  createScheduler('DPMSolverMultistepScheduler', { ...DPM, ...extra }).plan(10, strength);

test('DPM-Solver++ 2M full loop (mean 0.3301)', () => {
  expectAbs(fullLoop(dpm(), SAMPLE, new Rng(0)), null, 0.3301);
});
test('DPM-Solver++ 2M with v_prediction (mean 0.2251)', () => {
  expectAbs(fullLoop(dpm({ prediction_type: 'v_prediction' }), SAMPLE, new Rng(0)), null, 0.2251);
});
test('DPM-Solver++ 2M with Karras sigmas and v_prediction (mean 0.2096)', () => {
  expectAbs(fullLoop(dpm({ prediction_type: 'v_prediction', use_karras_sigmas: true }), SAMPLE, new Rng(0)), null, 0.2096);
});
test('DPM-Solver++ 2M from step 5 of 10 on the noised sample (318.4111, 0.4146)', () => {
  const plan = dpm({}, 0.5);
  expectAbs(fullLoop(plan, plan.addNoise(SAMPLE, NOISE, 0), new Rng(0)), 318.4111, 0.4146);
});

// --- PNDMScheduler (test_scheduler_pndm.py): 10 steps with the Runge–Kutta warm-up (diffusers' defaults:
// skip_prk_steps false, set_alpha_to_one false), linear 1e-4..0.02.
const PNDM: Partial<SchedulerConfig> = { num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear' };
const pndm = (extra: Partial<SchedulerConfig> = {}): SamplingPlan => createScheduler('PNDMScheduler', { ...PNDM, ...extra }).plan(10);

test('PNDM full loop, PRK then PLMS (198.1318, 0.2580)', () => {
  expectAbs(fullLoop(pndm(), SAMPLE, new Rng(0)), 198.1318, 0.258);
});
test('PNDM with v_prediction (67.3986, 0.0878)', () => {
  expectAbs(fullLoop(pndm({ prediction_type: 'v_prediction' }), SAMPLE, new Rng(0)), 67.3986, 0.0878);
});
test('PNDM with set_alpha_to_one, beta_start 0.01 (230.0399, 0.2995)', () => {
  expectAbs(fullLoop(pndm({ set_alpha_to_one: true, beta_start: 0.01 }), SAMPLE, new Rng(0)), 230.0399, 0.2995);
});
test('PNDM without set_alpha_to_one, beta_start 0.01 (186.9482, 0.2434)', () => {
  expectAbs(fullLoop(pndm({ set_alpha_to_one: false, beta_start: 0.01 }), SAMPLE, new Rng(0)), 186.9482, 0.2434);
});

// --- LCMScheduler (test_scheduler_lcm.py): scaled_linear 0.00085..0.012, epsilon.
const LCM: Partial<SchedulerConfig> = {
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  prediction_type: 'epsilon',
};

test('LCM one step (test_full_loop_onestep: 18.7097, 0.0244)', () => {
  const plan = createScheduler('LCMScheduler', LCM).plan(1);
  expectAbs(fullLoop(plan, SAMPLE, new Rng(0)), 18.7097, 0.0244, 1e-3, 1e-3);
});

test('LCM 10 steps with torch noise (test_full_loop_multistep: 197.7616, 0.2575)', () => {
  const plan = createScheduler('LCMScheduler', LCM).plan(10);
  expectAbs(fullLoop(plan, SAMPLE, new TorchCpuGenerator(0)), 197.7616, 0.2575, 1e-3, 1e-3);
});

// --- DDPMScheduler (test_scheduler_ddpm.py): all 1000 timesteps, fixed_small variance, clip_sample true,
// linear 1e-4..0.02, variance noise from torch.manual_seed(0).
const DDPM: Partial<SchedulerConfig> = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  variance_type: 'fixed_small',
  clip_sample: true,
};
const ddpm = (extra: Partial<SchedulerConfig> = {}, strength = 1): SamplingPlan => createScheduler('DDPMScheduler', { ...DDPM, ...extra }).plan(1000, strength);

test('DDPM over all 1000 timesteps (test_full_loop_no_noise: 258.9606, 0.3372)', () => {
  expectAbs(fullLoop(ddpm(), SAMPLE, new TorchCpuGenerator(0)), 258.9606, 0.3372);
});
test('DDPM with v_prediction (202.0296, 0.2631)', () => {
  expectAbs(fullLoop(ddpm({ prediction_type: 'v_prediction' }), SAMPLE, new TorchCpuGenerator(0)), 202.0296, 0.2631);
});
test('DDPM from t = 1 on the noised sample (test_full_loop_with_noise: 387.9466, 0.5051)', () => {
  const plan = ddpm({}, 0.002); // timesteps[998:] = [1, 0]
  assert.deepEqual(plan.timesteps, [1, 0]);
  expectAbs(fullLoop(plan, plan.addNoise(SAMPLE, NOISE, 0), new TorchCpuGenerator(0)), 387.9466, 0.5051);
});

// --- EulerAncestralDiscreteScheduler (test_scheduler_euler_ancestral.py): as Euler's tests, with noise.
const eulerA = (extra: Partial<SchedulerConfig> = {}, strength = 1): SamplingPlan =>
  createScheduler('EulerAncestralDiscreteScheduler', { ...EULER, ...extra }).plan(10, strength);

test('Euler a full loop (152.3192, 0.1983)', () => {
  const plan = eulerA();
  expectAbs(fullLoop(plan, scaled(SAMPLE, plan.initNoiseSigma), new TorchCpuGenerator(0), true), 152.3192, 0.1983);
});
test('Euler a with v_prediction (108.4439, 0.1412)', () => {
  const plan = eulerA({ prediction_type: 'v_prediction' });
  expectAbs(fullLoop(plan, scaled(SAMPLE, plan.initNoiseSigma), new TorchCpuGenerator(0), true), 108.4439, 0.1412);
});
test('Euler a from step 8 of 10 on the noised sample (56163.0508, 73.1290)', () => {
  const full = eulerA();
  const plan = eulerA({}, 0.2);
  const start = plan.addNoise(scaled(SAMPLE, full.initNoiseSigma), NOISE, 0);
  expectAbs(fullLoop(plan, start, new TorchCpuGenerator(0), true), 56163.0508, 73.129);
});

test('the torch generator reproduces torch.manual_seed(0); torch.randn(...) (values printed by torch 1.13)', () => {
  const g = new TorchCpuGenerator(0);
  const first = g.normal(768);
  const close = (a: number, b: number): boolean => Math.abs(a - b) < 1e-6;
  [-1.1258398294448853, -1.152360200881958, -0.2505785822868347, -0.4338788092136383].forEach((v, i) =>
    assert.ok(close(first[i] as number, v), `randn[${i}] = ${first[i]}, torch ${v}`),
  );
  const second = g.normal(768); // the stream continues
  assert.ok(close(second[0] as number, 0.4974166452884674), `second draw starts ${second[0]}`);
  const odd = new TorchCpuGenerator(0).normal(20); // 20 = 16 + 4: the last 16 are drawn again
  assert.ok(close(odd[19] as number, 0.05373690277338028) && close(odd[15] as number, -0.843676745891571), `randn(20) ends ${odd.slice(15)}`);
});
