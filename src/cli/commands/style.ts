import { basename, dirname, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { InputError } from '../../core/errors.ts';
import { ProgressBar } from '../../train/progress.ts';
import { STYLE_METHODS, stylizeToFile, writeStyleImage, type StyleMethod } from '../../style/stylize.ts';
import { optionalNumberFlag } from '../flags.ts';
import type { Command } from '../command.ts';

const usage = `Usage: gesso style CONTENT --style A.png[:weight] [--style B.png[:weight]] [options]

Repaints CONTENT (your image) in the style of one or more style images, or with a trained style network.
Writes a PNG with a gesso recipe (content and style hashes, method, settings) and IPTC
compositeWithTrainedAlgorithmicMedia provenance.

Methods:
  gatys   optimises the image against a perceptual encoder's features (default: MobileNetV2 from the
          nsfwjs package, no download); any style images, weights, masks; slow (a few minutes)
  fast    a feed-forward network for one style, in the ONNX model zoo's fast-neural-style format
          (input1/output1, pixels 0-255), run at the image's own size; make one with gesso train style
  adain   arbitrary style in one pass (Huang & Belongie's AdaIN) with the decoder gesso trained
          (models/gesso-adain-v1); several styles mix by weight; --strength is alpha

Options:
  --style FILE[:W]      a style image with relative weight W (default 1); repeat for a mix
  --method NAME         gatys (default), fast or adain
  --model FILE          fast: the style network (.onnx); adain: a model folder; gatys: a VGG
                        ONNX encoder (layers relu1_1..relu5_1, torchvision input normalisation)
  --strength A          gatys: multiplies the style weight; fast, adain: blends with the content
                        (0..1, AdaIN's alpha). Default 1
  --size N              longer side of the output in pixels (default 384 for gatys, 512 otherwise)
  --iterations N        gatys: optimisation steps (default 200)
  --preserve-color      keep the content's colours (luminance-only transfer)
  --mask FILE           gatys: greyscale mask at the content's size: white takes the first style, black the
                        second (with one style, black keeps the content)
  --intermediate N      gatys: also write OUT-<iteration>.png every N iterations
  --out FILE            output .png (default: CONTENT's name with -style.png, beside it)`;

/** "a.png:0.7" -> { path: "a.png", weight: 0.7 }; a path may itself contain ':' (only a numeric tail is a weight). */
export function parseStyleArg(arg: string): { path: string; weight: number } {
  const m = /^(.*):([^:/\\]*)$/.exec(arg);
  if (m && m[2] !== undefined && /^[0-9.eE+-]+$/.test(m[2])) {
    const weight = Number(m[2]);
    if (!(weight > 0) || !Number.isFinite(weight)) throw new InputError(`--style ${JSON.stringify(arg)}: weight "${m[2]}" must be a number > 0`);
    return { path: m[1] as string, weight };
  }
  return { path: arg, weight: 1 };
}

function positiveNumber(flag: string, v: string | undefined, integer: boolean): number | undefined {
  return optionalNumberFlag(`style: ${flag}`, v, integer ? { integer: true, min: 1 } : { min: 0 });
}

export const styleCommand: Command = {
  usage,
  async run(args: string[]): Promise<number> {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        style: { type: 'string', multiple: true },
        method: { type: 'string' },
        model: { type: 'string' },
        strength: { type: 'string' },
        size: { type: 'string' },
        iterations: { type: 'string' },
        'preserve-color': { type: 'boolean' },
        mask: { type: 'string' },
        intermediate: { type: 'string' },
        out: { type: 'string' },
      },
    });
    if (positionals.length !== 1)
      throw new InputError(
        `style: expected one content image, got ${positionals.length === 0 ? 'none' : positionals.map((p) => JSON.stringify(p)).join(', ')} (see gesso style --help)`,
      );
    const content = positionals[0] as string;
    const method = (values.method ?? 'gatys') as StyleMethod;
    if (!STYLE_METHODS.includes(method)) throw new InputError(`style: --method "${values.method}" is not one of ${STYLE_METHODS.join(', ')}`);
    const out = values.out ?? join(dirname(content), `${basename(content, extname(content))}-style.png`);
    if (!/\.png$/i.test(out)) throw new InputError(`style: --out ${JSON.stringify(out)} must end in .png`);
    if (resolve(out) === resolve(content)) throw new InputError(`style: --out ${JSON.stringify(out)} is the content image; choose another file`);
    const styles = (values.style ?? []).map(parseStyleArg).map((s) => ({ image: s.path, weight: s.weight }));
    const intermediate = positiveNumber('--intermediate', values.intermediate, true);
    const iterations = positiveNumber('--iterations', values.iterations, true);
    const size = positiveNumber('--size', values.size, true);
    const strength = positiveNumber('--strength', values.strength, false);
    let bar: ProgressBar | null = null;
    const started = performance.now();
    const result = await stylizeToFile(
      {
        content,
        styles,
        method,
        ...(values.model ? { model: values.model } : {}),
        ...(strength !== undefined ? { strength } : {}),
        ...(size !== undefined ? { size } : {}),
        ...(iterations !== undefined ? { iterations } : {}),
        ...(values.mask ? { mask: values.mask } : {}),
        preserveColor: values['preserve-color'] ?? false,
        onIteration: (i, total, losses) => {
          bar ??= new ProgressBar({ total, label: 'gatys' });
          bar.update(i, { loss: losses['loss'] ?? NaN, style: losses['style'] ?? NaN, content: losses['content'] ?? NaN });
        },
        ...(intermediate
          ? {
              intermediateEvery: intermediate,
              onIntermediate: async (image, it) => {
                const path = join(dirname(out), `${basename(out, extname(out))}-${String(it).padStart(4, '0')}.png`);
                await writeStyleImage(path, { image, recipe: { format: 'gesso.style', intermediate: it } });
              },
            }
          : {}),
      },
      out,
    );
    console.log(`wrote ${out} (${result.image.width}x${result.image.height}, ${method}, ${((performance.now() - started) / 1000).toFixed(1)} s)`);
    return 0;
  },
};
