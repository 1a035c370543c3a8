/** Messages between the train job (server side) and its training thread. */
import type { JsonObject } from '../../core/json.ts';
import type { SerializedError } from '../../runtime/worker-protocol.ts';

export const TRAIN_TYPES = ['gan', 'style', 'finetune'] as const;
export type TrainType = (typeof TRAIN_TYPES)[number];

export interface TrainThreadInit {
  type: TrainType;
  /** The trainer's options (TrainGanOptions, TrainFastOptions or FinetuneOptions), server paths included. */
  options: JsonObject;
}

export type TrainThreadReply = { kind: 'log'; line: string } | { kind: 'done'; steps: number; finished: boolean } | { kind: 'failed'; error: SerializedError };
