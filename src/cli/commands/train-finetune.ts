import { parseArgs } from 'node:util';
import { numberFlag } from '../flags.ts';
import { InputError } from '../../core/errors.ts';
import { finetune } from '../../train/finetune/finetune.ts';

export const finetuneUsage = `Usage: gesso train finetune --model DIR --data DIR --method lora [options]

Teaches a model folder the pictures of a folder: a LoRA (low-rank adapters on the UNet's attention
projections) saved as a kohya/A1111 safetensors file, used with \`gesso generate --lora FILE:0.8\` or the
prompt tag <lora:NAME:0.8>. Checkpoints into --out and resumes there; a sample grid with fixed seeds
every --sample-every steps (samples/; step000000-base.png is the model without the LoRA).

  --model DIR         model folder (diffusers ONNX layout with unet/config.json, e.g. models/gesso-clipart-v1)
  --data DIR          pictures with a caption .txt beside each, or a \`gesso data folder\` output
  --method lora       (textual-inversion and full are not implemented yet)
  --out DIR           run folder (default .cache/finetune-<name>)
  --name NAME         LoRA file name (default lora): <out>/<NAME>.safetensors
  --size PX           picture size to train at (default: the model's)
  --text-encoder      also adapt the text encoder's attention projections (lora_te_* keys)
  --rank R            adapter rank (default 4)
  --alpha A           scale numerator, update = alpha/rank · up · down (default: the rank)
  --steps N           optimizer steps in total (default 400)
  --batch B           pictures per step (default 8)
  --lr X              AdamW learning rate (default 1e-3)
  --seed S            batches and adapter init (default 0)
  --checkpoint-every N  (default 50)
  --sample-every N    (default 100)
  --prompt TEXT       a sample-grid prompt (repeatable; default: up to 4 captions)`;

export async function runFinetune(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: 'string' },
      data: { type: 'string' },
      method: { type: 'string', default: 'lora' },
      out: { type: 'string' },
      name: { type: 'string', default: 'lora' },
      rank: { type: 'string', default: '4' },
      size: { type: 'string' },
      'text-encoder': { type: 'boolean', default: false },
      alpha: { type: 'string' },
      steps: { type: 'string', default: '400' },
      batch: { type: 'string', default: '8' },
      lr: { type: 'string', default: '1e-3' },
      seed: { type: 'string', default: '0' },
      'checkpoint-every': { type: 'string', default: '50' },
      'sample-every': { type: 'string', default: '100' },
      prompt: { type: 'string', multiple: true },
    },
  });
  if (!values.model) throw new InputError('train finetune: --model DIR is required (e.g. models/gesso-clipart-v1)');
  if (!values.data) throw new InputError('train finetune: --data DIR is required (pictures with caption .txt files)');
  const num = (flag: string, v: string): number => numberFlag(`train finetune: --${flag}`, v);
  const r = await finetune({
    method: values.method,
    modelDir: values.model,
    dataDir: values.data,
    outDir: values.out ?? `.cache/finetune-${values.name}`,
    name: values.name,
    rank: num('rank', values.rank),
    textEncoder: values['text-encoder'] ?? false,
    ...(values.size !== undefined ? { size: num('size', values.size) } : {}),
    ...(values.alpha !== undefined ? { alpha: num('alpha', values.alpha) } : {}),
    steps: num('steps', values.steps),
    batch: num('batch', values.batch),
    lr: num('lr', values.lr),
    seed: num('seed', values.seed),
    checkpointEvery: num('checkpoint-every', values['checkpoint-every']),
    sampleEvery: num('sample-every', values['sample-every']),
    ...(values.prompt ? { samplePrompts: values.prompt } : {}),
  });
  const last = r.losses.slice(-20);
  const mean = last.length ? last.reduce((a, b) => a + b, 0) / last.length : Number.NaN;
  console.log(
    `wrote ${r.loraPath}: ${r.adaptedModules} modules, ${r.trainableParams} parameters, ${r.steps} steps on ${r.images} pictures (resumed from step ${r.resumedFrom}), loss over the last ${last.length} steps ${mean.toFixed(4)}, ${r.seconds.toFixed(0)} s`,
  );
  return 0;
}
