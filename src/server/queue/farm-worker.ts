/**
 * A render-farm worker: takes jobs from BullMQ and runs gesso's job handlers. `gesso worker --redis URL`
 * starts one; any number may run on any machine. A cancel message on Redis stops the job it names.
 */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { GenerationCancelled } from '../../pipelines/denoise.ts';
import type { JsonValue } from '../../core/json.ts';
import type { FarmJobData } from './bullmq-queue.ts';
import { cancelChannel, DEFAULT_QUEUE_NAME, redisOptions, untilReady } from './redis-connection.ts';
import type { JobHandler, JobProgress } from './types.ts';

export interface FarmWorkerOptions {
  redisUrl: string;
  handlers: Record<string, JobHandler>;
  queueName?: string;
  /** Jobs at once in this process (default 1). */
  concurrency?: number;
  /** How long a job's lock lives without renewal; a killed worker's job is retried after about this long (default 30 s). */
  lockMs?: number;
  /** Called when a job starts and ends (logging). */
  log?: (line: string) => void;
}

export class FarmWorker {
  private readonly worker: Worker<FarmJobData, JsonValue>;
  private readonly subscriber: Redis;
  private readonly running = new Map<string, AbortController>();
  private readonly redisUrl: string;

  constructor(options: FarmWorkerOptions) {
    this.redisUrl = options.redisUrl;
    const connection = redisOptions(options.redisUrl);
    const name = options.queueName ?? DEFAULT_QUEUE_NAME;
    const lockMs = options.lockMs ?? 30_000;
    const log = options.log ?? (() => undefined);
    this.worker = new Worker<FarmJobData, JsonValue>(name, (job) => this.process(job, options.handlers, log), {
      connection,
      concurrency: options.concurrency ?? 1,
      lockDuration: lockMs,
      stalledInterval: Math.max(500, Math.floor(lockMs / 2)),
      maxStalledCount: 2,
    });
    this.worker.on('error', () => undefined); // Redis away: ioredis reconnects
    this.subscriber = new Redis(connection);
    this.subscriber.on('error', () => undefined);
    void this.subscriber.subscribe(cancelChannel(name)).catch(() => undefined);
    this.subscriber.on('message', (_channel: string, jobId: string) => this.running.get(jobId)?.abort());
  }

  async ready(timeoutMs = 15_000): Promise<void> {
    await untilReady(this.worker.waitUntilReady(), this.redisUrl, timeoutMs);
  }

  private async process(job: Job<FarmJobData, JsonValue>, handlers: Record<string, JobHandler>, log: (line: string) => void): Promise<JsonValue> {
    const id = job.id as string;
    const handler = handlers[job.name];
    if (!handler) throw new UnrecoverableError(`no handler for job kind ${JSON.stringify(job.name)}; known: ${Object.keys(handlers).join(', ')}`);
    const controller = new AbortController();
    this.running.set(id, controller);
    log(`job ${id} (${job.name}) started, attempt ${job.attemptsMade + 1}`);
    try {
      const output = await handler(
        { id, userId: job.data.userId, kind: job.name, payload: job.data.payload },
        { signal: controller.signal, progress: (p: JobProgress) => void job.updateProgress(p as unknown as object).catch(() => undefined) },
      );
      log(`job ${id} done`);
      return output;
    } catch (err) {
      log(`job ${id} stopped: ${(err as Error).message}`);
      if (controller.signal.aborted || err instanceof GenerationCancelled) throw new UnrecoverableError(`cancelled: ${(err as Error).message}`);
      throw err;
    } finally {
      this.running.delete(id);
    }
  }

  async close(): Promise<void> {
    for (const c of this.running.values()) c.abort();
    await this.worker.close();
    this.subscriber.disconnect();
  }
}
