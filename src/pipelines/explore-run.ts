/**
 * One call that renders a list of latent specs with a GAN and writes what the artist asked for: a PNG
 * per image (each with its lineage recipe), a contact grid, and for walks looping WebP / GIF files.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LatentResolver, renderSpecs, type LatentSpec } from './gan-explore.ts';
import type { GanModel } from './gan-model.ts';
import { exploreRecipe, ganModelHash, writeAnimation, writeExplorePng, writeGridPng } from './explore-output.ts';

export interface ExploreOutputOptions {
  /** Folder for the PNGs (`<prefix>-NNNN.png`); created if missing. */
  outDir: string;
  prefix?: string;
  truncation?: number;
  /** Also write a grid PNG of all images, this many per row. */
  grid?: { path: string; cols: number; scale?: number };
  /** Also write looping animations (.webp / .gif paths). */
  animations?: string[];
  fps?: number;
  /** Magnification of animation frames (default 1). */
  animationScale?: number;
}

export interface ExploreResult {
  files: string[];
  images: Float32Array;
  count: number;
  size: number;
}

export async function renderAndWrite(model: GanModel, specs: readonly LatentSpec[], o: ExploreOutputOptions): Promise<ExploreResult> {
  const truncation = o.truncation ?? 1;
  const resolver = new LatentResolver(model);
  const images = await renderSpecs(resolver, specs, truncation);
  const size = model.config.size;
  const sha256 = await ganModelHash(model);
  mkdirSync(o.outDir, { recursive: true });
  const files: string[] = [];
  for (let i = 0; i < specs.length; i++) {
    const path = join(o.outDir, `${o.prefix ?? 'image'}-${String(i).padStart(4, '0')}.png`);
    await writeExplorePng(path, images, i, size, exploreRecipe(model, sha256, specs[i] as LatentSpec, truncation));
    files.push(path);
  }
  if (o.grid) {
    await writeGridPng(o.grid.path, images, specs.length, size, o.grid.cols, o.grid.scale ?? 1);
    files.push(o.grid.path);
  }
  for (const path of o.animations ?? []) {
    await writeAnimation(path, images, specs.length, size, { ...(o.fps ? { fps: o.fps } : {}), scale: o.animationScale ?? 1 });
    files.push(path);
  }
  return { files, images, count: specs.length, size };
}
