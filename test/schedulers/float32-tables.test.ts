// The noise tables hold diffusers' float32 values, and the Karras timesteps are made integers as
// diffusers makes them. Expected values: diffusers' table code (scheduling_*.py __init__ and
// set_timesteps at huggingface/diffusers 58eb52c) run with torch 1.13 (AVX2 kernels) and numpy 1.24 on
// this project's development machine, written here as literals.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createScheduler, type SchedulerConfig } from '../../src/schedulers/index.ts';
import { torchLinspaceFloat32 } from '../../src/schedulers/float32.ts';

const SD: Partial<SchedulerConfig> = { beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear' };
const COSINE: Partial<SchedulerConfig> = { beta_schedule: 'squaredcos_cap_v2' };

const pick = (table: Float64Array | ((t: number) => number), at: number[]): number[] =>
  at.map((t) => (typeof table === 'function' ? table(t) : (table[t] as number)));

test("betas and alphas_cumprod are torch's float32 values (scaled_linear, linear, cosine)", () => {
  const sd = createScheduler('DDPM', SD).schedule;
  assert.deepEqual(pick(sd.betas(), [0, 500, 999]), [0.0008499999530613422, 0.004814954474568367, 0.011999999172985554]);
  assert.deepEqual(
    pick((t) => sd.alphaCumprod(t), [0, 499, 999]),
    [0.9991499781608582, 0.2776694595813751, 0.0046600960195064545],
  );
  assert.deepEqual(
    pick((t) => sd.sigma(t), [0, 999]),
    [0.029167532920837402, 14.614645004272461],
  );

  const linear = createScheduler('DDPM', {}).schedule;
  assert.deepEqual(pick(linear.betas(), [0, 500, 999]), [9.999999747378752e-5, 0.010059960186481476, 0.019999999552965164]);
  assert.deepEqual(
    pick((t) => linear.alphaCumprod(t), [0, 499, 999]),
    [0.9998999834060669, 0.07858724147081375, 4.0358307160204276e-5],
  );

  const cosine = createScheduler('DDPM', COSINE).schedule;
  assert.deepEqual(pick(cosine.betas(), [0, 999]), [4.128422369831242e-5, 0.9990000128746033]);
  assert.deepEqual(
    pick((t) => cosine.alphaCumprod(t), [0, 499, 998]),
    [0.9999586939811707, 0.4938434660434723, 2.428766265438753e-6],
  );
});

test("torch's float32 linspace: both ends exact, values rounded as its vectorised kernel rounds them", () => {
  // torch.linspace(1e-4, 0.02, 1100, dtype=float32)[[0, 1, 550, 1089, 1092, 1099]] (1089, 1092: the one-by-one tail)
  const v = torchLinspaceFloat32(0.0001, 0.02, 1100);
  assert.deepEqual(
    pick(v, [0, 1, 550, 1089, 1092, 1099]),
    [9.999999747378752e-5, 0.00011810736759798601, 0.010059054009616375, 0.019818926230072975, 0.019873248413205147, 0.019999999552965164],
  );
});

test('DPM++ 2M Karras with squaredcos_cap_v2 truncates timesteps, as current diffusers: 999, 998, 998, …', () => {
  const cosine = createScheduler('DPM++ 2M Karras', COSINE).plan(20);
  assert.deepEqual(cosine.timesteps, [999, 998, 998, 998, 998, 998, 998, 998, 998, 997, 996, 994, 989, 978, 949, 867, 623, 221, 33, 0]);
  assert.deepEqual(cosine.sigmas?.slice(0, 3), [20291.302734375, 14547.5693359375, 10257.849609375]); // float32
  // Every other schedule rounds them (half to even).
  const sd = createScheduler('DPM++ 2M Karras', SD).plan(20);
  assert.deepEqual(sd.timesteps, [999, 962, 921, 876, 827, 772, 710, 640, 561, 474, 380, 285, 197, 123, 69, 35, 15, 6, 2, 0]);
});

test("Euler's Karras sigmas and fractional timesteps are float32, as diffusers' set_timesteps leaves them", () => {
  const plan = createScheduler('Euler', { ...COSINE, use_karras_sigmas: true }).plan(10);
  assert.deepEqual(
    plan.timesteps,
    [
      999, 998.7909545898438, 998.5578002929688, 998.2943115234375, 997.9572143554688, 995.4381713867188, 983.2861328125, 894.6807250976562, 259.2021789550781,
      0,
    ],
  );
  assert.deepEqual(
    plan.sigmas,
    [
      20291.302734375, 9856.4345703125, 4405.77001953125, 1773.39453125, 622.9054565429688, 181.96337890625, 40.84315490722656, 6.096719741821289,
      0.44390273094177246, 0.006427108775824308, 0,
    ],
  );
  // SD's schedule: sigmas equal; two timesteps are a few float32 ulps apart because numpy's float32 log
  // (SIMD) is not correctly rounded, while gesso's log σ table is (1 ulp apart in about 1 entry of 5).
  const sd = createScheduler('Euler', { ...SD, use_karras_sigmas: true }).plan(10);
  const diffusers = [
    999, 916.2839965820312, 815.044921875, 687.1532592773438, 523.1989135742188, 327.147216796875, 145.93902587890625, 40.85687255859375, 6.73240852355957, 0,
  ];
  sd.timesteps.forEach((t, i) => assert.ok(Math.abs(t - (diffusers[i] as number)) < 1e-4, `timestep ${i}: ${t} vs diffusers ${diffusers[i]}`));
  assert.deepEqual(sd.sigmas?.slice(-2), [0.029167532920837402, 0]);
});
