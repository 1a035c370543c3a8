import { parseArgs } from 'node:util';
import { InputError } from '../../core/errors.ts';
import { startWorker } from '../../server/worker.ts';
import type { Command } from '../command.ts';
import { integer } from './serve.ts';

const usage = `Usage: gesso worker --redis URL [--models DIR] [--loras DIR] [--concurrency N] [--lock-seconds S]

Runs render-farm jobs that \`gesso serve --redis URL\` queues on Redis. Start any number, on any
machine that reaches the Redis server; each needs the models the jobs name (by folder name). A worker
that dies mid-job loses its lock; the job then runs again on another worker and is stored once.

Options:
  --redis URL          redis://host:port (required)
  --models DIR         a folder of model folders (repeatable; default: the shipped models/)
  --loras DIR          a folder of LoRA files that generations name (repeatable; the same files the server offers)
  --concurrency N      jobs at once in this worker (default 1)
  --lock-seconds S     job lock time; a killed worker's job is retried after about this long (default 30)
  --queue NAME         BullMQ queue name (default gesso-jobs; must match the server's)`;

export const workerCommand: Command = {
  usage,
  async run(args: string[]): Promise<number> {
    let values;
    try {
      values = parseArgs({
        args,
        options: {
          redis: { type: 'string' },
          models: { type: 'string', multiple: true },
          loras: { type: 'string', multiple: true },
          concurrency: { type: 'string' },
          'lock-seconds': { type: 'string' },
          queue: { type: 'string' },
        },
      }).values;
    } catch (err) {
      throw new InputError(`gesso worker: ${(err as Error).message} (see gesso worker --help)`);
    }
    if (values.redis === undefined) throw new InputError('gesso worker needs --redis URL, e.g. --redis redis://127.0.0.1:6379');
    const lockSeconds = values['lock-seconds'] !== undefined ? Number(values['lock-seconds']) : 30;
    if (!(lockSeconds >= 1 && lockSeconds <= 3600)) throw new InputError(`--lock-seconds "${values['lock-seconds']}": expected 1 to 3600`);
    const worker = await startWorker({
      redisUrl: values.redis,
      ...(values.models ? { modelFolders: values.models } : {}),
      ...(values.loras ? { loraFolders: values.loras } : {}),
      concurrency: integer('--concurrency', values.concurrency, 1),
      ...(values.queue !== undefined ? { queueName: values.queue } : {}),
      lockMs: Math.round(lockSeconds * 1000),
      log: (line) => console.log(`gesso worker: ${line}`),
    });
    console.log(`gesso worker: ready (pid ${process.pid}, ${values.redis})`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await worker.close();
    return 0;
  },
};
