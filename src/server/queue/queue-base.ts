/** What both queue implementations share: records in the JobStore, events, waiting for a job to end. */
import { EventEmitter } from 'node:events';
import { GessoError } from '../../core/errors.ts';
import type { JsonValue } from '../../core/json.ts';
import type { JobStore } from './job-store.ts';
import { TERMINAL_STATES, type JobEventMap, type JobProgress, type JobRecord, type JobState, type ResultSink, type SubmitJob } from './types.ts';

export abstract class QueueBase {
  readonly events = new EventEmitter<JobEventMap>();
  private readonly finishing = new Map<string, Promise<void>>();

  constructor(
    readonly store: JobStore,
    protected readonly sink: ResultSink,
  ) {
    this.events.setMaxListeners(0);
  }

  async submit(job: SubmitJob): Promise<JobRecord> {
    const { record, created } = this.store.insert(job);
    if (created) {
      this.events.emit('state', record);
      this.wake();
    }
    return record;
  }

  get(userId: string, id: string): JobRecord | null {
    try {
      return this.store.forUser(userId, id);
    } catch {
      return null;
    }
  }

  list(userId: string, options?: { limit?: number; state?: JobState }): JobRecord[] {
    return this.store.list(userId, options);
  }

  waitFor(userId: string, id: string, timeoutMs = 600_000): Promise<JobRecord> {
    const job = this.store.forUser(userId, id);
    if (TERMINAL_STATES.includes(job.state)) return Promise.resolve(job);
    return new Promise((resolve, reject) => {
      const onState = (j: JobRecord): void => {
        if (j.id !== id || !TERMINAL_STATES.includes(j.state)) return;
        cleanup();
        resolve(j);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new GessoError(`job ${id} did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.events.off('state', onState);
      };
      this.events.on('state', onState);
    });
  }

  /** Stores the output through the sink and marks the job done, once (a completion event and a reconcile pass may both report it). */
  protected finish(id: string, output: JsonValue): Promise<void> {
    const pending = this.finishing.get(id);
    if (pending) return pending;
    const done = this.storeResult(id, output).finally(() => this.finishing.delete(id));
    this.finishing.set(id, done);
    return done;
  }

  private async storeResult(id: string, output: JsonValue): Promise<void> {
    const job = this.store.find(id);
    if (!job || job.state === 'done' || job.state === 'cancelled') return;
    try {
      const result = await this.sink(job, output);
      if (this.store.complete(id, result)) this.emitState(id);
    } catch (err) {
      this.markFailed(id, `storing the result failed: ${(err as Error).message}`);
    }
  }

  protected markFailed(id: string, message: string): void {
    if (this.store.fail(id, message)) this.emitState(id);
  }

  protected onProgress(id: string, progress: JobProgress): void {
    const job = this.store.find(id);
    if (job?.state !== 'running') return;
    this.store.setProgress(id, progress);
    this.events.emit('progress', { id, userId: job.userId }, progress);
  }

  protected emitState(id: string): void {
    const job = this.store.find(id);
    if (job) this.events.emit('state', job);
  }

  /** Something changed: start what can be started. */
  protected abstract wake(): void;
}
