import { existsSync } from 'node:fs';
import { FILE_LIMITS, readTextFile } from '../core/safe-read.ts';
import { join } from 'node:path';
import sharp from 'sharp';
import { InputError } from '../core/errors.ts';
import type { Rng } from '../core/rng.ts';
import { COLOR_NAMES, type ColorName } from './color-names.ts';
import type { ManifestLine } from './build-dataset.ts';

/**
 * Reads a dataset folder written by `gesso data` (manifest.jsonl + images/) for training. Every image of
 * the chosen split is decoded once, up front, into one Uint8Array (8,000 images of 64×64 RGB are 98 MB),
 * so batches are copied out of memory with no decoding.
 */

export type SplitFilter = 'train' | 'val' | 'all';

/** Byte value -> [-1, 1]: v / 127.5 - 1. */
const TO_UNIT = Float32Array.from({ length: 256 }, (_, v) => v / 127.5 - 1);

/** One picture of the dataset: its manifest line. */
export type DatasetItem = ManifestLine;

export interface ImageDataset {
  dir: string;
  items: readonly DatasetItem[];
  /** Every image is (size, size) RGB. */
  size: number;
  /** All images, (N, 3, size, size) as 0–255 bytes, in `items` order. */
  pixels: Uint8Array;
  /** Images at these indices as a (B, 3, size, size) batch, scaled to [-1, 1]. */
  readBatch(indices: readonly number[]): Float32Array;
  /** The captions at these indices. */
  captions(indices: readonly number[]): string[];
  /** `batchSize` random indices (with replacement) from `rng`. */
  sampleIndices(rng: Rng, batchSize: number): number[];
}

export interface LoadOptions {
  /** Which split to load. Default "all". */
  split?: SplitFilter;
  /** Decodes at most this many images at once. Default 4. */
  concurrency?: number;
}

export async function loadImageDataset(dir: string, options: LoadOptions = {}): Promise<ImageDataset> {
  const split = options.split ?? 'all';
  const items = readManifest(dir).filter((item) => split === 'all' || item.split === split);
  if (items.length === 0) throw new InputError(`${dir} has no images in split "${split}"`);

  const first = await decodeRgb(dir, items[0] as DatasetItem);
  const size = first.width;
  const plane = size * size;
  const pixels = new Uint8Array(items.length * 3 * plane);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      const item = items[i] as DatasetItem;
      const img = i === 0 ? first : await decodeRgb(dir, item);
      if (img.width !== size || img.height !== size) {
        throw new InputError(`${join(dir, item.file)} is ${img.width}x${img.height}, expected ${size}x${size} like the others`);
      }
      // (H, W, 3) interleaved -> (3, H, W) planes
      const base = i * 3 * plane;
      for (let p = 0; p < plane; p++) {
        pixels[base + p] = img.data[3 * p];
        pixels[base + plane + p] = img.data[3 * p + 1];
        pixels[base + 2 * plane + p] = img.data[3 * p + 2];
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));

  return {
    dir,
    items,
    size,
    pixels,
    readBatch(indices: readonly number[]): Float32Array {
      const out = new Float32Array(indices.length * 3 * plane); // (B, 3, H, W)
      indices.forEach((index, b) => {
        if (!Number.isInteger(index) || index < 0 || index >= items.length) {
          throw new RangeError(`batch index ${index} is not in 0..${items.length - 1}`);
        }
        const src = pixels.subarray(index * 3 * plane, (index + 1) * 3 * plane);
        const dst = b * 3 * plane;
        for (let k = 0; k < src.length; k++) out[dst + k] = TO_UNIT[src[k]] as number;
      });
      return out;
    },
    captions(indices: readonly number[]): string[] {
      return indices.map((i) => (items[i] as DatasetItem).caption);
    },
    sampleIndices(rng: Rng, batchSize: number): number[] {
      return Array.from({ length: batchSize }, () => rng.int(items.length));
    },
  };
}

/** The manifest's lines, checked: a bad line is an InputError naming the file and line. */
export function readManifest(dir: string): DatasetItem[] {
  const path = join(dir, 'manifest.jsonl');
  if (!existsSync(path)) {
    throw new InputError(`${dir} is not a gesso dataset: ${path} is missing (build one with \`gesso data\`)`);
  }
  const items: DatasetItem[] = [];
  readTextFile(path, 'dataset manifest', FILE_LIMITS.log)
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw new InputError(`${path} line ${i + 1} is not JSON`);
      }
      items.push(checkLine(value, `${path} line ${i + 1}`));
    });
  return items;
}

function checkLine(value: unknown, where: string): DatasetItem {
  if (typeof value !== 'object' || value === null) throw new InputError(`${where} is not an object`);
  const v = value as Record<string, unknown>;
  for (const key of ['file', 'caption', 'category', 'source', 'licence'] as const) {
    if (typeof v[key] !== 'string') throw new InputError(`${where}: "${key}" is not a string`);
  }
  const file = v['file'] as string;
  if (file.startsWith('/') || file.split('/').includes('..')) {
    throw new InputError(`${where}: file "${file}" is not a path inside the dataset folder`);
  }
  const split = v['split'];
  if (split !== 'train' && split !== 'val') throw new InputError(`${where}: split ${JSON.stringify(split)} is not "train" or "val"`);
  const colors = v['colors'];
  if (!Array.isArray(colors) || !colors.every((c) => (COLOR_NAMES as readonly unknown[]).includes(c))) {
    throw new InputError(`${where}: colors ${JSON.stringify(colors)} is not a list of palette colour names`);
  }
  return {
    file,
    caption: v['caption'] as string,
    category: v['category'] as string,
    source: v['source'] as string,
    licence: v['licence'] as string,
    split,
    colors: colors as ColorName[],
  };
}

async function decodeRgb(dir: string, item: DatasetItem): Promise<{ data: Buffer; width: number; height: number }> {
  const path = join(dir, item.file);
  try {
    const { data, info } = await sharp(path).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`${info.channels} channels`);
    return { data, width: info.width, height: info.height };
  } catch (err) {
    throw new InputError(`cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Several datasets of one image size as one (items and pixels concatenated in the given order), so a
 * model trains on e.g. Open Clip Art and emoji together. `dir` lists the parts joined by "+".
 */
export function combineDatasets(parts: readonly ImageDataset[]): ImageDataset {
  const first = parts[0];
  if (first === undefined) throw new InputError('no datasets to combine');
  if (parts.length === 1) return first;
  for (const p of parts) {
    if (p.size !== first.size) throw new InputError(`${p.dir} holds ${p.size} px images and ${first.dir} ${first.size} px; build them at one --size`);
  }
  const items = parts.flatMap((p) => p.items);
  const pixels = new Uint8Array(parts.reduce((n, p) => n + p.pixels.length, 0));
  let offset = 0;
  for (const p of parts) {
    pixels.set(p.pixels, offset);
    offset += p.pixels.length;
  }
  const plane = first.size * first.size;
  return {
    dir: parts.map((p) => p.dir).join('+'),
    items,
    size: first.size,
    pixels,
    readBatch(indices: readonly number[]): Float32Array {
      const out = new Float32Array(indices.length * 3 * plane); // (B, 3, H, W)
      indices.forEach((index, b) => {
        if (!Number.isInteger(index) || index < 0 || index >= items.length) throw new RangeError(`batch index ${index} is not in 0..${items.length - 1}`);
        const src = pixels.subarray(index * 3 * plane, (index + 1) * 3 * plane);
        const dst = b * 3 * plane;
        for (let k = 0; k < src.length; k++) out[dst + k] = TO_UNIT[src[k]] as number;
      });
      return out;
    },
    captions: (indices) => indices.map((i) => (items[i] as DatasetItem).caption),
    sampleIndices: (rng, batchSize) => Array.from({ length: batchSize }, () => rng.int(items.length)),
  };
}
