/**
 * The body of a training process (started by the train job with child_process.fork): runs one trainer
 * (GAN, fast style network, LoRA fine-tune) with the options the job chose and reports the end over IPC.
 * Loss lines and sample grids are written by the trainers into the run folder, where the job reads them
 * as they appear. Stopping is killing this process: a process, not a worker thread, because ONNX Runtime
 * aborts the whole process when a thread running it is terminated mid-step; a killed process leaves the
 * server untouched, and the run folder's last checkpoint (written atomically) is where a resume starts.
 */
import { serializeError } from '../../runtime/worker-protocol.ts';
import { trainFastStyle, type TrainFastOptions } from '../../style/train-fast.ts';
import { finetune, type FinetuneOptions } from '../../train/finetune/finetune.ts';
import { trainGan, type TrainGanOptions } from '../../train/gan/train-gan.ts';
import { acquireRunLock } from '../../train/run-lock.ts';
import type { TrainProcessInit, TrainProcessReply } from './train-protocol.ts';

const send = (reply: TrainProcessReply): Promise<void> => new Promise((resolve) => (process.send ? process.send(reply, () => resolve()) : resolve()));
if (!process.send) throw new Error('train-process.ts runs as a child process of the train job (child_process.fork)');
// The server went away: nobody is left to report to.
process.on('disconnect', () => process.exit(1));

async function train(init: TrainProcessInit): Promise<TrainProcessReply> {
  // One leg at a time per run folder, whichever queue or worker dispatched it: taken before the trainer
  // reads the checkpoint, released when this process exits (a killed leg's stale lock is taken over).
  await acquireRunLock(init.runDir);
  const log = (line: string): void => void send({ kind: 'log', line });
  if (init.type === 'gan') {
    const result = await trainGan({ ...(init.options as unknown as TrainGanOptions), quiet: true, log });
    return { kind: 'done', steps: result.steps, finished: result.modelDir !== null };
  }
  if (init.type === 'style') {
    const o = init.options as unknown as TrainFastOptions;
    await trainFastStyle({ ...o, quiet: true });
    return { kind: 'done', steps: o.steps ?? 0, finished: true };
  }
  const result = await finetune({ ...(init.options as unknown as FinetuneOptions), log });
  return { kind: 'done', steps: result.steps, finished: true };
}

process.once('message', (init: TrainProcessInit) => {
  train(init)
    .catch((e: unknown): TrainProcessReply => ({ kind: 'failed', error: serializeError(e) }))
    .then(send)
    .then(() => process.exit(0));
});
