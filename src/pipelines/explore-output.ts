/**
 * Writing exploration results: one PNG per image with its recipe (lineage) in the gesso chunk, contact
 * grids, and walks as looping animated WebP / GIF (sharp reads raw frames stacked vertically with
 * `pageHeight`) plus the PNG frame sequence. Every file is written atomically.
 */
import { join } from 'node:path';
import sharp from 'sharp';
import { InputError } from '../core/errors.ts';
import { batchToGrid } from '../image/grid.ts';
import { readImageInfo } from '../image/read-info.ts';
import { embedAnimationMetadata } from '../image/animation-metadata.ts';
import { writeImageFile, type ImageMetadata } from '../image/write-image.ts';
import { writeFileAtomic } from '../weights/file-io.ts';
import { cachedSha256File } from '../weights/hash.ts';
import { checkSpec, EXPLORE_RECIPE_FORMAT, EXPLORE_RECIPE_VERSION, type ExploreRecipe, type LatentSpec } from './gan-explore.ts';
import type { GanModel } from './gan-model.ts';
import type { DiffusionExploreRecipe } from './diffusion-explore.ts';

/** (3, S, S) planes in [-1, 1] -> (S, S, 3) interleaved bytes. */
export function planesToRgb(images: Float32Array, index: number, size: number): Uint8Array {
  const plane = size * size;
  const base = index * 3 * plane;
  const out = new Uint8Array(plane * 3);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) out[3 * p + c] = Math.max(0, Math.min(255, Math.round(((images[base + c * plane + p] as number) + 1) * 127.5)));
  }
  return out;
}

/** The model's identity for recipes: SHA-256 over its gan.json, mapping.onnx and synthesis.onnx hashes. */
export async function ganModelHash(model: GanModel): Promise<string> {
  if (model.source === 'in-memory') return 'in-memory';
  const parts = await Promise.all(['gan.json', 'mapping.onnx', 'synthesis.onnx'].map((f) => cachedSha256File(join(model.source, f))));
  const { createHash } = await import('node:crypto');
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}

export function exploreRecipe(model: GanModel, sha256: string, latent: LatentSpec, truncation: number): ExploreRecipe {
  return { format: EXPLORE_RECIPE_FORMAT, version: EXPLORE_RECIPE_VERSION, kind: 'gan', model: { dir: model.source, sha256 }, latent, truncation };
}

/** Writes image `index` of `images` as a PNG carrying `recipe`. */
export async function writeExplorePng(path: string, images: Float32Array, index: number, size: number, recipe: ExploreRecipe): Promise<Uint8Array> {
  return writeImageFile(path, planesToRgb(images, index, size), size, size, 3, {
    recipe,
    xmp: { description: `gesso explore: ${describeSpec(recipe.latent)}` },
  });
}

/** The recipe of a PNG written by gesso explore (a GAN or a diffusion exploration), checked. */
export async function readExploreRecipe(path: string): Promise<ExploreRecipe | DiffusionExploreRecipe> {
  const info = await readImageInfo(path);
  const r = info.recipe as Record<string, unknown> | undefined;
  if (!r) throw new InputError(`${path} has no gesso recipe (was it written by gesso explore?)`);
  if (r['format'] !== EXPLORE_RECIPE_FORMAT)
    throw new InputError(
      `${path}: recipe format "${String(r['format'])}" is not "${EXPLORE_RECIPE_FORMAT}" (a gesso generate image? use gesso generate --recipe)`,
    );
  const model = r['model'] as Record<string, unknown> | undefined;
  if (typeof model?.['dir'] !== 'string') throw new InputError(`${path}: recipe has no model folder`);
  if (r['kind'] === 'diffusion') {
    if (typeof r['noise'] !== 'object' || typeof r['prompt'] !== 'object' || typeof r['base'] !== 'object')
      throw new InputError(`${path}: diffusion recipe needs noise, prompt and base settings`);
    return r as unknown as DiffusionExploreRecipe;
  }
  if (r['kind'] !== 'gan') throw new InputError(`${path}: recipe kind ${JSON.stringify(r['kind'])} is not "gan" or "diffusion"`);
  checkSpec(r['latent'], `${path}: latent`);
  if (typeof model['sha256'] !== 'string') throw new InputError(`${path}: recipe has no model sha256`);
  if (typeof r['truncation'] !== 'number') throw new InputError(`${path}: recipe truncation is not a number`);
  return r as unknown as ExploreRecipe;
}

/** The GAN latent an explore PNG records (for keyframes and parents). */
export async function readGanLatent(path: string): Promise<LatentSpec> {
  const recipe = await readExploreRecipe(path);
  if (recipe.kind !== 'gan') throw new InputError(`${path} was made by a diffusion model; GAN keyframes and parents must be GAN explore images`);
  return recipe.latent;
}

/** A compact one-line description of a spec, for XMP descriptions and logs. */
export function describeSpec(s: LatentSpec): string {
  switch (s.op) {
    case 'seed':
      return `seed ${s.seed}`;
    case 'interpolate':
      return `${s.method}(${describeSpec(s.from)}, ${describeSpec(s.to)}, t=${s.t.toFixed(3)}, ${s.space})`;
    case 'mix':
      return `mix(${s.parents.map((p, i) => `${describeSpec(p)}×${(s.weights[i] as number).toFixed(2)}`).join(', ')})`;
    case 'gene':
      return `${describeSpec(s.base)} ${s.moves.map((m) => `${m.gene}${m.amount >= 0 ? '+' : ''}${m.amount.toFixed(2)}`).join(' ')}`;
    case 'breed':
      return `breed(${s.parents.map(describeSpec).join(', ')}; seed ${s.seed}, rate ${s.rate})`;
  }
}

/** A grid PNG of n images (cols per row), cells magnified `scale` times. */
export async function writeGridPng(path: string, images: Float32Array, n: number, size: number, cols: number, scale = 1): Promise<void> {
  const grid = batchToGrid(images, [n, 3, size, size], { cols, gap: 2, scale });
  await writeImageFile(path, grid.pixels, grid.width, grid.height, 3);
}

/** A looping animation of n GAN frames (3, S, S) in [-1, 1]; the format follows the extension (.webp or .gif). */
export async function writeAnimation(
  path: string,
  images: Float32Array,
  n: number,
  size: number,
  options: { fps?: number; scale?: number; metadata?: ImageMetadata } = {},
): Promise<void> {
  const frames = Array.from({ length: n }, (_, i) => planesToRgb(images, i, size));
  await writeRgbAnimation(path, frames, size, size, options);
}

/** A looping animation of (H, W, 3) RGB byte frames, magnified `scale` times (nearest neighbour). */
export async function writeRgbAnimation(
  path: string,
  frames: readonly Uint8Array[],
  width: number,
  height: number,
  options: { fps?: number; scale?: number; metadata?: ImageMetadata } = {},
): Promise<void> {
  let format: 'webp' | 'gif';
  if (/\.webp$/i.test(path)) format = 'webp';
  else if (/\.gif$/i.test(path)) format = 'gif';
  else throw new InputError(`animation ${JSON.stringify(path)}: expected a .webp or .gif file name`);
  const bytes = await encodeRgbAnimation(format, frames, width, height, options);
  writeFileAtomic(path, bytes);
}

/** The bytes of a looping WebP or GIF of (H, W, 3) RGB byte frames, magnified `scale` times (nearest neighbour). */
export async function encodeRgbAnimation(
  format: 'webp' | 'gif',
  frames: readonly Uint8Array[],
  width: number,
  height: number,
  options: { fps?: number; scale?: number; metadata?: ImageMetadata } = {},
): Promise<Uint8Array> {
  const fps = options.fps ?? 12;
  if (!(fps > 0 && fps <= 100)) throw new InputError(`fps ${fps} must be in (0, 100]`);
  if (frames.length === 0) throw new InputError('an animation needs at least one frame');
  const scale = options.scale ?? 1;
  const [w, h] = [width * scale, height * scale];
  const stacked = Buffer.alloc(frames.length * w * h * 3);
  frames.forEach((rgb, i) => {
    if (rgb.length !== width * height * 3)
      throw new InputError(`animation frame ${i} has ${rgb.length} bytes; ${width}x${height} RGB needs ${width * height * 3}`);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const src = (Math.floor(y / scale) * width + Math.floor(x / scale)) * 3;
        const dst = ((i * h + y) * w + x) * 3;
        stacked[dst] = rgb[src] as number;
        stacked[dst + 1] = rgb[src + 1] as number;
        stacked[dst + 2] = rgb[src + 2] as number;
      }
    }
  });
  const delay = new Array<number>(frames.length).fill(Math.round(1000 / fps));
  const img = sharp(stacked, { raw: { width: w, height: h * frames.length, channels: 3, pageHeight: h } });
  const bytes = await (format === 'webp' ? img.webp({ loop: 0, delay, quality: 90 }) : img.gif({ loop: 0, delay })).toBuffer();
  // Provenance and the recipe go inside the file (WebP XMP chunk; GIF XMP + comment), as PNGs carry them.
  return options.metadata ? embedAnimationMetadata(bytes, options.metadata, `${format} animation`) : bytes;
}
