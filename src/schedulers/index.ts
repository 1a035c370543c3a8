/** gesso's diffusion schedulers: see scheduler.ts for the contract. */
export type { PlanOptions, SamplingPlan, Scheduler, StepResult, StepState } from './scheduler.ts';
export type { SchedulerConfig, LoadedSchedulerConfig, BetaSchedule, PredictionType, TimestepSpacing } from './config.ts';
export { loadSchedulerConfig, validateSchedulerConfig } from './config.ts';
export { resolveConfig, type SchedulerClassName } from './defaults.ts';
export { NoiseSchedule, betasFromConfig } from './noise-schedule.ts';
export { karrasSigmas } from './sigmas.ts';
export {
  a1111Label,
  createNoiseSchedule,
  createScheduler,
  listSchedulers,
  lookupScheduler,
  requireScheduler,
  schedulerNames,
  type SchedulerInfo,
} from './registry.ts';
