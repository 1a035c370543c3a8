/**
 * Scheduler names: diffusers' class names and the sampler names A1111 users know, case-insensitive.
 * An A1111 name can carry settings ("DPM++ 2M Karras" = DPMSolverMultistepScheduler with Karras sigmas;
 * "PLMS" = PNDM without the Runge–Kutta warm-up); they override the model's scheduler_config.json.
 */
import { InputError } from '../core/errors.ts';
import type { SchedulerConfig } from './config.ts';
import { DdimScheduler } from './ddim.ts';
import { DdpmScheduler } from './ddpm.ts';
import { resolveConfig, type SchedulerClassName } from './defaults.ts';
import { DpmSolverMultistepScheduler } from './dpm-solver-multistep.ts';
import { EulerAncestralScheduler } from './euler-ancestral.ts';
import { EulerScheduler } from './euler.ts';
import { LcmScheduler } from './lcm.ts';
import { NoiseSchedule } from './noise-schedule.ts';
import { PndmScheduler } from './pndm.ts';
import type { Scheduler } from './scheduler.ts';

type Resolved = Readonly<Required<SchedulerConfig>>;

interface ClassEntry {
  make: (config: Resolved) => Scheduler;
  description: string;
}

const CLASSES: Record<SchedulerClassName, ClassEntry> = {
  DDPMScheduler: {
    make: (c) => new DdpmScheduler(c),
    description: 'DDPM ancestral sampling; stochastic, needs many steps (the training process run backwards)',
  },
  DDIMScheduler: { make: (c) => new DdimScheduler(c), description: 'DDIM; deterministic with eta 0, eta 1 adds DDPM-like noise' },
  PNDMScheduler: { make: (c) => new PndmScheduler(c), description: 'PNDM/PLMS linear multistep; Stable Diffusion 1.x default (skip_prk_steps true)' },
  EulerDiscreteScheduler: { make: (c) => new EulerScheduler(c), description: 'Euler ODE steps over sigmas; deterministic, optional Karras sigmas' },
  EulerAncestralDiscreteScheduler: {
    make: (c) => new EulerAncestralScheduler(c),
    description: 'Euler with fresh noise each step; varied results, does not converge with more steps',
  },
  DPMSolverMultistepScheduler: {
    make: (c) => new DpmSolverMultistepScheduler(c),
    description: 'DPM-Solver++ multistep (2M); good images in 15-25 steps, optional Karras sigmas',
  },
  LCMScheduler: { make: (c) => new LcmScheduler(c), description: 'Latent Consistency Model sampling; 2-8 steps, for LCM-distilled models only' },
};

interface Alias {
  name: string;
  className: SchedulerClassName;
  overrides: Partial<SchedulerConfig>;
}

/** A1111 sampler names (as its UI and PNG `parameters` spell them). */
const A1111_ALIASES: readonly Alias[] = [
  { name: 'DDPM', className: 'DDPMScheduler', overrides: {} },
  { name: 'DDIM', className: 'DDIMScheduler', overrides: {} },
  { name: 'PLMS', className: 'PNDMScheduler', overrides: { skip_prk_steps: true } },
  { name: 'Euler', className: 'EulerDiscreteScheduler', overrides: {} },
  { name: 'Euler a', className: 'EulerAncestralDiscreteScheduler', overrides: {} },
  { name: 'DPM++ 2M', className: 'DPMSolverMultistepScheduler', overrides: { algorithm_type: 'dpmsolver++', solver_order: 2, use_karras_sigmas: false } },
  { name: 'DPM++ 2M Karras', className: 'DPMSolverMultistepScheduler', overrides: { algorithm_type: 'dpmsolver++', solver_order: 2, use_karras_sigmas: true } },
  { name: 'LCM', className: 'LCMScheduler', overrides: {} },
];

const CLASS_NAMES = Object.keys(CLASSES) as SchedulerClassName[];

/** Every accepted name, class names first. */
export function schedulerNames(): string[] {
  return [...CLASS_NAMES, ...A1111_ALIASES.map((a) => a.name)];
}

/** The class and preset settings a name stands for, or null. */
export function lookupScheduler(nameOrClass: string): { className: SchedulerClassName; overrides: Partial<SchedulerConfig> } | null {
  const key = nameOrClass.trim().toLowerCase();
  const cls = CLASS_NAMES.find((c) => c.toLowerCase() === key);
  if (cls) return { className: cls, overrides: {} };
  const alias = A1111_ALIASES.find((a) => a.name.toLowerCase() === key);
  return alias ? { className: alias.className, overrides: alias.overrides } : null;
}

/**
 * A scheduler by diffusers class name or A1111 sampler name (case-insensitive), configured from
 * `config` (e.g. a model's scheduler_config.json) over that class's diffusers defaults.
 */
/** lookupScheduler, or an InputError listing the names gesso knows. */
export function requireScheduler(nameOrClass: string): { className: SchedulerClassName; overrides: Partial<SchedulerConfig> } {
  const found = typeof nameOrClass === 'string' ? lookupScheduler(nameOrClass) : null;
  if (!found) throw new InputError(`unknown scheduler "${String(nameOrClass)}"; expected one of: ${schedulerNames().join(', ')}`);
  return found;
}

export function createScheduler(nameOrClass: string, config: Partial<SchedulerConfig> = {}): Scheduler {
  const found = requireScheduler(nameOrClass);
  return CLASSES[found.className].make(resolveConfig(found.className, { ...config, ...found.overrides }));
}

export interface SchedulerInfo {
  /** diffusers class name. */
  name: string;
  /** A1111 sampler names that select this class. */
  aliases: string[];
  description: string;
}

/** One entry per scheduler class, for `gesso schedulers`. */
export function listSchedulers(): SchedulerInfo[] {
  return CLASS_NAMES.map((name) => ({
    name,
    aliases: A1111_ALIASES.filter((a) => a.className === name).map((a) => a.name),
    description: CLASSES[name].description,
  }));
}

/** How A1111 would label this scheduler in a PNG `parameters` chunk ("Sampler: …, Schedule type: …"). */
export function a1111Label(scheduler: Scheduler): { sampler: string; scheduleType: string } {
  const c = scheduler.config;
  const karras = c.use_karras_sigmas && (scheduler.name === 'EulerDiscreteScheduler' || scheduler.name === 'DPMSolverMultistepScheduler');
  const byClass: Record<string, string> = {
    DDPMScheduler: 'DDPM',
    DDIMScheduler: 'DDIM',
    PNDMScheduler: 'PLMS',
    EulerDiscreteScheduler: 'Euler',
    EulerAncestralDiscreteScheduler: 'Euler a',
    DPMSolverMultistepScheduler: 'DPM++ 2M',
    LCMScheduler: 'LCM',
  };
  return { sampler: byClass[scheduler.name] ?? scheduler.name, scheduleType: karras ? 'Karras' : 'Automatic' };
}

/** The training-side noise schedule alone (betas, ᾱ, addNoiseAt, velocity), with DDPMScheduler's defaults. */
export function createNoiseSchedule(config: Partial<SchedulerConfig> = {}): NoiseSchedule {
  return NoiseSchedule.fromConfig(resolveConfig('DDPMScheduler', config));
}
