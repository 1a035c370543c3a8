/**
 * The `style` job: a content image restyled by gesso's style transfer (gatys, fast or adain; src/style),
 * for the studio's Style page. Images travel as base64 (checked against the upload limits) so the job
 * runs on a farm worker too; models are chosen by id from the installed ones (a fast style network's
 * folder, or an AdaIN decoder's; gatys needs none). The output has the generate job's shape, so the
 * result sink stores the PNG (with its style recipe) in the library with the content image as lineage.
 */
import { join } from 'node:path';
import { InputError } from '../../core/errors.ts';
import type { JsonValue } from '../../core/json.ts';
import { encodePng } from '../../image/write-image.ts';
import { toPixels, toPlanes } from '../../style/planes.ts';
import { STYLE_METHODS, stylize, type StyleMethod, type StyleRequest } from '../../style/stylize.ts';
import { DEFAULT_UPLOAD_LIMITS, type UploadLimits } from '../../studio/upload-limits.ts';
import type { ModelRegistry } from '../models.ts';
import type { JobHandler } from '../queue/types.ts';
import { decodeBase64Image, type GeneratedPng } from './generate-job.ts';

/** The AdaIN decoder used when none is named. */
export const DEFAULT_ADAIN_MODEL = 'gesso-adain-v1';

export interface StylePayload {
  method: StyleMethod;
  /** base64 image bytes. */
  content: string;
  /** sha256 of the content image in the library (lineage). */
  initSha256?: string;
  /** base64 image bytes (gatys, adain). */
  style?: string;
  /** fast: a style-fast model id; adain: a style-adain model id (default gesso-adain-v1). */
  model?: string;
  strength?: number;
  /** Longer side of the output in pixels. */
  size?: number;
  /** gatys only. */
  iterations?: number;
}

export function styleHandler(models: ModelRegistry, limits: UploadLimits = DEFAULT_UPLOAD_LIMITS): JobHandler {
  return async (job, context) => {
    const p = job.payload as unknown as StylePayload;
    if (!STYLE_METHODS.includes(p.method)) throw new InputError(`style method ${JSON.stringify(p.method)} is not one of ${STYLE_METHODS.join(', ')}`);
    const content = await decodeBase64Image(p.content, 'content image', limits);
    const request: StyleRequest = {
      method: p.method,
      content: { planes: toPlanes(content.data, content.width, content.height), name: 'content' },
      signal: context.signal,
    };
    if (p.method !== 'fast') {
      if (p.style === undefined) throw new InputError(`method ${p.method} needs a style image`);
      const style = await decodeBase64Image(p.style, 'style image', limits);
      request.styles = [{ image: { planes: toPlanes(style.data, style.width, style.height), name: 'style' } }];
    }
    let modelId: string | null = null;
    if (p.method === 'fast') {
      if (p.model === undefined) throw new InputError('method fast needs a style network: model = the id of a fast style model (Models page)');
      const entry = models.find(p.model, ['style-fast']);
      modelId = entry.id;
      request.model = join(entry.dir, 'style.onnx');
    } else if (p.method === 'adain') {
      const entry = models.find(p.model ?? DEFAULT_ADAIN_MODEL, ['style-adain']);
      modelId = entry.id;
      request.model = entry.dir;
    }
    if (p.strength !== undefined) request.strength = p.strength;
    if (p.size !== undefined) request.size = p.size;
    if (p.iterations !== undefined) request.iterations = p.iterations;
    const total = p.method === 'gatys' ? (p.iterations ?? 0) : 1;
    const started = performance.now();
    request.onIteration = (iteration, iterations) => {
      const perStep = (performance.now() - started) / Math.max(1, iteration);
      context.progress({ step: iteration, steps: iterations, etaMs: Math.round(perStep * (iterations - iteration)) });
    };
    context.progress({ step: 0, steps: Math.max(1, total), etaMs: null });
    const result = await stylize(request);
    // The recipe names the model by id: a server path never reaches a client.
    const settings = { ...(result.recipe.settings as Record<string, unknown>), ...(modelId ? { model: modelId } : {}) };
    const { width, height } = result.image;
    const png = await encodePng(toPixels(result.image), width, height, 3, { source: 'edited', recipe: { ...result.recipe, settings } });
    context.progress({ step: Math.max(1, total), steps: Math.max(1, total), etaMs: 0 });
    const image: GeneratedPng = { index: 0, seed: 0, width, height, png: Buffer.from(png).toString('base64') };
    const output: JsonValue = { images: [image as unknown as JsonValue], warnings: [] };
    return output;
  };
}
