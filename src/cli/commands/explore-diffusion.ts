import { mkdirSync } from 'node:fs';
import { numberFlag } from '../flags.ts';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_MODEL_DIR } from '../../core/paths.ts';
import { InputError } from '../../core/errors.ts';
import { writeImageFile } from '../../image/write-image.ts';
import { renderDiffusion, type DiffusionBase, type DiffusionExploreRecipe, type NoiseSpec, type PromptBlend } from '../../pipelines/diffusion-explore.ts';
import { writeRgbAnimation } from '../../pipelines/explore-output.ts';
import { checkEasing, frameTimes } from '../../pipelines/latent-math.ts';
import { loadModel } from '../../pipelines/model-folder.ts';
import type { GeneratedImage } from '../../pipelines/generate.ts';

export const diffusionUsage = `
  diffusion interpolate --prompt A [--to-prompt B] --seed S [--to-seed T] [--frames 16] [--easing E] [--fps 8]
           slerp of the starting noise from seed S to T and/or a blend of the prompt embeddings from A
           to B; writes frames, walk.webp, walk.gif (not looped: an A -> B transition)
  diffusion blend --prompts "A|B|C" --weights 0.5,0.3,0.2 [--seed S]   one image from blended prompts
  diffusion variations --prompt A --seed S [--variation-seed V] [--strength 0.2] [--count 8]
           A1111 variation seeds: noise = slerp(strength, noise(S), noise(V + i)) for i < count
  Diffusion options: --model DIR (default: the shipped model), --steps N, --cfg X, --scheduler NAME,
  --negative TEXT, --out DIR (default explore/diffusion-<mode>)`;

const options = {
  model: { type: 'string' },
  out: { type: 'string' },
  prompt: { type: 'string' },
  'to-prompt': { type: 'string' },
  seed: { type: 'string' },
  'to-seed': { type: 'string' },
  frames: { type: 'string' },
  easing: { type: 'string' },
  fps: { type: 'string' },
  prompts: { type: 'string' },
  weights: { type: 'string' },
  'variation-seed': { type: 'string' },
  strength: { type: 'string' },
  count: { type: 'string' },
  steps: { type: 'string' },
  cfg: { type: 'string' },
  scheduler: { type: 'string' },
  negative: { type: 'string' },
} as const;

export async function runDiffusionExplore(args: string[]): Promise<number> {
  const [mode, ...rest] = args;
  if (mode !== 'interpolate' && mode !== 'blend' && mode !== 'variations')
    throw new InputError(`explore diffusion: unknown mode ${JSON.stringify(mode ?? '')}; expected interpolate, blend or variations`);
  const { values } = parseArgs({ args: rest, options });
  const base: DiffusionBase = {
    ...(values.steps !== undefined ? { steps: numberFlag('--steps', values.steps, { integer: true, min: 1, max: 1000 }) } : {}),
    ...(values.cfg !== undefined ? { cfgScale: numberFlag('--cfg', values.cfg) } : {}),
    ...(values.scheduler !== undefined ? { scheduler: values.scheduler } : {}),
    ...(values.negative !== undefined ? { negativePrompt: values.negative } : {}),
  };
  const seed = values.seed === undefined ? 0 : numberFlag('--seed', values.seed, { integer: true, min: 0, max: 0xffffffff });
  const jobs: { noise: NoiseSpec; prompt: PromptBlend }[] = [];
  if (mode === 'interpolate') {
    const a = required('--prompt', values.prompt);
    const b = values['to-prompt'] ?? a;
    const toSeed = values['to-seed'] === undefined ? seed : numberFlag('--to-seed', values['to-seed'], { integer: true, min: 0, max: 0xffffffff });
    if (b === a && toSeed === seed) throw new InputError('explore diffusion interpolate: give --to-prompt and/or --to-seed (something to interpolate to)');
    for (const t of frameTimes(
      numberFlag('--frames', values.frames ?? '16', { integer: true, min: 2, max: 1000 }),
      checkEasing(values.easing ?? 'ease-in-out'),
    )) {
      const noise: NoiseSpec =
        toSeed === seed
          ? { op: 'seed', seed }
          : t === 0
            ? { op: 'seed', seed }
            : t === 1
              ? { op: 'seed', seed: toSeed }
              : { op: 'slerp', from: { op: 'seed', seed }, to: { op: 'seed', seed: toSeed }, t };
      const prompt: PromptBlend =
        b === a || t === 0
          ? { prompts: [{ text: a, weight: 1 }] }
          : t === 1
            ? { prompts: [{ text: b, weight: 1 }] }
            : {
                prompts: [
                  { text: a, weight: 1 - t },
                  { text: b, weight: t },
                ],
              };
      jobs.push({ noise, prompt });
    }
  } else if (mode === 'blend') {
    const texts = required('--prompts', values.prompts)
      .split('|')
      .map((p) => p.trim());
    const weights = values.weights === undefined ? texts.map(() => 1) : values.weights.split(',').map((w) => numberFlag('--weights', w));
    if (weights.length !== texts.length) throw new InputError(`--weights has ${weights.length} values for ${texts.length} prompts`);
    jobs.push({ noise: { op: 'seed', seed }, prompt: { prompts: texts.map((text, i) => ({ text, weight: weights[i] as number })) } });
  } else {
    const prompt = required('--prompt', values.prompt);
    const strength = values.strength === undefined ? 0.2 : numberFlag('--strength', values.strength);
    if (!(strength >= 0 && strength <= 1)) throw new InputError(`--strength ${strength} must be in [0, 1]`);
    const first =
      values['variation-seed'] === undefined ? seed + 1 : numberFlag('--variation-seed', values['variation-seed'], { integer: true, min: 0, max: 0xffffffff });
    const count = numberFlag('--count', values.count ?? '8', { integer: true, min: 1, max: 256 });
    jobs.push({ noise: { op: 'seed', seed }, prompt: { prompts: [{ text: prompt, weight: 1 }] } });
    for (let i = 0; i < count; i++)
      jobs.push({ noise: { op: 'variation', seed, variationSeed: first + i, strength }, prompt: { prompts: [{ text: prompt, weight: 1 }] } });
  }

  const outDir = values.out ?? join('explore', `diffusion-${mode}`);
  mkdirSync(outDir, { recursive: true });
  const model = await loadModel(values.model ?? DEFAULT_MODEL_DIR);
  try {
    const frames: GeneratedImage[] = [];
    for (const [i, job] of jobs.entries()) {
      const image = await renderDiffusion(model, base, job.noise, job.prompt);
      await writeImageFile(join(outDir, `image-${String(i).padStart(4, '0')}.png`), image.pixels, image.width, image.height, 3, image.metadata);
      frames.push(image);
    }
    if (mode === 'interpolate') {
      const first = frames[0] as GeneratedImage;
      const rgb = frames.map((f) => Uint8Array.from(f.pixels, (v) => Math.max(0, Math.min(255, Math.round(v * 255)))));
      const fps = values.fps === undefined ? 8 : numberFlag('--fps', values.fps);
      for (const name of ['walk.webp', 'walk.gif']) await writeRgbAnimation(join(outDir, name), rgb, first.width, first.height, { fps });
    }
    console.log(`wrote ${jobs.length} image(s) to ${outDir}${mode === 'interpolate' ? ' (and walk.webp, walk.gif)' : ''}`);
    return 0;
  } finally {
    await model.release();
  }
}

/** Re-makes an image from a diffusion explore recipe. */
export async function regenDiffusion(recipe: DiffusionExploreRecipe, outPath: string, modelDir?: string): Promise<void> {
  const model = await loadModel(modelDir ?? recipe.model.dir);
  try {
    const image = await renderDiffusion(model, recipe.base, recipe.noise, recipe.prompt);
    if (image.recipe.model.hash !== recipe.model.hash)
      console.warn(`warning: the recipe was made with model hash ${recipe.model.hash}, this model's is ${image.recipe.model.hash}: the image will differ`);
    await writeImageFile(outPath, image.pixels, image.width, image.height, 3, image.metadata);
  } finally {
    await model.release();
  }
}

function required(flag: string, value: string | undefined): string {
  if (value === undefined || value.trim() === '') throw new InputError(`${flag} is required (see gesso explore --help)`);
  return value;
}
