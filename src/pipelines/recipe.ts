/**
 * What a generated image says about how it was made:
 * - A1111 `parameters` (prompt, negative prompt, Steps, Sampler, Schedule type, CFG scale, Seed, Size,
 *   Model hash, Model, Denoising strength), so A1111's PNG Info, Civitai and other readers show them;
 * - gesso's JSON recipe: every setting, the scheduler's class and full resolved config, the model's hash,
 *   the image's own seed, and the runtime that computed it (ORT version, CPU kernel family), enough for
 *   `gesso generate --recipe image.png` to make the same image (exactly on the same runtime; remake.ts).
 * Each image of a batch gets its own seed (seed + i) and batch size 1 in its recipe: it reproduces alone.
 */
import { InputError } from '../core/errors.ts';
import type { A1111Parameters } from '../image/a1111-parameters.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../image/json.ts';
import type { RuntimeInfo } from '../runtime/runtime-info.ts';
import { a1111Label, validateSchedulerConfig, type SchedulerConfig } from '../schedulers/index.ts';
import type { ModelHash } from './model-hash.ts';
import type { GenerateRequest, Mode, Settings } from './settings.ts';

export const RECIPE_FORMAT = 'gesso.generate';
export const RECIPE_VERSION = 1;

/** Where an init image or mask came from: its path and SHA-256, or "pixels" when given in memory. */
export interface SourceRecord {
  path: string | null;
  sha256: string | null;
}

export interface Recipe {
  format: typeof RECIPE_FORMAT;
  version: number;
  mode: Mode;
  prompt: string;
  negativePrompt: string;
  steps: number;
  cfgScale: number;
  scheduler: { name: string; className: string; config: Readonly<Required<SchedulerConfig>> };
  seed: number;
  width: number;
  height: number;
  strength: number | null;
  eta: number;
  upscale: boolean;
  maxPromptChunks: number | null;
  initImage: SourceRecord | null;
  mask: SourceRecord | null;
  model: { name: string; hash: string; sha256: string; hashedFiles: string[] };
  /** Size of the written image (larger than width × height after the upscaler). */
  output: { width: number; height: number };
  /** ORT version and CPU kernel family that computed the image: the same pair re-makes it byte for byte. */
  runtime: RuntimeInfo;
}

export interface ImageRecordInput {
  settings: Settings;
  /** This image's seed (batch seed + index). */
  seed: number;
  model: { name: string; hash: ModelHash };
  initImage: SourceRecord | null;
  mask: SourceRecord | null;
  output: { width: number; height: number };
  runtime: RuntimeInfo;
}

export function buildRecipe(r: ImageRecordInput): Recipe {
  const s = r.settings;
  return {
    format: RECIPE_FORMAT,
    version: RECIPE_VERSION,
    mode: s.mode,
    prompt: s.prompt,
    negativePrompt: s.negativePrompt,
    steps: s.steps,
    cfgScale: s.cfgScale,
    scheduler: { name: s.schedulerName, className: s.scheduler.name, config: s.scheduler.config },
    seed: r.seed,
    width: s.width,
    height: s.height,
    strength: s.strength,
    eta: s.eta,
    upscale: s.upscale,
    maxPromptChunks: s.maxPromptChunks ?? null,
    initImage: r.initImage,
    mask: r.mask,
    model: { name: r.model.name, hash: r.model.hash.short, sha256: r.model.hash.sha256, hashedFiles: r.model.hash.files },
    output: r.output,
    runtime: r.runtime,
  };
}

export function buildA1111Parameters(r: ImageRecordInput): A1111Parameters {
  const s = r.settings;
  const { sampler, scheduleType } = a1111Label(s.scheduler);
  const extra: Record<string, string> = {};
  if (s.eta > 0) extra.Eta = String(s.eta);
  if (s.upscale && (r.output.width !== s.width || r.output.height !== s.height)) {
    extra['Postprocess upscale by'] = String(r.output.width / s.width);
    extra['Postprocess upscaler'] = 'model upscaler';
  }
  extra.Version = 'gesso';
  return {
    prompt: s.prompt,
    ...(s.negativePrompt ? { negativePrompt: s.negativePrompt } : {}),
    steps: s.steps,
    sampler,
    scheduleType,
    cfgScale: s.cfgScale,
    seed: r.seed,
    width: s.width,
    height: s.height,
    modelHash: r.model.hash.short,
    model: r.model.name,
    ...(s.strength !== null ? { denoisingStrength: s.strength } : {}),
    extra,
  };
}

/**
 * The request that re-makes the image a recipe describes (with batch size 1). Init image and mask are
 * read from their recorded paths.
 */
export function requestFromRecipe(recipe: JsonObject, where: string): GenerateRequest {
  if (recipe.format !== RECIPE_FORMAT)
    throw new InputError(`${where}: not a gesso generate recipe (format ${JSON.stringify(recipe.format ?? null)}, expected "${RECIPE_FORMAT}")`);
  if (recipe.version !== RECIPE_VERSION)
    throw new InputError(`${where}: recipe version ${JSON.stringify(recipe.version)}; this gesso reads version ${RECIPE_VERSION}`);
  const str = (key: string): string => {
    const v = recipe[key];
    if (typeof v !== 'string') throw new InputError(`${where}: recipe field ${key} is ${JSON.stringify(v ?? null)}; expected text`);
    return v;
  };
  const num = (key: string): number => {
    const v = recipe[key];
    if (typeof v !== 'number') throw new InputError(`${where}: recipe field ${key} is ${JSON.stringify(v ?? null)}; expected a number`);
    return v;
  };
  const scheduler = recipe.scheduler;
  if (!isJsonObject(scheduler) || typeof scheduler.name !== 'string' || !isJsonObject(scheduler.config)) {
    throw new InputError(`${where}: recipe field scheduler must hold name and config`);
  }
  const path = (value: JsonValue | undefined, key: string): string | undefined => {
    if (value === null || value === undefined) return undefined;
    if (!isJsonObject(value) || typeof value.path !== 'string') {
      throw new InputError(`${where}: recipe field ${key} has no file path (the image was given as pixels); it cannot be re-run from the recipe`);
    }
    return value.path;
  };
  const request: GenerateRequest = {
    prompt: str('prompt'),
    negativePrompt: str('negativePrompt'),
    steps: num('steps'),
    cfgScale: num('cfgScale'),
    scheduler: scheduler.name,
    schedulerConfig: validateSchedulerConfig(scheduler.config, `${where}: recipe scheduler config`),
    seed: num('seed'),
    width: num('width'),
    height: num('height'),
    eta: num('eta'),
    upscale: recipe.upscale === true,
  };
  if (typeof recipe.maxPromptChunks === 'number') request.maxPromptChunks = recipe.maxPromptChunks;
  const init = path(recipe.initImage, 'initImage');
  const mask = path(recipe.mask, 'mask');
  if (init !== undefined) request.initImage = init;
  if (mask !== undefined) request.mask = mask;
  if (typeof recipe.strength === 'number') request.strength = recipe.strength;
  return request;
}
