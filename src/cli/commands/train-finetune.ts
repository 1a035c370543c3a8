import { parseArgs } from 'node:util';
import { numberFlag } from '../flags.ts';
import { InputError } from '../../core/errors.ts';
import { finetune, finetuneMethod, type FinetuneOptions } from '../../train/finetune/finetune.ts';

export const finetuneUsage = `Usage: gesso train finetune --model DIR --data DIR --method lora|textual-inversion|full [options]

Teaches a model folder the pictures of a folder. Checkpoints into --out and resumes there; a sample
grid with fixed seeds every --sample-every steps (samples/; step000000-base.png is the model before).

  --method lora       low-rank adapters on the UNet's attention projections, saved as a kohya/A1111
                      LoRA file <out>/<NAME>.safetensors; use with \`gesso generate --lora FILE:0.8\`
                      or the prompt tag <lora:NAME:0.8>
  --method textual-inversion --token WORD
                      a new word learnt from 3–20 pictures (only its vectors train), saved as an A1111
                      embedding <out>/<WORD>.safetensors (emb_params); use with \`gesso generate
                      "a WORD" --embedding FILE\` or by putting the file in ./embeddings
  --method full       every UNet weight trains; writes a complete model folder <out>/model (the source
                      folder copied, its UNet replaced; the source is never written)

  --model DIR         model folder (diffusers ONNX layout with unet/config.json, e.g. models/gesso-default-v2)
  --data DIR          pictures with a caption .txt beside each, or a \`gesso data folder\` output.
                      LoRA needs the captions; textual inversion captions a bare picture with WORD,
                      full with the folder's name (with a warning)
  --out DIR           run folder (default .cache/finetune-<name|WORD|full>)
  --size PX           picture size to train at (default: the model's)
  --steps N           optimizer steps in total (default 400 LoRA, 300 others)
  --batch B           pictures per step (default 8 LoRA and full, 4 textual inversion)
  --lr X              AdamW learning rate (default 1e-3 LoRA, 5e-3 textual inversion, 1e-4 full)
  --seed S            batches and initial values (default 0)
  --checkpoint-every N  (default 50)
  --sample-every N    (default 100)
  --prompt TEXT       a sample-grid prompt (repeatable; default: some captions)
LoRA:
  --name NAME         LoRA file name (default lora)
  --text-encoder      also adapt the text encoder's attention projections (lora_te_* keys)
  --rank R            adapter rank (default 4)
  --alpha A           scale numerator, update = alpha/rank · up · down (default: the rank)
Textual inversion:
  --token WORD        the new word (letters, digits, _ and -); the embedding file's name
  --vectors N         vectors the word stands for (default 1)
  --init-text TEXT    start from the mean vector of these words (default: of the whole vocabulary)
Full:
  --prior-preservation  DreamBooth's prior preservation: the original model first draws
                      --class-images pictures of --class-prompt; half of every batch is those
  --class-prompt TEXT (default: the data folder's name)
  --class-images N    (default 2 per folder picture, at least 8)
  --prior-weight X    weight of the class pictures' loss (default 1)`;

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
      steps: { type: 'string' },
      batch: { type: 'string' },
      lr: { type: 'string' },
      seed: { type: 'string', default: '0' },
      'checkpoint-every': { type: 'string', default: '50' },
      'sample-every': { type: 'string', default: '100' },
      prompt: { type: 'string', multiple: true },
      token: { type: 'string' },
      vectors: { type: 'string', default: '1' },
      'init-text': { type: 'string' },
      'prior-preservation': { type: 'boolean', default: false },
      'class-prompt': { type: 'string' },
      'class-images': { type: 'string' },
      'prior-weight': { type: 'string', default: '1' },
    },
  });
  if (!values.model) throw new InputError('train finetune: --model DIR is required (e.g. models/gesso-default-v2)');
  if (!values.data) throw new InputError('train finetune: --data DIR is required (pictures with caption .txt files)');
  const method = finetuneMethod(values.method);
  const num = (flag: string, v: string): number => numberFlag(`train finetune: --${flag}`, v);
  const optional = (flag: 'size' | 'steps' | 'batch' | 'lr', key: string = flag): Record<string, number> =>
    values[flag] !== undefined ? { [key]: num(flag, values[flag] as string) } : {};
  const common = {
    modelDir: values.model,
    dataDir: values.data,
    seed: num('seed', values.seed),
    checkpointEvery: num('checkpoint-every', values['checkpoint-every']),
    sampleEvery: num('sample-every', values['sample-every']),
    ...optional('size'),
    ...optional('steps'),
    ...optional('batch'),
    ...optional('lr'),
    ...(values.prompt ? { samplePrompts: values.prompt } : {}),
  };
  let options: FinetuneOptions;
  if (method === 'textual-inversion') {
    if (!values.token) throw new InputError('train finetune --method textual-inversion: --token WORD is required (the new word prompts will use)');
    options = {
      method,
      ...common,
      token: values.token,
      outDir: values.out ?? `.cache/finetune-${values.token}`,
      vectors: num('vectors', values.vectors),
      ...(values['init-text'] !== undefined ? { initText: values['init-text'] } : {}),
    };
  } else if (method === 'full') {
    options = {
      method,
      ...common,
      outDir: values.out ?? '.cache/finetune-full',
      priorPreservation: values['prior-preservation'] ?? false,
      priorWeight: num('prior-weight', values['prior-weight']),
      ...(values['class-prompt'] !== undefined ? { classPrompt: values['class-prompt'] } : {}),
      ...(values['class-images'] !== undefined ? { classImages: num('class-images', values['class-images']) } : {}),
    };
  } else {
    options = {
      method,
      ...common,
      outDir: values.out ?? `.cache/finetune-${values.name}`,
      name: values.name,
      rank: num('rank', values.rank),
      textEncoder: values['text-encoder'] ?? false,
      ...(values.alpha !== undefined ? { alpha: num('alpha', values.alpha) } : {}),
    };
  }
  const r = await finetune(options);
  const last = r.losses.slice(-20);
  const mean = last.length ? last.reduce((a, b) => a + b, 0) / last.length : Number.NaN;
  const wrote =
    'loraPath' in r
      ? `${r.loraPath}: ${r.adaptedModules} modules, ${r.trainableParams} parameters`
      : 'embeddingPath' in r
        ? `${r.embeddingPath}: "${r.token}", ${r.vectors} vector${r.vectors > 1 ? 's' : ''}`
        : `${r.modelPath}: ${r.trainableParams} UNet parameters${r.classImages > 0 ? `, ${r.classImages} class pictures` : ''}`;
  console.log(
    `wrote ${wrote}, ${r.steps} steps on ${r.images} pictures (resumed from step ${r.resumedFrom}), loss over the last ${last.length} steps ${mean.toFixed(4)}, ${r.seconds.toFixed(0)} s`,
  );
  return 0;
}
