/**
 * The `upscale` job: a library image through the model's upscaler/ (4× for the default model), run by the
 * model's worker-thread session like every model here. Its output has the generate job's shape, so the
 * sink stores the result with the source image's hash as its lineage.
 */
import { InputError } from '../../core/errors.ts';
import type { JsonValue } from '../../core/json.ts';
import { encodePng } from '../../image/write-image.ts';
import { upscaleImage } from '../../pipelines/latents.ts';
import { planesToPixels, pixelsToPlanes } from '../../pipelines/pixels.ts';
import { MAX_UPSCALE_INPUT_SIDE } from '../../pipelines/upscaler.ts';
import { DEFAULT_UPLOAD_LIMITS, type UploadLimits } from '../../studio/upload-limits.ts';
import type { ModelRegistry } from '../models.ts';
import type { JobHandler } from '../queue/types.ts';
import { decodeBase64Image, type GeneratedPng } from './generate-job.ts';

export interface UpscalePayload {
  model: string;
  /** base64 image bytes. */
  image: string;
  /** sha256 of the source image in the library (lineage). */
  imageSha256?: string;
}

export function upscaleHandler(models: ModelRegistry, limits: UploadLimits = DEFAULT_UPLOAD_LIMITS): JobHandler {
  return async (job, context) => {
    const p = job.payload as unknown as UpscalePayload;
    const source = await decodeBase64Image(p.image, 'image', limits);
    if (source.width > MAX_UPSCALE_INPUT_SIDE || source.height > MAX_UPSCALE_INPUT_SIDE) {
      throw new InputError(`image is ${source.width}x${source.height}; the upscaler takes at most ${MAX_UPSCALE_INPUT_SIDE} px a side`);
    }
    const model = await models.load(p.model);
    context.progress({ step: 0, steps: 1, etaMs: null });
    const out = await upscaleImage(model, pixelsToPlanes(source.data, source.width, source.height), source.width, source.height, context.signal);
    context.progress({ step: 1, steps: 1, etaMs: 0 });
    const png = await encodePng(planesToPixels(out.planes, out.width, out.height), out.width, out.height, 3, {
      source: 'edited',
      recipe: {
        kind: 'upscale',
        model: p.model,
        initImage: { path: null, sha256: p.imageSha256 ?? null },
        size: { from: [source.width, source.height], to: [out.width, out.height] },
      },
    });
    const image: GeneratedPng = { index: 0, seed: 0, width: out.width, height: out.height, png: Buffer.from(png).toString('base64') };
    const output: JsonValue = { images: [image as unknown as JsonValue], warnings: [] };
    return output;
  };
}
