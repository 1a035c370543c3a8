/**
 * A generation request, its defaults, and the checks that turn it into settings the pipeline can run.
 * Every check happens before any model runs, and each error names the bad value and what was expected.
 */
import { randomInt } from 'node:crypto';
import { totalmem } from 'node:os';
import { InputError } from '../core/errors.ts';
import { parsePromptWeights } from '../text/prompt-weights.ts';
import { createScheduler, requireScheduler, type Scheduler, type SchedulerConfig } from '../schedulers/index.ts';
import { UPSCALER_SCALE } from '../models/upscaler.ts';
import type { ImageSource } from './image-input.ts';
import { MAX_SEED } from './latents.ts';
import { usesGuidance } from './denoise.ts';
import { estimateGenerateMemory, formatBytes, type MemoryEstimate, type MemoryModel } from './memory-estimate.ts';
import type { DiffusionModel } from './model-folder.ts';

export interface GenerateRequest {
  prompt: string;
  negativePrompt?: string;
  /** Denoising steps (default 20). */
  steps?: number;
  /** Classifier-free guidance scale (default 7, as A1111); 1 or less runs the prompt alone. */
  cfgScale?: number;
  /** diffusers class name or A1111 sampler name (default: the model's scheduler). */
  scheduler?: string;
  /** Settings over the model's scheduler_config.json (a recipe gives the exact config it was made with). */
  schedulerConfig?: Partial<SchedulerConfig>;
  /** 0..4294967295; image i of a batch uses seed + i (default: random). */
  seed?: number;
  /**
   * Size of the picture made, in pixels (default: the model's size, or the init image's). Without the
   * upscaler it must be a multiple of the VAE's scale factor; with it, gesso generates at the size that
   * upscales to it (a quarter, rounded to that multiple) and resizes the upscaled picture to exactly this.
   */
  width?: number;
  height?: number;
  /** Images made at once, seeds seed..seed + batchSize − 1 (default 1). */
  batchSize?: number;
  /** img2img / inpainting source image. */
  initImage?: ImageSource;
  /** How far from the init image to go, (0, 1] (default 0.75 for img2img, 1 for inpainting). */
  strength?: number;
  /** Inpainting mask: white repaints, black keeps. Needs initImage. */
  mask?: ImageSource;
  /** DDIM's η (default 0). */
  eta?: number;
  /** Run upscaler/ after decoding when the model has one (default true). */
  upscale?: boolean;
  /** Most 75-token prompt chunks to use (default 8). */
  maxPromptChunks?: number;
  /**
   * Starting noise ε instead of the seed's, one (C, h, w) array per image in the UNet's latent space at unit
   * variance, as diffusers' `latents` argument (the pipeline scales it by the scheduler's initial σ). The seed
   * still drives stochastic samplers. Lets a user re-make an image made elsewhere, or walk between noises.
   */
  latents?: readonly Float32Array[];
  /** Refuse requests whose estimated peak memory passes this many bytes (default: 80% of the machine's RAM). */
  maxMemoryBytes?: number;
}

export type Mode = 'txt2img' | 'img2img' | 'inpaint';

/** A request with every default filled in and every value checked. */
export interface Settings {
  mode: Mode;
  prompt: string;
  negativePrompt: string;
  steps: number;
  cfgScale: number;
  /** The name as asked for (or the model's default). */
  schedulerName: string;
  scheduler: Scheduler;
  seed: number;
  /** Size the model generates at (the UNet's latents are this / the VAE's scale factor). */
  width: number;
  height: number;
  /** Size of the picture returned: width × height, or the asked-for size after the upscaler. */
  outputWidth: number;
  outputHeight: number;
  batchSize: number;
  /** null for txt2img. */
  strength: number | null;
  eta: number;
  upscale: boolean;
  maxPromptChunks: number | undefined;
  /** Estimated peak memory of the run (checked against maxMemoryBytes). */
  memory: MemoryEstimate;
}

export const DEFAULT_STEPS = 20;
export const DEFAULT_CFG = 7;
export const MAX_STEPS = 1000;
export const MAX_BATCH = 64;
export const MAX_SIDE = 4096;
const MAX_PROMPT_CHARS = 100_000;

/**
 * Checks `request` against `model`. `initSize` is the init image's size (after decoding) when there is one:
 * without --size the image keeps it, rounded down to the VAE's multiple.
 */
export function resolveSettings(model: DiffusionModel, request: GenerateRequest, initSize: { width: number; height: number } | null): Settings {
  checkRequest(request);
  const negativePrompt = request.negativePrompt ?? '';
  const steps = request.steps ?? DEFAULT_STEPS;
  const cfgScale = request.cfgScale ?? DEFAULT_CFG;
  const batchSize = request.batchSize ?? 1;
  const seed = request.seed ?? randomInt(0, MAX_SEED - batchSize + 2);
  const eta = request.eta ?? 0;
  const hasInit = request.initImage !== undefined;
  const mode: Mode = request.mask !== undefined ? 'inpaint' : hasInit ? 'img2img' : 'txt2img';
  const strength = mode === 'txt2img' ? null : (request.strength ?? (mode === 'inpaint' ? 1 : 0.75));
  if (mode !== 'txt2img' && !model.hasVaeEncoder) throw new InputError(`${mode} needs vae_encoder/model.onnx, which model folder ${model.dir} does not have`);
  if (model.spec.inpaint && !model.hasVaeEncoder) {
    throw new InputError(`model folder ${model.dir} has an inpainting UNet but no vae_encoder/model.onnx; it needs one to encode the masked image`);
  }

  const upscale = request.upscale ?? model.upscaler !== null;
  if (upscale && model.upscaler === null) throw new InputError(`upscaling was asked for, but model folder ${model.dir} has no upscaler/model.onnx`);
  const { width, height, outputWidth, outputHeight } = upscale
    ? upscaledSize(model, request, initSize)
    : { ...resolveSize(model, request, initSize), outputWidth: 0, outputHeight: 0 };

  const memory = estimateGenerateMemory(memoryModel(model), {
    width,
    height,
    batchSize,
    guided: usesGuidance(cfgScale),
    upscale,
    encodes: mode !== 'txt2img' || model.spec.inpaint,
  });
  const limit = request.maxMemoryBytes ?? defaultMemoryLimit();
  if (memory.bytes > limit) {
    const parts = memory.parts.map((p) => `${p.name} ${formatBytes(p.bytes)}`).join(', ');
    throw new InputError(
      `${width}x${height}${batchSize > 1 ? ` x ${batchSize} images` : ''} needs about ${formatBytes(memory.bytes)} of memory (${parts}); the limit is ${formatBytes(limit)}. ` +
        `Attention memory grows with the square of the pixel count: use a smaller --size or --batch${upscale ? ', or --no-upscale' : ''} (or raise the limit with --max-memory GB).`,
    );
  }

  const schedulerName = request.scheduler ?? model.defaultScheduler;
  const scheduler = createScheduler(schedulerName, { ...model.scheduler.config, ...request.schedulerConfig });
  // Plan once now, so a bad steps/strength combination fails before any model runs.
  scheduler.plan(steps, strength ?? 1, { eta });

  return {
    mode,
    prompt: request.prompt,
    negativePrompt,
    steps,
    cfgScale,
    schedulerName,
    scheduler,
    seed,
    width,
    height,
    outputWidth: outputWidth || width,
    outputHeight: outputHeight || height,
    batchSize,
    strength,
    eta,
    upscale,
    maxPromptChunks: request.maxPromptChunks,
    memory,
  };
}

/** The (C, h, w) shape of one image's starting latents for a txt2img `request` (the size the model generates at). */
export function latentShape(model: DiffusionModel, request: GenerateRequest): [number, number, number] {
  const upscale = request.upscale ?? model.upscaler !== null;
  const { width, height } = upscale && model.upscaler !== null ? upscaledSize(model, request, null) : resolveSize(model, request, null);
  const s = model.spec.vaeScaleFactor;
  return [model.spec.latentChannels, height / s, width / s];
}

/**
 * With the upscaler, the asked-for size is the output's: generate at a quarter of it, rounded to the VAE's
 * multiple (the model's own size when none is asked), and resize the upscaled picture to it exactly.
 */
function upscaledSize(
  model: DiffusionModel,
  request: GenerateRequest,
  initSize: { width: number; height: number } | null,
): { width: number; height: number; outputWidth: number; outputHeight: number } {
  const s = model.spec.vaeScaleFactor;
  const f = UPSCALER_SCALE;
  for (const [what, v] of [
    ['width', request.width],
    ['height', request.height],
  ] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < s || v > MAX_SIDE)) {
      throw new InputError(`${what} ${v}: expected a whole number of pixels from ${s} to ${MAX_SIDE}`);
    }
  }
  const toGenerate = (v: number | undefined): number | undefined => (v === undefined ? undefined : Math.max(s, Math.round(v / f / s) * s));
  // An init image's size is the output's too when no size is asked for.
  const width = request.width ?? initSize?.width;
  const height = request.height ?? initSize?.height;
  const generated = resolveSize(model, { ...request, width: toGenerate(width), height: toGenerate(height) }, null);
  return { ...generated, outputWidth: width ?? generated.width * f, outputHeight: height ?? generated.height * f };
}

/** 80% of the machine's physical memory: what a request may use unless told otherwise. */
export function defaultMemoryLimit(): number {
  return Math.floor(totalmem() * 0.8);
}

function memoryModel(model: DiffusionModel): MemoryModel {
  const channels = model.configs.upscaler?.channels;
  return {
    vaeScaleFactor: model.spec.vaeScaleFactor,
    unetConfig: model.configs.unet,
    vaeConfig: model.configs.vae,
    weightBytes: model.weightBytes,
    upscalerChannels: model.upscaler ? (typeof channels === 'number' ? channels : 64) : null,
  };
}

/**
 * The checks that need no model: value types and ranges, and which settings go together. Callers run it
 * before loading a model (seconds and hundreds of MB) so a typo fails at once; resolveSettings runs it too.
 */
export function checkRequest(request: GenerateRequest): void {
  if (typeof request.prompt !== 'string') throw new InputError(`prompt must be text, got ${typeof request.prompt}`);
  const negativePrompt = request.negativePrompt ?? '';
  if (typeof negativePrompt !== 'string') throw new InputError(`negative prompt must be text, got ${typeof negativePrompt}`);
  for (const [what, text] of [
    ['prompt', request.prompt],
    ['negative prompt', negativePrompt],
  ] as const) {
    if (text.length > MAX_PROMPT_CHARS) throw new InputError(`${what} has ${text.length} characters; at most ${MAX_PROMPT_CHARS} are accepted`);
  }
  if (request.steps !== undefined) integer('steps', request.steps, 1, MAX_STEPS);
  const cfgScale = request.cfgScale ?? DEFAULT_CFG;
  if (typeof cfgScale !== 'number' || !Number.isFinite(cfgScale) || cfgScale < 0 || cfgScale > 100) {
    throw new InputError(`CFG scale ${cfgScale}: expected a number from 0 to 100`);
  }
  const batchSize = integer('batch size', request.batchSize ?? 1, 1, MAX_BATCH);
  if (request.seed !== undefined) {
    integer('seed', request.seed, 0, MAX_SEED);
    if (request.seed + batchSize - 1 > MAX_SEED) {
      throw new InputError(
        `seed ${request.seed} with batch size ${batchSize} runs past the largest seed ${MAX_SEED} (image i uses seed + i); use a seed up to ${MAX_SEED - batchSize + 1}`,
      );
    }
  }
  const eta = request.eta ?? 0;
  if (typeof eta !== 'number' || !(eta >= 0 && eta <= 1)) throw new InputError(`eta ${eta}: expected a number from 0 to 1`);
  const hasInit = request.initImage !== undefined;
  if (request.mask !== undefined && !hasInit) throw new InputError('a mask needs an init image to inpaint (--init IMAGE --mask MASK)');
  if (request.strength !== undefined && !hasInit)
    throw new InputError('strength applies to img2img and inpainting; give an init image (--init IMAGE) or leave strength out');
  if (request.strength !== undefined && (typeof request.strength !== 'number' || !(request.strength > 0 && request.strength <= 1))) {
    throw new InputError(`strength ${request.strength}: expected a number in (0, 1] (1 ignores the init image's content)`);
  }
  for (const [what, v] of [
    ['width', request.width],
    ['height', request.height],
  ] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 1 || v > MAX_SIDE))
      throw new InputError(`${what} ${v}: expected a whole number of pixels up to ${MAX_SIDE}`);
  }
  if (request.maxPromptChunks !== undefined) integer('max prompt chunks', request.maxPromptChunks, 1, 64);
  if (request.maxMemoryBytes !== undefined && !(typeof request.maxMemoryBytes === 'number' && request.maxMemoryBytes > 0)) {
    throw new InputError(`memory limit ${String(request.maxMemoryBytes)}: expected a positive number of bytes`);
  }
  if (request.scheduler !== undefined) requireScheduler(request.scheduler);
  // Emphasis weights are checked here too, so an overflowing one fails before a model loads.
  parsePromptWeights(request.prompt);
  parsePromptWeights(negativePrompt);
}

function resolveSize(model: DiffusionModel, request: GenerateRequest, initSize: { width: number; height: number } | null): { width: number; height: number } {
  const spec = model.spec;
  const s = spec.vaeScaleFactor;
  const fh = spec.fixedLatentHeight;
  const fw = spec.fixedLatentWidth;
  // A fixed-size UNet takes one size; so without --size, that size (an init image is resized to it).
  const width = request.width ?? (fw !== null ? fw * s : (initSize?.width ?? spec.defaultWidth));
  const height = request.height ?? (fh !== null ? fh * s : (initSize?.height ?? spec.defaultHeight));
  for (const [what, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(v) || v < s || v > MAX_SIDE) throw new InputError(`${what} ${v}: expected a whole number of pixels from ${s} to ${MAX_SIDE}`);
    if (v % s !== 0) {
      const down = v - (v % s);
      throw new InputError(`${what} ${v} is not a multiple of ${s} (the VAE's downscale factor); try ${down > 0 ? `${down} or ` : ''}${down + s}`);
    }
  }
  if ((fh !== null && height / s !== fh) || (fw !== null && width / s !== fw)) {
    const fixed = `${fw !== null ? fw * s : 'any'}x${fh !== null ? fh * s : 'any'}`;
    throw new InputError(
      `this model's UNet takes only ${fixed} images (unet/model.onnx sample input is [${spec.unet.sample.shape.join(', ')}] in latents of 1/${s} size); got ${width}x${height}`,
    );
  }
  return { width, height };
}

function integer(what: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi)
    throw new InputError(`${what} ${String(v)}: expected a whole number from ${lo} to ${hi}`);
  return v;
}
