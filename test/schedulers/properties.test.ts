// Behaviour with models whose answers are known exactly: oracles that know x0 (and the noise).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.ts';
import { createScheduler, type SamplingPlan, type SchedulerConfig, type StepState } from '../../src/schedulers/index.ts';

const SD: Partial<SchedulerConfig> = { beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', clip_sample: false };
const N = 2 * 4 * 4 * 4; // (B=2, C=4, H=4, W=4)

/** ᾱ_t of SD's schedule from its definition (independent of the scheduler's tables). */
function sdAlphaBar(t: number): number {
  const a = Math.sqrt(0.00085);
  const b = Math.sqrt(0.012);
  let product = 1;
  for (let i = 0; i <= t; i++) product *= 1 - (a + (i / 999) * (b - a)) ** 2;
  return product;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Runs `plan` from `start`; `model(x, i)` sees the unscaled sample and the step index. */
function sample(plan: SamplingPlan, start: Float32Array, model: (x: Float32Array, i: number) => Float32Array, seed = 7): Float32Array {
  const rng = new Rng(seed);
  let x = start;
  let state: StepState = plan.initialState();
  for (let i = 0; i < plan.timesteps.length; i++) ({ prevSample: x, state } = plan.step(model(x, i), i, x, state, rng));
  return x;
}

const x0 = new Rng(1).normal(N, 0.5); // a "clean latent"
const eps = new Rng(2).normal(N); // the noise that made x_T

/** x_T = √ᾱ x0 + √(1−ᾱ) ε at the first timestep (VP form). */
function vpStart(t: number): Float32Array {
  const ab = sdAlphaBar(t);
  return x0.map((v, i) => Math.sqrt(ab) * v + Math.sqrt(1 - ab) * eps[i]!);
}

for (const spacing of ['leading', 'trailing'] as const) {
  test(`DDIM (eta 0, ${spacing}) with the exact noise recovers x0: epsilon, v_prediction and sample models`, () => {
    for (const prediction of ['epsilon', 'v_prediction', 'sample'] as const) {
      for (const steps of [1, 5, 20, 50]) {
        const plan = createScheduler('DDIM', {
          ...SD,
          timestep_spacing: spacing,
          steps_offset: spacing === 'leading' ? 1 : 0,
          prediction_type: prediction,
        }).plan(steps);
        // The model answers with the true ε (or the v / x0 it implies at that timestep): fixed noise, no oracle.
        const model = (_x: Float32Array, i: number): Float32Array => {
          const ab = sdAlphaBar(plan.timesteps[i]!);
          if (prediction === 'epsilon') return eps;
          if (prediction === 'sample') return x0;
          return eps.map((e, k) => Math.sqrt(ab) * e - Math.sqrt(1 - ab) * x0[k]!);
        };
        const out = sample(plan, vpStart(plan.timesteps[0]!), model);
        assert.ok(maxDiff(out, x0) < 1e-4, `${prediction}, ${steps} steps: off by ${maxDiff(out, x0)}`);
      }
    }
  });
}

test('DDIM with eta > 0 and an x0 oracle still ends at x0; eta changes the path', () => {
  const scheduler = createScheduler('DDIM', { ...SD, prediction_type: 'sample', steps_offset: 1 });
  const start = vpStart(951);
  const noisy = sample(scheduler.plan(20, 1, { eta: 1 }), start, () => x0);
  assert.ok(maxDiff(noisy, x0) < 1e-5, `off by ${maxDiff(noisy, x0)}`);
  // with an ε model, eta 0 and eta 1 differ midway
  const epsScheduler = createScheduler('DDIM', { ...SD, steps_offset: 1 });
  const half = (eta: number): Float32Array => {
    const plan = epsScheduler.plan(20, 1, { eta });
    let x = start;
    let state = plan.initialState();
    const rng = new Rng(3);
    for (let i = 0; i < 10; i++) ({ prevSample: x, state } = plan.step(new Rng(i).normal(N), i, x, state, rng));
    return x;
  };
  assert.ok(maxDiff(half(0), half(1)) > 0.01);
  assert.throws(() => epsScheduler.plan(20, 1, { eta: -1 }), /eta -1/);
});

test('an x0-predicting oracle ends at x0 with Euler, Euler a, DPM++ 2M (± Karras), DDPM and LCM', () => {
  for (const name of ['Euler', 'Euler a', 'DPM++ 2M', 'DPM++ 2M Karras', 'DDPM', 'LCM', 'DPMSolverMultistepScheduler']) {
    for (const steps of [1, 4, 10, 30]) {
      const config = name === 'DPMSolverMultistepScheduler' ? { ...SD, solver_order: 3 } : SD;
      const plan = createScheduler(name, { ...config, prediction_type: 'sample' }).plan(steps);
      const start = new Rng(4).normal(N, plan.initNoiseSigma);
      const out = sample(plan, start, () => x0);
      assert.ok(maxDiff(out, x0) < 1e-4, `${name}, ${steps} steps: off by ${maxDiff(out, x0)}`);
    }
  }
});

test('an ε oracle (the noise implied by the current sample) ends at x0 with Euler and DPM++ 2M Karras', () => {
  for (const name of ['Euler', 'Euler a', 'DPM++ 2M', 'DPM++ 2M Karras']) {
    for (const prediction of ['epsilon', 'v_prediction'] as const) {
      const plan = createScheduler(name, { ...SD, prediction_type: prediction }).plan(12);
      const sigmas = plan.sigmas as readonly number[];
      const veForm = name.startsWith('Euler'); // Euler keeps x = x0 + σε; DPM keeps x/√(σ²+1)
      const model = (x: Float32Array, i: number): Float32Array => {
        const s = sigmas[i]!;
        const alpha = 1 / Math.sqrt(s * s + 1); // VP coefficients of this noise level
        const sig = s * alpha;
        return x.map((v, k) => {
          const xVp = veForm ? v * alpha : v;
          const e = (xVp - alpha * x0[k]!) / sig;
          return prediction === 'epsilon' ? e : alpha * e - sig * x0[k]!;
        });
      };
      const start = veForm ? x0.map((v, k) => v + sigmas[0]! * eps[k]!) : x0.map((v, k) => (v + sigmas[0]! * eps[k]!) / Math.sqrt(sigmas[0]! ** 2 + 1));
      const out = sample(plan, start, model);
      assert.ok(maxDiff(out, x0) < 1e-4, `${name} ${prediction}: off by ${maxDiff(out, x0)}`);
    }
  }
});

test("PNDM (PLMS) follows diffusers' first steps: a Heun warm-up on the repeated timestep, then Adams–Bashforth", () => {
  const plan = createScheduler('PLMS', { ...SD, steps_offset: 1, set_alpha_to_one: false }).plan(4);
  assert.deepEqual(plan.timesteps, [751, 501, 501, 251, 1]);
  /** PNDM's transfer φ(x, t → t', ε) (Liu et al. 2022, eq. 11), written from the paper. */
  const phi = (x: Float32Array, t: number, tPrev: number, e: Float32Array): Float32Array => {
    const a = sdAlphaBar(t);
    const ap = tPrev >= 0 ? sdAlphaBar(tPrev) : sdAlphaBar(0); // set_alpha_to_one false: ᾱ_0 after the end
    return x.map((v, k) => Math.sqrt(ap / a) * v - ((ap - a) * e[k]!) / (a * Math.sqrt(1 - ap) + Math.sqrt(a * (1 - a) * ap)));
  };
  const outs = [0, 1, 2, 3, 4].map((i) => new Rng(100 + i).normal(N));
  const xs: Float32Array[] = [new Rng(9).normal(N)];
  let state = plan.initialState();
  for (let i = 0; i < 5; i++) {
    const r = plan.step(outs[i]!, i, xs[i]!, state, new Rng(0));
    xs.push(r.prevSample);
    state = r.state;
  }
  const [e0, e1, e2, e3, e4] = outs as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
  const lin = (terms: [number, Float32Array][]): Float32Array => e0.map((_, k) => terms.reduce((s, [w, e]) => s + w * e[k]!, 0));
  const expect = [
    phi(xs[0]!, 751, 501, e0), // first guess
    phi(
      xs[0]!,
      751,
      501,
      lin([
        [0.5, e0],
        [0.5, e1],
      ]),
    ), // redo from the same start with the averaged ε
    phi(
      xs[2]!,
      501,
      251,
      lin([
        [1.5, e2],
        [-0.5, e0],
      ]),
    ), // e1 is not kept
    phi(
      xs[3]!,
      251,
      1,
      lin([
        [23 / 12, e3],
        [-16 / 12, e2],
        [5 / 12, e0],
      ]),
    ),
    phi(
      xs[4]!,
      1,
      -249,
      lin([
        [55 / 24, e4],
        [-59 / 24, e3],
        [37 / 24, e2],
        [-9 / 24, e0],
      ]),
    ),
  ];
  expect.forEach((e, i) => assert.ok(maxDiff(xs[i + 1]!, e) < 1e-5, `call ${i}: off by ${maxDiff(xs[i + 1]!, e)}`));
  assert.equal(state.history.length, 4, 'PLMS keeps four ε');
});

test('PNDM with the exact noise stays on the noising path: x0 with set_alpha_to_one, √ᾱ_0-scaled without', () => {
  for (const mode of [{ skip_prk_steps: true }, { skip_prk_steps: false }]) {
    for (const setOne of [true, false]) {
      const plan = createScheduler('PNDMScheduler', { ...SD, ...mode, set_alpha_to_one: setOne, steps_offset: 1 }).plan(10);
      const out = sample(plan, vpStart(plan.timesteps[0]!), () => eps);
      const ab0 = sdAlphaBar(0);
      const target = setOne ? x0 : x0.map((v, k) => Math.sqrt(ab0) * v + Math.sqrt(1 - ab0) * eps[k]!);
      assert.ok(maxDiff(out, target) < 1e-4, `${JSON.stringify(mode)}, set_alpha_to_one ${setOne}: off by ${maxDiff(out, target)}`);
    }
  }
});

test('convergence on Gaussian data: Euler is first order, DPM++ 2M (Karras) second order', () => {
  // Data x0 ~ N(μ, s²): the exact denoiser is D(x, σ) = μ + s²/(s²+σ²)(x − μ) and the probability-flow
  // ODE moves x − μ in proportion to √(s²+σ²). Both samplers end with a first-order jump from the last
  // σ to 0, which with the exact D gives μ + s²/√((s²+σ_last²)(s²+σ_0²)) (x_T − μ).
  const mu = 0.3;
  const s = 0.5;
  const denoise = (xve: number, sigma: number): number => mu + ((s * s) / (s * s + sigma * sigma)) * (xve - mu);
  const error = (name: string, steps: number): number => {
    const plan = createScheduler(name, { ...SD, prediction_type: 'sample', use_karras_sigmas: true }).plan(steps);
    const sig = plan.sigmas as readonly number[];
    const veForm = name === 'EulerDiscreteScheduler';
    const xT = new Rng(11).normal(64, Math.sqrt(s * s + sig[0]! ** 2), mu);
    const start = veForm ? xT : xT.map((v) => v / Math.sqrt(sig[0]! ** 2 + 1));
    const out = sample(plan, start, (x, i) => x.map((v) => denoise(veForm ? v : v * Math.sqrt(sig[i]! ** 2 + 1), sig[i]!)));
    const sl = sig[steps - 1]!;
    const exact = xT.map((v) => mu + ((v - mu) * s * s) / Math.sqrt((s * s + sl * sl) * (s * s + sig[0]! ** 2)));
    return maxDiff(out, exact);
  };
  const euler = [20, 40, 80].map((n) => error('EulerDiscreteScheduler', n));
  const dpm = [20, 40, 80].map((n) => error('DPMSolverMultistepScheduler', n));
  for (let i = 1; i < 3; i++) {
    const eulerRatio = euler[i - 1]! / euler[i]!;
    const dpmRatio = dpm[i - 1]! / dpm[i]!;
    assert.ok(eulerRatio > 1.6 && eulerRatio < 2.5, `Euler error ratio when steps double: ${eulerRatio} (${euler.join(', ')})`);
    assert.ok(dpmRatio > 3.2 && dpmRatio < 5.5, `DPM++ 2M error ratio when steps double: ${dpmRatio} (${dpm.join(', ')})`);
  }
  assert.ok(dpm[2]! < euler[2]! / 10, 'DPM++ 2M is far more accurate than Euler at 80 steps');
});
