/**
 * Runs jobs in this process, `concurrency` at a time (models run in ORT worker threads, so the event
 * loop stays free). Jobs are SQLite rows: a job that was running when the process stopped is queued
 * again when it starts, and runs again (its result is stored once: see ResultSink).
 */
import { GenerationCancelled } from '../../pipelines/denoise.ts';
import type { JobStore } from './job-store.ts';
import { QueueBase } from './queue-base.ts';
import type { JobHandler, JobQueue, JobRecord, ResultSink } from './types.ts';

export interface InProcessOptions {
  handlers: Record<string, JobHandler>;
  sink: ResultSink;
  /** Jobs run at once (default 1). */
  concurrency?: number;
}

export class InProcessQueue extends QueueBase implements JobQueue {
  readonly kind = 'in-process' as const;
  private readonly handlers: Record<string, JobHandler>;
  private readonly concurrency: number;
  private readonly active = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private closed = false;

  constructor(store: JobStore, options: InProcessOptions) {
    super(store, options.sink);
    this.handlers = options.handlers;
    this.concurrency = options.concurrency ?? 1;
    store.requeueAllRunning(); // this process owns every job: a "running" one was cut off by a restart
    queueMicrotask(() => this.wake());
  }

  async cancel(userId: string, id: string): Promise<JobRecord> {
    this.store.forUser(userId, id);
    const before = this.store.cancel(id);
    if (before === 'queued' || before === 'running') this.emitState(id);
    this.active.get(id)?.controller.abort();
    return this.store.require(id);
  }

  protected wake(): void {
    while (!this.closed && this.active.size < this.concurrency) {
      const job = this.store.claimNext();
      if (!job) return;
      this.emitState(job.id);
      const controller = new AbortController();
      const done = this.run(job, controller).finally(() => {
        this.active.delete(job.id);
        this.wake();
      });
      this.active.set(job.id, { controller, done });
    }
  }

  private async run(job: JobRecord, controller: AbortController): Promise<void> {
    const handler = this.handlers[job.kind];
    if (!handler) {
      this.markFailed(job.id, `no handler for job kind ${JSON.stringify(job.kind)}; known: ${Object.keys(this.handlers).join(', ')}`);
      return;
    }
    try {
      const output = await handler(job, { signal: controller.signal, progress: (p) => this.onProgress(job.id, p) });
      if (controller.signal.aborted) return;
      await this.finish(job.id, output);
    } catch (err) {
      if (controller.signal.aborted || err instanceof GenerationCancelled) {
        if (this.closed) this.store.requeue(job.id); // stopped by close(), not by a user: run it next time
        return;
      }
      this.markFailed(job.id, (err as Error).message);
    }
  }

  /** Stops taking jobs; running ones are stopped after their current step and queued again for next time. */
  async close(): Promise<void> {
    this.closed = true;
    for (const { controller } of this.active.values()) controller.abort();
    await Promise.all([...this.active.values()].map((a) => a.done));
  }
}
