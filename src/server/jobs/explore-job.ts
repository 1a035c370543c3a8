/**
 * The `explore` job: latent exploration for the studio's Explore page, built on gesso explore's library
 * functions. GAN modes: samples (seeds), walk (through keyframes, looping), grid (4 corners), genes
 * (a 2-D grid along two named directions), breed (children of parents) and specs (any latent specs,
 * e.g. a base moved by the gene sliders). Diffusion modes: a walk or a grid between two prompts and two
 * seeds (noise slerp × prompt-embedding blend). Every image is a PNG carrying its explore recipe (so a
 * kept image can be made again and bred again) and comes back with its spec; walks can also come back
 * as a looping WebP or GIF. Nothing goes into the library until the user keeps an image.
 */
import { InputError } from '../../core/errors.ts';
import type { JsonObject, JsonValue } from '../../core/json.ts';
import { encodePng } from '../../image/write-image.ts';
import { GenerationCancelled } from '../../pipelines/denoise.ts';
import { renderDiffusion, type DiffusionBase, type NoiseSpec, type PromptBlend } from '../../pipelines/diffusion-explore.ts';
import { describeSpec, encodeRgbAnimation, exploreRecipe, ganModelHash, planesToRgb } from '../../pipelines/explore-output.ts';
import { breedSpecs, cornerGridSpecs, geneGridSpecs, seedSpec, walkSpecs } from '../../pipelines/explore-specs.ts';
import { checkSpec, checkTruncation, LatentResolver, type LatentSpec } from '../../pipelines/gan-explore.ts';
import type { ModelRegistry } from '../models.ts';
import type { JobContext, JobHandler } from '../queue/types.ts';

export const GAN_EXPLORE_MODES = ['samples', 'walk', 'grid', 'genes', 'breed', 'specs'] as const;
export const DIFFUSION_EXPLORE_MODES = ['diffusion-walk', 'diffusion-grid'] as const;
export type ExploreMode = (typeof GAN_EXPLORE_MODES)[number] | (typeof DIFFUSION_EXPLORE_MODES)[number];

/** At most this many GAN images (64 px: ~5 ms each) or diffusion images (a full sampling run each) per job. */
export const MAX_GAN_IMAGES = 256;
export const MAX_DIFFUSION_IMAGES = 25;

export interface ExplorePayload {
  model: string;
  mode: ExploreMode;
  truncation?: number;
  /** samples */
  seeds?: number[];
  /** walk: keyframes; frames per segment; loop back to the start. */
  keys?: LatentSpec[];
  frames?: number;
  loop?: boolean;
  /** grid: top-left, top-right, bottom-left, bottom-right; n per side (also diffusion-grid). */
  corners?: LatentSpec[];
  n?: number;
  /** genes: a grid around base along genes[0] (columns) and genes[1] (rows), ±range std. */
  base?: LatentSpec;
  genes?: string[];
  range?: number;
  /** breed */
  parents?: LatentSpec[];
  children?: number;
  seed?: number;
  rate?: number;
  /** specs */
  specs?: LatentSpec[];
  /** diffusion: two prompts and two seeds to move between, and the sampling settings. */
  prompts?: string[];
  noiseSeeds?: number[];
  steps?: number;
  cfgScale?: number;
  width?: number;
  height?: number;
  /** Also return the images as a looping animation. */
  animation?: 'webp' | 'gif';
  fps?: number;
}

export interface ExploredImage {
  /** base64 PNG with the explore recipe. */
  png: string;
  /** GAN: the latent spec; diffusion: { noise, prompt }. */
  spec: JsonValue;
  label: string;
}

export function exploreHandler(models: ModelRegistry): JobHandler {
  return async (job, context) => {
    const p = job.payload as unknown as ExplorePayload;
    if ((DIFFUSION_EXPLORE_MODES as readonly string[]).includes(p.mode)) return exploreDiffusion(models, p, context);
    if (!(GAN_EXPLORE_MODES as readonly string[]).includes(p.mode))
      throw new InputError(`explore mode ${JSON.stringify(p.mode)} is not one of ${[...GAN_EXPLORE_MODES, ...DIFFUSION_EXPLORE_MODES].join(', ')}`);
    return exploreGan(models, p, context);
  };
}

/** The latent specs a GAN explore request asks for, each checked (they come from a client). */
export function ganSpecs(p: ExplorePayload): LatentSpec[] {
  const specs = (what: string, list: unknown, min: number, max: number): LatentSpec[] => {
    if (!Array.isArray(list) || list.length < min || list.length > max) throw new InputError(`${what}: expected ${min} to ${max} latent specs`);
    list.forEach((s, i) => {
      checkSpec(s, `${what}[${i}]`);
    });
    return list as LatentSpec[];
  };
  let out: LatentSpec[];
  switch (p.mode) {
    case 'samples':
      if (!Array.isArray(p.seeds) || p.seeds.length === 0) throw new InputError('samples: expected a list of seeds');
      out = p.seeds.map(seedSpec);
      break;
    case 'walk':
      out = walkSpecs(specs('keys', p.keys, 2, 16), { frames: p.frames ?? 12, loop: p.loop ?? true });
      break;
    case 'grid':
      out = cornerGridSpecs(specs('corners', p.corners, 4, 4), p.n ?? 4);
      break;
    case 'genes': {
      const [base] = specs('base', [p.base], 1, 1);
      const [gx, gy] = p.genes ?? [];
      if (typeof gx !== 'string' || typeof gy !== 'string') throw new InputError('genes: expected two gene names, e.g. ["pc1", "pc2"]');
      out = geneGridSpecs(base as LatentSpec, gx, gy, p.n ?? 5, p.range ?? 2);
      break;
    }
    case 'breed':
      out = breedSpecs(specs('parents', p.parents, 2, 16), p.children ?? 8, p.seed ?? 1, p.rate ?? 0.2, 1);
      break;
    default:
      out = specs('specs', p.specs, 1, MAX_GAN_IMAGES);
  }
  if (out.length > MAX_GAN_IMAGES) throw new InputError(`${p.mode} makes ${out.length} images; at most ${MAX_GAN_IMAGES} per request`);
  out.forEach((s, i) => {
    checkSpec(s, `image ${i}`);
  });
  return out;
}

async function exploreGan(models: ModelRegistry, p: ExplorePayload, context: JobContext): Promise<JsonValue> {
  const truncation = p.truncation ?? 1;
  checkTruncation(truncation);
  const specs = ganSpecs(p);
  const model = await models.gan(p.model);
  const resolver = new LatentResolver(model);
  const size = model.config.size;
  const sha256 = await ganModelHash(model);
  const started = performance.now();
  const frames: Uint8Array[] = [];
  const images: ExploredImage[] = [];
  for (const [i, spec] of specs.entries()) {
    if (context.signal.aborted) throw new GenerationCancelled(`after ${i} images`);
    const planes = await model.synthesize(await resolver.truncated(spec, truncation)); // (1, 3, S, S)
    const rgb = planesToRgb(planes, 0, size);
    frames.push(rgb);
    const recipe = exploreRecipe(model, sha256, spec, truncation);
    const label = describeSpec(spec);
    const png = await encodePng(rgb, size, size, 3, {
      recipe: { ...recipe, model: { ...recipe.model, dir: p.model } },
      xmp: { description: `gesso explore: ${label}` },
    });
    images.push({ png: Buffer.from(png).toString('base64'), spec: spec as unknown as JsonValue, label });
    progress(context, i + 1, specs.length, started);
  }
  return output('gan', size, size, images, frames, p);
}

async function exploreDiffusion(models: ModelRegistry, p: ExplorePayload, context: JobContext): Promise<JsonValue> {
  const prompts = p.prompts ?? [];
  const seeds = p.noiseSeeds ?? [];
  if (prompts.length < 1 || prompts.length > 2 || !prompts.every((t) => typeof t === 'string' && t.trim() !== ''))
    throw new InputError('diffusion explore: expected one or two non-empty prompts');
  if (seeds.length !== 2 || !seeds.every((s) => Number.isInteger(s) && s >= 0 && s <= 0xffffffff))
    throw new InputError('diffusion explore: expected two seeds (integers 0..4294967295) to move between');
  const [a, b] = [prompts[0] as string, prompts[1] ?? (prompts[0] as string)];
  // Cells: (noise t, prompt t). A walk moves along both at once; a grid has noise across, prompt down.
  const cells: { tn: number; tp: number }[] = [];
  if (p.mode === 'diffusion-walk') {
    const frames = p.frames ?? 8;
    if (!Number.isInteger(frames) || frames < 2) throw new InputError(`frames ${frames} must be a whole number >= 2`);
    for (let i = 0; i < frames; i++) cells.push({ tn: i / (frames - 1), tp: i / (frames - 1) });
  } else {
    const n = p.n ?? 3;
    if (!Number.isInteger(n) || n < 2) throw new InputError(`n ${n} must be a whole number >= 2`);
    for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) cells.push({ tn: c / (n - 1), tp: r / (n - 1) });
  }
  if (cells.length > MAX_DIFFUSION_IMAGES) throw new InputError(`${p.mode} makes ${cells.length} images; at most ${MAX_DIFFUSION_IMAGES} per request`);
  const model = await models.load(p.model);
  const base: DiffusionBase = {
    ...(p.steps !== undefined ? { steps: p.steps } : {}),
    ...(p.cfgScale !== undefined ? { cfgScale: p.cfgScale } : {}),
    ...(p.width !== undefined ? { width: p.width } : {}),
    ...(p.height !== undefined ? { height: p.height } : {}),
  };
  const started = performance.now();
  const images: ExploredImage[] = [];
  const frames: Uint8Array[] = [];
  let [width, height] = [0, 0];
  for (const [i, { tn, tp }] of cells.entries()) {
    if (context.signal.aborted) throw new GenerationCancelled(`after ${i} images`);
    const noise: NoiseSpec = { op: 'slerp', from: { op: 'seed', seed: seeds[0] as number }, to: { op: 'seed', seed: seeds[1] as number }, t: tn };
    const prompt: PromptBlend =
      a === b
        ? { prompts: [{ text: a, weight: 1 }] }
        : {
            prompts: [
              { text: a, weight: 1 - tp },
              { text: b, weight: tp },
            ],
          };
    const image = await renderDiffusion(model, base, noise, prompt);
    [width, height] = [image.width, image.height];
    const metadata = { ...image.metadata, recipe: { ...(image.metadata.recipe ?? {}), model: { dir: p.model, hash: image.recipe.model.hash } } };
    const png = await encodePng(image.pixels, width, height, 3, metadata);
    frames.push(Uint8Array.from(image.pixels, (v) => Math.round(Math.max(0, Math.min(1, v)) * 255)));
    const label = `noise ${tn.toFixed(2)}, prompt ${tp.toFixed(2)}`;
    images.push({ png: Buffer.from(png).toString('base64'), spec: { noise, prompt } as unknown as JsonValue, label });
    progress(context, i + 1, cells.length, started);
  }
  return output('diffusion', width, height, images, frames, p);
}

function progress(context: JobContext, step: number, steps: number, started: number): void {
  const perImage = (performance.now() - started) / step;
  context.progress({ step, steps, etaMs: Math.round(perImage * (steps - step)) });
}

async function output(
  kind: 'gan' | 'diffusion',
  width: number,
  height: number,
  images: ExploredImage[],
  frames: Uint8Array[],
  p: ExplorePayload,
): Promise<JsonValue> {
  let animation: JsonObject | null = null;
  if (p.animation !== undefined) {
    if (p.animation !== 'webp' && p.animation !== 'gif') throw new InputError(`animation ${JSON.stringify(p.animation)}: expected "webp" or "gif"`);
    const scale = Math.max(1, Math.floor(256 / Math.max(width, height)));
    const bytes = await encodeRgbAnimation(p.animation, frames, width, height, { fps: p.fps ?? 12, scale });
    animation = { format: p.animation, data: Buffer.from(bytes).toString('base64') };
  }
  return { kind, width, height, images: images as unknown as JsonValue[], animation };
}
