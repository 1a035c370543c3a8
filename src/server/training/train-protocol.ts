/** Messages between the train job (server side) and its training process. */
import type { JsonObject } from '../../core/json.ts';
import type { SerializedError } from '../../runtime/worker-protocol.ts';

export const TRAIN_TYPES = ['gan', 'style', 'finetune'] as const;
export type TrainType = (typeof TRAIN_TYPES)[number];

/** The one message the job sends: what to train. */
export interface TrainProcessInit {
  type: TrainType;
  /** The run folder: the process holds its lock (src/train/run-lock.ts) while it trains. */
  runDir: string;
  /** The trainer's options (TrainGanOptions, TrainFastOptions or FinetuneOptions), server paths included. */
  options: JsonObject;
}

export type TrainProcessReply = { kind: 'log'; line: string } | { kind: 'done'; steps: number; finished: boolean } | { kind: 'failed'; error: SerializedError };
