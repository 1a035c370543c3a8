import { existsSync } from 'node:fs';
import { resolve, basename, dirname, extname, join } from 'node:path';
import { InputError } from '../../core/errors.ts';
import { decodeImage } from '../../image/read-info.ts';
import { writeImageFile } from '../../image/write-image.ts';
import { loadUpscaler, MAX_UPSCALE_INPUT_SIDE } from '../../pipelines/upscaler.ts';
import { parseFlags } from '../flags.ts';
import type { Command } from '../command.ts';
import { DEFAULT_MODEL_DIR } from '../../core/paths.ts';
import { checkThreadCount, maxThreads } from '../../runtime/threads.ts';

const usage = `Usage: gesso upscale IMAGE [--out OUT.png] [--model DIR] [--threads N]

Enlarges an image 4× with gesso's upscaler (a small network trained on drawings: it sharpens edges
that bicubic resizing blurs). Any image sharp reads (PNG, JPEG, WebP, ...) up to ${MAX_UPSCALE_INPUT_SIDE} px a side;
transparency is flattened onto white. Writes a PNG marked as an edit of your image by a trained model
(IPTC compositeWithTrainedAlgorithmicMedia) with a gesso recipe.

Options:
  --out FILE     output .png (default: IMAGE's name with -x4.png, beside it)
  --model DIR    a model folder with upscaler/ in it, or an upscaler/ folder
                 (default: models/gesso-default-v2)
  --threads N    ONNX Runtime threads (default: all cores; at most 4 per core, here ${maxThreads()})
  --overwrite    replace OUT if it exists (otherwise an existing file is never replaced)`;

export const upscaleCommand: Command = {
  usage,
  async run(args: string[]): Promise<number> {
    const parsed = parseFlags('upscale', {
      args,
      allowPositionals: true,
      options: { out: { type: 'string' }, model: { type: 'string' }, threads: { type: 'string' }, overwrite: { type: 'boolean', default: false } },
    });
    const { values, positionals } = parsed;
    if (positionals.length !== 1)
      throw new InputError(
        `upscale: expected one input image, got ${positionals.length === 0 ? 'none' : positionals.map((p) => JSON.stringify(p)).join(', ')} (see gesso upscale --help)`,
      );
    const input = positionals[0] as string;
    const out = values.out ?? join(dirname(input), `${basename(input, extname(input))}-x4.png`);
    if (resolve(out) === resolve(input)) throw new InputError(`upscale: --out ${JSON.stringify(out)} is the input image; choose another file`);
    if (!values.overwrite && existsSync(out))
      throw new InputError(`upscale: ${JSON.stringify(out)} already exists; pass --overwrite to replace it, or choose another --out`);
    const threads = values.threads !== undefined ? checkThreadCount(values.threads, 'upscale: --threads') : undefined;

    const image = await decodeImage(input, {
      what: 'upscale input',
      maxSide: MAX_UPSCALE_INPUT_SIDE,
      hint: 'gesso upscale has no tiling yet: downscale it first',
    });
    const modelDir = values.model ?? DEFAULT_MODEL_DIR;
    const upscaler = await loadUpscaler(modelDir, threads ? { threads } : {});
    try {
      const started = performance.now();
      const result = await upscaler.upscale(toPlanes(image.data, image.width, image.height), image.width, image.height);
      const ms = performance.now() - started;
      await writeImageFile(
        out,
        toPixels(result.planes, result.width, result.height),
        result.width,
        result.height,
        3,
        {
          source: 'edited',
          recipe: {
            kind: 'upscale',
            input: basename(input),
            model: upscaler.dir,
            upscaler: upscaler.config,
            size: { from: [image.width, image.height], to: [result.width, result.height] },
          },
        },
        { replace: values.overwrite === true },
      );
      console.log(`wrote ${out} (${result.width}x${result.height} from ${image.width}x${image.height}, ${Math.round(ms)} ms)`);
    } finally {
      await upscaler.release();
    }
    return 0;
  },
};

/** (H, W, 3) in [0, 1] -> (3, H, W) in [-1, 1]. */
function toPlanes(hwc: Float32Array, width: number, height: number): Float32Array {
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) out[c * plane + p] = hwc[3 * p + c] * 2 - 1;
  return out;
}

/** (3, H, W) in [-1, 1] -> (H, W, 3) in [0, 1]. */
function toPixels(planes: Float32Array, width: number, height: number): Float32Array {
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) out[3 * p + c] = (planes[c * plane + p] + 1) / 2;
  return out;
}
