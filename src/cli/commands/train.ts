import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';
import { InputError } from '../../core/errors.ts';
import { finetuneUsage, runFinetune } from './train-finetune.ts';
import { trainDefaultModel } from '../../train/default-model/train-default-model.ts';

const usage = `Usage: gesso train default ...    train gesso's default model from Open Clip Art
       gesso train finetune ...   a LoRA on a folder of your pictures (gesso train finetune --help)

gesso train default [--quick] [--data DIR] [--run DIR] [--out DIR] [--until vae|unet|export]

Trains gesso's default text-to-image model (gesso-clipart-v1) from the Open Clip Art Library with
gesso's own engine: a KL autoencoder, then a text encoder + UNet, then exports the model folder.
Every stage checkpoints into the run folder and resumes where it stopped; run the same command again.

  --data DIR    dataset from \`gesso data openclipart --size 64\` (default .cache/openclipart-64)
  --run DIR     checkpoints, logs and sample grids (default .cache/train-default, or
                .cache/train-default-quick with --quick)
  --out DIR     the finished model folder (default models/gesso-clipart-v1, or
                <run>/model with --quick)
  --quick       a few steps per stage with tiny batches (tests)
  --until S     stop after stage S

${finetuneUsage}`;

export const trainCommand: Command = {
  usage,
  async run(args: string[]): Promise<number> {
    if (args[0] === 'finetune') return runFinetune(args.slice(1));
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        quick: { type: 'boolean', default: false },
        data: { type: 'string' },
        run: { type: 'string' },
        out: { type: 'string' },
        until: { type: 'string' },
      },
    });
    const what = positionals[0];
    if (what !== 'default')
      throw new InputError(`train: unknown target ${JSON.stringify(what ?? '')}; expected "default" or "finetune" (see gesso train --help)`);
    const until = values.until;
    if (until !== undefined && until !== 'vae' && until !== 'unet' && until !== 'export')
      throw new InputError(`train: --until ${JSON.stringify(until)}; expected vae, unet or export`);
    await trainDefaultModel({
      dataDir: values.data ?? '.cache/openclipart-64',
      runDir: values.run ?? (values.quick ? '.cache/train-default-quick' : '.cache/train-default'),
      outDir: values.out ?? (values.quick ? '.cache/train-default-quick/model' : 'models/gesso-clipart-v1'),
      quick: values.quick ?? false,
      ...(until ? { until } : {}),
    });
    return 0;
  },
};
