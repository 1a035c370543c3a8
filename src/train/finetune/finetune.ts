/** `finetune`: the one entry point of `gesso train finetune`, by method. Only LoRA exists so far. */
import { InputError } from '../../core/errors.ts';
import { type LoraTrainingOptions, type LoraTrainingResult, trainLora } from './train-lora.ts';

export const FINETUNE_METHODS = ['lora', 'textual-inversion', 'full'] as const;
export type FinetuneMethod = (typeof FINETUNE_METHODS)[number];

export interface FinetuneOptions extends LoraTrainingOptions {
  /** Default 'lora'. */
  method?: FinetuneMethod | string;
}

export function finetune(o: FinetuneOptions): Promise<LoraTrainingResult> {
  const method = o.method ?? 'lora';
  if (method === 'lora') return trainLora(o);
  if (method === 'textual-inversion' || method === 'full') return Promise.reject(new InputError(`--method ${method} is not implemented yet; only "lora" is`));
  return Promise.reject(new InputError(`--method ${method}: expected one of ${FINETUNE_METHODS.join(', ')}`));
}
