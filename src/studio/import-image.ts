/**
 * Brings an existing PNG into the library with whatever its metadata says about how it was made: gesso's
 * recipe first, then A1111 `parameters`, then a ComfyUI graph. The bytes are stored as they came, so an
 * export gives back the original file. All metadata is untrusted text: it is stored and returned as
 * strings and JSON, never interpreted as markup or as a path.
 */
import { InputError } from '../core/errors.ts';
import { isJsonObject, type JsonObject } from '../core/json.ts';
import { isPng } from '../image/png-chunks.ts';
import { readImageInfoFromBytes, type ImageInfo } from '../image/read-info.ts';
import type { ImageRecord, Library, NewImage } from './library.ts';
import { checkUpload, type UploadLimits } from './upload-limits.ts';

export async function importPng(
  library: Library,
  userId: string,
  png: Uint8Array,
  options: { fileName?: string; limits?: UploadLimits; tags?: string[] } = {},
): Promise<ImageRecord> {
  const label = options.fileName !== undefined ? `upload ${JSON.stringify(options.fileName)}` : 'uploaded image';
  if (!isPng(png)) throw new InputError(`${label} is not a PNG; import takes PNG files (their text chunks carry the settings)`);
  const header = await checkUpload(png, label, options.limits);
  const info = await readImageInfoFromBytes(png, label);
  return library.add({
    ...describe(info),
    userId,
    png,
    width: header.width,
    height: header.height,
    origin: 'imported',
    ...(options.tags ? { tags: options.tags } : {}),
    provenance: provenance(info, options.fileName),
  });
}

/** Library fields from an image's metadata. */
export function describe(info: ImageInfo): Omit<NewImage, 'userId' | 'png' | 'width' | 'height' | 'origin'> {
  const recipe = info.recipe;
  if (recipe) {
    const model = isJsonObject(recipe.model) ? recipe.model : {};
    const scheduler = isJsonObject(recipe.scheduler) ? recipe.scheduler : {};
    const initImage = isJsonObject(recipe.initImage) ? recipe.initImage : {};
    return {
      prompt: str(recipe.prompt) ?? '',
      negativePrompt: str(recipe.negativePrompt) ?? '',
      model: str(model.name) ?? null,
      modelHash: str(model.hash) ?? null,
      sampler: str(scheduler.name) ?? null,
      seed: num(recipe.seed) ?? null,
      steps: num(recipe.steps) ?? null,
      cfgScale: num(recipe.cfgScale) ?? null,
      recipe,
      parametersText: info.parametersText ?? null,
      parentSha256: str(initImage.sha256) ?? null,
    };
  }
  const a = info.a1111;
  if (a) {
    return {
      prompt: a.prompt,
      negativePrompt: a.negativePrompt ?? '',
      model: a.model ?? null,
      modelHash: a.modelHash ?? null,
      sampler: a.sampler ?? null,
      seed: a.seed ?? null,
      steps: a.steps ?? null,
      cfgScale: a.cfgScale ?? null,
      parametersText: info.parametersText ?? null,
    };
  }
  const c = info.comfyui?.summary;
  if (c) {
    return {
      prompt: c.positivePrompt ?? '',
      negativePrompt: c.negativePrompt ?? '',
      sampler: c.sampler ?? null,
      seed: c.seed ?? null,
      steps: c.steps ?? null,
      cfgScale: c.cfg ?? null,
    };
  }
  return {};
}

function provenance(info: ImageInfo, fileName: string | undefined): Record<string, unknown> {
  const reader = info.recipe ? 'gesso' : info.a1111 ? 'a1111' : info.comfyui ? 'comfyui' : 'none';
  const out: JsonObject = { reader };
  if (info.digitalSourceType !== undefined) out.digitalSourceType = info.digitalSourceType;
  if (fileName !== undefined) out.fileName = fileName;
  if (info.warnings.length > 0) out.warnings = info.warnings;
  return out;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
