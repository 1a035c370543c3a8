/**
 * Exploring a diffusion model: the starting noise and the prompt embeddings become explicit inputs
 * (generate()'s `latents` request field and `conditioning` option), so they can be interpolated and mixed:
 *
 * - noise: a seed's noise (gesso's Rng normals, exactly what `generate` draws for that seed), a slerp
 *   between two noise specs, or an A1111 variation: slerp(strength, noise(seed), noise(variationSeed))
 *   (A1111's "Variation seed" / "Variation strength", which interpolates the same way);
 * - prompt: a weighted blend of prompt embeddings (two prompts with weights 1 − t, t interpolate
 *   between them). Every prompt must fit the same number of 75-token chunks.
 *
 * The recipe (format gesso.explore, kind diffusion) holds the noise and prompt specs with every
 * setting, so `gesso explore regen IMAGE.png` makes the image again.
 */
import { InputError } from '../core/errors.ts';
import { Rng } from '../core/rng.ts';
import { generate, type GeneratedImage } from './generate.ts';
import { slerp } from './latent-math.ts';
import type { DiffusionModel } from './model-folder.ts';
import { latentShape, type GenerateRequest } from './settings.ts';
import { encodePrompts, type Conditioning } from './text-conditioning.ts';
import { EXPLORE_RECIPE_FORMAT, EXPLORE_RECIPE_VERSION } from './gan-explore.ts';

export type NoiseSpec =
  | { op: 'seed'; seed: number }
  | { op: 'slerp'; from: NoiseSpec; to: NoiseSpec; t: number }
  | { op: 'variation'; seed: number; variationSeed: number; strength: number };

export interface PromptBlend {
  prompts: { text: string; weight: number }[];
}

/** Settings shared by every image of an exploration (prompt and seed come from the specs). */
export type DiffusionBase = Omit<GenerateRequest, 'prompt' | 'seed' | 'batchSize' | 'initImage' | 'mask' | 'strength'>;

export interface DiffusionExploreRecipe {
  format: typeof EXPLORE_RECIPE_FORMAT;
  version: number;
  kind: 'diffusion';
  model: { dir: string; hash: string };
  base: DiffusionBase;
  noise: NoiseSpec;
  prompt: PromptBlend;
}

/** (C, h, w) standard-normal starting noise of a spec. */
export function resolveNoise(spec: NoiseSpec, size: number): Float32Array {
  switch (spec.op) {
    case 'seed':
      return new Rng(spec.seed).normal(size);
    case 'slerp':
      return slerp(resolveNoise(spec.from, size), resolveNoise(spec.to, size), spec.t);
    case 'variation':
      return slerp(new Rng(spec.seed).normal(size), new Rng(spec.variationSeed).normal(size), spec.strength);
  }
}

/** The seed that drives a spec's stochastic sampler steps: its first seed. */
export function primarySeed(spec: NoiseSpec): number {
  return spec.op === 'slerp' ? primarySeed(spec.from) : spec.seed;
}

/** Prompt embeddings of a blend: Σ weight · cond (weights normalised); the negative prompt's uncond is shared. */
export async function blendConditioning(model: DiffusionModel, blend: PromptBlend, negativePrompt = ''): Promise<Conditioning> {
  if (blend.prompts.length === 0) throw new InputError('a prompt blend needs at least one prompt');
  const total = blend.prompts.reduce((s, p) => s + p.weight, 0);
  if (!(total > 0)) throw new InputError(`prompt weights ${blend.prompts.map((p) => p.weight).join(', ')} must sum to more than 0`);
  const parts = await Promise.all(blend.prompts.map((p) => encodePrompts(model, p.text, negativePrompt)));
  const first = parts[0] as Conditioning;
  parts.forEach((c, i) => {
    if (c.cond.length !== first.cond.length) {
      throw new InputError(
        `prompt "${blend.prompts[i]?.text}" needs ${c.chunks} chunk(s) of 75 tokens, "${blend.prompts[0]?.text}" ${first.chunks}: blended prompts must fit the same number of chunks`,
      );
    }
  });
  const cond = new Float32Array(first.cond.length);
  parts.forEach((c, k) => {
    const w = (blend.prompts[k]?.weight as number) / total;
    for (let i = 0; i < cond.length; i++) cond[i] = (cond[i] as number) + w * (c.cond[i] as number);
  });
  return { ...first, cond, warnings: parts.flatMap((p) => p.warnings) };
}

/** Makes one image from a noise spec and a prompt blend; its metadata carries the explore recipe. */
export async function renderDiffusion(model: DiffusionModel, base: DiffusionBase, noise: NoiseSpec, prompt: PromptBlend): Promise<GeneratedImage> {
  const conditioning = await blendConditioning(model, prompt, base.negativePrompt ?? '');
  const label = prompt.prompts.map((p) => (prompt.prompts.length > 1 ? `${p.text} (${p.weight.toFixed(3)})` : p.text)).join(' | ');
  const request: GenerateRequest = { ...base, prompt: label, seed: primarySeed(noise), batchSize: 1 };
  const [C, h, w] = latentShape(model, request);
  const latents = [resolveNoise(noise, C * h * w)];
  const result = await generate(model, { ...request, latents }, { conditioning });
  const image = result.images[0] as GeneratedImage;
  const recipe: DiffusionExploreRecipe = {
    format: EXPLORE_RECIPE_FORMAT,
    version: EXPLORE_RECIPE_VERSION,
    kind: 'diffusion',
    model: { dir: model.dir, hash: image.recipe.model.hash },
    base,
    noise,
    prompt,
  };
  const extra: Record<string, string> = { ...(image.parameters.extra ?? {}) };
  if (noise.op === 'variation') {
    extra['Variation seed'] = String(noise.variationSeed);
    extra['Variation seed strength'] = String(noise.strength);
  }
  const parameters = { ...image.parameters, extra };
  return { ...image, parameters, metadata: { ...image.metadata, parameters, recipe } };
}
