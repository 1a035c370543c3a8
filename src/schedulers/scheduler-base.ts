/** What every Scheduler shares: its resolved config and the noise tables built from it once. */
import type { SchedulerConfig } from './config.ts';
import { NoiseSchedule } from './noise-schedule.ts';
import type { PlanOptions, SamplingPlan, Scheduler } from './scheduler.ts';

export abstract class SchedulerBase implements Scheduler {
  abstract readonly name: string;
  readonly schedule: NoiseSchedule;

  /** A subclass that checks its config does so after this (its `name` is set only once super() returns). */
  constructor(readonly config: Readonly<Required<SchedulerConfig>>) {
    this.schedule = NoiseSchedule.fromConfig(config);
  }

  abstract plan(numSteps: number, strength?: number, options?: PlanOptions): SamplingPlan;
}
