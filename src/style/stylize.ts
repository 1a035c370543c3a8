/**
 * The style-transfer API behind `gesso style`: one request, three methods.
 * - gatys: optimise the image against an encoder's features (slow, any style, best quality);
 * - fast: a feed-forward network trained for one style (`gesso train style`, or the ONNX model zoo's
 *   fast-neural-style files), run at the content's size;
 * - adain: arbitrary style in one pass with a decoder gesso trained (models/gesso-adain-v1 by default);
 *   strength is AdaIN's alpha, several styles mix by weighting their feature statistics.
 * Output PNGs carry a recipe (content/style hashes, method, every setting) and IPTC
 * compositeWithTrainedAlgorithmicMedia: the content is the user's, edited by a trained model.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { InputError } from '../core/errors.ts';
import { writeImageFile } from '../image/write-image.ts';
import { adainTransfer, DEFAULT_ADAIN_DIR, loadAdainModel } from './adain-model.ts';
import { preserveColor } from './color.ts';
import { defaultEncoder, type FeatureEncoder } from './encoder.ts';
import { GATYS_DEFAULTS, gatysTransfer, type GatysOptimizer, type TemporalPrior } from './gatys.ts';
import { loadImage } from './load-image.ts';
import { onnxEncoder } from './onnx-encoder.ts';
import { runImageModel } from './onnx-image-model.ts';
import { fitSize, resizePlanes, toPixels, type RgbPlanes } from './planes.ts';

export type StyleMethod = 'gatys' | 'fast' | 'adain';
export const STYLE_METHODS: readonly StyleMethod[] = ['gatys', 'fast', 'adain'];

/** An image given as a file path, or as planes already in memory (named for the recipe). */
export type StyleImageInput = string | { planes: RgbPlanes; name: string };

export interface StyleRequest {
  content: StyleImageInput;
  /** Style images with relative weights (default 1 each). `fast` takes none: the style is in the network. */
  styles?: { image: StyleImageInput; weight?: number }[];
  method: StyleMethod;
  /**
   * fast: the network (.onnx); adain: the model folder (default models/gesso-adain-v1); gatys: a VGG-style
   * ONNX encoder whose layers are addressed as relu1_1 ... (torchvision normalisation), instead of MobileNetV2.
   */
  model?: string;
  /** How strongly the style applies: gatys scales the style weight; fast/adain blend with the content. Default 1. */
  strength?: number;
  /** Longer side of the output in pixels (default 512 for fast/adain, 384 for gatys). */
  size?: number;
  preserveColor?: boolean;
  /** Greyscale mask at the content's size: white = first style, black = second style (or content with one style). */
  mask?: StyleImageInput;
  /** gatys only. */
  iterations?: number;
  /** gatys: 'adam' (default) or 'lbfgs'. */
  optimizer?: GatysOptimizer;
  /** gatys, Adam: learning rate on pixels in [0, 1] (default 0.05). */
  learningRate?: number;
  /** gatys: start from this image (at the output size) instead of the content: the previous frame of a sequence. */
  start?: RgbPlanes;
  /** gatys: stay near a target image where it is trusted (sequences, ./sequence.ts). */
  temporal?: TemporalPrior;
  onIteration?: (iteration: number, total: number, losses: Record<string, number>) => void;
  onIntermediate?: (image: RgbPlanes, iteration: number) => void | Promise<void>;
  intermediateEvery?: number;
  encoder?: FeatureEncoder;
  signal?: AbortSignal;
}

export interface StyleResult {
  image: RgbPlanes;
  recipe: Record<string, unknown>;
}

export const STYLE_RECIPE_FORMAT = 'gesso.style';

/** Runs a style request; returns the stylised image and its recipe. */
export async function stylize(req: StyleRequest): Promise<StyleResult> {
  if (!STYLE_METHODS.includes(req.method)) throw new InputError(`style method "${String(req.method)}" is not one of ${STYLE_METHODS.join(', ')}`);
  const strength = req.strength ?? 1;
  if (!(strength >= 0) || !Number.isFinite(strength)) throw new InputError(`strength ${strength} must be a number >= 0`);
  const size = req.size ?? defaultStyleSize(req.method);
  if (!Number.isInteger(size) || size < 16 || size > 4096) throw new InputError(`size ${size} must be a whole number of pixels from 16 to 4096`);
  const styles = req.styles ?? [];
  if (req.method !== 'fast' && styles.length === 0) throw new InputError(`method ${req.method} needs at least one style image (--style FILE)`);
  if (req.method === 'fast' && !req.model) throw new InputError('method fast needs a style network (--model FILE.onnx; make one with gesso train style)');
  for (const s of styles)
    if (!(s.weight === undefined || (s.weight > 0 && Number.isFinite(s.weight)))) throw new InputError(`style weight ${s.weight} must be a number > 0`);

  const contentIn = await resolveImage(req.content, 'content image');
  const fitted = styleOutputSize(req.method, contentIn.planes.width, contentIn.planes.height, size);
  const content = await resizePlanes(contentIn.planes, fitted.width, fitted.height);
  const styleIns = await Promise.all(styles.map((s) => resolveImage(s.image, 'style image')));
  for (const s of styleIns) {
    if (s.planes.width < 16 || s.planes.height < 16)
      throw new InputError(`style image ${s.name} is ${s.planes.width}x${s.planes.height}; a style image needs at least 16x16 pixels to have a texture`);
  }
  const maskIn = req.mask ? await resolveImage(req.mask, 'mask') : null;
  if (maskIn && (maskIn.planes.width !== contentIn.planes.width || maskIn.planes.height !== contentIn.planes.height)) {
    throw new InputError(
      `mask ${maskIn.name} is ${maskIn.planes.width}x${maskIn.planes.height}; it must be the content image's size, ${contentIn.planes.width}x${contentIn.planes.height}`,
    );
  }
  if ((req.start || req.temporal || req.optimizer) && req.method !== 'gatys')
    throw new InputError(`a start image, temporal prior and optimizer apply to method gatys only (got ${req.method})`);
  if (maskIn && req.method !== 'gatys') throw new InputError(`--mask works with method gatys only (got ${req.method})`);
  if (maskIn && styles.length > 2) throw new InputError(`a mask splits the image between two styles; got ${styles.length} styles`);

  let image: RgbPlanes;
  const settings: Record<string, unknown> = { strength, size, preserveColor: req.preserveColor ?? false };
  if (req.method === 'gatys') {
    const encoder = req.encoder ?? (req.model ? onnxEncoder(req.model) : defaultEncoder());
    const maskPlanes = maskIn ? await resizePlanes(maskIn.planes, content.width, content.height) : null;
    const white = maskPlanes ? maskPlanes.data.subarray(0, content.width * content.height) : null;
    const iterations = req.iterations ?? GATYS_DEFAULTS.iterations;
    const learningRate = req.learningRate ?? GATYS_DEFAULTS.learningRate;
    if (!(learningRate > 0) || !Number.isFinite(learningRate)) throw new InputError(`learning rate ${learningRate} must be a number > 0`);
    image = await gatysTransfer(
      encoder,
      content,
      styleIns.map((s, i) => ({
        image: s.planes,
        weight: styles[i]?.weight ?? 1,
        ...(white ? { mask: i === 0 ? Float32Array.from(white) : Float32Array.from(white, (v) => 1 - v) } : {}),
      })),
      {
        iterations,
        styleWeight: GATYS_DEFAULTS.styleWeight * strength,
        learningRate,
        ...(req.optimizer ? { optimizer: req.optimizer } : {}),
        ...(req.start ? { start: req.start } : {}),
        ...(req.temporal ? { temporal: req.temporal } : {}),
        ...(req.onIteration ? { onIteration: req.onIteration } : {}),
        ...(req.onIntermediate ? { onIntermediate: req.onIntermediate, intermediateEvery: req.intermediateEvery ?? 50 } : {}),
        ...(req.signal ? { signal: req.signal } : {}),
      },
    );
    Object.assign(settings, {
      iterations,
      optimizer: req.optimizer ?? 'adam',
      encoder: encoder.id,
      styleWeight: GATYS_DEFAULTS.styleWeight * strength,
      learningRate,
      tvWeight: GATYS_DEFAULTS.tvWeight,
    });
  } else if (req.method === 'fast') {
    image = blend(await runImageModel(req.model as string, content), content, strength);
    Object.assign(settings, { model: basename(req.model as string), modelSha256: sha256(readFileSync(req.model as string)) });
  } else {
    const model = loadAdainModel(req.model ?? DEFAULT_ADAIN_DIR);
    image = await adainTransfer(
      model,
      content,
      styleIns.map((s, i) => ({ image: s.planes, weight: styles[i]?.weight ?? 1 })),
      Math.min(1, strength),
      req.encoder,
    );
    Object.assign(settings, {
      model: model.dir,
      modelSha256: model.sha256,
      encoder: model.config.encoder,
      layer: model.config.layer,
      alpha: Math.min(1, strength),
      decoderSteps: (model.config as { training?: { trainedSteps?: number } }).training?.trainedSteps,
    });
  }
  if (req.preserveColor) image = preserveColor(image, content);
  const recipe = {
    format: STYLE_RECIPE_FORMAT,
    version: 1,
    method: req.method,
    content: { name: contentIn.name, sha256: contentIn.sha256, size: [contentIn.planes.width, contentIn.planes.height] },
    styles: styleIns.map((s, i) => ({ name: s.name, sha256: s.sha256, weight: styles[i]?.weight ?? 1 })),
    ...(maskIn ? { mask: { name: maskIn.name, sha256: maskIn.sha256 } } : {}),
    output: [image.width, image.height],
    settings,
  };
  return { image, recipe };
}

/** Longer side of the output when the request gives none. */
export function defaultStyleSize(method: StyleMethod): number {
  return method === 'gatys' ? 384 : 512;
}

/** The output size for a content of width × height: longer side min(size, its own), sides multiples the method needs. */
export function styleOutputSize(method: StyleMethod, width: number, height: number, size: number): { width: number; height: number } {
  return fitSize(width, height, Math.min(size, Math.max(width, height)), method === 'fast' ? 4 : method === 'adain' ? 8 : 1);
}

/** Runs `stylize` and writes a PNG atomically with the recipe and IPTC provenance. */
export async function stylizeToFile(req: StyleRequest, out: string): Promise<StyleResult> {
  if (!/\.png$/i.test(out)) throw new InputError(`output ${JSON.stringify(out)} must end in .png (gesso writes PNG)`);
  const result = await stylize(req);
  await writeStyleImage(out, result);
  return result;
}

export async function writeStyleImage(out: string, result: StyleResult): Promise<void> {
  await writeImageFile(out, toPixels(result.image), result.image.width, result.image.height, 3, { source: 'edited', recipe: result.recipe });
}

/** (1 - a)·content + a·stylised for a in [0, 1]; a > 1 is treated as 1. */
function blend(stylised: RgbPlanes, content: RgbPlanes, a: number): RgbPlanes {
  if (a >= 1) return stylised;
  return { ...stylised, data: Float32Array.from(stylised.data, (v, i) => a * v + (1 - a) * (content.data[i] as number)) };
}

async function resolveImage(input: StyleImageInput, role: string): Promise<{ planes: RgbPlanes; name: string; sha256: string }> {
  if (typeof input === 'string') {
    const planes = await loadImage(input, role);
    return { planes, name: basename(input), sha256: sha256(readFileSync(input)) };
  }
  const { planes, name } = input;
  if (planes.data.length !== 3 * planes.width * planes.height)
    throw new InputError(`${role} ${name}: ${planes.data.length} values for ${planes.width}x${planes.height} (expected 3 planes)`);
  return { planes, name, sha256: sha256(new Uint8Array(planes.data.buffer, planes.data.byteOffset, planes.data.byteLength)) };
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
