/**
 * Where `gesso generate` writes its images, decided before anything runs and written only after every
 * image is done:
 *   --out FILE.png   that file (a batch: FILE-<seed>.png for each image)
 *   --out DIR        DIR/gesso-<seed>.png (DIR is created; an existing file gets -2, -3 … instead)
 *   (none)           ./outputs/gesso-<seed>.png
 */
import { existsSync, statSync } from 'node:fs';
import { mkdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InputError } from '../core/errors.ts';
import { writeImageFile } from '../image/write-image.ts';
import type { GeneratedImage } from '../pipelines/generate.ts';

export const DEFAULT_OUTPUT_DIR = 'outputs';

export interface OutputPlan {
  /** A folder to put the images in, or a file name pattern. */
  kind: 'dir' | 'file';
  path: string;
}

export function planOutput(out: string | undefined): OutputPlan {
  const path = out ?? DEFAULT_OUTPUT_DIR;
  if (/\.png$/i.test(path)) {
    if (existsSync(path) && statSync(path).isDirectory()) throw new InputError(`--out ${path} is a folder; give a .png file or a folder name without .png`);
    const folder = dirname(path);
    if (!existsSync(folder)) throw new InputError(`--out ${path}: folder ${folder} does not exist`);
    return { kind: 'file', path };
  }
  if (/\.[a-z0-9]{2,5}$/i.test(path) && !existsSync(path)) {
    throw new InputError(`--out ${path}: gesso writes PNG; give a path ending in .png, or a folder`);
  }
  if (existsSync(path) && !statSync(path).isDirectory()) throw new InputError(`--out ${path} is a file that is not a .png; give a .png file or a folder`);
  return { kind: 'dir', path };
}

/** The file each image goes to. */
export function outputPaths(plan: OutputPlan, images: readonly Pick<GeneratedImage, 'seed'>[]): string[] {
  if (plan.kind === 'file') {
    if (images.length === 1) return [plan.path];
    const stem = plan.path.replace(/\.png$/i, '');
    return images.map((im) => `${stem}-${im.seed}.png`);
  }
  const taken = new Set<string>();
  return images.map((im) => {
    let n = 1;
    let path = join(plan.path, `gesso-${im.seed}.png`);
    while (existsSync(path) || taken.has(path)) path = join(plan.path, `gesso-${im.seed}-${++n}.png`);
    taken.add(path);
    return path;
  });
}

/** Writes every image (each atomically); if one fails, the ones already written are removed. */
export async function writeImages(plan: OutputPlan, images: readonly GeneratedImage[]): Promise<string[]> {
  if (plan.kind === 'dir') await mkdir(plan.path, { recursive: true });
  const paths = outputPaths(plan, images);
  const written: string[] = [];
  try {
    for (const [i, image] of images.entries()) {
      const path = paths[i] as string;
      await writeImageFile(path, image.pixels, image.width, image.height, 3, image.metadata);
      written.push(path);
    }
  } catch (e) {
    await Promise.all(written.map((p) => unlink(p).catch(() => undefined)));
    throw e;
  }
  return written;
}
