import { parseArgs } from 'node:util';
import { optionalNumberFlag } from '../flags.ts';
import type { Command } from '../command.ts';
import { InputError } from '../../core/errors.ts';
import { finetuneUsage, runFinetune } from './train-finetune.ts';
import { trainDefaultModel } from '../../train/default-model/train-default-model.ts';
import { TRAIN_FAST_DEFAULTS, trainFastStyle } from '../../style/train-fast.ts';
import { GAN_DEFAULTS, trainGan } from '../../train/gan/train-gan.ts';
import type { GanConfig } from '../../models/gan.ts';

async function runGanTraining(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      data: { type: 'string' },
      size: { type: 'string' },
      steps: { type: 'string' },
      batch: { type: 'string' },
      lr: { type: 'string' },
      'd-lr': { type: 'string' },
      'd-channels': { type: 'string' },
      'd-max-channels': { type: 'string' },
      'minibatch-std': { type: 'boolean' },
      'no-minibatch-std': { type: 'boolean' },
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
  const rate = (flag: string, value: string | undefined, fallback: number): number => {
    const x = value === undefined ? fallback : Number(value);
    if (!(x > 0 && x < 1)) throw new InputError(`train gan: ${flag} ${JSON.stringify(value)} must be a number in (0, 1)`);
    return x;
  };
  const lr = rate('--lr', values.lr, GAN_DEFAULTS.lr);
  const dLr = rate('--d-lr', values['d-lr'], GAN_DEFAULTS.dLr);
  if (values['minibatch-std'] && values['no-minibatch-std']) throw new InputError('train gan: --minibatch-std and --no-minibatch-std exclude each other');
  const architecture: Partial<Omit<GanConfig, 'size'>> = {};
  if (values['d-channels'] !== undefined)
    architecture.dBaseChannels = optionalNumberFlag('--d-channels', values['d-channels'], { integer: true, min: 1 }, 0) as number;
  if (values['d-max-channels'] !== undefined)
    architecture.dMaxChannels = optionalNumberFlag('--d-max-channels', values['d-max-channels'], { integer: true, min: 1 }, 0) as number;
  if (values['minibatch-std']) architecture.minibatchStd = true;
  if (values['no-minibatch-std']) architecture.minibatchStd = false;
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
    dLr,
    architecture,
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

/** `--from-model DIR[,DIR2...]`: the folder to continue from, then folders that add one run each. */
function fromModelFolders(flag: string | undefined): { fromModel?: string; fromRuns?: string[] } {
  const dirs = (flag ?? '').split(',').filter((d) => d.length > 0);
  if (dirs.length === 0) return {};
  return { fromModel: dirs[0] as string, ...(dirs.length > 1 ? { fromRuns: dirs.slice(1) } : {}) };
}

const defaultUsage = `Usage: gesso train default [--version 2|1] [--quick] [--data DIR[,DIR]] [--run DIR] [--out DIR] [--until vae|unet|refine|export] [--from-model DIR[,DIR2...]]

Trains gesso's default text-to-image model with gesso's own engine: a KL autoencoder, then a text
encoder + UNet, then a 4x upscaler, then exports the model folder. Every stage checkpoints into the
run folder and resumes where it stopped; run the same command again. The run's CPU-seconds (all
processes) are kept in <run>/cpu.json and in each checkpoint.

  --version V   2 (default): gesso-default-v2, the shipped default (Open Clip Art + emoji, then refine
                   runs: gesso's coloured shapes, five more emoji sets, short captions; v-prediction,
                   min-SNR weights, wider UNet; docs/default-model-v2.md says which runs shipped)
                1: gesso-clipart-v1 (the first default, kept for comparison; Open Clip Art, ε-prediction)
  --data DIRS   comma-separated \`gesso data\` folders at 64 px (default: version 2
                .cache/openclipart-64,.cache/emoji-64; version 1 .cache/openclipart-64)
  --run DIR     checkpoints, logs and sample grids (default .cache/train-default-v2, version 1
                .cache/train-default; with --quick <default>-quick)
  --out DIR     the finished model folder (default models/gesso-default-v2, version 1
                models/gesso-clipart-v1; <run>/model with --quick)
  --quick       a few steps per stage with tiny batches (tests)
  --until S     stop after stage S (refine: after the last refine run)
  --refine-data DIRS  version 2: folders the refine runs add, in order (default
                .cache/shapes-64,.cache/emoji-more-64; both built when missing)
  --unet-steps N  shorten the UNet stage to N steps (pilot runs; the model is not the plan's)
  --from-model DIR  seed an empty run folder from an exported model (its training.json): VAE,
                tokenizer, UNet + text encoder of its last refine run, upscaler, latent scaling
                factor and CPU-seconds, so the plan's later refine runs continue from it when the
                run folder of the earlier stages is gone. Refused unless the recorded plan matches
                the current one for those stages. Needed once; later runs resume without it.
                Folders after the first add their last run's UNet + text encoder, for a weight
                average (a plan stage) of runs that were not the first folder's last`;

const styleUsage = `Usage: gesso train style --style MINE.png --content DIR [--run DIR] [--steps N] [--size N] [--batch N]

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
  --lr X        peak Adam learning rate (default ${TRAIN_FAST_DEFAULTS.lr})
  --init FILE   start from the weights of a style.onnx this command exported (fine-tuning)`;

const ganUsage = `Usage: gesso train gan --data DIR [--size 64|128] [--steps N] [--batch B] [--run DIR] [--out DIR] [--seed S]

Trains a GAN on your own pictures (a folder of .png .jpg .webp .svg, or a dataset from
\`gesso data\`): broken files are skipped and counted, a val split is held out for \`gesso eval gan\`.
Spectral norm, DiffAugment and an EMA generator let a few hundred images suffice. Prints both losses,
writes a fixed-latent sample grid every --sample-every steps, checkpoints and resumes exactly (run the
same command again), and exports generator.onnx (z -> image) with a model card.

  --data DIR          pictures or dataset (required)
  --size N            64 (default) or 128
  --steps N           total steps (default 5000)
  --batch B           batch size (default 32)
  --lr X              Adam learning rate of the generator (default ${GAN_DEFAULTS.lr})
  --d-lr X            Adam learning rate of the discriminator (default ${GAN_DEFAULTS.dLr}; TTUR)
  --d-channels N      discriminator channels at full resolution (default: the model's)
  --d-max-channels N  cap on the discriminator's channels (default: the model's)
  --no-minibatch-std  no minibatch standard deviation feature in D (it is on by default)
  --run DIR           checkpoint, history.jsonl, samples/ (default .cache/train-gan-<size>)
  --out DIR           the model folder (default <run>/model)
  --seed S            (default 0)
  --sample-every N    (default 500)   --checkpoint-every N (default 250)
  --stop-at N         stop after step N with a checkpoint (resume later)`;

const targets = { default: defaultUsage, style: styleUsage, gan: ganUsage, finetune: finetuneUsage };

const usage = `Usage: gesso train default|style|gan|finetune [options]   (gesso train TARGET --help: that target alone)

${Object.values(targets).join('\n\n')}`;

export const trainCommand: Command = {
  usage,
  targets,
  async run(args: string[]): Promise<number> {
    if (args[0] === 'gan') return runGanTraining(args.slice(1));
    if (args[0] === 'finetune') return runFinetune(args.slice(1));
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        quick: { type: 'boolean', default: false },
        version: { type: 'string', default: '2' },
        'unet-steps': { type: 'string' },
        data: { type: 'string' },
        run: { type: 'string' },
        out: { type: 'string' },
        until: { type: 'string' },
        'refine-data': { type: 'string' },
        'from-model': { type: 'string' },
        style: { type: 'string' },
        content: { type: 'string' },
        steps: { type: 'string' },
        size: { type: 'string' },
        batch: { type: 'string' },
        'style-weight': { type: 'string' },
        init: { type: 'string' },
        lr: { type: 'string' },
      },
    });
    const what = positionals[0];
    if (what === 'style') {
      if (!values.style || !values.content) throw new InputError('train style: needs --style FILE and --content DIR (see gesso train --help)');
      const int = (flag: string, v: string | undefined): number | undefined => optionalNumberFlag(`train style: ${flag}`, v, { integer: true, min: 1 });
      const [steps, size, batch] = [int('--steps', values.steps), int('--size', values.size), int('--batch', values.batch)];
      const styleWeight = optionalNumberFlag('train style: --style-weight', values['style-weight'], { min: 0 });
      const lr = optionalNumberFlag('train style: --lr', values.lr, { min: 0 });
      const out = await trainFastStyle({
        style: values.style,
        contentDir: values.content,
        runDir: values.run ?? '.cache/train-style',
        ...(steps ? { steps } : {}),
        ...(size ? { size } : {}),
        ...(batch ? { batch } : {}),
        ...(styleWeight !== undefined ? { styleWeight } : {}),
        ...(lr !== undefined ? { lr } : {}),
        ...(values.init ? { init: values.init } : {}),
      });
      console.log(`wrote ${out}`);
      return 0;
    }
    if (what !== 'default')
      throw new InputError(`train: unknown target ${JSON.stringify(what ?? '')}; expected "default", "style" or "gan" (see gesso train --help)`);
    const until = values.until;
    if (until !== undefined && until !== 'vae' && until !== 'unet' && until !== 'refine' && until !== 'export')
      throw new InputError(`train: --until ${JSON.stringify(until)}; expected vae, unet, refine or export`);
    const version = values.version === '1' ? 1 : values.version === '2' ? 2 : null;
    if (version === null) throw new InputError(`train default: --version ${JSON.stringify(values.version)}; expected 1 or 2`);
    const runBase = version === 2 ? '.cache/train-default-v2' : '.cache/train-default';
    const runDir = values.run ?? (values.quick ? `${runBase}-quick` : runBase);
    const dataDirs = values.data?.split(',').filter((d) => d.length > 0);
    const refineDirs = values['refine-data']?.split(',').filter((d) => d.length > 0);
    const unetSteps = optionalNumberFlag('--unet-steps', values['unet-steps'], { integer: true, min: 1 });
    await trainDefaultModel({
      version,
      ...(unetSteps !== undefined ? { unetSteps } : {}),
      ...(dataDirs ? { dataDir: dataDirs } : {}),
      ...(refineDirs ? { refineDataDir: refineDirs } : {}),
      ...fromModelFolders(values['from-model']),
      runDir,
      outDir: values.out ?? (values.quick ? `${runDir}/model` : version === 2 ? 'models/gesso-default-v2' : 'models/gesso-clipart-v1'),
      quick: values.quick ?? false,
      ...(until ? { until } : {}),
    });
    return 0;
  },
};
