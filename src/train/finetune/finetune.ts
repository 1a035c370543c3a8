/** `finetune`: the one entry point of `gesso train finetune`, by method. */
import { InputError } from '../../core/errors.ts';
import { type FullFinetuneOptions, type FullFinetuneResult, trainFull } from './train-full.ts';
import { type LoraTrainingOptions, type LoraTrainingResult, trainLora } from './train-lora.ts';
import { type TextualInversionOptions, type TextualInversionResult, trainTextualInversion } from './train-textual-inversion.ts';

export const FINETUNE_METHODS = ['lora', 'textual-inversion', 'full'] as const;
export type FinetuneMethod = (typeof FINETUNE_METHODS)[number];

export type FinetuneOptions =
  | ({ method?: 'lora' } & LoraTrainingOptions)
  | ({ method: 'textual-inversion' } & TextualInversionOptions)
  | ({ method: 'full' } & FullFinetuneOptions);

export type FinetuneResult = LoraTrainingResult | TextualInversionResult | FullFinetuneResult;

/** The method named by `--method`, or an error listing the methods. */
export function finetuneMethod(name: string): FinetuneMethod {
  if ((FINETUNE_METHODS as readonly string[]).includes(name)) return name as FinetuneMethod;
  throw new InputError(`--method ${name}: expected one of ${FINETUNE_METHODS.join(', ')}`);
}

export function finetune(o: FinetuneOptions): Promise<FinetuneResult> {
  if (o.method === 'textual-inversion') return trainTextualInversion(o);
  if (o.method === 'full') return trainFull(o);
  if (o.method === undefined || o.method === 'lora') return trainLora(o);
  return Promise.reject(new InputError(`--method ${String((o as { method: unknown }).method)}: expected one of ${FINETUNE_METHODS.join(', ')}`));
}
