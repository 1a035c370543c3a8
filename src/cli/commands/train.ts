import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';
import { InputError } from '../../core/errors.ts';
import { trainDefaultModel } from '../../train/default-model/train-default-model.ts';
import { TRAIN_FAST_DEFAULTS, trainFastStyle } from '../../style/train-fast.ts';

const usage = `Usage: gesso train default [--quick] [--data DIR] [--run DIR] [--out DIR] [--until vae|unet|export]

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
  --batch N     images per step (default ${TRAIN_FAST_DEFAULTS.batch})`;

export const trainCommand: Command = {
  usage,
  async run(args: string[]): Promise<number> {
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
      },
    });
    const what = positionals[0];
    if (what === 'style') {
      if (!values.style || !values.content) throw new InputError('train style: needs --style FILE and --content DIR (see gesso train --help)');
      const int = (flag: string, v: string | undefined): number | undefined => {
        if (v === undefined) return undefined;
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new InputError(`train style: ${flag} "${v}" is not a positive whole number`);
        return n;
      };
      const [steps, size, batch] = [int('--steps', values.steps), int('--size', values.size), int('--batch', values.batch)];
      const out = await trainFastStyle({
        style: values.style,
        contentDir: values.content,
        runDir: values.run ?? '.cache/train-style',
        ...(steps ? { steps } : {}),
        ...(size ? { size } : {}),
        ...(batch ? { batch } : {}),
      });
      console.log(`wrote ${out}`);
      return 0;
    }
    if (what !== 'default') throw new InputError(`train: unknown target ${JSON.stringify(what ?? '')}; expected "default" or "style" (see gesso train --help)`);
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
