/**
 * The golden images: the shipped default model's pictures for one fixed seed per scheduler, made through
 * the library's `generate`, as 8-bit RGB (what a PNG stores). `images.json` records each image's SHA-256
 * and the runtime (ORT version, CPU kernel family) that made them; `images/*.png` hold the pixels, for the
 * tolerance comparison on other runtimes. `npm run golden:update` (scripts/update-golden.ts) rewrites both;
 * an intended change says so in CHANGELOG.md.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { toBytes } from '../../src/image/write-image.ts';
import { generate, type GenerateRequest } from '../../src/pipelines/generate.ts';
import type { DiffusionModel } from '../../src/pipelines/model-folder.ts';
import type { RuntimeInfo } from '../../src/runtime/runtime-info.ts';

export const GOLDEN_DIR = fileURLToPath(new URL('images/', import.meta.url));
export const MANIFEST_PATH = fileURLToPath(new URL('images.json', import.meta.url));

export interface GoldenCase {
  /** File name stem and test name. */
  name: string;
  request: GenerateRequest;
}

const base = { prompt: 'a red star on a blue square', negativePrompt: 'blurry', steps: 4, cfgScale: 5, upscale: false } as const;

/** One seed per scheduler class and A1111 variant; 64×64 latents decoded; plus one upscaled default run. */
export const GOLDEN_CASES: readonly GoldenCase[] = [
  { name: 'ddpm', request: { ...base, scheduler: 'DDPM', seed: 11 } },
  { name: 'ddim', request: { ...base, scheduler: 'DDIM', seed: 12 } },
  { name: 'plms', request: { ...base, scheduler: 'PLMS', seed: 13 } },
  { name: 'pndm-prk', request: { ...base, scheduler: 'PNDMScheduler', seed: 14 } },
  { name: 'euler', request: { ...base, scheduler: 'Euler', seed: 15 } },
  { name: 'euler-a', request: { ...base, scheduler: 'Euler a', seed: 16 } },
  { name: 'dpmpp-2m', request: { ...base, scheduler: 'DPM++ 2M', seed: 17 } },
  { name: 'dpmpp-2m-karras', request: { ...base, scheduler: 'DPM++ 2M Karras', seed: 18 } },
  { name: 'lcm', request: { ...base, scheduler: 'LCM', seed: 19 } },
  { name: 'default-upscaled', request: { prompt: 'a red star', seed: 20, steps: 4, upscale: true } },
];

export interface GoldenEntry {
  name: string;
  width: number;
  height: number;
  /** SHA-256 of the 8-bit RGB values, row-major (H, W, 3). */
  sha256: string;
}

export interface GoldenManifest {
  /** The runtime that made the golden images: exact comparison only on the same one. */
  runtime: RuntimeInfo;
  images: GoldenEntry[];
}

export interface RenderedImage {
  width: number;
  height: number;
  /** (H, W, 3) 8-bit RGB */
  bytes: Uint8Array;
  sha256: string;
}

export async function renderCase(model: DiffusionModel, c: GoldenCase): Promise<RenderedImage> {
  const [image] = (await generate(model, c.request)).images;
  if (!image) throw new Error(`golden case ${c.name} made no image`);
  const bytes = toBytes(image.pixels, image.width, 3);
  return { width: image.width, height: image.height, bytes, sha256: sha256(bytes) };
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function readManifest(): GoldenManifest {
  return JSON.parse(readFileSync(MANIFEST_PATH, 'utf8')) as GoldenManifest;
}
