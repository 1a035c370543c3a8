/**
 * Content images for training a style network: every image in a folder (recursively; PNG, JPEG, WebP,
 * GIF, TIFF, AVIF, self-contained SVG), each cut to a centred square and resized to `size`, held in
 * memory. Batches are a pure function of the step (seeded), so a resumed run sees the same batches.
 */
import { readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { InputError } from '../core/errors.ts';
import { Rng } from '../core/rng.ts';
import type { HostTensor } from '../runtime/tensor.ts';
import { loadImage } from './load-image.ts';
import { resizePlanes, type RgbPlanes } from './planes.ts';

const EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff', '.avif', '.svg']);

export function listImages(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch (e) {
    throw new InputError(`content folder ${JSON.stringify(dir)} cannot be read: ${(e as Error).message}`);
  }
  const out: string[] = [];
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listImages(path));
    else if (EXTENSIONS.has(extname(name).toLowerCase())) out.push(path);
  }
  return out;
}

/** Centre square crop at size × size. */
export async function squareCrop(p: RgbPlanes, size: number): Promise<RgbPlanes> {
  const side = Math.min(p.width, p.height);
  const x0 = Math.floor((p.width - side) / 2);
  const y0 = Math.floor((p.height - side) / 2);
  const crop = new Float32Array(3 * side * side);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < side; y++)
      crop.set(
        p.data.subarray(c * p.width * p.height + (y + y0) * p.width + x0, c * p.width * p.height + (y + y0) * p.width + x0 + side),
        c * side * side + y * side,
      );
  return resizePlanes({ data: crop, width: side, height: side }, size, size);
}

export class ContentSet {
  private constructor(
    readonly images: RgbPlanes[],
    readonly size: number,
    readonly skipped: string[],
  ) {}

  /** Loads up to `limit` images; unreadable ones are skipped and listed (a folder of photos often has a stray file). */
  static async load(dir: string, size: number, limit = 2000): Promise<ContentSet> {
    const files = listImages(dir).slice(0, limit);
    const images: RgbPlanes[] = [];
    const skipped: string[] = [];
    for (const f of files) {
      try {
        images.push(await squareCrop(await loadImage(f, 'content image'), size));
      } catch (e) {
        skipped.push(`${f}: ${(e as Error).message}`);
      }
    }
    if (images.length === 0)
      throw new InputError(
        `content folder ${JSON.stringify(dir)} has no images gesso can read${skipped.length ? ` (${skipped.length} failed, e.g. ${skipped[0]})` : ''}`,
      );
    return new ContentSet(images, size, skipped);
  }

  /** (B, 3, S, S) in [0, 1]: images drawn by a seeded Rng of the step, flipped left-right at random. */
  batch(step: number, batchSize: number, seed: number): HostTensor {
    const rng = new Rng((seed * 1_000_003 + step) >>> 0);
    const s = this.size;
    const data = new Float32Array(batchSize * 3 * s * s);
    for (let b = 0; b < batchSize; b++) {
      const img = this.images[Math.floor(rng.uniform() * this.images.length)] as RgbPlanes;
      const flip = rng.uniform() < 0.5;
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < s; y++) {
          for (let x = 0; x < s; x++) data[((b * 3 + c) * s + y) * s + x] = img.data[(c * s + y) * s + (flip ? s - 1 - x : x)] as number;
        }
      }
    }
    return { dtype: 'float32', dims: [batchSize, 3, s, s], data };
  }
}
