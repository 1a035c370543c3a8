/**
 * `scheduler_config.json` fields, as diffusers names them, with validation that names the bad value.
 * One config type covers every scheduler; each algorithm fills the fields it ignores with diffusers'
 * defaults (see `defaults.ts`). Unknown keys (`_class_name`, `_diffusers_version`, fields of schedulers
 * gesso does not have) are ignored; known keys that ask for a feature gesso lacks are refused.
 */
import { readJsonFile } from '../core/json.ts';
import { InputError } from '../core/errors.ts';

export const BETA_SCHEDULES = ['linear', 'scaled_linear', 'squaredcos_cap_v2'] as const;
export const PREDICTION_TYPES = ['epsilon', 'v_prediction', 'sample'] as const;
export const TIMESTEP_SPACINGS = ['leading', 'trailing', 'linspace'] as const;
export const VARIANCE_TYPES = ['fixed_small', 'fixed_small_log', 'fixed_large'] as const;
export const FINAL_SIGMAS_TYPES = ['zero', 'sigma_min'] as const;
export const SOLVER_TYPES = ['midpoint', 'heun'] as const;
export const ALGORITHM_TYPES = ['dpmsolver++'] as const;

export type BetaSchedule = (typeof BETA_SCHEDULES)[number];
export type PredictionType = (typeof PREDICTION_TYPES)[number];
export type TimestepSpacing = (typeof TIMESTEP_SPACINGS)[number];
export type VarianceType = (typeof VARIANCE_TYPES)[number];
export type FinalSigmasType = (typeof FINAL_SIGMAS_TYPES)[number];
export type SolverType = (typeof SOLVER_TYPES)[number];
export type AlgorithmType = (typeof ALGORITHM_TYPES)[number];

export interface SchedulerConfig {
  num_train_timesteps: number;
  beta_start: number;
  beta_end: number;
  beta_schedule: BetaSchedule;
  /** Explicit betas; when given, beta_start/beta_end/beta_schedule are ignored. */
  trained_betas: readonly number[] | null;
  prediction_type: PredictionType;
  timestep_spacing: TimestepSpacing;
  steps_offset: number;
  /** DDPM, DDIM, LCM: clamp the predicted x0 to ±clip_sample_range. */
  clip_sample: boolean;
  clip_sample_range: number;
  /** DDIM, PNDM, LCM: ᾱ used after the last step: 1, or ᾱ_0 when false (Stable Diffusion's choice). */
  set_alpha_to_one: boolean;
  /** Dynamic thresholding (Imagen); gesso refuses `true`. */
  thresholding: boolean;
  /** Euler, DPM-Solver: Karras et al. (2022) sigmas, rho 7. */
  use_karras_sigmas: boolean;
  sigma_min: number | null;
  sigma_max: number | null;
  /** Euler, DPM-Solver: the sigma after the last step. */
  final_sigmas_type: FinalSigmasType;
  /** PNDM: skip the Runge–Kutta warm-up (Stable Diffusion sets true: PLMS). */
  skip_prk_steps: boolean;
  /** DDPM: posterior variance (fixed_small) or beta_t (fixed_large). */
  variance_type: VarianceType;
  /** DPM-Solver: 1, 2 or 3. */
  solver_order: number;
  algorithm_type: AlgorithmType;
  solver_type: SolverType;
  /** DPM-Solver: lower the order on the last steps when there are fewer than 15. */
  lower_order_final: boolean;
  euler_at_final: boolean;
  /** LCM: the schedule the model was distilled on. */
  original_inference_steps: number;
  /** LCM: timestep multiplier in the boundary-condition scalings. */
  timestep_scaling: number;
}

/** Fields that diffusers defines but gesso does not implement: allowed only with these values. */
const UNSUPPORTED: Record<string, { allowed: readonly unknown[]; why: string }> = {
  rescale_betas_zero_snr: { allowed: [false, null], why: 'zero-terminal-SNR rescaling is not implemented' },
  use_exponential_sigmas: { allowed: [false, null], why: 'exponential sigmas are not implemented; use use_karras_sigmas' },
  use_beta_sigmas: { allowed: [false, null], why: 'beta sigmas are not implemented; use use_karras_sigmas' },
  use_lu_lambdas: { allowed: [false, null], why: 'Lu lambdas are not implemented; use use_karras_sigmas' },
  interpolation_type: { allowed: ['linear', null], why: 'only linear sigma interpolation is implemented' },
  timestep_type: { allowed: ['discrete', null], why: 'only discrete timesteps are implemented' },
};

type Check = (value: unknown, where: string) => unknown;

const num =
  (lo: number, hi: number, opts: { integer?: boolean; openLo?: boolean; openHi?: boolean } = {}): Check =>
  (value, where) => {
    const okType = typeof value === 'number' && Number.isFinite(value) && (!opts.integer || Number.isInteger(value));
    const okLo = okType && (opts.openLo ? (value as number) > lo : (value as number) >= lo);
    const okHi = okType && (opts.openHi ? (value as number) < hi : (value as number) <= hi);
    if (!okType || !okLo || !okHi) {
      const range = `${opts.openLo ? '(' : '['}${lo}, ${hi}${opts.openHi ? ')' : ']'}`;
      throw new InputError(`${where} is ${show(value)}; expected ${opts.integer ? 'an integer' : 'a number'} in ${range}`);
    }
    return value;
  };

const bool: Check = (value, where) => {
  if (typeof value !== 'boolean') throw new InputError(`${where} is ${show(value)}; expected true or false`);
  return value;
};

const oneOf =
  (allowed: readonly string[]): Check =>
  (value, where) => {
    if (typeof value !== 'string' || !allowed.includes(value)) {
      throw new InputError(`${where} is ${show(value)}; expected one of ${allowed.join(', ')}`);
    }
    return value;
  };

const nullable =
  (check: Check): Check =>
  (value, where) =>
    value === null ? null : check(value, where);

const betaList: Check = (value, where) => {
  if (!Array.isArray(value) || value.length < 2) {
    throw new InputError(`${where} is ${show(value)}; expected an array of at least 2 betas, or null`);
  }
  value.forEach((b, i) => num(0, 1, { openLo: true, openHi: true })(b, `${where}[${i}]`));
  return Object.freeze([...(value as number[])]);
};

const FIELD_CHECKS: { [K in keyof SchedulerConfig]: Check } = {
  num_train_timesteps: num(2, 1_000_000, { integer: true }),
  beta_start: num(0, 1, { openLo: true, openHi: true }),
  beta_end: num(0, 1, { openLo: true, openHi: true }),
  beta_schedule: oneOf(BETA_SCHEDULES),
  trained_betas: nullable(betaList),
  prediction_type: oneOf(PREDICTION_TYPES),
  timestep_spacing: oneOf(TIMESTEP_SPACINGS),
  steps_offset: num(0, 1_000_000, { integer: true }),
  clip_sample: bool,
  clip_sample_range: num(0, Infinity, { openLo: true, openHi: true }),
  set_alpha_to_one: bool,
  thresholding: (value, where) => {
    bool(value, where);
    if (value === true) {
      throw new InputError(`${where} is true, which gesso does not support (dynamic thresholding is for pixel-space models); set it to false`);
    }
    return value;
  },
  use_karras_sigmas: bool,
  sigma_min: nullable(num(0, Infinity, { openLo: true, openHi: true })),
  sigma_max: nullable(num(0, Infinity, { openLo: true, openHi: true })),
  final_sigmas_type: oneOf(FINAL_SIGMAS_TYPES),
  skip_prk_steps: bool,
  variance_type: oneOf(VARIANCE_TYPES),
  solver_order: num(1, 3, { integer: true }),
  algorithm_type: oneOf(ALGORITHM_TYPES),
  solver_type: oneOf(SOLVER_TYPES),
  lower_order_final: bool,
  euler_at_final: bool,
  original_inference_steps: num(1, 1_000_000, { integer: true }),
  timestep_scaling: num(0, Infinity, { openLo: true, openHi: true }),
};

const KNOWN_FIELDS = Object.keys(FIELD_CHECKS) as (keyof SchedulerConfig)[];

/**
 * Checks the known fields of a config object and returns only those (frozen).
 * `null` for a non-nullable field means "use the default", as diffusers' exports write it.
 * `source` names where the values came from, for messages (e.g. a file path).
 */
export function validateSchedulerConfig(raw: unknown, source = 'scheduler config'): Partial<SchedulerConfig> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InputError(`${source}: expected a JSON object of scheduler settings, got ${show(raw)}`);
  }
  const input = raw as Record<string, unknown>;
  for (const [key, rule] of Object.entries(UNSUPPORTED)) {
    if (key in input && input[key] !== undefined && !rule.allowed.includes(input[key])) {
      throw new InputError(`${source}: ${key} is ${show(input[key])}, which gesso does not support (${rule.why})`);
    }
  }
  if ('variance_type' in input && (input.variance_type === 'learned' || input.variance_type === 'learned_range')) {
    throw new InputError(
      `${source}: variance_type "${String(input.variance_type)}" needs a model that predicts its variance, which gesso does not support; expected one of ${VARIANCE_TYPES.join(', ')}`,
    );
  }
  const out: Record<string, unknown> = {};
  for (const key of KNOWN_FIELDS) {
    const value = input[key];
    if (value === undefined) continue;
    if (value === null && key !== 'trained_betas' && key !== 'sigma_min' && key !== 'sigma_max') continue;
    out[key] = FIELD_CHECKS[key](value, `${source}: ${key}`);
  }
  const config = out as Partial<SchedulerConfig>;
  if (config.trained_betas && config.num_train_timesteps !== undefined && config.trained_betas.length !== config.num_train_timesteps) {
    throw new InputError(
      `${source}: trained_betas has ${config.trained_betas.length} values but num_train_timesteps is ${config.num_train_timesteps}; they must match`,
    );
  }
  if (config.trained_betas && config.num_train_timesteps === undefined) config.num_train_timesteps = config.trained_betas.length;
  if (config.beta_start !== undefined && config.beta_end !== undefined && config.beta_start > config.beta_end) {
    throw new InputError(`${source}: beta_start ${config.beta_start} is larger than beta_end ${config.beta_end}; betas must not decrease`);
  }
  return Object.freeze(config);
}

/** A `scheduler_config.json` as read from disk: diffusers' class name (any string, or null) and the checked fields. */
export interface LoadedSchedulerConfig {
  className: string | null;
  config: Partial<SchedulerConfig>;
}

/** Reads and checks a diffusers `scheduler_config.json`. Errors name the file and the bad field. */
export function loadSchedulerConfig(path: string): LoadedSchedulerConfig {
  const raw: unknown = readJsonFile(path, 'scheduler config', 'a diffusers scheduler config object');
  const config = validateSchedulerConfig(raw, path);
  const className = (raw as Record<string, unknown>)._class_name;
  if (className !== undefined && className !== null && typeof className !== 'string') {
    throw new InputError(`${path}: _class_name is ${show(className)}; expected a string`);
  }
  return { className: typeof className === 'string' ? className : null, config };
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}
