/**
 * The `generate` job: txt2img, img2img and inpainting through gesso's pipeline. The payload is JSON
 * (init image and mask as base64 PNG/JPEG/WebP, checked against the upload limits before decoding), so
 * the same job runs in the server process or on a farm worker. The output carries the finished PNGs
 * (with A1111 parameters, recipe and XMP provenance) as base64; the server's sink stores them.
 */
import { InputError } from '../../core/errors.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../../core/json.ts';
import { decodeImageBytes } from '../../image/read-info.ts';
import { encodePng } from '../../image/write-image.ts';
import { generate, type GenerateRequest } from '../../pipelines/generate.ts';
import type { DiffusionModel } from '../../pipelines/model-folder.ts';
import { checkUpload, DEFAULT_UPLOAD_LIMITS, type UploadLimits } from '../../studio/upload-limits.ts';
import type { LoraWeight } from '../loras.ts';
import type { ModelRegistry } from '../models.ts';
import type { JobContext, JobHandler, JobRecord } from '../queue/types.ts';

/** A preview PNG goes out every this many steps (and at the last). */
export const PREVIEW_EVERY = 5;

export interface GeneratePayload {
  model: string;
  prompt: string;
  negativePrompt?: string;
  steps?: number;
  cfgScale?: number;
  scheduler?: string;
  seed?: number;
  width?: number;
  height?: number;
  batchSize?: number;
  strength?: number;
  eta?: number;
  upscale?: boolean;
  /** base64 image bytes. */
  initImage?: string;
  mask?: string;
  /** sha256 of the init image as stored in the library (lineage). */
  initSha256?: string;
  /** LoRAs merged into the model, by name (the worker's LoRA folders hold them), with the prompt's `<lora:...>` tags among them. */
  loras?: LoraWeight[];
}

export interface GeneratedPng {
  index: number;
  seed: number;
  width: number;
  height: number;
  /** base64 PNG with gesso's metadata chunks. */
  png: string;
}

export function generateHandler(models: ModelRegistry, limits: UploadLimits = DEFAULT_UPLOAD_LIMITS): JobHandler {
  return async (job: Pick<JobRecord, 'id' | 'payload'>, context: JobContext): Promise<JsonValue> => {
    const p = job.payload as unknown as GeneratePayload;
    return models.withLoras(p.model, p.loras ?? [], (model) => run(model, p, context, limits));
  };
}

/** One generation with the loaded model: previews every PREVIEW_EVERY steps, PNGs with their metadata. */
async function run(model: DiffusionModel, p: GeneratePayload, context: JobContext, limits: UploadLimits): Promise<JsonValue> {
  const request: GenerateRequest = { prompt: p.prompt };
  if (p.negativePrompt !== undefined) request.negativePrompt = p.negativePrompt;
  if (p.steps !== undefined) request.steps = p.steps;
  if (p.cfgScale !== undefined) request.cfgScale = p.cfgScale;
  if (p.scheduler !== undefined) request.scheduler = p.scheduler;
  if (p.seed !== undefined) request.seed = p.seed;
  if (p.width !== undefined) request.width = p.width;
  if (p.height !== undefined) request.height = p.height;
  if (p.batchSize !== undefined) request.batchSize = p.batchSize;
  if (p.strength !== undefined) request.strength = p.strength;
  if (p.eta !== undefined) request.eta = p.eta;
  if (p.upscale !== undefined) request.upscale = p.upscale;
  if (p.initImage !== undefined) request.initImage = await decodeBase64Image(p.initImage, 'init image', limits);
  if (p.mask !== undefined) request.mask = await decodeBase64Image(p.mask, 'mask', limits);

  const started = performance.now();
  const result = await generate(model, request, {
    signal: context.signal,
    onStep: async (e) => {
      const perStep = (performance.now() - started) / e.step;
      const progress: { step: number; steps: number; etaMs: number; preview?: string } = {
        step: e.step,
        steps: e.steps,
        etaMs: Math.round(perStep * (e.steps - e.step)),
      };
      if (e.step % PREVIEW_EVERY === 0 || e.step === e.steps) {
        const preview = e.preview(0);
        progress.preview = Buffer.from(await encodePng(preview.data, preview.width, preview.height, 3)).toString('base64');
      }
      context.progress(progress);
    },
  });
  const images: GeneratedPng[] = [];
  for (const im of result.images) {
    const png = await encodePng(im.pixels, im.width, im.height, 3, im.metadata);
    images.push({ index: im.index, seed: im.seed, width: im.width, height: im.height, png: Buffer.from(png).toString('base64') });
  }
  const output: JsonObject = {
    images: images as unknown as JsonValue[],
    warnings: result.warnings,
    mode: result.settings.mode,
    totalMs: Math.round(result.timings.totalMs),
  };
  return output;
}

export async function decodeBase64Image(base64: string, what: string, limits: UploadLimits) {
  if (typeof base64 !== 'string') throw new InputError(`${what}: expected base64 image data`);
  const text = base64.replace(/^data:image\/[a-z]+;base64,/, '');
  if (!/^[A-Za-z0-9+/=\s]*$/.test(text)) throw new InputError(`${what} is not base64 (or a data: URL of an image)`);
  const bytes = new Uint8Array(Buffer.from(text, 'base64'));
  await checkUpload(bytes, what, limits);
  return decodeImageBytes(bytes, what);
}

/** The output of a generate job, checked (it may come from a farm worker through Redis). */
export function generatedPngs(output: JsonValue): GeneratedPng[] {
  if (!isJsonObject(output) || !Array.isArray(output.images)) throw new InputError('generate job output has no images list');
  return output.images.map((v, i) => {
    if (!isJsonObject(v) || typeof v.png !== 'string' || typeof v.index !== 'number' || typeof v.seed !== 'number')
      throw new InputError(`generate job output image ${i} is malformed`);
    return v as unknown as GeneratedPng;
  });
}
