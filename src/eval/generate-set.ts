/**
 * Images generated for the evaluation: `count` seeds of one prompt through the pipeline's `generate()`,
 * without the upscaler, brought to the classifier's size (resized by sharp, Lanczos, when the model draws
 * at another size) and quantised to 8 bits, as a saved PNG would be, so generated and real drawings reach
 * the classifier the same way.
 */
import sharp from 'sharp';
import { generate, type GenerateRequest } from '../pipelines/generate.ts';
import type { DiffusionModel } from '../pipelines/model-folder.ts';
import { MAX_BATCH } from '../pipelines/settings.ts';

export interface GenerationSettings {
  steps?: number;
  cfgScale?: number;
  scheduler?: string;
  /** Pixels per side to generate at (default: the model's own size). */
  size?: number;
}

export interface GeneratedSet {
  prompt: string;
  seeds: number[];
  /** Side of every image below. */
  size: number;
  /** (N, 3, size, size) 0–255, the dataset loader's layout. */
  planes: Uint8Array;
  /** (N, size, size, 3) in [0, 1], for colour measures. */
  pixels: Float32Array;
  /** The resolved settings of the run, for the report. */
  settings: { steps: number; cfgScale: number; scheduler: string; width: number; height: number };
}

/** Generates seeds firstSeed..firstSeed + count − 1 of `prompt` and returns them at `size` px. */
export async function generateSet(
  model: DiffusionModel,
  prompt: string,
  firstSeed: number,
  count: number,
  size: number,
  settings: GenerationSettings = {},
): Promise<GeneratedSet> {
  const plane = size * size;
  const planes = new Uint8Array(count * 3 * plane);
  const pixels = new Float32Array(count * 3 * plane);
  const seeds: number[] = [];
  let resolved: GeneratedSet['settings'] | null = null;
  for (let done = 0; done < count; ) {
    const batch = Math.min(MAX_BATCH, count - done);
    const request: GenerateRequest = {
      prompt,
      seed: firstSeed + done,
      batchSize: batch,
      upscale: false,
      ...(settings.steps !== undefined ? { steps: settings.steps } : {}),
      ...(settings.cfgScale !== undefined ? { cfgScale: settings.cfgScale } : {}),
      ...(settings.scheduler !== undefined ? { scheduler: settings.scheduler } : {}),
      ...(settings.size !== undefined ? { width: settings.size, height: settings.size } : {}),
    };
    const result = await generate(model, request);
    const s = result.settings;
    resolved ??= { steps: s.steps, cfgScale: s.cfgScale, scheduler: s.schedulerName, width: s.width, height: s.height };
    for (const image of result.images) {
      const bytes = await toSize(image.pixels, image.width, image.height, size); // (size, size, 3)
      const i = done + image.index;
      seeds[i] = image.seed;
      for (let p = 0; p < plane; p++) {
        for (let c = 0; c < 3; c++) {
          const v = bytes[3 * p + c];
          planes[i * 3 * plane + c * plane + p] = v;
          pixels[i * 3 * plane + 3 * p + c] = v / 255;
        }
      }
    }
    done += batch;
  }
  return { prompt, seeds, size, planes, pixels, settings: resolved as GeneratedSet['settings'] };
}

/** (H, W, 3) in [0, 1] -> (size, size, 3) bytes. */
async function toSize(pixels: Float32Array, width: number, height: number, size: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) bytes[i] = Math.round(Math.min(1, Math.max(0, pixels[i])) * 255);
  if (width === size && height === size) return bytes;
  const out = await sharp(bytes, { raw: { width, height, channels: 3 } })
    .resize(size, size, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** A (3, S, S) byte set as the classifier's (N, 3, S, S) floats in [-1, 1]. */
export function planesToInput(planes: Uint8Array): Float32Array {
  const out = new Float32Array(planes.length);
  for (let i = 0; i < planes.length; i++) out[i] = planes[i] / 127.5 - 1;
  return out;
}
