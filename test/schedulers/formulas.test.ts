// Tables and timesteps checked against values worked out here from the published formulas
// (Ho et al. 2020; Rombach et al. 2022's scaled_linear betas; Karras et al. 2022 eq. 5) and diffusers'
// documented timestep spacings (Lin et al. 2023, "Common Diffusion Noise Schedules…", Table 2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createScheduler, karrasSigmas, type SchedulerConfig } from '../../src/schedulers/index.ts';

const SD: Partial<SchedulerConfig> = { beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', num_train_timesteps: 1000 };

/** ᾱ_t for Stable Diffusion's schedule, straight from the definition: β_i = (√b0 + i/999 (√b1 − √b0))², ᾱ_t = Π_{i≤t}(1 − β_i). */
function sdAlphaBar(t: number): number {
  const a = Math.sqrt(0.00085);
  const b = Math.sqrt(0.012);
  let product = 1;
  for (let i = 0; i <= t; i++) product *= 1 - (a + (i / 999) * (b - a)) ** 2;
  return product;
}
const sdSigma = (t: number): number => Math.sqrt((1 - sdAlphaBar(t)) / sdAlphaBar(t));

function close(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected} (tolerance ${tol})`);
}

/**
 * gesso's tables hold diffusers' float32 values (float32.ts; exact values in float32-tables.test.ts), so
 * they meet these float64 formulas to float32 precision: 1e-6 relative covers the rounding of each β and ᾱ.
 * σ = √((1−ᾱ)/ᾱ) loses more near t = 0, where 1 − ᾱ cancels (σ_0 is 1.3e-5 off the float64 value): 1e-4 there.
 */
function closeF32(actual: number, expected: number, what: string, relative = 1e-6): void {
  close(actual, expected, relative * Math.abs(expected), what);
}
const SIGMA_REL = 1e-4;

test('alphas_cumprod of scaled_linear 0.00085..0.012 at t = 0, 499, 999', () => {
  const schedule = createScheduler('DDIM', SD).schedule;
  closeF32(schedule.alphaCumprod(0), 1 - 0.00085, 'ᾱ_0 = 1 − β_0');
  closeF32(schedule.alphaCumprod(499), sdAlphaBar(499), 'ᾱ_499');
  closeF32(schedule.alphaCumprod(999), sdAlphaBar(999), 'ᾱ_999');
  // Published Stable Diffusion numbers: ᾱ_999 ≈ 0.0047, σ_max ≈ 14.6146, σ_min ≈ 0.0292.
  close(schedule.alphaCumprod(999), 0.00466, 1e-5, 'ᾱ_999 (published ≈ 0.0047)');
  close(schedule.sigma(999), 14.6146, 1e-3, 'σ_max');
  close(schedule.sigma(0), 0.0292, 1e-4, 'σ_min');
  const table = schedule.alphasCumprod();
  assert.equal(table.length, 1000);
  table[0] = 5; // a copy: writing it must not reach the scheduler
  assert.notEqual(schedule.alphaCumprod(0), 5);
});

test('linear and squaredcos_cap_v2 betas follow their definitions', () => {
  const linear = createScheduler('DDPM', { beta_start: 0.0001, beta_end: 0.02 }).schedule.betas();
  closeF32(linear[0]!, 0.0001, 'β_0');
  closeF32(linear[999]!, 0.02, 'β_999');
  closeF32(linear[500]!, 0.0001 + (500 / 999) * (0.02 - 0.0001), 'β_500');
  const cos = createScheduler('DDPM', { beta_schedule: 'squaredcos_cap_v2' }).schedule;
  const f = (u: number): number => Math.cos(((u + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
  // ᾱ_t = f((t+1)/T)/f(0) while no β is capped (Nichol & Dhariwal 2021, eq. 17)
  closeF32(cos.alphaCumprod(499), f(500 / 1000) / f(0), 'cosine ᾱ_499');
  assert.equal(cos.betas()[999], Math.fround(0.999), 'the last cosine β is capped at 0.999 (in float32)');
});

test("DDIM picks diffusers' timesteps for 20 steps: leading (offset 1), trailing, linspace", () => {
  const leading = createScheduler('DDIM', { ...SD, timestep_spacing: 'leading', steps_offset: 1 }).plan(20).timesteps;
  assert.deepEqual(
    leading,
    Array.from({ length: 20 }, (_, i) => 951 - 50 * i),
  ); // 951, 901, …, 1
  const trailing = createScheduler('DDIM', { ...SD, timestep_spacing: 'trailing' }).plan(20).timesteps;
  assert.deepEqual(
    trailing,
    Array.from({ length: 20 }, (_, i) => 999 - 50 * i),
  ); // 999, 949, …, 49
  const linspace = createScheduler('DDIM', { ...SD, timestep_spacing: 'linspace' }).plan(20).timesteps;
  assert.deepEqual(linspace.slice(0, 4), [999, 946, 894, 841]); // round(999·k/19) for k = 19, 18, 17, 16
  assert.deepEqual(linspace.slice(-3), [105, 53, 0]);
  // leading ignores nothing but the offset: without it, 950 … 0
  assert.deepEqual(createScheduler('DDIM', SD).plan(20).timesteps.slice(-2), [50, 0]);
});

test('timestep spacings round halves to even, as numpy does', () => {
  // trailing with 16 steps: 1000 − 62.5k, so 937.5 → 938 and 812.5 → 812 before the −1.
  const ts = createScheduler('DDIM', { timestep_spacing: 'trailing' }).plan(16).timesteps;
  assert.deepEqual(ts.slice(0, 4), [999, 937, 874, 811]);
  // diffusers' np.arange gives 62 values for 61 trailing steps (the last −1); gesso gives exactly 61, all ≥ 0.
  const ts61 = createScheduler('DDIM', { timestep_spacing: 'trailing' }).plan(61).timesteps;
  assert.equal(ts61.length, 61);
  assert.ok(ts61.every((t) => t >= 0));
});

test('PNDM in PLMS mode evaluates the second timestep twice (Stable Diffusion, 50 steps)', () => {
  const plms = createScheduler('PLMS', { ...SD, steps_offset: 1, set_alpha_to_one: false }).plan(50).timesteps;
  assert.equal(plms.length, 51);
  assert.deepEqual(plms.slice(0, 5), [981, 961, 961, 941, 921]);
  assert.deepEqual(plms.slice(-2), [21, 1]);
});

test('PNDM in PRK mode: three Runge–Kutta steps with half-stride midpoints, then PLMS', () => {
  const prk = createScheduler('PNDMScheduler', { skip_prk_steps: false }).plan(10).timesteps;
  // leading, stride 100: RK steps 900→800, 800→700, 700→600 at t, t−50, t−50, t−100; then 600 … 0
  assert.deepEqual(prk, [900, 850, 850, 800, 800, 750, 750, 700, 700, 650, 650, 600, 600, 500, 400, 300, 200, 100, 0]);
});

test('DPM-Solver divides the range into n+1 (linspace) and LCM picks 999, 759, 499, 259 for 4 steps', () => {
  const dpm = createScheduler('DPM++ 2M', SD).plan(20).timesteps;
  assert.deepEqual(dpm.slice(0, 3), [999, 949, 899]); // round(999·k/20), k = 20, 19, 18
  assert.equal(dpm[19], 50);
  assert.deepEqual(createScheduler('LCM').plan(4).timesteps, [999, 759, 499, 259]);
  assert.deepEqual(createScheduler('LCM').plan(1).timesteps, [999]);
});

test('Karras sigmas (rho 7): endpoints σ_max, σ_min, strictly decreasing, eq. 5 in between', () => {
  const n = 20;
  const plan = createScheduler('DPM++ 2M Karras', SD).plan(n);
  const sigmas = plan.sigmas as readonly number[];
  assert.equal(sigmas.length, n + 1);
  closeF32(sigmas[0]!, sdSigma(999), 'first σ = σ(999)', SIGMA_REL);
  closeF32(sigmas[n - 1]!, sdSigma(0), 'last σ before 0 = σ(0)', SIGMA_REL);
  assert.equal(sigmas[n], 0);
  for (let i = 1; i <= n; i++) assert.ok(sigmas[i]! < sigmas[i - 1]!, `σ_${i} < σ_${i - 1}`);
  const rho = 7;
  const lo = sdSigma(0) ** (1 / rho);
  const hi = sdSigma(999) ** (1 / rho);
  for (const i of [1, 7, 13]) closeF32(sigmas[i]!, (hi + (i / (n - 1)) * (lo - hi)) ** rho, `σ_${i}`, SIGMA_REL);
  // timesteps: σ mapped back to t and rounded: the ends are 999 and 0, and they decrease
  assert.equal(plan.timesteps[0], 999);
  assert.equal(plan.timesteps[n - 1], 0);
  // The helper itself, with made-up ends
  const k = karrasSigmas(0.1, 10, 5);
  close(k[0]!, 10, 1e-12, 'karras σ_max');
  close(k[4]!, 0.1, 1e-12, 'karras σ_min');
  close(k[2]!, ((10 ** (1 / 7) + 0.1 ** (1 / 7)) / 2) ** 7, 1e-12, 'karras midpoint');
});

test("Euler's sigmas come from alphas_cumprod: σ = √((1−ᾱ)/ᾱ) at its timesteps, interpolated when fractional", () => {
  const ten = createScheduler('Euler', SD).plan(10);
  assert.deepEqual(ten.timesteps, [999, 888, 777, 666, 555, 444, 333, 222, 111, 0]); // linspace(0, 999, 10), reversed
  ten.timesteps.forEach((t, i) => closeF32(ten.sigmas![i]!, sdSigma(t), `σ at t=${t}`, SIGMA_REL));
  assert.equal(ten.sigmas![10], 0);
  closeF32(ten.initNoiseSigma, sdSigma(999), 'init noise σ = σ_max for linspace', SIGMA_REL);

  const twenty = createScheduler('Euler', SD).plan(20);
  const t1 = 999 * (18 / 19); // 946.42…: not an integer, σ is interpolated linearly in t (numpy interp)
  assert.equal(twenty.timesteps[1], Math.fround(t1), 'fractional timestep, in float32 as diffusers');
  const lo = Math.floor(t1);
  closeF32(twenty.sigmas![1]!, sdSigma(lo) + (t1 - lo) * (sdSigma(lo + 1) - sdSigma(lo)), 'interpolated σ', SIGMA_REL);

  // leading spacing (SDXL's config): init noise σ is √(σ_max² + 1)
  const leading = createScheduler('Euler', { ...SD, timestep_spacing: 'leading', steps_offset: 1 }).plan(10);
  closeF32(leading.initNoiseSigma, Math.sqrt(sdSigma(901) ** 2 + 1), 'leading init σ', SIGMA_REL);

  // scaleModelInput divides by √(σ² + 1)
  const x = new Float32Array([1, -2, 3]);
  const scaled = ten.scaleModelInput(x, 0);
  close(scaled[2]!, 3 / Math.sqrt(sdSigma(999) ** 2 + 1), 1e-6, 'scaled input');
});

test('the training helpers: addNoiseAt and velocity at any integer t, per batch item', () => {
  const schedule = createScheduler('DDPM', SD).schedule;
  const x0 = new Float32Array([1, 2, 3, 4]);
  const noise = new Float32Array([0.5, -0.5, 1, -1]);
  const noisy = schedule.addNoiseAt(x0, noise, 499);
  const a = Math.sqrt(sdAlphaBar(499));
  const s = Math.sqrt(1 - sdAlphaBar(499));
  noisy.forEach((v, i) => close(v, a * x0[i]! + s * noise[i]!, 1e-6, `x_t[${i}]`));
  const v = schedule.velocity(x0, noise, 499);
  v.forEach((vi, i) => close(vi, a * noise[i]! - s * x0[i]!, 1e-6, `v[${i}]`));
  // two batch items of 2 values, each with its own t
  const batch = schedule.addNoiseAt(x0, noise, [0, 999]);
  close(batch[0]!, Math.sqrt(sdAlphaBar(0)) * 1 + Math.sqrt(1 - sdAlphaBar(0)) * 0.5, 1e-6, 'item 0');
  close(batch[3]!, Math.sqrt(sdAlphaBar(999)) * 4 - Math.sqrt(1 - sdAlphaBar(999)), 1e-6, 'item 1');
  assert.throws(() => schedule.addNoiseAt(x0, noise, 1000), /timestep 1000/);
  assert.throws(() => schedule.addNoiseAt(x0, noise, 2.5), /timestep 2.5/);
  assert.throws(() => schedule.addNoiseAt(x0, noise, [1, 2, 3]), /equal batch items/);
});
