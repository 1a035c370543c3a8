/**
 * `generate()`: txt2img, img2img and inpainting with one model folder, in numbered steps like diffusers'
 * pipelines. Nothing is written here: the caller gets pixels and metadata, and writes files only once
 * every image is done (so a bad input or a cancellation leaves no file behind).
 *
 *   1. read the init image and mask        5. denoise (denoise.ts)
 *   2. check every setting                 6. decode with the VAE, then the upscaler if any
 *   3. encode prompt and negative prompt   7. A1111 parameters + gesso recipe per image
 *   4. starting latents (noise, init image, inpainting inputs)
 *
 * Inpainting: a 9-channel inpainting UNet gets mask and masked-image latents concatenated to its input
 * (txt2img and img2img on such a UNet use a mask of ones and an empty masked image, as A1111 does); an
 * ordinary UNet inpaints by putting the noised init image back outside the mask after every step.
 * Like diffusers, strength 1 starts inpainting from pure noise; img2img always starts from the noised image.
 */
import { createHash } from 'node:crypto';
import { GessoError, InputError } from '../core/errors.ts';
import type { A1111Parameters } from '../image/a1111-parameters.ts';
import type { ImageMetadata } from '../image/write-image.ts';
import { runtimeInfo } from '../runtime/runtime-info.ts';
import { sha256File } from '../weights/hash.ts';
import { denoise, GenerationCancelled, type InpaintLatents, type StepEvent } from './denoise.ts';
import { latentMask, maskAt, readSource, resizePixels, roundDownSize, type ImageSource } from './image-input.ts';
import { decodeLatents, encodeImage, seededNoise, upscaleImage } from './latents.ts';
import type { DiffusionModel } from './model-folder.ts';
import { planesToPixels, pixelsToPlanes } from './pixels.ts';
import { buildA1111Parameters, buildRecipe, type Recipe, type SourceRecord } from './recipe.ts';
import { resolveSettings, type GenerateRequest, type Settings } from './settings.ts';
import { encodePrompts, type Conditioning } from './text-conditioning.ts';
import { extractLoraTags } from '../text/lora-tags.ts';
import { mentionsWord } from './embedding-choice.ts';

export { GenerationCancelled, type StepEvent } from './denoise.ts';
export type { GenerateRequest, Settings } from './settings.ts';

export interface GenerateOptions {
  /** Called after every UNet step, with a cheap preview; awaited. */
  onStep?: (event: StepEvent) => void | Promise<void>;
  /** Checked between steps: aborting throws GenerationCancelled. */
  signal?: AbortSignal;
  /** 'batched' (default) runs cond and uncond in one UNet batch; 'separate' in two runs. */
  cfgMode?: 'batched' | 'separate';
  /**
   * txt2img only: the starting noise of each image, (C, h, w) standard normal values (before the
   * scheduler's initial sigma), instead of the seeds' noise. The seeds still drive stochastic samplers.
   * Latent interpolation and A1111-style variation seeds use this (src/pipelines/diffusion-explore.ts).
   */
  latents?: readonly Float32Array[];
  /** Prompt embeddings to use instead of encoding the prompt (interpolated or blended prompts). */
  conditioning?: Conditioning;
}

export interface GeneratedImage {
  /** Position in the batch; the seed is settings.seed + index. */
  index: number;
  seed: number;
  width: number;
  height: number;
  /** (H, W, 3) RGB in [0, 1] */
  pixels: Float32Array;
  parameters: A1111Parameters;
  recipe: Recipe;
  /** Ready for writeImageFile / encodePng. */
  metadata: ImageMetadata;
  /** The final denoised latents (C, h, w), before the VAE decoder. */
  latents: Float32Array;
}

export interface GenerateTimings {
  textEncoderMs: number;
  /** VAE encoder time for img2img / inpainting inputs. */
  vaeEncodeMs: number;
  /** UNet time of each step (cond + uncond). */
  unetMs: number[];
  unetTotalMs: number;
  /** Per image. */
  vaeDecodeMs: number[];
  /** Per image; empty without an upscaler. */
  upscaleMs: number[];
  totalMs: number;
}

export interface GenerateResult {
  images: GeneratedImage[];
  settings: Settings;
  timings: GenerateTimings;
  /** E.g. a prompt cut to the model's length. */
  warnings: string[];
}

export async function generate(model: DiffusionModel, request: GenerateRequest, options: GenerateOptions = {}): Promise<GenerateResult> {
  const { signal } = options;
  try {
    if (signal?.aborted) throw new GenerationCancelled('before it started');
    return await run(model, request, options);
  } catch (e) {
    // A run rejected because of the abort (queued in a session) reports as a cancellation too.
    if (signal?.aborted && !(e instanceof GenerationCancelled)) throw new GenerationCancelled('while a model was running');
    throw e;
  }
}

/**
 * The prompt the text encoder reads: A1111's `<lora:name:w>` tags removed. The tags must name LoRAs the
 * model was loaded with, at the same weights (LoRAs are merged at load; see loadModel's `loras`).
 */
function promptWithoutLoraTags(model: DiffusionModel, prompt: string): string {
  const { prompt: text, tags } = extractLoraTags(prompt);
  for (const tag of tags) {
    const loaded = model.loras.find((l) => l.name === tag.name);
    if (!loaded || loaded.weight !== tag.weight) {
      const have = model.loras.map((l) => `${l.name}:${l.weight}`).join(', ') || 'none';
      throw new InputError(
        `prompt names <lora:${tag.name}:${tag.weight}> but the model was loaded with LoRAs: ${have} (pass the LoRA to loadModel's loras option)`,
      );
    }
  }
  return text;
}

async function run(model: DiffusionModel, request: GenerateRequest, options: GenerateOptions): Promise<GenerateResult> {
  const started = performance.now();
  const { signal } = options;
  const spec = model.spec;

  // 1. Read the init image and mask.
  const init = request.initImage !== undefined ? await readSource(request.initImage, 'init image') : null;
  const maskImage = request.mask !== undefined ? await readSource(request.mask, 'mask') : null;

  // 2. Check every setting before any model runs.
  const settings = resolveSettings(model, request, init ? roundDownSize(init, spec.vaeScaleFactor, 'init image') : null);
  const { width, height, batchSize: B } = settings;
  const s = spec.vaeScaleFactor;
  const h = height / s;
  const w = width / s;
  const C = spec.latentChannels;
  const plan = settings.scheduler.plan(settings.steps, settings.strength ?? 1, { eta: settings.eta });
  // Hashing a multi-GB UNet takes seconds: start it now, it overlaps the denoising (models run in workers).
  const hashing = model.hash();
  hashing.catch(() => undefined); // awaited in step 7; a failure is reported there

  // 3. Prompt and negative prompt -> (1, S, D) embeddings each.
  let t = performance.now();
  const conditioning =
    options.conditioning ??
    (await encodePrompts(model, promptWithoutLoraTags(model, settings.prompt), extractLoraTags(settings.negativePrompt).prompt, {
      ...(settings.maxPromptChunks !== undefined ? { maxChunks: settings.maxPromptChunks } : {}),
      ...(signal ? { signal } : {}),
    }));
  const textEncoderMs = performance.now() - t;

  // 4. Starting latents: noise from seed + i, the init image's latents, inpainting inputs.
  t = performance.now();
  const { rngs, noise: seeded } = seededNoise(settings.seed, B, C * h * w);
  const noise = request.latents ? checkLatents(request.latents, B, C, h, w) : seeded;
  let latents = noise.map((x) => scale(x, plan.initNoiseSigma));
  let inpaint: InpaintLatents | null = null;
  if (settings.mode !== 'txt2img' || spec.inpaint) {
    const pixels = init ? await resizePixels(init, width, height) : null; // (H, W, 3)
    const mask = maskImage ? await maskAt(maskImage, width, height) : new Float32Array(width * height).fill(1); // (H, W)
    const planes = pixels ? pixelsToPlanes(pixels, width, height) : null; // (3, H, W) in [-1, 1]
    const imageLatents = planes ? await encodeImage(model, planes, width, height, signal) : null; // (C, h, w)
    if (imageLatents && !(settings.mode === 'inpaint' && settings.strength === 1)) {
      latents = noise.map((x) => plan.addNoise(imageLatents, x, 0));
    }
    if (spec.inpaint) {
      // The image with the repainted area blanked (0 in [-1, 1] is mid-grey).
      const masked = new Float32Array(3 * width * height);
      if (planes) for (let i = 0; i < masked.length; i++) masked[i] = mask[i % (width * height)] < 0.5 ? planes[i] : 0;
      inpaint = {
        mask: latentMask(mask, width, height, s),
        maskedImageLatents: await encodeImage(model, masked, width, height, signal),
        imageLatents: null,
        noise,
      };
    } else if (settings.mode === 'inpaint') {
      inpaint = { mask: latentMask(mask, width, height, s), maskedImageLatents: null, imageLatents, noise };
    }
  }
  const vaeEncodeMs = settings.mode !== 'txt2img' || spec.inpaint ? performance.now() - t : 0;

  // 5. Denoise.
  const denoised = await denoise({
    model,
    plan,
    latents,
    rngs,
    conditioning,
    cfgScale: settings.cfgScale,
    h,
    w,
    inpaint,
    ...(options.cfgMode ? { cfgMode: options.cfgMode } : {}),
    ...(options.onStep ? { onStep: options.onStep } : {}),
    ...(signal ? { signal } : {}),
  });

  // 6. Decode each image, then upscale.
  const decoded: { planes: Float32Array; width: number; height: number }[] = [];
  const vaeDecodeMs: number[] = [];
  const upscaleMs: number[] = [];
  for (const x of denoised.latents) {
    if (signal?.aborted) throw new GenerationCancelled('while decoding');
    t = performance.now();
    let image = await decodeLatents(model, x, h, w, signal);
    vaeDecodeMs.push(performance.now() - t);
    if (image.width !== width || image.height !== height) {
      throw new GessoError(`vae_decoder/model.onnx made a ${image.width}x${image.height} image from ${w}x${h} latents; expected ${width}x${height}`);
    }
    if (settings.upscale) {
      t = performance.now();
      image = await upscaleImage(model, image.planes, image.width, image.height, signal);
      if (image.width !== settings.outputWidth || image.height !== settings.outputHeight) {
        image = await resizePlanes(image, settings.outputWidth, settings.outputHeight);
      }
      upscaleMs.push(performance.now() - t);
    }
    decoded.push(image);
  }
  if (signal?.aborted) throw new GenerationCancelled('after decoding');

  // 7. Metadata: A1111 parameters and the recipe, each image with its own seed.
  const hash = await hashing;
  const initRecord = await sourceRecord(request.initImage);
  const maskRecord = await sourceRecord(request.mask);
  const images = decoded.map((image, index): GeneratedImage => {
    const record = {
      settings,
      seed: settings.seed + index,
      model: { name: model.name, hash },
      loras: model.loras.map((l) => ({ name: l.name, sha256: l.sha256, weight: l.weight })),
      // Only the words the prompts write shape the picture (a loaded embeddings folder may hold many more).
      embeddings: model.embeddings
        .filter((e) => mentionsWord(settings.prompt, e.word) || mentionsWord(settings.negativePrompt, e.word))
        .map((e) => ({ word: e.word, sha256: e.sha256, vectors: e.vectors })),
      initImage: initRecord,
      mask: maskRecord,
      latents: request.latents
        ? {
            sha256: createHash('sha256')
              .update(noise[index] as Float32Array)
              .digest('hex'),
          }
        : null,
      output: { width: image.width, height: image.height },
      runtime: runtimeInfo(),
    };
    const parameters = buildA1111Parameters(record);
    const recipe = buildRecipe(record);
    return {
      index,
      seed: record.seed,
      width: image.width,
      height: image.height,
      pixels: planesToPixels(image.planes, image.width, image.height),
      latents: denoised.latents[index] as Float32Array,
      parameters,
      recipe,
      metadata: { parameters, recipe, source: settings.mode === 'txt2img' ? 'generated' : 'edited' },
    };
  });

  const warnings = [...conditioning.warnings];
  const unetTotalMs = denoised.unetMs.reduce((a, b) => a + b, 0);
  return {
    images,
    settings,
    timings: { textEncoderMs, vaeEncodeMs, unetMs: denoised.unetMs, unetTotalMs, vaeDecodeMs, upscaleMs, totalMs: performance.now() - started },
    warnings,
  };
}

/** (3, H, W) in [-1, 1] resized to width × height (Lanczos, through 8-bit: the picture is written as 8-bit anyway). */
async function resizePlanes(image: { planes: Float32Array; width: number; height: number }, width: number, height: number) {
  const pixels = await resizePixels({ data: planesToPixels(image.planes, image.width, image.height), width: image.width, height: image.height }, width, height);
  return { planes: pixelsToPlanes(pixels, width, height), width, height };
}

/** Starting noise given by the caller: one finite (C, h, w) array per image. */
function checkLatents(latents: readonly Float32Array[], B: number, C: number, h: number, w: number): Float32Array[] {
  if (latents.length !== B) throw new InputError(`latents: ${latents.length} arrays for a batch of ${B}; expected one (C, h, w) array per image`);
  return latents.map((x, i) => {
    if (!(x instanceof Float32Array) || x.length !== C * h * w) {
      throw new InputError(
        `latents[${i}]: ${x instanceof Float32Array ? x.length : typeof x} values; expected (${C}, ${h}, ${w}) = ${C * h * w} float32 values for this size`,
      );
    }
    for (let j = 0; j < x.length; j++) if (!Number.isFinite(x[j])) throw new InputError(`latents[${i}] has a non-finite value at ${j}`);
    return x;
  });
}

function scale(x: Float32Array, factor: number): Float32Array {
  if (factor === 1) return x;
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] * factor;
  return out;
}

async function sourceRecord(source: ImageSource | undefined): Promise<SourceRecord | null> {
  if (source === undefined) return null;
  if (typeof source !== 'string') return { path: null, sha256: null };
  return { path: source, sha256: await sha256File(source) };
}
