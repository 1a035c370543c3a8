/**
 * The render-farm queue: job records and the fair-share choice stay in the server's SQLite (as in
 * InProcessQueue); up to `window` chosen jobs at a time are handed to BullMQ on Redis, where any number
 * of `gesso worker --redis URL` processes run them. BullMQ's locks move a job whose worker died back to
 * waiting (retried on another worker); the BullMQ job id is gesso's job id, so a job is added once and
 * its result stored once. A reconcile pass every second compares the two: a dispatched job that Redis
 * no longer has (Redis restarted empty) is added again; a finished one whose event was missed (server
 * restarted) is collected.
 */
import { Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { JsonValue } from '../../core/json.ts';
import type { JobStore } from './job-store.ts';
import { QueueBase } from './queue-base.ts';
import { cancelChannel, DEFAULT_QUEUE_NAME, redisOptions, untilReady } from './redis-connection.ts';
import type { JobProgress, JobQueue, JobRecord, ResultSink } from './types.ts';

export interface BullMqQueueOptions {
  redisUrl: string;
  sink: ResultSink;
  queueName?: string;
  /** Jobs handed to Redis at once (default 4): the rest wait in SQLite, where fair share decides. */
  window?: number;
  /** Attempts per job in BullMQ (a worker killed mid-job costs one; default 3). */
  attempts?: number;
  reconcileMs?: number;
}

/** What a worker gets: gesso's job without the server-only fields. */
export interface FarmJobData {
  userId: string;
  payload: JsonRecord;
}
type JsonRecord = { [key: string]: JsonValue };

export class BullMqQueue extends QueueBase implements JobQueue {
  readonly kind = 'bullmq' as const;
  private readonly queue: Queue<FarmJobData>;
  private readonly queueEvents: QueueEvents;
  private readonly publisher: Redis;
  private readonly window: number;
  private readonly attempts: number;
  private readonly timer: NodeJS.Timeout;
  private dispatching = false;
  private reconciling = false;
  private closed = false;

  constructor(
    store: JobStore,
    private readonly options: BullMqQueueOptions,
  ) {
    super(store, options.sink);
    const connection = redisOptions(options.redisUrl);
    const name = options.queueName ?? DEFAULT_QUEUE_NAME;
    this.queue = new Queue<FarmJobData>(name, { connection });
    this.queueEvents = new QueueEvents(name, { connection });
    this.publisher = new Redis(connection);
    for (const client of [this.publisher]) client.on('error', () => undefined); // reconnects by itself; reconcile catches up
    this.queue.on('error', () => undefined);
    this.queueEvents.on('error', () => undefined);
    this.window = options.window ?? 4;
    this.attempts = options.attempts ?? 3;
    this.queueEvents.on('progress', ({ jobId, data }) => {
      if (typeof data === 'object' && data !== null) this.onProgress(jobId, data as unknown as JobProgress);
    });
    this.queueEvents.on('completed', ({ jobId }) => void this.collect(jobId));
    this.queueEvents.on('failed', ({ jobId }) => void this.collect(jobId));
    this.timer = setInterval(() => void this.reconcile(), options.reconcileMs ?? 1000);
    queueMicrotask(() => this.wake());
  }

  /** Waits until Redis answers; a clear error after `timeoutMs` (start-up of `gesso serve --redis`). */
  async ready(timeoutMs = 15_000): Promise<void> {
    await untilReady(Promise.all([this.queue.waitUntilReady(), this.queueEvents.waitUntilReady()]), this.options.redisUrl, timeoutMs);
  }

  async cancel(userId: string, id: string): Promise<JobRecord> {
    this.store.forUser(userId, id);
    const before = this.store.cancel(id);
    if (before === 'queued' || before === 'running') this.emitState(id);
    if (before === 'running') {
      const job = await Job.fromId<FarmJobData>(this.queue, id).catch(() => undefined);
      await job?.remove().catch(() => undefined); // fails while a worker holds the lock: then the message below stops it
      await this.publisher.publish(cancelChannel(this.queue.name), id).catch(() => undefined);
      this.wake();
    }
    return this.store.require(id);
  }

  protected wake(): void {
    void this.dispatch();
  }

  /** Hands the next jobs (fair share) to BullMQ until `window` are in flight. */
  private async dispatch(): Promise<void> {
    if (this.dispatching || this.closed) return;
    this.dispatching = true;
    try {
      while (!this.closed && this.store.runningCount() < this.window) {
        const job = this.store.claimNext();
        if (!job) break;
        this.emitState(job.id);
        await this.add(job);
      }
    } catch {
      // Redis is away: the claimed jobs stay "running" in SQLite and reconcile() adds them when it is back.
    } finally {
      this.dispatching = false;
    }
  }

  private async add(job: JobRecord): Promise<void> {
    await this.queue.add(
      job.kind,
      { userId: job.userId, payload: job.payload },
      { jobId: job.id, attempts: this.attempts, backoff: { type: 'fixed', delay: 500 }, removeOnComplete: { age: 3600 }, removeOnFail: { age: 24 * 3600 } },
    );
  }

  /** Reads a finished BullMQ job and records it (once: finish() ignores a job already done). */
  private async collect(id: string): Promise<void> {
    const record = this.store.find(id);
    if (record?.state !== 'running') return;
    const job = await Job.fromId<FarmJobData>(this.queue, id).catch(() => undefined);
    if (!job) return;
    const state = await job.getState().catch(() => 'unknown');
    if (state === 'completed') await this.finish(id, job.returnvalue as JsonValue);
    else if (state === 'failed') this.markFailed(id, job.failedReason || 'the worker failed');
    this.wake();
  }

  private async reconcile(): Promise<void> {
    if (this.reconciling || this.closed) return;
    this.reconciling = true;
    try {
      for (const record of this.store.running()) {
        const job = await Job.fromId<FarmJobData>(this.queue, record.id);
        if (!job)
          await this.add(record); // Redis lost it (restarted without its data): hand it over again
        else await this.collect(record.id);
      }
      await this.dispatch();
    } catch {
      // Redis unreachable: try again next tick.
    } finally {
      this.reconciling = false;
    }
  }

  /** Stops dispatching; jobs already in Redis keep running on the workers and are collected next start. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await Promise.allSettled([this.queueEvents.close(), this.queue.close()]);
    this.publisher.disconnect();
  }
}
