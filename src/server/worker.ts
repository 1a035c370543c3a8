/** startWorker(): what `gesso worker --redis URL` runs — a render-farm worker with every job kind. */
import { SHIPPED_MODELS_FOLDER, ModelRegistry } from './models.ts';
import { FarmWorker } from './queue/farm-worker.ts';
import { jobHandlers } from './studio.ts';

export interface WorkerOptions {
  redisUrl: string;
  modelFolders?: string[];
  /** Folders of the LoRA files generations name. */
  loraFolders?: string[];
  queueName?: string;
  concurrency?: number;
  lockMs?: number;
  log?: (line: string) => void;
}

export async function startWorker(options: WorkerOptions): Promise<{ close(): Promise<void> }> {
  const models = new ModelRegistry(options.modelFolders ?? [SHIPPED_MODELS_FOLDER], options.loraFolders ?? []);
  const worker = new FarmWorker({
    redisUrl: options.redisUrl,
    handlers: jobHandlers(models),
    ...(options.queueName !== undefined ? { queueName: options.queueName } : {}),
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.lockMs !== undefined ? { lockMs: options.lockMs } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  try {
    await worker.ready();
  } catch (e) {
    await worker.close();
    throw e;
  }
  return {
    async close() {
      await worker.close();
      await models.release();
    },
  };
}
