/**
 * diffusers' constructor defaults per scheduler class, so a config that leaves a field out means what it
 * means in diffusers (e.g. EulerDiscreteScheduler spaces timesteps by `linspace`, DDIMScheduler by `leading`).
 */
import { InputError } from '../core/errors.ts';
import { validateSchedulerConfig, type SchedulerConfig } from './config.ts';

export type SchedulerClassName =
  | 'DDPMScheduler'
  | 'DDIMScheduler'
  | 'PNDMScheduler'
  | 'EulerDiscreteScheduler'
  | 'EulerAncestralDiscreteScheduler'
  | 'DPMSolverMultistepScheduler'
  | 'LCMScheduler';

/** Values shared by all classes unless a class overrides them (diffusers' DDPM defaults). */
const COMMON: Required<SchedulerConfig> = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  prediction_type: 'epsilon',
  timestep_spacing: 'leading',
  steps_offset: 0,
  clip_sample: true,
  clip_sample_range: 1.0,
  set_alpha_to_one: true,
  thresholding: false,
  use_karras_sigmas: false,
  sigma_min: null,
  sigma_max: null,
  final_sigmas_type: 'zero',
  skip_prk_steps: false,
  variance_type: 'fixed_small',
  solver_order: 2,
  algorithm_type: 'dpmsolver++',
  solver_type: 'midpoint',
  lower_order_final: true,
  euler_at_final: false,
  original_inference_steps: 50,
  timestep_scaling: 10.0,
};

const CLASS_DEFAULTS: Record<SchedulerClassName, Partial<SchedulerConfig>> = {
  DDPMScheduler: {},
  DDIMScheduler: {},
  PNDMScheduler: { set_alpha_to_one: false },
  EulerDiscreteScheduler: { timestep_spacing: 'linspace' },
  EulerAncestralDiscreteScheduler: { timestep_spacing: 'linspace' },
  DPMSolverMultistepScheduler: { timestep_spacing: 'linspace' },
  LCMScheduler: { beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', clip_sample: false },
};

/** Validates `config`, fills the gaps with `className`'s defaults, checks fields against each other. */
export function resolveConfig(className: SchedulerClassName, config: Partial<SchedulerConfig> = {}): Readonly<Required<SchedulerConfig>> {
  const checked = validateSchedulerConfig(config, `${className} config`);
  const full: Required<SchedulerConfig> = { ...COMMON, ...CLASS_DEFAULTS[className], ...checked };
  if (full.trained_betas && full.trained_betas.length !== full.num_train_timesteps) {
    throw new InputError(
      `${className} config: trained_betas has ${full.trained_betas.length} values but num_train_timesteps is ${full.num_train_timesteps}; they must match`,
    );
  }
  if (!full.trained_betas && full.beta_start > full.beta_end) {
    throw new InputError(`${className} config: beta_start ${full.beta_start} is larger than beta_end ${full.beta_end}; betas must not decrease`);
  }
  if (full.sigma_min !== null && full.sigma_max !== null && full.sigma_min >= full.sigma_max) {
    throw new InputError(`${className} config: sigma_min ${full.sigma_min} must be smaller than sigma_max ${full.sigma_max}`);
  }
  return Object.freeze(full);
}
