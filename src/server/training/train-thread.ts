/**
 * The body of a training thread: runs one trainer (GAN, fast style network, LoRA fine-tune) with the
 * options the train job chose, and reports the end. Loss lines and sample grids are written by the
 * trainers into the run folder, where the job reads them as they appear; stopping is terminating this
 * thread (the run folder's last checkpoint is where a resume starts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { serializeError } from '../../runtime/worker-protocol.ts';
import { trainFastStyle, type TrainFastOptions } from '../../style/train-fast.ts';
import { finetune, type FinetuneOptions } from '../../train/finetune/finetune.ts';
import { trainGan, type TrainGanOptions } from '../../train/gan/train-gan.ts';
import type { TrainThreadInit, TrainThreadReply } from './train-protocol.ts';

const port = parentPort;
if (!port) throw new Error('train-thread.ts runs inside a worker thread (started by the train job)');
const post = (reply: TrainThreadReply): void => port.postMessage(reply);
const init = workerData as TrainThreadInit;
const log = (line: string): void => post({ kind: 'log', line });

try {
  if (init.type === 'gan') {
    const result = await trainGan({ ...(init.options as unknown as TrainGanOptions), quiet: true, log });
    post({ kind: 'done', steps: result.steps, finished: result.modelDir !== null });
  } else if (init.type === 'style') {
    const o = init.options as unknown as TrainFastOptions;
    await trainFastStyle({ ...o, quiet: true });
    post({ kind: 'done', steps: o.steps ?? 0, finished: true });
  } else {
    const o = init.options as unknown as FinetuneOptions;
    const result = await finetune({ ...o, log });
    post({ kind: 'done', steps: result.steps, finished: true });
  }
} catch (e) {
  post({ kind: 'failed', error: serializeError(e) });
}
