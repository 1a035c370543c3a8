/**
 * Where `gesso generate` writes its images, decided before anything runs and written only after every
 * image is done:
 *   --out FILE.png   that file (a batch: FILE-<seed>.png for each image)
 *   --out DIR        DIR/gesso-<seed>.png (DIR is created; a taken name gets -2, -3 … instead)
 *   (none)           ./outputs/gesso-<seed>.png
 * A file gesso did not make in this run is never replaced unless --overwrite says so; names are taken
 * atomically (src/core/output-file.ts), so parallel runs never write over each other.
 */
import { existsSync, statSync } from 'node:fs';
import { mkdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InputError } from '../core/errors.ts';
import { discardStaged, publishStaged, stageFile, type StagedFile } from '../core/output-file.ts';
import { encodePng } from '../image/write-image.ts';
import type { GeneratedImage } from '../pipelines/generate.ts';

export const DEFAULT_OUTPUT_DIR = 'outputs';
/** Most "-N" suffixes tried for one seed in an output folder. */
const MAX_SUFFIX = 10_000;

export interface OutputPlan {
  /** A folder to put the images in, or a file name pattern. */
  kind: 'dir' | 'file';
  path: string;
  /** Replace existing files (--overwrite). */
  overwrite: boolean;
}

export function planOutput(out: string | undefined, overwrite = false): OutputPlan {
  const path = out ?? DEFAULT_OUTPUT_DIR;
  if (/\.png$/i.test(path)) {
    if (existsSync(path) && statSync(path).isDirectory()) throw new InputError(`--out ${path} is a folder; give a .png file or a folder name without .png`);
    if (existsSync(path) && !overwrite) throw new InputError(`--out ${path} already exists; pass --overwrite to replace it, or choose another name`);
    const folder = dirname(path);
    if (!existsSync(folder)) throw new InputError(`--out ${path}: folder ${folder} does not exist`);
    return { kind: 'file', path, overwrite };
  }
  if (/\.[a-z0-9]{2,5}$/i.test(path) && !existsSync(path)) {
    throw new InputError(`--out ${path}: gesso writes PNG; give a path ending in .png, or a folder`);
  }
  if (existsSync(path) && !statSync(path).isDirectory()) throw new InputError(`--out ${path} is a file that is not a .png; give a .png file or a folder`);
  return { kind: 'dir', path, overwrite };
}

/** The names an image may take, in order of preference (a file name has exactly one). */
export function* candidateNames(plan: OutputPlan, seed: number, batchSize: number): Generator<string> {
  if (plan.kind === 'file') {
    yield batchSize === 1 ? plan.path : `${plan.path.replace(/\.png$/i, '')}-${seed}.png`;
    return;
  }
  yield join(plan.path, `gesso-${seed}.png`);
  for (let n = 2; n <= MAX_SUFFIX; n++) yield join(plan.path, `gesso-${seed}-${n}.png`);
}

/**
 * Encodes and stages every image first (a full disk fails here, before any name is taken), then
 * publishes each. On failure, only files this call created are removed.
 */
export async function writeImages(plan: OutputPlan, images: readonly GeneratedImage[]): Promise<string[]> {
  if (plan.kind === 'dir') await mkdir(plan.path, { recursive: true });
  const staged: StagedFile[] = [];
  const created: string[] = [];
  try {
    for (const image of images) {
      const png = await encodePng(image.pixels, image.width, image.height, 3, image.metadata);
      staged.push(await stageFile(candidateNames(plan, image.seed, images.length).next().value as string, png));
    }
    const written: string[] = [];
    for (const [i, image] of images.entries()) {
      const path = await publishStaged(staged[i]!, candidateNames(plan, image.seed, images.length), { overwrite: plan.overwrite });
      written.push(path);
      if (!plan.overwrite) created.push(path);
    }
    return written;
  } catch (e) {
    await Promise.all(staged.map(discardStaged));
    await Promise.all(created.map((p) => unlink(p).catch(() => undefined)));
    throw e;
  }
}
