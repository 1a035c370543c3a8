// Bad input a user can cause: step counts, names, config values and files. Each error names the bad value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/core/errors.ts';
import { a1111Label, createScheduler, listSchedulers, loadSchedulerConfig, type SchedulerConfig } from '../../src/schedulers/index.ts';

const ALL_NAMES = listSchedulers().flatMap((s) => [s.name, ...s.aliases]);

/** Asserts an InputError whose message matches every pattern. */
function rejects(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InputError, `expected an InputError, got ${String(err)}`);
    for (const p of patterns) assert.match(err.message, p);
    return true;
  });
}

test('steps 0, negative, fractional or above num_train_timesteps are refused by every scheduler', () => {
  for (const name of ALL_NAMES) {
    const scheduler = createScheduler(name);
    rejects(() => scheduler.plan(0), /steps 0/, /1\.\.1000/);
    rejects(() => scheduler.plan(-3), /steps -3/);
    rejects(() => scheduler.plan(2.5), /steps 2\.5/);
    rejects(() => scheduler.plan(1001), /steps 1001/);
    rejects(() => scheduler.plan(Number.NaN), /steps NaN/);
  }
  rejects(() => createScheduler('DDIM', { num_train_timesteps: 50 }).plan(51), /steps 51/, /1\.\.50/);
  rejects(() => createScheduler('LCM').plan(51), /original_inference_steps 50/);
});

test('bad strength is refused, and a strength too small for the steps says so', () => {
  for (const name of ALL_NAMES) {
    const scheduler = createScheduler(name, { skip_prk_steps: true });
    rejects(() => scheduler.plan(10, 0), /strength 0/);
    rejects(() => scheduler.plan(10, 1.5), /strength 1\.5/);
  }
  rejects(() => createScheduler('DDIM').plan(4, 0.2), /strength 0\.2 with 4 steps leaves no step/);
  rejects(() => createScheduler('LCM').plan(8, 0.1), /strength 0\.1 leaves 5 of 50/);
});

test('an unknown scheduler name throws InputError listing the valid names; names are case-insensitive', () => {
  rejects(() => createScheduler('Heun'), /unknown scheduler "Heun"/, /DDIMScheduler/, /Euler a/, /DPM\+\+ 2M Karras/, /LCM/);
  rejects(() => createScheduler(''), /unknown scheduler ""/);
  assert.equal(createScheduler('euler A').name, 'EulerAncestralDiscreteScheduler');
  assert.equal(createScheduler('  dpm++ 2m karras ').config.use_karras_sigmas, true);
  assert.equal(createScheduler('ddimscheduler').name, 'DDIMScheduler');
  assert.equal(createScheduler('plms').config.skip_prk_steps, true);
  assert.equal(createScheduler('DPM++ 2M', { use_karras_sigmas: true }).config.use_karras_sigmas, false, 'the name decides Karras');
  assert.deepEqual(a1111Label(createScheduler('DPM++ 2M Karras')), { sampler: 'DPM++ 2M', scheduleType: 'Karras' });
  assert.deepEqual(a1111Label(createScheduler('EulerAncestralDiscreteScheduler')), { sampler: 'Euler a', scheduleType: 'Automatic' });
});

test('listSchedulers covers the seven classes with their A1111 names', () => {
  const list = listSchedulers();
  assert.equal(list.length, 7);
  const dpm = list.find((s) => s.name === 'DPMSolverMultistepScheduler');
  assert.deepEqual(dpm?.aliases, ['DPM++ 2M', 'DPM++ 2M Karras']);
  assert.ok(list.every((s) => s.description.length > 10));
  const aliases = list.flatMap((s) => s.aliases).sort();
  assert.deepEqual(aliases, ['DDIM', 'DDPM', 'DPM++ 2M', 'DPM++ 2M Karras', 'Euler', 'Euler a', 'LCM', 'PLMS']);
});

test('bad config values name the field, the value and what is allowed', () => {
  const bad =
    (config: Record<string, unknown>): (() => unknown) =>
    () =>
      createScheduler('DDIM', config as Partial<SchedulerConfig>);
  rejects(bad({ beta_schedule: 'cubic' }), /beta_schedule is "cubic"/, /linear, scaled_linear, squaredcos_cap_v2/);
  rejects(bad({ prediction_type: 'noise' }), /prediction_type is "noise"/, /epsilon, v_prediction, sample/);
  rejects(bad({ timestep_spacing: 'even' }), /timestep_spacing is "even"/, /leading, trailing, linspace/);
  rejects(bad({ num_train_timesteps: -1 }), /num_train_timesteps is -1/);
  rejects(bad({ num_train_timesteps: 10.5 }), /num_train_timesteps is 10\.5; expected an integer/);
  rejects(bad({ beta_end: 2 }), /beta_end is 2/);
  rejects(bad({ beta_start: '0.00085' }), /beta_start is "0\.00085"; expected a number/);
  rejects(bad({ beta_start: 0.02, beta_end: 0.01 }), /beta_start 0\.02 is larger than beta_end 0\.01/);
  rejects(bad({ steps_offset: -1 }), /steps_offset is -1/);
  rejects(bad({ clip_sample: 'yes' }), /clip_sample is "yes"; expected true or false/);
  rejects(bad({ trained_betas: [0.1, 2] }), /trained_betas\[1\] is 2/);
  rejects(bad({ trained_betas: [0.1, 0.2], num_train_timesteps: 1000 }), /trained_betas has 2 values but num_train_timesteps is 1000/);
  rejects(bad({ thresholding: true }), /thresholding is true/, /set it to false/);
  rejects(bad({ rescale_betas_zero_snr: true }), /rescale_betas_zero_snr is true/, /not support/);
  rejects(bad({ variance_type: 'learned_range' }), /variance_type "learned_range"/);
  rejects(
    () => createScheduler('DPMSolverMultistepScheduler', { algorithm_type: 'sde-dpmsolver++' } as unknown as Partial<SchedulerConfig>),
    /algorithm_type is "sde-dpmsolver\+\+"/,
    /dpmsolver\+\+/,
  );
  rejects(() => createScheduler('DPMSolverMultistepScheduler', { solver_order: 4 }), /solver_order is 4/);
  rejects(() => createScheduler('PLMS', { prediction_type: 'sample' }), /prediction_type "sample" is not supported by PNDM/);
  rejects(() => createScheduler('PNDMScheduler').plan(3), /at least 4 steps/);
  rejects(() => createScheduler('DDIM', { steps_offset: 100 }).plan(10), /timestep 1000 is outside 0\.\.999/, /steps_offset/);
  // trained_betas alone sets num_train_timesteps
  const custom = createScheduler('DDIM', { trained_betas: Array.from({ length: 100 }, () => 0.01) });
  assert.equal(custom.config.num_train_timesteps, 100);
  assert.equal(custom.plan(10).timesteps[0], 90);
});

test('loadSchedulerConfig reads a diffusers scheduler_config.json and names the file in its errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gesso-sched-'));
  try {
    const write = (name: string, text: string): string => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    };
    // Stable Diffusion 1.5's file, as exported (unknown keys are fine)
    const sd = write(
      'sd15.json',
      JSON.stringify({
        _class_name: 'PNDMScheduler',
        _diffusers_version: '0.6.0',
        beta_end: 0.012,
        beta_schedule: 'scaled_linear',
        beta_start: 0.00085,
        num_train_timesteps: 1000,
        set_alpha_to_one: false,
        skip_prk_steps: true,
        steps_offset: 1,
        trained_betas: null,
        clip_sample: false,
        some_future_option: 3,
      }),
    );
    const loaded = loadSchedulerConfig(sd);
    assert.equal(loaded.className, 'PNDMScheduler');
    assert.equal(loaded.config.steps_offset, 1);
    assert.equal(loaded.config.trained_betas, null);
    assert.ok(!('some_future_option' in loaded.config));
    assert.deepEqual(
      createScheduler(loaded.className ?? 'PNDMScheduler', loaded.config)
        .plan(50)
        .timesteps.slice(0, 3),
      [981, 961, 961],
    );
    // an unknown class name is fine: the caller picks a sampler
    assert.equal(
      loadSchedulerConfig(write('unipc.json', '{"_class_name": "UniPCMultistepScheduler", "beta_start": 0.00085}')).className,
      'UniPCMultistepScheduler',
    );
    assert.equal(loadSchedulerConfig(write('bare.json', '{}')).className, null);

    const cubic = write('cubic.json', '{"beta_schedule": "cubic"}');
    rejects(
      () => loadSchedulerConfig(cubic),
      new RegExp(`${escapeRegExp(cubic)}: beta_schedule is "cubic"; expected one of linear, scaled_linear, squaredcos_cap_v2`),
    );
    const broken = write('broken.json', '{"beta_start": 0.00085,');
    rejects(() => loadSchedulerConfig(broken), new RegExp(`${escapeRegExp(broken)}" is not valid JSON`));
    rejects(() => loadSchedulerConfig(write('list.json', '[1, 2]')), /expected a JSON object of scheduler settings, got an array of 2/);
    rejects(() => loadSchedulerConfig(write('cls.json', '{"_class_name": 7}')), /_class_name is 7; expected a string/);
    rejects(() => loadSchedulerConfig(join(dir, 'missing.json')), /scheduler config not found: .*missing\.json/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
