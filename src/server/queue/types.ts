/**
 * The job queue's contract. Two implementations keep it: InProcessQueue (runs jobs in this process,
 * persisted in SQLite) and BullMqQueue (a render farm: jobs go through Redis to `gesso worker`
 * processes). Both keep every job's record in the same SQLite table, choose the next job the same way
 * (per-user fair share, then priority), and store a job's result once however often it runs.
 */
import type { EventEmitter } from 'node:events';
import type { JsonObject, JsonValue } from '../../core/json.ts';

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
export const TERMINAL_STATES: readonly JobState[] = ['done', 'failed', 'cancelled'];

export interface JobProgress {
  step: number;
  steps: number;
  /** Estimated milliseconds left, from the mean step time so far. */
  etaMs: number | null;
  /** A small PNG of the current estimate, base64, every few steps. */
  preview?: string;
  /** Training: the newest losses (d_loss / g_loss, or loss). */
  metrics?: Record<string, number>;
  /** Training: the step of the newest sample grid in the run folder. */
  sample?: number;
}

export interface JobRecord {
  id: string;
  userId: string;
  kind: string;
  priority: number;
  state: JobState;
  payload: JsonObject;
  result: JsonValue | null;
  error: string | null;
  /** Times a worker has started it. */
  attempts: number;
  progress: JobProgress | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface SubmitJob {
  /** A client-chosen id makes submitting idempotent: the same id returns the existing job. */
  id?: string;
  userId: string;
  kind: string;
  payload: JsonObject;
  /** Higher runs first among one user's jobs (-10..10, default 0). */
  priority?: number;
}

/** What a worker runs for one job kind; the output goes to the queue's ResultSink. */
export type JobHandler = (job: Pick<JobRecord, 'id' | 'userId' | 'kind' | 'payload'>, context: JobContext) => Promise<JsonValue>;

export interface JobContext {
  signal: AbortSignal;
  progress(progress: JobProgress): void;
}

/** Turns a worker's output into the job's stored result (e.g. stores images, returns their ids); must be idempotent per job id. */
export type ResultSink = (job: JobRecord, output: JsonValue) => Promise<JsonValue>;

export interface JobEventMap {
  progress: [job: { id: string; userId: string }, progress: JobProgress];
  state: [job: JobRecord];
}

export interface JobQueue {
  readonly kind: 'in-process' | 'bullmq';
  readonly events: EventEmitter<JobEventMap>;
  submit(job: SubmitJob): Promise<JobRecord>;
  /** The user's job, or null (another user's job is not found either). */
  get(userId: string, id: string): JobRecord | null;
  list(userId: string, options?: { limit?: number; state?: JobState }): JobRecord[];
  /** Cancels a queued or running job (a running generation stops after its current step). */
  cancel(userId: string, id: string): Promise<JobRecord>;
  /** Resolves when the job reaches done, failed or cancelled. */
  waitFor(userId: string, id: string, timeoutMs?: number): Promise<JobRecord>;
  close(): Promise<void>;
}
