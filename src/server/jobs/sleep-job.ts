/**
 * The `sleep` job: waits `ms` milliseconds in `steps` steps, reporting progress and honouring
 * cancellation, and returns what it was given. It is how the queue contract test and the queue benchmark
 * exercise scheduling, retries and throughput without a model (ms 0 is a no-op job).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { GenerationCancelled } from '../../pipelines/denoise.ts';
import type { JsonValue } from '../../core/json.ts';
import type { JobHandler } from '../queue/types.ts';

export const sleepHandler: JobHandler = async (job, context) => {
  const ms = typeof job.payload.ms === 'number' ? job.payload.ms : 0;
  const steps = typeof job.payload.steps === 'number' ? job.payload.steps : 1;
  for (let step = 1; step <= steps; step++) {
    if (ms > 0) await delay(ms / steps);
    if (context.signal.aborted) throw new GenerationCancelled(`at step ${step}`);
    context.progress({ step, steps, etaMs: Math.round((ms / steps) * (steps - step)) });
  }
  const output: JsonValue = { echo: job.payload.echo ?? null, jobId: job.id, pid: process.pid };
  return output;
};
