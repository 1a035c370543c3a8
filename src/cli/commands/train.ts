import { parseArgs } from 'node:util';
import { optionalNumberFlag } from '../flags.ts';
import type { Command } from '../command.ts';
import { InputError } from '../../core/errors.ts';
import { finetuneUsage, runFinetune } from './train-finetune.ts';
import { trainDefaultModel } from '../../train/default-model/train-default-model.ts';
import { TRAIN_FAST_DEFAULTS, trainFastStyle } from '../../style/train-fast.ts';
import { trainGan } from '../../train/gan/train-gan.ts';

async function runGanTraining(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      data: { type: 'string' },
      size: { type: 'string' },
      steps: { type: 'string' },
      batch: { type: 'string' },
      lr: { type: 'string' },
      run: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string' },
      'sample-every': { type: 'string' },
      'checkpoint-every': { type: 'string' },
      'stop-at': { type: 'string' },
    },
  });
  if (values.data === undefined) throw new InputError('train gan: --data DIR is required (a folder of pictures or a `gesso data` dataset)');
  const size = optionalNumberFlag('--size', values.size, { integer: true, min: 1 }, 64) as number;
  if (size !== 64 && size !== 128) throw new InputError(`train gan: --size ${size}; expected 64 or 128`);
  const lr = values.lr === undefined ? 2e-4 : Number(values.lr);
  if (!(lr > 0 && lr < 1)) throw new InputError(`train gan: --lr ${JSON.stringify(values.lr)} must be a number in (0, 1)`);
  const runDir = values.run ?? `.cache/train-gan-${size}`;
  const stopAt = values['stop-at'] === undefined ? undefined : (optionalNumberFlag('--stop-at', values['stop-at'], { integer: true, min: 1 }, 0) as number);
  const result = await trainGan({
    dataDir: values.data,
    runDir,
    ...(values.out ? { outDir: values.out } : {}),
    size,
    steps: optionalNumberFlag('--steps', values.steps, { integer: true, min: 1 }, 5000) as number,
    batchSize: optionalNumberFlag('--batch', values.batch, { integer: true, min: 1 }, 32) as number,
    lr,
    seed: optionalNumberFlag('--seed', values.seed, { integer: true, min: 0 }, 0) as number,
    sampleEvery: optionalNumberFlag('--sample-every', values['sample-every'], { integer: true, min: 1 }, 500) as number,
    checkpointEvery: optionalNumberFlag('--checkpoint-every', values['checkpoint-every'], { integer: true, min: 1 }, 250) as number,
    ...(stopAt !== undefined ? { stopAt } : {}),
  });
  console.log(
    result.modelDir ? `trained ${result.steps} steps; model in ${result.modelDir}` : `stopped at step ${result.steps}; run the same command to resume`,
  );
  return 0;
}

const usage = `Usage: gesso train default [--quick] [--data DIR] [--run DIR] [--out DIR] [--until vae|unet|export]
       gesso train gan --data DIR [--size 64|128] [--steps N] [--batch B] [--run DIR] [--out DIR] [--seed S]
       gesso train finetune ...   a LoRA on a folder of your pictures (gesso train finetune --help)

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

Usage: gesso train style --style MINE.png --content DIR [--run DIR] [--steps N] [--size N] [--batch N]

Trains a fast style network for your own style image (Johnson et al.'s perceptual losses over the
MobileNetV2 encoder; instance norm, residual blocks, resize + conv upsampling) on the images in DIR.
Checkpoints into the run folder (run the same command again to resume), writes sample-<step>.png
along the way and exports <run>/style.onnx in the ONNX model zoo's fast-neural-style format
(input1/output1, pixels 0-255): use it with gesso style IMAGE --method fast --model <run>/style.onnx.

  --style FILE  your style image
  --content DIR content images (photos, drawings; any format gesso reads), searched recursively
  --run DIR     checkpoints, samples and the exported network (default .cache/train-style)
  --steps N     optimizer steps (default ${TRAIN_FAST_DEFAULTS.steps})
  --size N      training crop size, a multiple of 4 (default ${TRAIN_FAST_DEFAULTS.size})
  --batch N     images per step (default ${TRAIN_FAST_DEFAULTS.batch})
  --style-weight X  weight of the style loss against the content loss (default ${TRAIN_FAST_DEFAULTS.styleWeight});
                lower keeps more of the content's layout


gesso train gan trains a GAN on your own pictures (a folder of .png .jpg .webp .svg, or a dataset from
\`gesso data\`): broken files are skipped and counted, a val split is held out for \`gesso eval gan\`.
Spectral norm, DiffAugment and an EMA generator let a few hundred images suffice. Prints both losses,
writes a fixed-latent sample grid every --sample-every steps, checkpoints and resumes exactly (run the
same command again), and exports generator.onnx (z -> image) with a model card.

  --data DIR          pictures or dataset (required)
  --size N            64 (default) or 128
  --steps N           total steps (default 5000)
  --batch B           batch size (default 32)
  --lr X              Adam learning rate of both networks (default 0.0002)
  --run DIR           checkpoint, history.jsonl, samples/ (default .cache/train-gan-<size>)
  --out DIR           the model folder (default <run>/model)
  --seed S            (default 0)
  --sample-every N    (default 500)   --checkpoint-every N (default 250)
  --stop-at N         stop after step N with a checkpoint (resume later)

${finetuneUsage}`;

export const trainCommand: Command = {
  usage,
  async run(args: string[]): Promise<number> {
    if (args[0] === 'gan') return runGanTraining(args.slice(1));
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
        style: { type: 'string' },
        content: { type: 'string' },
        steps: { type: 'string' },
        size: { type: 'string' },
        batch: { type: 'string' },
        'style-weight': { type: 'string' },
      },
    });
    const what = positionals[0];
    if (what === 'style') {
      if (!values.style || !values.content) throw new InputError('train style: needs --style FILE and --content DIR (see gesso train --help)');
      const int = (flag: string, v: string | undefined): number | undefined => optionalNumberFlag(`train style: ${flag}`, v, { integer: true, min: 1 });
      const [steps, size, batch] = [int('--steps', values.steps), int('--size', values.size), int('--batch', values.batch)];
      const styleWeight = optionalNumberFlag('train style: --style-weight', values['style-weight'], { min: 0 });
      const out = await trainFastStyle({
        style: values.style,
        contentDir: values.content,
        runDir: values.run ?? '.cache/train-style',
        ...(steps ? { steps } : {}),
        ...(size ? { size } : {}),
        ...(batch ? { batch } : {}),
        ...(styleWeight !== undefined ? { styleWeight } : {}),
      });
      console.log(`wrote ${out}`);
      return 0;
    }
    if (what !== 'default')
      throw new InputError(`train: unknown target ${JSON.stringify(what ?? '')}; expected "default", "style" or "gan" (see gesso train --help)`);
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
