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
import { isJsonObject, type JsonObject, type JsonValue } from '../core/json.ts';
import type { RuntimeInfo } from '../runtime/runtime-info.ts';
import { a1111Label, validateSchedulerConfig, type SchedulerConfig } from '../schedulers/index.ts';
import type { ModelHash } from './model-hash.ts';
import { autoV2 } from '../weights/hash.ts';
import type { GenerateRequest, Mode, Settings } from './settings.ts';

export const RECIPE_FORMAT = 'gesso.generate';
export const RECIPE_VERSION = 1;

/** Where an init image or mask came from: its path and SHA-256, or "pixels" when given in memory. */
export interface SourceRecord {
  path: string | null;
  sha256: string | null;
}

/** A LoRA merged into the model: its name (file name without .safetensors), SHA-256 and weight. */
export interface LoraRecord {
  name: string;
  sha256: string;
  weight: number;
}

/** A textual-inversion word the model was loaded with: its file's SHA-256 and vector count. */
export interface EmbeddingRecord {
  word: string;
  sha256: string;
  vectors: number;
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
  /** LoRAs merged into the model at load (recipes made before gesso recorded them have none). */
  loras: LoraRecord[];
  /** Textual-inversion embeddings added at load. */
  embeddings: EmbeddingRecord[];
  /** Starting noise given by the caller instead of the seed's: SHA-256 of its float32 bytes (little-endian). */
  latents: { sha256: string } | null;
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
  loras: LoraRecord[];
  embeddings: EmbeddingRecord[];
  initImage: SourceRecord | null;
  mask: SourceRecord | null;
  latents: { sha256: string } | null;
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
    loras: r.loras,
    embeddings: r.embeddings,
    latents: r.latents,
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
    const by = r.output.width / s.width;
    if (Number.isInteger(by) && r.output.height === s.height * by) extra['Postprocess upscale by'] = String(by);
    else extra['Postprocess upscale to'] = `${r.output.width}x${r.output.height}`;
    extra['Postprocess upscaler'] = 'model upscaler';
  }
  // A1111 writes these two fields (short hashes) so readers can tell which LoRAs and embeddings were used.
  if (r.loras.length > 0) extra['Lora hashes'] = r.loras.map((l) => `${l.name}: ${autoV2(l.sha256)}`).join(', ');
  if (r.embeddings.length > 0) extra['TI hashes'] = r.embeddings.map((e) => `${e.word}: ${autoV2(e.sha256)}`).join(', ');
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
 * The request that re-makes the image a recipe describes (with batch size 1), without its init image
 * and mask: paths inside a recipe are untrusted (a shared PNG could name any private file), so the
 * caller asks for them explicitly — see `recipeSources` for what the recipe recorded.
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
  const outputSize = (key: 'width' | 'height'): number => {
    const v = isJsonObject(recipe.output) ? recipe.output[key] : undefined;
    if (typeof v !== 'number') throw new InputError(`${where}: recipe field output.${key} is ${JSON.stringify(v ?? null)}; expected a number`);
    return v;
  };
  const request: GenerateRequest = {
    prompt: str('prompt'),
    negativePrompt: str('negativePrompt'),
    steps: num('steps'),
    cfgScale: num('cfgScale'),
    scheduler: scheduler.name,
    schedulerConfig: validateSchedulerConfig(scheduler.config, `${where}: recipe scheduler config`),
    seed: num('seed'),
    // With the upscaler, the asked-for size is the output's (the recipe's width/height are the generated size).
    width: recipe.upscale === true ? outputSize('width') : num('width'),
    height: recipe.upscale === true ? outputSize('height') : num('height'),
    eta: num('eta'),
    upscale: recipe.upscale === true,
  };
  if (typeof recipe.maxPromptChunks === 'number') request.maxPromptChunks = recipe.maxPromptChunks;
  if (typeof recipe.strength === 'number') request.strength = recipe.strength;
  return request;
}

/** The init image and mask a recipe records (path as written when it was made, and SHA-256), if any. */
export function recipeSources(recipe: JsonObject, where: string): { initImage: SourceRecord | null; mask: SourceRecord | null } {
  const source = (value: JsonValue | undefined, key: string): SourceRecord | null => {
    if (value === null || value === undefined) return null;
    if (!isJsonObject(value)) throw new InputError(`${where}: recipe field ${key} is ${JSON.stringify(value)}; expected {path, sha256} or null`);
    return { path: typeof value.path === 'string' ? value.path : null, sha256: typeof value.sha256 === 'string' ? value.sha256 : null };
  };
  return { initImage: source(recipe.initImage, 'initImage'), mask: source(recipe.mask, 'mask') };
}

/**
 * The LoRAs and embeddings a recipe records. A recipe from before gesso recorded them gives none; a
 * malformed entry is an error naming it.
 */
export function recipeAdapters(recipe: JsonObject, where: string): { loras: LoraRecord[]; embeddings: EmbeddingRecord[] } {
  const list = (key: 'loras' | 'embeddings'): JsonObject[] => {
    const v = recipe[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || !v.every(isJsonObject)) throw new InputError(`${where}: recipe field ${key} must be a list of objects`);
    return v as JsonObject[];
  };
  const bad = (key: string, e: JsonObject): InputError => new InputError(`${where}: recipe ${key} entry ${JSON.stringify(e).slice(0, 120)} is malformed`);
  const hex = (v: JsonValue | undefined): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
  const loras = list('loras').map((e): LoraRecord => {
    if (typeof e.name !== 'string' || !hex(e.sha256) || typeof e.weight !== 'number') throw bad('loras', e);
    return { name: e.name, sha256: e.sha256, weight: e.weight };
  });
  const embeddings = list('embeddings').map((e): EmbeddingRecord => {
    if (typeof e.word !== 'string' || !hex(e.sha256) || typeof e.vectors !== 'number') throw bad('embeddings', e);
    return { word: e.word, sha256: e.sha256, vectors: e.vectors };
  });
  return { loras, embeddings };
}
