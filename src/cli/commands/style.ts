import { basename, dirname, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { InputError } from '../../core/errors.ts';
import { ProgressBar } from '../../train/progress.ts';
import { loadFrames, isFrameSequence } from '../../style/frames.ts';
import { GATYS_OPTIMIZERS, type GatysOptimizer } from '../../style/gatys.ts';
import { stylizeSequence, writeSequence } from '../../style/sequence.ts';
import { STYLE_METHODS, stylizeToFile, writeStyleImage, type StyleMethod } from '../../style/stylize.ts';
import { optionalNumberFlag } from '../flags.ts';
import type { Command } from '../command.ts';

const usage = `Usage: gesso style CONTENT --style A.png[:weight] [--style B.png[:weight]] [options]
       gesso style FRAMES_DIR|ANIMATION.gif|.webp --style A.png [options] --out OUT.webp|.gif|DIR

Repaints CONTENT (your image) in the style of one or more style images, or with a trained style network.
Writes a PNG with a gesso recipe (content and style hashes, method, settings) and IPTC
compositeWithTrainedAlgorithmicMedia provenance.

Sequences: given a folder of frames (sorted by name; all one size) or an animated GIF/WebP, every frame
is stylised so that the style does not flicker: the motion between input frames is estimated (block
matching); gatys starts each frame from the previous result moved along it and keeps it there with a
temporal loss; fast and adain blend the moved previous result into each new frame where the motion is
reliable. Writes a looping animated .webp/.gif (recipe and provenance inside the file, as XMP) or a folder of PNGs, and
prints the flicker: mean change between consecutive output frames relative to the input frames'.

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
  --optimizer NAME      gatys: adam (default) or lbfgs (L-BFGS with a line search; fewer iterations
                        for the same loss, each may evaluate the network more than once)
  --intermediate N      gatys: also write OUT-<iteration>.png every N iterations
  --out FILE            output .png (default: CONTENT's name with -style.png, beside it); for a
                        sequence .webp or .gif (an animation) or a folder name (default CONTENT-style.webp)
  --independent         sequences: stylise every frame on its own (no temporal coherence; to compare)
  --follow-iterations N sequences, gatys: iterations for each frame after the first, which starts from the
                        previous result (default half of --iterations, at half the learning rate)
  --fps N               sequences: frames per second of the animation (default: the input's, else 12)`;

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
        'follow-iterations': { type: 'string' },
        'preserve-color': { type: 'boolean' },
        mask: { type: 'string' },
        intermediate: { type: 'string' },
        optimizer: { type: 'string' },
        independent: { type: 'boolean' },
        fps: { type: 'string' },
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
    const optimizer = values.optimizer as GatysOptimizer | undefined;
    if (optimizer !== undefined && !GATYS_OPTIMIZERS.includes(optimizer))
      throw new InputError(`style: --optimizer "${values.optimizer}" is not one of ${GATYS_OPTIMIZERS.join(', ')}`);
    if (await isFrameSequence(content)) return runSequence(content, method, optimizer, values);
    if (values.independent || values.fps) throw new InputError(`style: --independent and --fps apply to sequences; ${JSON.stringify(content)} is one image`);
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
        ...(optimizer ? { optimizer } : {}),
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

type StyleFlags = Record<string, string | boolean | string[] | undefined>;

/** `gesso style FRAMES --out OUT.webp`: a folder of frames or an animation, stylised without flicker. */
async function runSequence(input: string, method: StyleMethod, optimizer: GatysOptimizer | undefined, values: StyleFlags): Promise<number> {
  const str = (k: string): string | undefined => values[k] as string | undefined;
  const out = str('out') ?? join(dirname(input), `${basename(input, extname(input))}-style.webp`);
  if (resolve(out) === resolve(input)) throw new InputError(`style: --out ${JSON.stringify(out)} is the input; choose another name`);
  if (!/\.(webp|gif)$/i.test(out) && extname(out) !== '')
    throw new InputError(`style: --out ${JSON.stringify(out)} must be a .webp or .gif animation, or a folder name`);
  if (values['mask'] || values['intermediate']) throw new InputError('style: --mask and --intermediate apply to single images, not sequences');
  const fps = optionalNumberFlag('style: --fps', str('fps'), { min: 0.1 });
  const iterations = positiveNumber('--iterations', str('iterations'), true);
  const followIterations = positiveNumber('--follow-iterations', str('follow-iterations'), true);
  const size = positiveNumber('--size', str('size'), true);
  const strength = positiveNumber('--strength', str('strength'), false);
  const seq = await loadFrames(input);
  const started = performance.now();
  const bar = new ProgressBar({ total: seq.frames.length, label: `style ${method} frames` });
  const result = await stylizeSequence({
    frames: seq.frames,
    names: seq.names.map((n) => basename(n)),
    method,
    styles: ((values['style'] as string[] | undefined) ?? []).map(parseStyleArg).map((s) => ({ image: s.path, weight: s.weight })),
    coherent: !values['independent'],
    preserveColor: (values['preserve-color'] as boolean | undefined) ?? false,
    ...(str('model') ? { model: str('model') as string } : {}),
    ...(strength !== undefined ? { strength } : {}),
    ...(size !== undefined ? { size } : {}),
    ...(iterations !== undefined ? { iterations } : {}),
    ...(followIterations !== undefined ? { followIterations } : {}),
    ...(optimizer ? { optimizer } : {}),
    onFrame: (k) => bar.update(k + 1, {}),
  });
  const delay = seq.delays?.[0];
  await writeSequence(out, result, fps !== undefined ? { fps } : delay ? { fps: 1000 / delay } : {});
  const f = result.flicker;
  const first = result.frames[0] as { width: number; height: number };
  console.log(
    `wrote ${out} (${result.frames.length} frames, ${first.width}x${first.height}, ${method}${values['independent'] ? ', independent' : ''}, ${((performance.now() - started) / 1000).toFixed(1)} s)`,
  );
  console.log(
    `flicker ${f.ratio.toFixed(3)} (mean change per frame ${f.output.toFixed(4)} vs the input's ${f.input.toFixed(4)}); along the motion ${f.warpedOutput.toFixed(4)} vs ${f.warpedInput.toFixed(4)}; drift ${f.drift.toFixed(3)} (SSIM to the input, first frame minus the last half)`,
  );
  return 0;
}
